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

from functools import cache
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets import default

TEMPLATES = Path(__file__).parent / "templates"
REMOVE_TAGS = {"remove", "remove-cell", "parameters", "injected-parameters"}


@cache
def brief_css() -> str:
    return (TEMPLATES / "brief.css").read_text(encoding="utf-8")


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
    return HTML(string=html).write_pdf(pdf_identifier=b"qifang-brief", uncompressed_pdf=False)


def notebook_to_html(nb) -> str:
    """An executed notebook (a ``nbformat`` node) as brief HTML."""
    html, _ = BriefHTMLExporter().from_notebook_node(nb)
    return html
