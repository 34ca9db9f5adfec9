from __future__ import annotations

import io
import re
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.pipeline.export import html_to_pdf, notebook_to_html


@pytest.fixture(scope="module")
def notebook():
    nb = new_notebook()
    nb.metadata["title"] = "测试简报"
    nb.metadata["papermill"] = {"parameters": {"lang": "zh"}}
    nb.cells = [
        new_code_cell("region = None", metadata={"tags": ["parameters"]}),
        new_markdown_cell("研究员笔记：不进入简报", metadata={"tags": ["remove"]}),
        new_code_cell(
            "secret_code_line = 1",
            outputs=[
                new_output(
                    "display_data",
                    data={
                        "text/html": "<h1>关于优化营商环境的调研简报</h1>"
                        "<p>融资难问题依然突出，占42.3%。</p>"
                    },
                )
            ],
        ),
        new_code_cell("print('x')", outputs=[new_output("stream", name="stdout", text="debug\n")]),
        new_markdown_cell("本简报数据来源于大走访。"),
    ]
    return nb


def test_html_brief_has_outputs_only(notebook):
    html = notebook_to_html(notebook)
    assert "关于优化营商环境的调研简报" in html and "本简报数据来源于大走访" in html
    assert "secret_code_line" not in html and "研究员笔记" not in html and "debug" not in html
    assert '<html lang="zh-CN">' in html and "<title>测试简报</title>" in html


def test_html_brief_opens_offline(notebook):
    html = notebook_to_html(notebook)
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html


def test_english_brief_declares_its_language(notebook):
    nb = nbformat.from_dict(notebook)
    nb.metadata["papermill"]["parameters"]["lang"] = "en"
    assert '<html lang="en">' in notebook_to_html(nb)


def test_pdf_embeds_the_cjk_font_and_keeps_the_text(notebook):
    from pypdf import PdfReader

    pdf = html_to_pdf(notebook_to_html(notebook))
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "融资难问题依然突出" in text.replace("\n", "")
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            assert (
                "/FontFile3" in descendant["/FontDescriptor"]
                or "/FontFile2" in descendant["/FontDescriptor"]
            )
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("CJK" in f or "Hei" in f or "Song" in f for f in fonts), fonts


def test_pdf_is_a4_with_page_numbers(notebook):
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(html_to_pdf(notebook_to_html(notebook))))
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1
    assert "— 1 —" in reader.pages[0].extract_text()


def test_same_html_gives_the_same_pdf(notebook):
    html = notebook_to_html(notebook)
    assert html_to_pdf(html) == html_to_pdf(html)


def test_nbconvert_entry_points_give_the_same_files(notebook, tmp_path):
    path = tmp_path / "brief.ipynb"
    nbformat.write(notebook, path)
    for fmt, ext in (("qifang_html", "html"), ("qifang_pdf", "pdf")):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "jupyter",
                "nbconvert",
                "--to",
                fmt,
                str(path),
                "--output",
                f"via_cli_{ext}",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "via_cli_html.html").read_text(encoding="utf-8") == notebook_to_html(
        notebook
    )
    assert (tmp_path / "via_cli_pdf.pdf").read_bytes() == html_to_pdf(notebook_to_html(notebook))


def test_spreadsheet_export_neutralises_formula_injection(tmp_path):
    import openpyxl

    from analysis.pipeline.export import tables_xlsx
    from findings_fixture import sample_findings

    f = sample_findings()
    block = f.open_answers[0]
    evil = block.categories[0].model_copy(
        update={"quotes": ['=HYPERLINK("http://example.com","x")', "@SUM(1+1)", "正常的话"]}
    )
    f2 = f.model_copy(
        update={
            "open_answers": [
                block.model_copy(update={"categories": [evil, *block.categories[1:]]}),
                *f.open_answers[1:],
            ]
        }
    )
    path = tmp_path / "tables.xlsx"
    tables_xlsx(f2, path)
    sheet = openpyxl.load_workbook(path)["原话"]
    cells = {c.value: c for c in sheet["B"][1:]}
    for text in ('=HYPERLINK("http://example.com","x")', "@SUM(1+1)"):
        assert cells[text].data_type == "s" and cells[text].quotePrefix
    assert not cells["正常的话"].quotePrefix
    assert openpyxl.load_workbook(path)["困难"]["B2"].value == round(
        f.difficulties[0].share.estimate, 3
    )


def test_spreadsheet_cells_hold_what_the_brief_prints(tmp_path):
    """No float noise, no codes: shares as percentages to 0.1%, whole median days,
    words for the comparison with the province, and withheld figures said so."""
    import openpyxl

    from analysis.pipeline.export import tables_xlsx
    from findings_fixture import sample_findings

    f = sample_findings()
    path = tmp_path / "tables.xlsx"
    tables_xlsx(f, path)
    book = openpyxl.load_workbook(path)
    share = book["困难"]["B2"]
    assert share.value == 0.614 and share.number_format == "0.0%"
    assert book["指数"]["B2"].value == 63.3 and book["指数"]["B2"].number_format == "0.0"
    hidden = "样本过少，不予公布"
    for row in book["诉求"].iter_rows(min_row=2, values_only=True):
        assert row[4] is None or isinstance(row[4], int) or row[4] == hidden
    words = {row[6] for row in book["地区"].iter_rows(min_row=2, values_only=True)}
    assert words and words <= {"显著高于全省", "显著低于全省", "与全省无显著差异", hidden}
    for ws in book.worksheets:
        for row in ws.iter_rows(min_row=2, values_only=True):
            for v in row:
                assert not isinstance(v, float) or v == round(v, 3), (ws.title, v)
                assert v not in ("not_different", "above", "below", "suppressed"), ws.title
    tables_xlsx(f, tmp_path / "en.xlsx", lang="en")
    en = openpyxl.load_workbook(tmp_path / "en.xlsx")
    assert {r[6] for r in en["Regions"].iter_rows(min_row=2, values_only=True)} <= {
        "above the province", "below the province", "not significantly different", "suppressed"
    }


def test_laying_out_a_brief_never_fetches_a_url():
    from analysis.errors import RunError

    html = '<html><body><p>图</p><img src="http://example.com/chart.png"></body></html>'
    with pytest.raises(
        RunError, match=r"\(Error fetching \"http://example.com/chart.png\"\); it was not"
    ):
        html_to_pdf(html)
