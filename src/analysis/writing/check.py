"""The genre check: does a draft read as its genre should, as it leaves the office?

Run on every draft of every run, beside the number audit, on the DOCX as written (what
a reader opens), by rules that differ per genre only in ``resources/genres.yaml``:

- no sentence is said twice;
- no term of method or statistics (``method_terms``) in a leaders' genre (register
  ``plain``), before its annex;
- the body's length is inside the genre's window (characters in Chinese, words in
  English), and the DOCX fills no more pages than allowed (参阅: one A4 page);
- the genre's apparatus is there (版头, 期号, 提案人, 承办单位, 落款 and date …), and a
  title;
- no Markdown or markup is left over;
- the software's own name never appears;
- a region's draft names no other region.

:func:`check_draft` returns the problems as sentences; :func:`require` raises a
:class:`DraftCheckError` naming the draft and every problem, which fails the run. A
length outside the window does not fail a run: thin evidence makes a short draft, which
the run writes and names (``drafts/check.txt`` and the run's output) for the editor. The
check is genre-agnostic: a new genre (a 工作总结) adds its entry to the YAML.
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.errors import QifangError


class DraftCheckError(QifangError):
    """A draft fails the genre check: the message names the draft and each problem."""


# a sentence ends at a full stop, unless an attribution in brackets follows it
_SENTENCE_END = re.compile(r"(?<=[。！？；])(?![（(])|(?<=[.!?;])\s+(?![（(])")


def docx_lines(path: str | Path) -> list[str]:
    """The paragraphs of a DOCX as a reader sees them, one line each (a title broken at
    sense is joined again), tables row by row."""
    from docx import Document

    doc = Document(str(path))
    body = doc.element.body
    lines: list[str] = []
    from docx.oxml.ns import qn
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            lines.append(Paragraph(child, doc).text.replace("\n", ""))
        elif child.tag == qn("w:tbl"):
            for row in Table(child, doc).rows:
                lines.append(" | ".join(c.text for c in row.cells))
    props = doc.core_properties
    lines.append(f"[author] {props.author}")
    return [x for x in lines if x.strip()]


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        for s in _SENTENCE_END.split(line):
            s = s.strip()
            if len(re.sub(r"\W", "", s)) >= 12:
                out.append(s)
    return out


def check_draft(
    draft,
    docx: str | Path,
    *,
    other_regions: tuple[str, ...] = (),
    config: dict | None = None,
    notes: list[str] | None = None,
) -> list[str]:
    """The genre problems of one written draft; empty when it passes.

    A body outside the genre's length window is a problem, unless ``notes`` is given:
    then it goes there. A draft from thin evidence (a small region, a questionnaire
    with one open question) is short, not wrong; the run writes it and says so.

    Parameters
    ----------
    draft : a :class:`~analysis.writing.drafts.Draft` (its genre and language).
    docx : the DOCX written for it (``Draft.write``).
    other_regions : names of regions other than the draft's own (zh and en, full and
        short), none of which a region's draft may name; empty for a province's draft.
    config : the genres' configuration; default ``resources/genres.yaml``.

    Examples
    --------
    >>> check_draft(draft, folder / "social.zh.docx")  # doctest: +SKIP
    []
    """
    from analysis.writing._docx import pages
    from analysis.writing.drafts import config as genres_config

    cfg = config or genres_config()
    spec = cfg["genres"][draft.genre]
    lang = draft.lang
    lines = docx_lines(docx)
    author = next((x for x in lines if x.startswith("[author] ")), "[author] ")[9:]
    lines = [x for x in lines if not x.startswith("[author] ")]
    text = "\n".join(lines)
    problems: list[str] = []

    # the apparatus, and a title
    for name, pattern in (spec.get("apparatus", {}).get(lang) or {}).items():
        if not any(re.search(pattern, line) for line in lines):
            problems.append(f"the {name} is missing (expected a line matching {pattern!r})")
    if not draft.title.strip():
        problems.append("the draft has no title")
    if not author.strip():
        problems.append("the document's author (the issuing unit) is empty")

    # said twice
    seen: dict[str, int] = {}
    for s in _sentences(text):
        key = re.sub(r"\s+", "", s)
        seen[key] = seen.get(key, 0) + 1
    repeated = [s for s, k in seen.items() if k > 1]
    for s in repeated[:5]:
        problems.append(f"a sentence is said twice: “{s[:60]}”")

    # the register
    if spec.get("register") == "plain":
        annex = (spec.get("annex") or {}).get(lang)
        cut = next((k for k, x in enumerate(lines) if annex and re.search(annex, x)), len(lines))
        body = "\n".join(lines[:cut])
        terms = [t for t in cfg["method_terms"][lang] if t.lower() in body.lower()]
        for t in terms:
            problems.append(f"a term of method, {t!r}, in a document for leaders")

    # length and pages
    window = (spec.get("length") or {}).get(lang)
    if window:
        n = _length(draft.body_text, lang)
        low, high = window
        unit = "characters" if lang == "zh" else "words"
        if not low <= n <= high:
            said = f"{n:,} {unit} of text, outside the genre's {low:,}–{high:,}"
            (notes if notes is not None else problems).append(said)
    if spec.get("pages"):
        n = pages(docx)
        if n > spec["pages"]:
            problems.append(f"{n} pages in the DOCX; the genre allows {spec['pages']}")

    # leftovers
    for mark in cfg["markdown_marks"]:
        if mark in text:
            problems.append(f"markup left in the text: {mark!r}")
    for name in cfg["software_names"]:
        if name in text or name in author:
            problems.append(f"the software's name {name!r} appears in the draft")
    named = sorted({r for r in other_regions if r and r in text})
    if named:
        problems.append(f"another region is named in a region's draft: {', '.join(named)}")
    return problems


def _length(text: str, lang: str) -> int:
    """The body's length: characters without spaces in Chinese, words in English (a
    firm's words quoted in Chinese count as one word per two characters, as a reader
    of the translation would read them, not as one word per quotation)."""
    if lang == "en":
        han = len(_HAN.findall(text))
        words = [w for w in _HAN.sub(" ", text).split() if re.search(r"\w", w)]
        return len(words) + round(han / 2)
    return len(re.sub(r"\s", "", text))


_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")


def require(drafts_and_files, *, other_regions: tuple[str, ...] = ()) -> list[str]:
    """Check every written draft; raise one :class:`DraftCheckError` listing every
    problem of every draft that fails.

    Parameters
    ----------
    drafts_and_files : pairs of (draft, its DOCX path).
    other_regions : see :func:`check_draft`.

    Returns
    -------
    list[str]
        Notes for the editor, one per draft whose length is outside its genre's window
        (``social.zh: 737 characters of text, outside the genre's 800–1,500``).
    """
    failures, notes = [], []
    for draft, docx in drafts_and_files:
        said: list[str] = []
        problems = check_draft(draft, docx, other_regions=other_regions, notes=said)
        notes += [f"{draft.genre}.{draft.lang}: {n} — edit it before sending" for n in said]
        if problems:
            items = "\n".join(f"    - {p}" for p in problems)
            failures.append(f"  {draft.genre}.{draft.lang} ({Path(docx).name}):\n{items}")
    if failures:
        raise DraftCheckError(
            "drafts fail the genre check:\n" + "\n".join(failures),
            "edit the draft templates, the rules or resources/genres.yaml so that each "
            "draft reads as its genre; the other outputs of the run are not replaced",
        )
    return notes


def other_region_names(instrument, region: str | None) -> tuple[str, ...]:
    """The names of every region but ``region`` (zh and en, full and short forms)."""
    if region is None:
        return ()
    names = []
    for c in instrument.question("region").choices:
        if str(c.value) == str(region):
            continue
        for label in (c.label, c.short):
            for text in (label.zh, label.en):
                if text:
                    names.append(text)
                    names.append(text.split(" (")[0])
    return tuple(sorted(set(names), key=len, reverse=True))
