"""Write a draft as a Word document: a Chinese official document, or an English memo.

Chinese drafts follow GB/T 9704-2012: A4; margins 37 mm top, 35 mm bottom, 28 mm left,
26 mm right; a document grid of 22 lines × 28 characters; the title in 小标宋 二号
(22 pt), broken into lines at sense (:func:`title_lines`), never before “的提案”; body
in 仿宋 三号 (16 pt) on the grid's 28.95 pt pitch with a two-character first-line indent;
headings by their numbering — 一、 in 黑体, （一） in 楷体, 1. in bold 仿宋, （1） in 仿宋;
page numbers in 4号 (14 pt) as “— 1 —”, odd pages on the right and even pages on the
left, one character in from the edge; a red masthead and rule for 社情民意信息 and 参阅;
the 落款 right-aligned. The document's author is the issuing unit.

English drafts are laid out as an English policy memo: A4 with 25 mm margins, 11 pt
serif type, ragged right, no first-line indent, space between paragraphs, bold
headings, a ``To / From / Date / Subject`` block, page numbers centred.

Word on Windows has 仿宋 (FangSong), 楷体 (KaiTi) and 黑体 (SimHei); WPS and Word on
macOS map them to their equivalents, and LibreOffice substitutes an installed CJK font
(Noto Serif/Sans CJK on Linux), so the document always shows real glyphs.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from itertools import combinations, pairwise
from pathlib import Path

import mistune
from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from analysis.writing._markup import Directive, blocks

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋"
HEITI = "黑体"
KAITI = "楷体"
LATIN = "Times New Roman"
EN_FONT = "Times New Roman"
EN_CJK = "宋体"
RED = RGBColor(0xC0, 0x00, 0x00)
BODY_PT = 16
LINE_PT = 28.95  # 579 twips: 22 lines in the 225 mm type area
TITLE_PT = 22
TITLE_LINE_PT = 36
TITLE_CHARS = 20  # characters of 22 pt in the 156 mm line
CHAR_SPACING_TWIPS = -4  # 0.2 pt tighter: 28 characters of 16 pt in 156 mm
EN_PT = 11
EN_LINE_PT = 14
EN_AFTER_PT = 6

_markdown = mistune.create_markdown(renderer=None, plugins=["table"])


class _Layout:
    """Page and type of one language's documents."""

    def __init__(self, lang: str):
        self.zh = lang != "en"
        if self.zh:
            self.page = (210, 297)
            self.margins = (37, 35, 28, 26)  # top, bottom, left, right (mm)
            self.body, self.pitch, self.after = BODY_PT, LINE_PT, 0.0
            self.font, self.indent = BODY_FONT, 2 * BODY_PT
            self.align = WD_ALIGN_PARAGRAPH.JUSTIFY
        else:
            self.page = (210, 297)
            self.margins = (25, 25, 25, 25)
            self.body, self.pitch, self.after = EN_PT, EN_LINE_PT, EN_AFTER_PT
            self.font, self.indent = EN_FONT, 0
            self.align = WD_ALIGN_PARAGRAPH.LEFT

    @property
    def width_pt(self) -> float:
        return (self.page[0] - self.margins[2] - self.margins[3]) / 25.4 * 72

    @property
    def height_pt(self) -> float:
        return (self.page[1] - self.margins[0] - self.margins[1]) / 25.4 * 72


def _font(run, east_asia: str, size: float, bold: bool = False, latin: str = LATIN) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = latin
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), east_asia if attr == "w:eastAsia" else latin)


def _spacing(paragraph, indent: float, pitch: float, after: float = 0.0) -> None:
    if abs(pitch - LINE_PT) > 0.01:
        # a line of another pitch (title, masthead, rule, table) keeps its own pitch
        # instead of taking whole lines of the document grid
        ppr = paragraph._p.get_or_add_pPr()
        snap = ppr.makeelement(qn("w:snapToGrid"), {qn("w:val"): "0"})
        ppr.insert(0, snap)
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(pitch)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(after)
    fmt.first_line_indent = Pt(indent) if indent else None


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


class _Writer:
    def __init__(self, lang: str):
        self.lay = _Layout(lang)
        self.doc = Document()

    def para(
        self,
        runs,
        font=None,
        size=None,
        bold=False,
        indent=None,
        align=None,
        pitch=None,
        after=None,
        colour=None,
    ):
        lay = self.lay
        p = self.doc.add_paragraph()
        p.alignment = lay.align if align is None else align
        _spacing(
            p,
            lay.indent if indent is None else indent,
            pitch or lay.pitch,
            lay.after if after is None else after,
        )
        east = font or lay.font
        latin = LATIN if lay.zh else EN_FONT
        if not lay.zh and font is None:
            east = EN_CJK
        for text, strong in runs:
            run = p.add_run(text)
            _font(run, east, size or lay.body, bold or strong, latin)
            if colour is not None:
                run.font.color.rgb = colour
        return p

    # -- apparatus -------------------------------------------------------------------
    def directive(self, d: Directive) -> None:
        lay, centre = self.lay, WD_ALIGN_PARAGRAPH.CENTER
        left, right = d.parts
        if d.kind == "masthead":
            if lay.zh:
                self.para(
                    [(d.text, False)], TITLE_FONT, 30, indent=0, align=centre, pitch=44, colour=RED
                )
            else:
                self.para([(d.text, True)], size=16, indent=0, pitch=20, after=2)
        elif d.kind == "number":
            self.para([(d.text, False)], indent=0, align=centre if lay.zh else None)
        elif d.kind == "split":
            p = self.para(
                [(left, False), ("\t", False), (right, False)],
                indent=0,
                align=WD_ALIGN_PARAGRAPH.LEFT,
            )
            p.paragraph_format.tab_stops.add_tab_stop(
                Pt(lay.width_pt - 2),
                alignment=2,  # right tab at the margin
            )
        elif d.kind == "rule":
            p = self.para([("", False)], indent=0, pitch=lay.pitch / 2 if lay.zh else 8)
            _border(p, RED if lay.zh else RGBColor(0x40, 0x40, 0x40))
        elif d.kind == "field":
            self.para([(d.text, False)], indent=0)
        elif d.kind == "memo":
            self.para([(f"{left}: ", True), (right, False)], indent=0, after=0)
        elif d.kind == "right":
            p = self.para([(d.text, False)], indent=0, align=WD_ALIGN_PARAGRAPH.RIGHT)
            if lay.zh:
                p.paragraph_format.right_indent = Pt(BODY_PT * 4)  # 落款 four characters in
        elif d.kind == "pagebreak":
            self.doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # -- Markdown ---------------------------------------------------------------------
    def heading(self, level: int, runs) -> None:
        lay = self.lay
        text = "".join(t for t, _ in runs)
        if level == 1:
            lines = title_lines(text) if lay.zh else [text]
            tokens = []
            for k, line in enumerate(lines):
                tokens.append((line, False))
                if k < len(lines) - 1:
                    tokens.append(("\n", False))
            if lay.zh:
                p = self.para(
                    tokens,
                    TITLE_FONT,
                    TITLE_PT,
                    indent=0,
                    align=WD_ALIGN_PARAGRAPH.CENTER,
                    pitch=TITLE_LINE_PT,
                )
                p.paragraph_format.space_after = Pt(LINE_PT)
            else:
                self.para(tokens, size=16, bold=True, indent=0, pitch=20, after=10)
            return
        if not lay.zh:
            size = 12.5 if level == 2 else 11.5
            p = self.para(runs, size=size, bold=True, indent=0, pitch=size + 4, after=4)
            p.paragraph_format.space_before = Pt(8 if level == 2 else 4)
            p.paragraph_format.keep_with_next = True
            return
        font, bold, indent = _zh_heading(text, level)
        p = self.para(runs, font, BODY_PT, bold, indent=indent)
        p.paragraph_format.keep_with_next = True

    def table(self, token) -> None:
        head = next(c for c in token["children"] if c["type"] == "table_head")
        body = next((c for c in token["children"] if c["type"] == "table_body"), {"children": []})
        rows = [head["children"]] + [r["children"] for r in body["children"]]
        table = self.doc.add_table(rows=len(rows), cols=len(rows[0]))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        east = BODY_FONT if self.lay.zh else EN_CJK
        for i, cells in enumerate(rows):
            for j, cell in enumerate(cells):
                target = table.cell(i, j).paragraphs[0]
                right = cell["attrs"].get("align") == "right"
                target.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.LEFT
                _spacing(target, 0, 15)
                target.paragraph_format.keep_with_next = i < len(rows) - 1  # one piece
                for text, strong in _inline_text(cell["children"]):
                    _font(
                        target.add_run(text),
                        east,
                        10.5,
                        strong or i == 0,
                        LATIN if self.lay.zh else EN_FONT,
                    )

    def markdown(self, chunk: str) -> None:
        for token in _markdown(chunk):
            kind = token["type"]
            if kind == "heading":
                self.heading(token["attrs"]["level"], _inline_text(token["children"]))
            elif kind == "paragraph":
                runs = _inline_text(token["children"])
                p = self.para(runs)
                if runs and all(bold for text, bold in runs if text.strip()):
                    p.paragraph_format.keep_with_next = True  # a caption stays with its table
            elif kind == "list":
                ordered = token["attrs"].get("ordered")
                for k, item in enumerate(token["children"], 1):
                    runs = []
                    for block in item["children"]:
                        runs += _inline_text(block.get("children", []))
                    marker = f"{k}. " if ordered else ("· " if self.lay.zh else "• ")
                    self.para([(marker, False), *runs])
            elif kind == "table":
                self.table(token)
            elif kind == "thematic_break":
                self.para([("", False)], indent=0)


def _zh_heading(text: str, level: int) -> tuple[str, bool, float]:
    """A Chinese heading's font by its numbering: 一、 黑体, （一） 楷体, 1. bold 仿宋,
    （1） 仿宋; an unnumbered heading (提案理由, 附件) in 黑体 flush left."""
    if re.match(r"^[一二三四五六七八九十]+、", text):
        return HEITI, False, 2 * BODY_PT
    if re.match(r"^（[一二三四五六七八九十]+）", text):
        return KAITI, False, 2 * BODY_PT
    if re.match(r"^\d+\.", text):
        return BODY_FONT, True, 2 * BODY_PT
    if re.match(r"^（\d+）", text):
        return BODY_FONT, False, 2 * BODY_PT
    return HEITI, False, 0


def _border(paragraph, colour: RGBColor) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.makeelement(qn("w:pBdr"), {})
    bottom = borders.makeelement(
        qn("w:bottom"),
        {qn("w:val"): "single", qn("w:sz"): "12", qn("w:space"): "1", qn("w:color"): str(colour)},
    )
    borders.append(bottom)
    ppr.append(borders)


def write_docx(
    markdown: str,
    path: str | Path,
    lang: str = "zh",
    author: str = "",
    title: str = "",
    date: str | None = None,
) -> Path:
    """Write a draft as DOCX. The first level-1 heading is the document title.

    Parameters
    ----------
    markdown : the draft (Markdown with apparatus lines, see ``_markup``).
    path : the ``.docx`` to write.
    lang : ``zh`` lays it out as an official document, ``en`` as a memo.
    author : the issuing unit, stored as the document's author.
    title : the document's title property.
    date : ISO date stored as created and modified, so runs are reproducible.
    """
    w = _Writer(lang)
    doc, lay = w.doc, w.lay
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(lay.page[0]), Mm(lay.page[1])
    top, bottom, left, right = lay.margins
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.footer_distance = Mm(24 if lay.zh else 12)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN if lay.zh else EN_FONT
    normal.font.size = Pt(lay.body)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), BODY_FONT if lay.zh else EN_CJK)
    if lay.zh:
        _grid(section)
        _defaults(doc)
    _page_numbers(doc, section, lay.zh)
    for block in blocks(markdown):
        if isinstance(block, Directive):
            w.directive(block)
        else:
            w.markdown(block)
    path = Path(path)
    props = doc.core_properties
    props.author = author
    props.last_modified_by = author
    props.title = title
    props.comments = ""
    props.keywords = ""
    props.subject = ""
    if date:
        stamp = datetime.fromisoformat(date)
        props.created = props.modified = stamp
        props.last_printed = stamp
    props.revision = 1
    doc.save(path)
    return path


def _defaults(doc) -> None:
    """The document's default type: 三号 仿宋, 0.2 pt tight, so that 28 characters fill
    the 156 mm line (LibreOffice and WPS read the defaults, not only the Normal style).
    """
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    # in the schema's order: rFonts … spacing, sz, szCs … lang
    lang = rpr.find(qn("w:lang"))
    for tag, value in (("w:spacing", str(CHAR_SPACING_TWIPS)), ("w:sz", str(BODY_PT * 2)),
                       ("w:szCs", str(BODY_PT * 2))):
        el = rpr.find(qn(tag))
        if el is not None:
            rpr.remove(el)
        el = rpr.makeelement(qn(tag), {qn("w:val"): value})
        if lang is not None:
            lang.addprevious(el)
        else:
            rpr.append(el)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for attr, value in (("w:eastAsia", BODY_FONT), ("w:ascii", LATIN), ("w:hAnsi", LATIN)):
        fonts.set(qn(attr), value)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def _grid(section) -> None:
    """The GB/T 9704 document grid: 22 lines a page (a 579-twip line pitch in the
    225 mm type area). Its 28 characters a line come from the type itself: 三号 set
    0.2 pt tight (see :func:`_defaults`) fills the 156 mm line with exactly 28
    characters. Word's character grid (``linesAndChars`` with a negative charSpace)
    would do the same in Word, but LibreOffice then gives every character two cells."""
    sect = section._sectPr
    for old in sect.findall(qn("w:docGrid")):
        sect.remove(old)
    grid = sect.makeelement(qn("w:docGrid"), {qn("w:type"): "lines", qn("w:linePitch"): "579"})
    sect.append(grid)


def _page_numbers(doc, section, zh: bool) -> None:
    """Page numbers as “— 1 —” in 14 pt: odd pages right, even pages left, one character
    in from the edge (GB/T 9704 7.5); an English memo's centred."""
    if not zh:
        _number_paragraph(
            section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.CENTER, EN_CJK, 10, dashes=False
        )
        return
    doc.settings.odd_and_even_pages_header_footer = True
    odd = _number_paragraph(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT, BODY_FONT, 14)
    odd.paragraph_format.right_indent = Pt(14)
    even = _number_paragraph(
        section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT, BODY_FONT, 14
    )
    even.paragraph_format.left_indent = Pt(14)


def _number_paragraph(p, align, font, size, dashes: bool = True):
    p.alignment = align
    if dashes:
        _font(p.add_run("— "), font, size)
    run = p.add_run()
    _font(run, font, size)
    for tag, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if tag:
            el = run._element.makeelement(qn("w:fldChar"), {qn("w:fldCharType"): tag})
        else:
            el = run._element.makeelement(qn("w:instrText"), {qn("xml:space"): "preserve"})
            el.text = text
        run._element.append(el)
    if dashes:
        _font(p.add_run(" —"), font, size)
    return p


# -- titles broken at sense -------------------------------------------------------------

_BAD_START = ("的", "和", "与", "及", "等", "了", "之", "、", "，", "问题的", "的提案")
_BAD_END = ("关", "的", "和", "与", "及", "对", "在", "为", "、")


def _tokenizer():
    # the open answers' tokenizer, with the domain dictionary (融资难, 综合查一次 …)
    from analysis.measures._words import _tokenizer as tokenizer

    return tokenizer()


def title_lines(title: str, width: int = TITLE_CHARS) -> list[str]:
    """A title broken into lines at sense (GB/T 9704 7.3.3: 词意完整, 排列对称): breaks
    fall between words, never leave “的提案” or a particle alone on a line, and make
    the lines as even as possible, upper lines no longer than lower ones.

    >>> title_lines("关于破解小微民营企业融资难融资贵问题的提案")
    ['关于破解小微民营企业', '融资难融资贵问题的提案']
    """
    title = title.strip()
    if _units(title) <= width:
        return [title]
    cuts, pos = [], 0
    for word in _tokenizer().cut(title, HMM=False):
        pos += len(word)
        if 0 < pos < len(title):
            cuts.append(pos)
    count = math.ceil(_units(title) / width)
    best, best_cost = None, math.inf
    for combo in combinations(cuts, count - 1):
        bounds = [0, *combo, len(title)]
        lines = [title[a:b] for a, b in pairwise(bounds)]
        if any(_units(x.strip()) > width for x in lines):
            continue
        sizes = [_units(x.strip()) for x in lines]
        cost = max(sizes) - min(sizes)
        for line in lines[:-1]:
            if line.endswith((" ", "　", "，", "；", "：", "、")):
                cost -= 12  # a break between clauses is the surest sense break
        for k, line in enumerate(lines):
            if k > 0 and line.startswith(_BAD_START):
                cost += 50
            if k < len(lines) - 1 and line.endswith(_BAD_END):
                cost += 50
            if k > 0 and sizes[k - 1] > sizes[k] + 1:
                cost += 2  # an inverted trapezoid
        if cost < best_cost:
            best, best_cost = lines, cost
    if best is None:  # no word boundary fits: cut by width
        return [title[i : i + width] for i in range(0, len(title), width)]
    return [line.strip(" 　") for line in best]


# -- pages ------------------------------------------------------------------------------


def _units(text: str) -> float:
    """Width of a text in ems: a CJK or full-width character is one em, others half."""
    return sum(1.0 if ord(ch) > 0x2E80 or ch in "“”‘’—…" else 0.55 for ch in text)


def pages(path: str | Path) -> int:
    """How many pages a DOCX written by :func:`write_docx` fills, from its fixed layout:
    every paragraph has an exact line pitch and a known font size, so its lines follow
    from the width of its text. Each page keeps one line spare, since renderers differ
    by about a line (fonts substituted, borders): the count errs long, never short, and
    a test holds it against LibreOffice's on every draft. The genre check uses it
    (参阅 on one page)."""
    doc = Document(str(path))
    section = doc.sections[0]
    width = (section.page_width - section.left_margin - section.right_margin) / 12700
    height = (section.page_height - section.top_margin - section.bottom_margin) / 12700
    used, count = 0.0, 1
    body = doc.element.body
    for child in body.iterchildren():
        if child.tag == qn("w:p"):
            from docx.text.paragraph import Paragraph

            p = Paragraph(child, doc)
            if any(br.get(qn("w:type")) == "page" for br in child.iter(qn("w:br"))):
                count, used = count + 1, 0.0
                continue
            h = _paragraph_height(p, width)
        elif child.tag == qn("w:tbl"):
            from docx.table import Table

            h = _table_height(Table(child, doc), width)
        else:
            continue
        if used + h > height - LINE_PT:  # a line spare: renderers differ by about one
            count += 1
            used = h if h <= height else h % height
        else:
            used += h
    return count


def section_zh(p) -> bool:
    """Whether a paragraph is set in Chinese official type (an East Asian body font)."""
    for r in p.runs:
        fonts = r._element.rPr.find(qn("w:rFonts")) if r._element.rPr is not None else None
        if fonts is not None:
            return fonts.get(qn("w:eastAsia")) in (BODY_FONT, HEITI, KAITI, TITLE_FONT)
    return True


def _paragraph_height(p, width: float) -> float:
    fmt = p.paragraph_format
    pitch = fmt.line_spacing.pt if fmt.line_spacing is not None else LINE_PT
    size = next((r.font.size.pt for r in p.runs if r.font.size is not None), BODY_PT)
    indent = fmt.first_line_indent.pt if fmt.first_line_indent is not None else 0
    right = fmt.right_indent.pt if fmt.right_indent is not None else 0
    spacing = CHAR_SPACING_TWIPS / 20 if section_zh(p) else 0
    per_line = max((width - right + 0.5) / (size + spacing), 1)
    lines = 0
    for segment in p.text.split("\n"):
        lines += max(1, math.ceil((_units(segment) + indent / size) / per_line - 1e-9))
    before = fmt.space_before.pt if fmt.space_before is not None else 0
    after = fmt.space_after.pt if fmt.space_after is not None else 0
    return lines * pitch + before + after


def _table_height(table, width: float) -> float:
    total = 0.0
    columns = len(table.columns) or 1
    for row in table.rows:
        tallest = 1
        for cell in row.cells:
            text = cell.text
            per_line = max((width / columns - 10) / 10.5, 1)
            tallest = max(tallest, math.ceil(_units(text) / per_line) or 1)
        total += tallest * 15 + 2
    return total
