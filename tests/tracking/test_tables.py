from __future__ import annotations

from openpyxl import load_workbook

from analysis.pipeline.export import write_workbook
from analysis.tracking.tables import tables


def test_tables_hold_exact_figures_and_their_rows(sample_results, tmp_path):
    path = tmp_path / "tables.xlsx"
    write_workbook(tables(sample_results, "zh"), path)
    book = load_workbook(path)
    assert book.sheetnames[:3] == ["报送", "采用渠道", "刊物和批示"]
    services = {(r[1], r[2]): r[3] for r in book["服务"].iter_rows(min_row=2, values_only=True)}
    assert services[("捐赠", "金额")] == 21_345_600
    assert services[("融资对接", "企业数")] == 1200
    trace = {r[0]: r[2] for r in book["台账行"].iter_rows(min_row=2, values_only=True)}
    assert trace["被采用篇数"].startswith("submissions: 3, 4, ")
    assert "events: " in trace["被采用篇数"]
    en = tables(sample_results, "en")
    assert "Channels" in en and en["Submissions"][0] == ["kind", "sent", "adopted", "unit"]
