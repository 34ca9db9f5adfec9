"""Write a draft (Markdown, as the draft templates produce it) as a Word document laid
out as a Chinese official document (GB/T 9704-2012): A4; margins 37 mm top, 35 mm
bottom, 28 mm left, 26 mm right; title in 小标宋 二号 (22 pt); body in 仿宋 三号 (16 pt)
at a fixed 28 pt line pitch with a two-character first-line indent; headings 一、 in
黑体, （一） in 楷体, 1. in bold 仿宋.

Word on Windows has 仿宋 (FangSong), 楷体 (KaiTi) and 黑体 (SimHei); WPS and Word on
macOS map them to their equivalents, and LibreOffice substitutes an installed CJK font
(Noto Serif/Sans CJK on Linux), so the document always shows real glyphs.
"""

from __future__ import annotations

import re
from pathlib import Path

import mistune
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
HEITI = "黑体"
KAITI = "楷体"
LATIN = "Times New Roman"
BODY_PT = 16
LINE_PT = 28

_markdown = mistune.create_markdown(renderer=None, plugins=["table"])


def _font(run, east_asia: str, size: float, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = LATIN
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), east_asia if attr == "w:eastAsia" else LATIN)


def _spacing(paragraph, first_indent: bool = True, pitch: float = LINE_PT) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(pitch)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    if first_indent:
        fmt.first_line_indent = Pt(BODY_PT * 2)


def _inline_text(children: list) -> list[tuple[str, bool]]:
    """Inline tokens to (text, bold) runs."""
    runs: list[tuple[str, bool]] = []
    for child in children or []:
        kind = child["type"]
        if kind in ("text", "codespan"):
            runs.append((child.get("raw", ""), False))
        elif kind == "strong":
            runs.extend((t, True) for t, _ in _inline_text(child["children"]))
        elif kind in ("emphasis", "link"):
            runs.extend(_inline_text(child["children"]))
        elif kind in ("softbreak", "linebreak"):
            runs.append(("", False))
    return runs


def _paragraph(
    doc,
    runs,
    font=BODY_FONT,
    size=BODY_PT,
    bold=False,
    indent=True,
    align=WD_ALIGN_PARAGRAPH.JUSTIFY,
    pitch=LINE_PT,
):
    p = doc.add_paragraph()
    p.alignment = align
    _spacing(p, indent, pitch)
    for text, strong in runs:
        _font(p.add_run(text), font, size, bold or strong)
    return p


def _table(doc, token) -> None:
    head = next(c for c in token["children"] if c["type"] == "table_head")
    body = next((c for c in token["children"] if c["type"] == "table_body"), {"children": []})
    rows = [head["children"]] + [r["children"] for r in body["children"]]
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, cells in enumerate(rows):
        for j, cell in enumerate(cells):
            target = table.cell(i, j).paragraphs[0]
            right = cell["attrs"].get("align") == "right"
            target.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
            _spacing(target, first_indent=False, pitch=18)
            for text, strong in _inline_text(cell["children"]):
                _font(target.add_run(text), BODY_FONT, 10.5, bold=strong or i == 0)


_HEADING_STYLE = {
    2: (HEITI, BODY_PT, False),  # 一、
    3: (KAITI, BODY_PT, False),  # （一）
    4: (BODY_FONT, BODY_PT, True),  # 1.
}


def write_docx(markdown: str, path: str | Path) -> Path:
    """Write a draft as DOCX. The first level-1 heading is the document title."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    styles = doc.styles["Normal"]
    styles.font.name = LATIN
    styles.font.size = Pt(BODY_PT)
    styles.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT)
    _page_number(section)

    for token in _markdown(markdown):
        kind = token["type"]
        if kind == "heading":
            level = token["attrs"]["level"]
            runs = _inline_text(token["children"])
            if level == 1:
                p = _paragraph(
                    doc,
                    runs,
                    TITLE_FONT,
                    22,
                    indent=False,
                    align=WD_ALIGN_PARAGRAPH.CENTER,
                    pitch=36,
                )
                p.paragraph_format.space_after = Pt(LINE_PT)
            else:
                font, size, bold = _HEADING_STYLE.get(level, _HEADING_STYLE[4])
                p = _paragraph(doc, runs, font, size, bold, indent=True)
                p.paragraph_format.keep_with_next = True
        elif kind == "paragraph":
            runs = _inline_text(token["children"])
            text = "".join(t for t, _ in runs)
            centred = re.fullmatch(r"[（(].*[)）]", text.strip()) is not None
            _paragraph(
                doc,
                runs,
                indent=not centred,
                align=WD_ALIGN_PARAGRAPH.CENTER if centred else WD_ALIGN_PARAGRAPH.JUSTIFY,
            )
        elif kind == "list":
            ordered = token["attrs"].get("ordered")
            for k, item in enumerate(token["children"], 1):
                runs = []
                for block in item["children"]:
                    runs += _inline_text(block.get("children", []))
                marker = f"{k}. " if ordered else "· "
                _paragraph(doc, [(marker, False), *runs])
        elif kind == "table":
            _table(doc, token)
        elif kind == "thematic_break":
            _paragraph(doc, [("", False)], indent=False)
    path = Path(path)
    doc.core_properties.author = "Qifang"
    doc.core_properties.comments = ""
    doc.save(path)
    return path


def _page_number(section) -> None:
    """Page numbers in the footer, centred, as "— 1 —"."""
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(footer.add_run("— "), BODY_FONT, 14)
    run = footer.add_run()
    _font(run, BODY_FONT, 14)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = run._element.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): tag})
        else:
            el = run._element.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
        run._element.append(el)
    _font(footer.add_run(" —"), BODY_FONT, 14)
