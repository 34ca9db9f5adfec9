"""The markup of a draft: Markdown, plus one line per part of a genre's apparatus.

Draft templates write Markdown for the text and a directive line for each part of the
apparatus that Markdown cannot say (a red masthead, a 期号, a line with the unit on the
left and the date on the right, a red rule, a right-aligned 落款, an English memo's
``To:`` line)::

    ::: masthead 社情民意信息
    ::: number 第12期
    ::: split 报送单位：青海省工商业联合会 | 2025年12月31日
    ::: rule
    ::: field 提案人：青海省工商联
    ::: memo To | Qinghai Provincial Committee of the CPPCC
    ::: right 青海省工商业联合会
    ::: pagebreak

The HTML and DOCX writers read the same blocks (:func:`blocks`), so a part is laid out
the same way in both, and the genre check reads the lines a reader sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIRECTIVES = ("masthead", "number", "split", "rule", "field", "memo", "right", "pagebreak")
_DIRECTIVE = re.compile(r"^::: *(\w+)(?: +(.*))?$")
# CommonMark does not close ** after a full stop that a digit follows (“**概况。**2025年”
# printed its asterisks); the punctuation is moved outside the bold run.
_BOLD_PUNCT = re.compile(r"\*\*([^*\n]+?)([。，；：！？、.,;:!?])\*\*")


@dataclass(frozen=True)
class Directive:
    kind: str
    text: str

    @property
    def parts(self) -> tuple[str, str]:
        left, _, right = self.text.partition(" | ")
        return left.strip(), right.strip()


def normalise(markdown: str) -> str:
    """Markdown the writers convert reliably: bold runs never end on punctuation."""
    return _BOLD_PUNCT.sub(r"**\1**\2", markdown)


def blocks(markdown: str) -> list[Directive | str]:
    """The draft as a list of directives and Markdown chunks, in order."""
    out: list[Directive | str] = []
    chunk: list[str] = []
    for line in normalise(markdown).splitlines():
        m = _DIRECTIVE.match(line.strip())
        if m and m.group(1) in DIRECTIVES:
            if any(x.strip() for x in chunk):
                out.append("\n".join(chunk).strip() + "\n")
            chunk = []
            out.append(Directive(m.group(1), (m.group(2) or "").strip()))
        else:
            chunk.append(line)
    if any(x.strip() for x in chunk):
        out.append("\n".join(chunk).strip() + "\n")
    return out


def reader_text(markdown: str) -> str:
    """The words as a reader sees them: directives as their text, Markdown marks
    removed (for lengths and the register check; the genre check reads the DOCX)."""
    lines = []
    for b in blocks(markdown):
        if isinstance(b, Directive):
            if b.kind in ("rule", "pagebreak"):
                continue
            left, right = b.parts
            text = f"{left}: {right}" if b.kind == "memo" else f"{left} {right}".strip()
            lines.append(text)
            continue
        for line in b.splitlines():
            line = re.sub(r"^#+\s*", "", line)
            line = re.sub(r"^\s*(?:\d+\.|[-*])\s+", "", line)
            line = line.replace("**", "")
            if re.fullmatch(r"\|?[\s:|-]+\|?", line) and "-" in line:
                continue
            lines.append(line)
    return "\n".join(x for x in lines if x.strip())
