"""Drafts in the genres the office submits, from findings and suggestions.

=============  ===============================  ===================================
genre          zh                               what it is
=============  ===============================  ===================================
``proposal``   政协提案                          关于…的提案: 案由, situation and
                                                problems with data, causes,
                                                numbered concrete suggestions
``social``     社情民意信息                       one issue, short (about 800–1,500
                                                characters)
``report``     调研报告                          method and sample, findings,
                                                problems, suggestions, annex tables
``summary``    领导参阅（简报摘要）               one page for leaders
=============  ===============================  ===================================

Each genre is a Jinja2 template per language in ``templates/drafts/`` that writes
Markdown; the Markdown becomes HTML (for reading) and DOCX (official-document layout,
for editing in Word). Templates print numbers only through the fact filters of
:mod:`analysis.writing.render`, and :func:`audit` checks that every number in a draft is a
formatted figure of the findings. Firms' own words (quotes) and labels (of regions,
categories, departments …) are not the office's claims: numbers in them are not audited
(“利率8.5%，缺口200万元” is what a firm said); everything else is.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass
from pathlib import Path

import mistune

from analysis.findings.facts import facts
from analysis.findings.model import Findings, Text
from analysis.writing import numfmt, render
from analysis.writing.suggest import Suggestion

GENRES = {
    "proposal": Text(zh="政协提案", en="CPPCC proposal"),
    "social": Text(zh="社情民意信息", en="Social-conditions report"),
    "report": Text(zh="调研报告", en="Research report"),
    "summary": Text(zh="领导参阅", en="Summary for leaders"),
}


@dataclass(frozen=True)
class Draft:
    genre: str
    lang: str
    markdown: str
    # texts in the draft that are not the office's claims (quotes as printed, labels)
    not_claims: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        m = re.search(r"^# (.+)$", self.markdown, re.M)
        return m.group(1).strip() if m else GENRES[self.genre].get(self.lang)

    @property
    def text(self) -> str:
        """The draft's words without Markdown marks (for length checks)."""
        return re.sub(r"^#+ |\*\*", "", self.markdown, flags=re.M)

    def html(self) -> str:
        body = _to_html(self.markdown)
        css = render.brief_css()
        lang = "zh-CN" if self.lang == "zh" else "en"
        return (
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8" />'
            f"<title>{_html.escape(self.title)}</title><style>{css}</style></head>"
            f'<body><main class="brief draft">{body}</main></body></html>\n'
        )

    def write(self, folder: str | Path) -> list[Path]:
        from analysis.writing._docx import write_docx

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{self.genre}.{self.lang}"
        html_path = folder / f"{stem}.html"
        html_path.write_text(self.html(), encoding="utf-8")
        return [html_path, write_docx(self.markdown, folder / f"{stem}.docx")]


_md = mistune.create_markdown(escape=True, plugins=["table"])


def _to_html(markdown: str) -> str:
    return _md(markdown)


def make_draft(
    genre: str, findings: Findings, suggestions: list[Suggestion], lang: str = "zh"
) -> Draft:
    """Render one genre in one language."""
    if genre not in GENRES:
        raise ValueError(f"genre must be one of {', '.join(GENRES)}")
    template = render.environment().get_template(f"drafts/{genre}.{lang}.md.j2")
    markdown = template.render(**render.context(findings, suggestions, lang))
    return Draft(genre, lang, _blocks(markdown), not_claims(findings, suggestions))


_DIGIT = re.compile(r"\d")


def not_claims(findings: Findings, suggestions: list[Suggestion] = ()) -> tuple[str, ...]:
    """What a draft may quote that is not the office's claim, as it is printed: firms'
    words (through the ``quote`` filter) and every label of the findings and of the
    suggestions' departments, in both languages. Only those with a digit matter to the
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
    for s in suggestions:
        for d in s.departments:
            labels.update((d.zh, d.en))
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


def make_drafts(findings: Findings, suggestions: list[Suggestion], lang: str = "zh") -> list[Draft]:
    """All genres in one language.

    Parameters
    ----------
    findings : the findings of one brief.
    suggestions : what :func:`analysis.writing.suggest.suggest` gave for them.
    lang : ``"zh"`` or ``"en"``.

    Returns
    -------
    list[Draft]
        One per genre (proposal, social, report, summary); ``Draft.write(folder)`` writes
        its DOCX and HTML.

    Examples
    --------
    >>> drafts = make_drafts(findings, suggestions, "zh")  # doctest: +SKIP
    >>> [d.genre for d in drafts]  # doctest: +SKIP
    ['proposal', 'social', 'report', 'summary']
    """
    return [make_draft(g, findings, suggestions, lang) for g in GENRES]


_STRUCTURE = re.compile(
    r"^\s*(?:\d+[.、](?!\d)|[（(][一二三四五六七八九十\d]+[)）]|#+\s*\d+(?:\.\d+)*(?=\s))", re.M
)


def allowed_numbers(findings: Findings, lang: str) -> set[str]:
    """Every number a draft may print: each fact formatted every way the templates
    can, plus the numbers in the findings' own texts (waves, fieldwork months)."""
    env_ctx = {"lang": lang, "findings": findings}
    allowed: set[str] = set()
    for fact in facts(findings).values():
        for fn in ("_v", "_ci", "_bounds", "_n"):
            allowed.update(numfmt.numbers_in(getattr(render, fn)(env_ctx, fact)))
        if fact.p is not None:
            allowed.update(numfmt.numbers_in(render._sig(env_ctx, fact)))
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
    ]
    if findings.requests is not None:
        texts += [
            numfmt.day(findings.requests.as_of, lang),
            numfmt.month(findings.requests.as_of, lang),
        ]
    for t in texts:
        allowed.update(numfmt.numbers_in(t))
    return allowed


def audit(draft: Draft, findings: Findings) -> list[str]:
    """Numbers in the draft that are not formatted figures of the findings.

    List and heading numbering is structure, not data, and is not audited; nor are
    firms' quoted words and labels (``draft.not_claims``, see :func:`not_claims`).

    Returns
    -------
    list[str]
        The stray numbers as printed; empty when every number traces to the findings.

    Examples
    --------
    >>> [audit(d, findings) for d in make_drafts(findings, suggestions)]  # doctest: +SKIP
    [[], [], [], []]
    """
    text = draft.markdown
    for span in draft.not_claims:
        text = text.replace(span, " ")
    text = _STRUCTURE.sub("", text)
    text = re.sub(r"\|\s*-+:?\s*", "|", text)  # table rules
    allowed = allowed_numbers(findings, draft.lang)
    return [n for n in numfmt.numbers_in(text) if n not in allowed]
