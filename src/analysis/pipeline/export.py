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

from analysis.errors import RunError, clip
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
    try:
        from weasyprint.urls import FatalURLFetchingError as fatal
    except ImportError:  # WeasyPrint < 66 raises ordinary exceptions
        fatal = ValueError
    try:
        return HTML(string=html, url_fetcher=_offline_fetcher()).write_pdf(
            pdf_identifier=b"qifang-brief", uncompressed_pdf=False
        )
    except fatal as exc:  # a BaseException in WeasyPrint 66: not caught as an error
        raise RunError(
            f"the brief asks to load something from outside it ({clip(str(exc), 200)}); "
            "it was not fetched",
            "a brief must embed everything it shows (images as data: URLs); remove the "
            "link from the notebook cell that adds it",
        ) from None


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


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _safe(value):
    """A value for a spreadsheet cell; text a spreadsheet would run as a formula (CSV/
    formula injection: =HYPERLINK(…), @SUM(…), +cmd|…) is flagged to stay text."""
    return value, isinstance(value, str) and value.startswith(_FORMULA_START)


def tables_xlsx(findings, path, lang: str = "zh") -> None:
    """The brief's tables (:func:`analysis.findings.tables.tables`) as a workbook for
    staff. Formats only: every value comes from ``findings``, rounded as the brief prints
    it (shares to 0.1% and shown as percentages, scores to 0.1, days whole), suppressed
    figures as the brief writes them."""
    from analysis.findings.tables import tables

    sheets = {}
    for name, t in tables(findings, lang).items():
        kinds = t.attrs.get("kinds") or [""] * len(t.columns)
        rows = [list(zip(row, kinds, strict=True)) for row in t.to_numpy(dtype=object).tolist()]
        sheets[name] = (list(t.columns), rows)
    write_workbook(sheets, path)


def write_workbook(sheets: dict[str, tuple[list, list[list]]], path) -> None:
    """Write sheets of (header, rows) as a workbook: bold headers, empty cells for
    missing values, and any text a spreadsheet would run as a formula stored and shown
    as text. A cell given as ``(value, kind)`` (kind ``share``, ``score``, ``count``,
    ``days``, ``p`` or ``text``) is rounded as a brief prints it and shown in that kind's
    number format; any other fraction is rounded to three places."""
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
            values = [None if _missing(v) else _rounded(v, kind) for v, kind in typed]
            ws.append([v for v, _ in map(_safe, values)])
            for cell, value, (_, kind) in zip(ws[ws.max_row], values, typed, strict=True):
                if _safe(value)[1]:
                    cell.data_type = "s"  # stored as text, never evaluated
                    cell.quotePrefix = True  # and shown as text in Excel
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    cell.number_format = _FORMATS.get(kind, "General")
    book.save(path)


_FORMATS = {"share": "0.0%", "score": "0.0", "count": "#,##0", "days": "0", "p": "0.000"}


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
    if isinstance(value, float):  # p-values and mixed columns: as many places as printed
        return round(value, 3)
    return value
