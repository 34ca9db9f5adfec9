"""Drafts in the genres the office submits, from findings, suggestions and its profile.

=============  ===============================  ===================================
genre          zh                               what it is
=============  ===============================  ===================================
``proposal``   政协提案                          标题 关于…的提案, 提案人/界别, 案由,
                                                提案理由 (情况, 问题, 原因), 办法和
                                                建议 (一)(二)… each with its 承办单位
``social``     社情民意信息                       版头 (期号, 报送单位, 撰稿人, date),
                                                one issue, 800–1,500 characters
``report``     调研报告                          findings, problems, suggestions in
                                                plain words; 附件: method and tables
``summary``    参阅                              版头 (期号), a judgment as headline,
                                                one A4 page
=============  ===============================  ===================================

Each genre is a Jinja2 template per language in ``templates/drafts/`` that writes
Markdown with the apparatus as directive lines (:mod:`analysis.writing._markup`); the
Markdown becomes HTML (for reading) and DOCX (an official document in Chinese, a memo in
English, for editing in Word). Names of units, people, departments and documents come
from the office profile (:mod:`analysis.ingest.office`); a draft's topic and wording from
its evidence (:mod:`analysis.writing.framing`); its plain phrases from
``resources/plain.yaml``. :func:`audit` checks that every number and every plain phrase
in a draft is a figure of the findings; :mod:`analysis.writing.check` checks the genre.
Firms' own words (quotes) and labels (of regions, categories …) are not the office's
claims: numbers in them are not audited (“利率8.5%，缺口200万元” is what a firm said).
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import mistune
import yaml

from analysis.findings.facts import facts
from analysis.findings.model import Findings, Text
from analysis.writing import numfmt, plain, render
from analysis.writing._markup import Directive, blocks, reader_text
from analysis.writing.framing import case, pick, topics
from analysis.writing.suggest import Suggestion

GENRE_CONFIG = Path(__file__).parent / "resources" / "genres.yaml"


@cache
def config() -> dict:
    """The genres' configuration (``resources/genres.yaml``)."""
    return yaml.safe_load(GENRE_CONFIG.read_text(encoding="utf-8"))


GENRES = {k: Text(**v["name"]) for k, v in config()["genres"].items()}
# the genres drafted from a survey's findings; the others (工作总结, 工作信息) are drafted
# from an office's results by analysis.tracking.drafts, with the same Draft, audit and check
SURVEY_GENRES = tuple(k for k, v in config()["genres"].items() if v.get("source") != "results")


@dataclass(frozen=True)
class Draft:
    genre: str
    lang: str
    markdown: str
    # texts in the draft that are not the office's claims (quotes as printed, labels)
    not_claims: tuple[str, ...] = ()
    traces: tuple = ()  # plain phrases and the facts they came from
    author: str = ""  # the issuing unit: the document's author
    date: str | None = None  # ISO date on the draft

    @property
    def title(self) -> str:
        m = re.search(r"^# (.+)$", self.markdown, re.M)
        return m.group(1).strip() if m else GENRES[self.genre].get(self.lang)

    @property
    def text(self) -> str:
        """The draft's words as a reader sees them (no Markdown, no directives)."""
        return reader_text(self.markdown)

    @property
    def body_text(self) -> str:
        """The words of the body: the text without the apparatus lines (版头, 落款)."""
        return reader_text("\n".join(b for b in blocks(self.markdown) if isinstance(b, str)))

    def html(self) -> str:
        body = _to_html(self.markdown)
        css = render.brief_css()
        lang = "zh-CN" if self.lang == "zh" else "en"
        return (
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8" />'
            f'<meta name="author" content="{_html.escape(self.author)}" />'
            f"<title>{_html.escape(self.title)}</title><style>{css}</style></head>"
            f'<body><main class="brief draft draft-{self.lang}">{body}</main></body></html>\n'
        )

    def write(self, folder: str | Path) -> list[Path]:
        from analysis.writing._docx import write_docx

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{self.genre}.{self.lang}"
        html_path = folder / f"{stem}.html"
        html_path.write_text(self.html(), encoding="utf-8")
        docx = write_docx(
            self.markdown,
            folder / f"{stem}.docx",
            lang=self.lang,
            author=self.author,
            title=self.title,
            date=self.date,
        )
        return [html_path, docx]


_md = mistune.create_markdown(escape=True, plugins=["table"])


def _to_html(markdown: str) -> str:
    out = []
    for b in blocks(markdown):
        if isinstance(b, str):
            out.append(_md(b))
            continue
        left, right = (_html.escape(x) for x in b.parts)
        text = _html.escape(b.text)
        if b.kind == "masthead":
            out.append(f'<p class="masthead">{text}</p>')
        elif b.kind == "number":
            out.append(f'<p class="issue-number">{text}</p>')
        elif b.kind == "split":
            out.append(f'<p class="split"><span>{left}</span><span>{right}</span></p>')
        elif b.kind == "rule":
            out.append('<hr class="red-rule" />')
        elif b.kind == "memo":
            out.append(f'<p class="memo"><strong>{left}:</strong> {right}</p>')
        elif b.kind == "right":
            out.append(f'<p class="signoff">{text}</p>')
        elif b.kind == "field":
            out.append(f'<p class="field">{text}</p>')
    return "\n".join(out)


def _date(findings: Findings, office) -> str | None:
    return office.date or findings.scope.as_of


def make_draft(
    genre: str,
    findings: Findings,
    suggestions: list[Suggestion],
    lang: str = "zh",
    office=None,
) -> Draft:
    """Render one genre in one language.

    Parameters
    ----------
    genre : ``proposal``, ``social``, ``report`` or ``summary``.
    findings, suggestions : the brief's findings and the suggestions that fired.
    lang : ``zh`` or ``en``.
    office : the office profile (:func:`analysis.ingest.office.load_office`); default
        the sample profile.
    """
    from analysis.ingest.office import load_office

    if genre not in SURVEY_GENRES:
        raise ValueError(f"genre must be one of {', '.join(SURVEY_GENRES)}")
    office = office or load_office()
    cfg = config()
    register = cfg["genres"][genre].get("register", "plain")
    ctx = render.context(findings, suggestions, lang, office=office, register=register)
    ranked = topics(findings, suggestions, ctx["_facts"], cfg.get("framing", {}))
    topic = pick(ranked, genre)
    date = _date(findings, office)
    ctx.update(
        topics=ranked,
        topic=topic,
        s=topic.suggestion if topic else None,
        case=case(topic) if topic else None,
        date=date,
        min_cell=findings.method.min_cell,
    )
    template = render.environment().get_template(f"drafts/{genre}.{lang}.md.j2")
    with plain.recording() as traces:
        markdown = template.render(**ctx)
    own = tuple(traces) + tuple(t for s in suggestions for t in s.traces)
    office_names = tuple(n for n in office.names() if _DIGIT.search(n))
    spans = tuple(sorted({*not_claims(findings), *office_names}, key=len, reverse=True))
    return Draft(genre, lang, _blocks(markdown), spans, own, office.unit.get(lang), date)


_DIGIT = re.compile(r"\d")


def not_claims(findings: Findings) -> tuple[str, ...]:
    """What a draft may quote that is not the office's claim, as it is printed: firms'
    words (through the ``quote`` filter) and every label of the findings, in both
    languages. Only those with a digit matter to the
    audit; longest first, so a label inside a quote goes with the quote."""
    quotes: set[str] = set()
    labels: set[str] = set()  # and firms' phrases, printed as they are

    def walk(node, key: str | None = None) -> None:
        if isinstance(node, dict):
            if set(node) == {"zh", "en"}:  # a Text: a label or a sentence of the findings
                labels.update(v for v in node.values() if isinstance(v, str))
                return
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key == "quotes":
            quotes.add(node)
        elif isinstance(node, str) and key == "phrases":
            labels.add(node)

    walk(findings.model_dump(mode="json"))
    spans = {render._quote(q) for q in quotes} | labels
    return tuple(sorted((x for x in spans if _DIGIT.search(x)), key=len, reverse=True))


_LIST_OR_TABLE = re.compile(r"^(\d+\. |- |\|)")


def _blocks(markdown: str) -> str:
    """One blank line between blocks: templates write a paragraph per line, and the
    whitespace control of their tags should not glue two paragraphs together."""
    lines = [line.rstrip() for line in markdown.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line:
            if out and out[-1]:
                out.append("")
            continue
        if out and out[-1] and not (_LIST_OR_TABLE.match(line) and _LIST_OR_TABLE.match(out[-1])):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def make_drafts(
    findings: Findings, suggestions: list[Suggestion], lang: str = "zh", office=None
) -> list[Draft]:
    """All genres in one language.

    Parameters
    ----------
    findings : the findings of one brief.
    suggestions : what :func:`analysis.writing.suggest.suggest` gave for them.
    lang : ``"zh"`` or ``"en"``.
    office : the office profile; default the sample profile.

    Returns
    -------
    list[Draft]
        One per genre (proposal, social, report, summary); ``Draft.write(folder)`` writes
        its DOCX and HTML.

    Examples
    --------
    >>> drafts = make_drafts(findings, suggestions, "zh")  # doctest: +SKIP
    >>> [d.genre for d in drafts]  # doctest: +SKIP
    ['proposal', 'social', 'summary', 'report']
    """
    return [make_draft(g, findings, suggestions, lang, office) for g in SURVEY_GENRES]


_STRUCTURE = re.compile(
    r"^\s*(?:\d+[.、](?!\d)|[（(][一二三四五六七八九十\d]+[)）]|#+\s*\d+(?:\.\d+)*(?=\s))", re.M
)


def allowed_numbers(findings: Findings, lang: str, draft: Draft | None = None) -> set[str]:
    """Every number a draft may print: each fact formatted every way the templates
    can, the numbers in the findings' own texts (waves, fieldwork months, the cut-off
    date) and the draft's own date."""
    env_ctx = {"lang": lang, "findings": findings}
    allowed: set[str] = set()
    for fact in facts(findings).values():
        for fn in ("_v", "_ci", "_bounds", "_n", "_approx"):
            allowed.update(numfmt.numbers_in(getattr(render, fn)(env_ctx, fact)))
        if fact.p is not None:
            allowed.update(numfmt.numbers_in(render._sig(env_ctx, fact)))
        for side in (fact.a, fact.b):
            allowed.update(numfmt.numbers_in(numfmt.pct(side)))
    texts = [
        findings.scope.label.get(lang),
        findings.scope.fieldwork.get(lang),
        findings.title.get(lang),
        findings.method.design.get(lang),
        findings.method.intervals.get(lang),
        findings.method.comparisons.get(lang),
        str(findings.scope.wave),
        str(findings.scope.compare_wave or ""),
        numfmt.pct(findings.method.confidence, 0),
        str(findings.method.min_cell),
        numfmt.count(findings.drivers.n) if findings.drivers else "",
        "100",  # the index's scale: scores are 0–100 (“63.3 out of 100”)
        # the suppression note: figures left out, and those left out to protect others
        numfmt.count(len(findings.suppressed)),
        numfmt.count(sum(c.reason == "complementary" for c in findings.suppressed)),
    ]
    for date in (
        findings.scope.as_of,
        findings.requests.as_of if findings.requests else None,
        draft.date if draft else None,
    ):
        if date:
            texts += [numfmt.day(date, lang), numfmt.month(date, lang)]
    for t in texts:
        allowed.update(numfmt.numbers_in(t))
    return allowed


def audit(draft: Draft, findings: Findings, office=None) -> list[str]:
    """Numbers and plain phrases in the draft that are not figures of the findings.

    Every number must be a formatted figure of the findings (or the draft's date and
    the office profile's 期号); every plain phrase (``resources/plain.yaml``) must have
    been printed from a fact, and be what the rules give for that fact's value. List
    and heading numbering is structure, not data, and is not audited; nor are firms'
    quoted words and labels (``draft.not_claims``, see :func:`not_claims`).

    Returns
    -------
    list[str]
        The stray numbers and phrases as printed; empty when everything traces.

    Examples
    --------
    >>> [audit(d, findings) for d in make_drafts(findings, suggestions)]  # doctest: +SKIP
    [[], [], [], []]
    """
    from analysis.ingest.office import load_office

    office = office or load_office()
    allowed = allowed_numbers(findings, draft.lang, draft)
    allowed |= {str(n) for n in office.issues.values()}
    return audit_numbers(draft, facts(findings), allowed)


def audit_numbers(draft: Draft, flat: dict, allowed: set[str]) -> list[str]:
    """The audit itself, for any source of figures: the numbers of the draft's claims
    that are not in ``allowed``, plain phrases no fact of ``flat`` gave, and traced
    phrases the rules no longer give for their fact's value."""
    text = "\n".join(_audited_lines(draft.markdown))
    for span in draft.not_claims:
        text = _whole(span).sub(" ", text)
    phrases, text = plain.untraced(text, draft.traces, draft.lang)
    wrong = plain.verify(draft.traces, flat, draft.lang)
    text = _STRUCTURE.sub("", text)
    text = re.sub(r"\|\s*-+:?\s*", "|", text)  # table rules
    stray = [n for n in numfmt.numbers_in(text) if n not in allowed]
    return stray + [f"“{p}” (a plain phrase printed by hand)" for p in phrases] + wrong


def _whole(span: str) -> re.Pattern:
    """``span`` where it stands whole: a label "1–5" is not the end of "53.1–58.7"."""
    before = r"(?<![\d.])" if span[:1].isdigit() else ""
    after = r"(?![\d.])" if span[-1:].isdigit() else ""
    return re.compile(before + re.escape(span) + after)


def _audited_lines(markdown: str):
    for b in blocks(markdown):
        if isinstance(b, Directive):
            if b.kind in ("masthead",):
                continue
            yield b.text.replace(" | ", " ")
        else:
            yield from b.splitlines()
