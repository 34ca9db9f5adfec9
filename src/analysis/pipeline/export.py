"""Export executed notebooks as briefs: offline HTML, and PDF rendered from that HTML.

The HTML template that hides code and drops CDN scripts lives in one place,
``templates/nbconvert/qifang_brief``; both exporters below use it, and both are
registered with nbconvert, so these give the same files as ``qifang run``::

    jupyter nbconvert --to qifang_html briefs/<run>/2-policy-brief.ipynb
    jupyter nbconvert --to qifang_pdf  briefs/<run>/2-policy-brief.ipynb

Why not nbconvert's own PDF routes: ``--to pdf`` goes through LaTeX and silently drops
every Chinese character; ``--to webpdf`` needs a Chromium that playwright downloads,
which office networks block. WeasyPrint lays out the same HTML with the system's CJK
font embedded, in about a second.
"""

from __future__ import annotations

from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets import default

from analysis.writing.render import brief_css

TEMPLATES = Path(__file__).parent / "templates"
REMOVE_TAGS = {"remove", "remove-cell", "parameters", "injected-parameters"}


class BriefHTMLExporter(HTMLExporter):
    """A brief as one self-contained HTML file: outputs only, charts embedded, no
    scripts, no external resources; cells tagged ``remove`` are left out."""

    export_from_notebook = "Qifang brief (HTML)"

    @default("extra_template_basedirs")
    def _default_basedirs(self):
        return [str(TEMPLATES / "nbconvert")]

    @default("template_name")
    def _default_template_name(self):
        return "qifang_brief"

    @default("exclude_input")
    def _default_exclude_input(self):
        return True

    @default("exclude_input_prompt")
    def _default_exclude_input_prompt(self):
        return True

    @default("exclude_output_prompt")
    def _default_exclude_output_prompt(self):
        return True

    def __init__(self, **kw):
        super().__init__(**kw)
        self.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS, enabled=True), enabled=True
        )

    def from_notebook_node(self, nb, resources=None, **kw):
        resources = dict(resources or {})
        resources["qifang_css"] = brief_css()
        return super().from_notebook_node(nb, resources, **kw)


class BriefPDFExporter(BriefHTMLExporter):
    """The brief's HTML laid out as an A4 PDF by WeasyPrint, CJK font embedded."""

    export_from_notebook = "Qifang brief (PDF)"
    output_mimetype = "application/pdf"

    @default("file_extension")
    def _file_extension_default(self):
        return ".pdf"

    @default("template_file")
    def _template_file_default(self):
        return "index.html.j2"  # the same template as the HTML brief

    def from_notebook_node(self, nb, resources=None, **kw):
        html, resources = super().from_notebook_node(nb, resources, **kw)
        resources["output_extension"] = ".pdf"
        return html_to_pdf(html), resources


def html_to_pdf(html: str) -> bytes:
    """Lay out an HTML brief as PDF (A4, page numbers from the stylesheet).

    The PDF carries no creation date, so the same HTML gives a PDF with the same
    content on every run.
    """
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, url_fetcher=_offline_fetcher()).write_pdf(
        pdf_identifier=b"qifang-brief", uncompressed_pdf=False
    )


def _offline_fetcher():
    """A URL fetcher that serves only ``data:`` URLs: a brief embeds everything it
    shows, and laying it out must never reach the network (or the file system)."""
    try:
        from weasyprint.urls import URLFetcher
    except ImportError:  # WeasyPrint < 66 takes a function
        from weasyprint import default_url_fetcher

        def fetch(url, *args, **kwargs):
            if not url.startswith("data:"):
                raise ValueError(f"a brief may not load {url}")
            return default_url_fetcher(url, *args, **kwargs)

        return fetch
    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def notebook_to_html(nb) -> str:
    """An executed notebook (a ``nbformat`` node) as brief HTML."""
    html, _ = BriefHTMLExporter().from_notebook_node(nb)
    return html


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    """A value for a spreadsheet cell; text a spreadsheet would run as a formula (CSV/
    formula injection: =HYPERLINK(…), @SUM(…), +cmd|…) is flagged to stay text."""
    return value, isinstance(value, str) and value.startswith(_FORMULA_START)


def tables_xlsx(findings, path, lang: str = "zh") -> None:
    """The brief's tables as a workbook for staff: index, difficulties, policies,
    regions, requests, and the firms' redacted words. Formats only: every value comes
    from ``findings``, rounded as the brief prints it (shares to 0.1% and shown as
    percentages, scores to 0.1, days whole), with words, never codes, in the text
    columns, and a suppressed figure said to be withheld as the brief says it."""
    zh = lang != "en"
    withheld = "不予公布" if zh else "not shown"

    def label(text):
        return text.get(lang)

    def stat(s, kind):
        if s.suppressed or s.estimate is None:
            return [(withheld, "text"), (None, kind), (None, kind), (s.n, "count")]
        return [(s.estimate, kind), (s.ci_low, kind), (s.ci_high, kind), (s.n, "count")]

    vs = {
        "above": ("显著高于全省", "above the province"),
        "below": ("显著低于全省", "below the province"),
        "not_different": ("与全省无显著差异", "not significantly different"),
        "suppressed": ("不予公布", "not shown"),
    }
    ci = ["置信区间下限", "置信区间上限", "样本企业数"] if zh else ["CI low", "CI high", "Firms"]
    sheets = {
        ("指数", "Index"): (
            ["维度", "得分", *ci] if zh else ["Dimension", "Score", *ci],
            [
                [
                    ("营商环境指数" if zh else "Business-environment index", "text"),
                    *stat(findings.index.overall, "score"),
                ]
            ]
            + [
                [(label(d.label), "text"), *stat(d.score, "score")]
                for d in findings.index.dimensions
            ],
        ),
        ("困难", "Difficulties"): (
            ["困难", "占比", *ci] if zh else ["Difficulty", "Share", *ci],
            [[(label(d.label), "text"), *stat(d.share, "share")] for d in findings.difficulties],
        ),
        ("政策", "Policies"): (
            ["政策", "知晓率", "享受率", "知晓未享受比例"]
            if zh
            else ["Policy", "Aware", "Benefited", "Aware, not benefited"],
            [
                [(label(p.label), "text")]
                + [stat(x, "share")[0] for x in (p.aware, p.benefited, p.reach_gap)]
                for p in findings.policies
            ],
        ),
        ("市州", "Regions"): (
            ["市州", "指数", *ci, "排名", "与全省比较"]
            if zh
            else ["Region", "Index", *ci, "Rank", "Against the province"],
            [
                [
                    (label(r.label), "text"),
                    *stat(r.score, "score"),
                    (r.rank, "count"),
                    (vs.get(r.vs_province, (r.vs_province,) * 2)[0 if zh else 1], "text"),
                ]
                for r in findings.index.regions
            ],
        ),
        ("原话", "Quotes"): (
            ["类别", "企业原话（已删除可识别信息）"] if zh else ["Category", "Quote (redacted)"],
            [
                [(label(c.label), "text"), (q, "text")]
                for block in findings.open_answers
                if block.field == "urgent_needs"
                for c in block.categories
                for q in c.quotes
            ],
        ),
    }
    if findings.requests is not None:
        few = "件数过少，不予公布" if zh else "too few requests, not shown"
        sheets[("诉求", "Requests")] = (
            ["责任部门", "件数", "已办结", "办结率", "办结天数中位数", "超期"]
            if zh
            else ["Department", "Requests", "Resolved", "Share resolved", "Median days", "Overdue"],
            [
                [
                    (label(d.label), "text"),
                    (d.total, "count"),
                    (d.resolved, "count"),
                    (d.rate, "share") if d.rate is not None else (few, "text"),
                    (d.median_days, "days"),
                    (d.overdue, "count"),
                ]
                for d in findings.requests.by_department
            ],
        )
    write_workbook({(zh_en[0] if zh else zh_en[1]): table for zh_en, table in sheets.items()}, path)


def write_workbook(sheets: dict[str, tuple[list, list[list]]], path) -> None:
    """Write sheets of (header, rows) as a workbook: bold headers, and any text a
    spreadsheet would run as a formula stored and shown as text. A cell given as
    ``(value, kind)`` (kind ``share``, ``score``, ``count``, ``days`` or ``text``) is
    rounded as a brief prints it and shown in that kind's number format."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, (header, rows) in sheets.items():
        ws = book.create_sheet(name)
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            typed = [c if isinstance(c, tuple) else (c, "") for c in row]
            values = [_rounded(v, kind) for v, kind in typed]
            ws.append([v for v, _ in map(_safe, values)])
            for cell, value, (_, kind) in zip(ws[ws.max_row], values, typed, strict=True):
                if _safe(value)[1]:
                    cell.data_type = "s"  # stored as text, never evaluated
                    cell.quotePrefix = True  # and shown as text in Excel
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    cell.number_format = _FORMATS.get(kind, "General")
    book.save(path)


_FORMATS = {"share": "0.0%", "score": "0.0", "count": "#,##0", "days": "0"}


def _rounded(value, kind: str):
    """A value as the brief prints it: no float noise in a cell."""
    if value is None or isinstance(value, str | bool):
        return value
    if kind == "share":
        return round(float(value), 3)
    if kind == "score":
        return round(float(value), 1)
    if kind in ("count", "days"):
        return round(float(value))
    return value
