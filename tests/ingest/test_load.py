from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from analysis.errors import InputFileError, ValidationError
from analysis.ingest.load import load
from conftest import EXPORTS, SAMPLE

CANONICAL = EXPORTS / "utf8_variable_names.csv"


@pytest.fixture(scope="module")
def canonical():
    return load(CANONICAL).data


@pytest.mark.parametrize(
    ("fixture", "encoding"),
    [
        ("gb18030_label_headers_joined.csv", "gb18030"),  # labels, ┋-joined multi-select
        ("gbk_label_headers.csv", "gb18030"),  # GBK is read as its superset GB18030
        ("utf8_bom_multiselect_01_columns.csv", "utf-8 with BOM"),  # "5.(融资难融资贵)" 0/1
        ("option_numbers.csv", "utf-8"),  # single choices as option numbers
        ("multiselect_joined.xlsx", None),  # ；-joined, label headers without numbers
        ("title_row_merged.xlsx", None),  # a merged title row above the header
        ("two_sheets.xlsx", None),  # the answers on the second sheet
    ],
)
def test_every_export_flavour_loads_to_the_same_data(canonical, fixture, encoding):
    loaded = load(EXPORTS / fixture)
    pd.testing.assert_frame_equal(loaded.data, canonical)
    assert loaded.provenance.encoding == encoding
    assert not loaded.errors


def test_workbook_provenance_names_sheet_and_header_row():
    prov = load(EXPORTS / "title_row_merged.xlsx").provenance
    assert (prov.sheet, prov.header_row) == ("数据", 2)
    assert load(EXPORTS / "two_sheets.xlsx").provenance.sheet == "答卷数据"


def test_provenance_and_raw_file_untouched():
    before = CANONICAL.read_bytes()
    loaded = load(CANONICAL)
    assert CANONICAL.read_bytes() == before
    prov = loaded.provenance
    assert prov.sha256 == hashlib.sha256(before).hexdigest()
    assert prov.rows == 40
    assert prov.columns["difficulties__financing"] == "difficulties__financing"


def test_label_headers_are_mapped(canonical):
    prov = load(EXPORTS / "gb18030_label_headers_joined.csv").provenance
    assert prov.columns["5.您企业所在的市州："] == "region"
    prov = load(EXPORTS / "utf8_bom_multiselect_01_columns.csv").provenance
    assert prov.columns["30.(融资难融资贵)"] == "difficulties__financing"


def test_coded_types(sample_visits):
    d = sample_visits
    assert d["size"].cat.categories.tolist() == ["large", "medium", "small", "micro"]
    assert d["r_service"].dtype == float and d["r_service"].dropna().between(1, 5).all()
    assert d["wave"].dtype == "int64"
    assert str(d["visit_date"].dtype).startswith("datetime64")
    assert set(d["difficulties__financing"].dropna().unique()) == {0.0, 1.0}


def test_skipped_and_missing_tokens_are_missing(tmp_path):
    text = CANONICAL.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("r_finance")] = "(跳过)"
    row[header.index("ownership")] = "(空)"
    path = tmp_path / "skipped.csv"
    path.write_text("\n".join([text[0], ",".join(row), text[2]]) + "\n", encoding="utf-8")
    d = load(path).data
    assert pd.isna(d.at[0, "r_finance"]) and pd.isna(d.at[0, "ownership"])


@pytest.mark.parametrize(
    ("fixture", "where", "message"),
    [
        ("duplicate_ids.csv", "duplicate_ids.csv:5:visit_id: 'QF2024-000002'", "also on row 3"),
        (
            "values_outside_choices.csv",
            "values_outside_choices.csv:4:region: '拉萨市'",
            "not a choice of '市州'",
        ),
        (
            "values_outside_choices.csv",
            "values_outside_choices.csv:6:r_service: '7'",
            "not a rating",
        ),
        (
            "values_outside_choices.csv",
            "values_outside_choices.csv:7:employees: '很多'",
            "must be a number",
        ),
        (
            "impossible_dates.csv",
            "impossible_dates.csv:3:visit_date: '2025-02-30'",
            "not a real date",
        ),
        (
            "impossible_dates.csv",
            "impossible_dates.csv:4:visit_date: '2099-05-01'",
            "date is in the future",
        ),
        (
            "missing_required_column.csv",
            "missing_required_column.csv:1:您企业所在的市州:",
            "required column",
        ),
        ("truncated.csv", "truncated.csv:6:", "row has 8 cells where the header has 55"),
    ],
)
def test_bad_contents_name_file_row_column_value(fixture, where, message):
    with pytest.raises(ValidationError) as info:
        load(EXPORTS / fixture)
    lines = [str(p) for p in info.value.problems if p.severity == "error"]
    assert any(line.startswith(where) and message in line for line in lines), lines


def test_invalid_value_is_not_reported_twice():
    with pytest.raises(ValidationError) as info:
        load(EXPORTS / "values_outside_choices.csv")
    assert len([p for p in info.value.problems if p.severity == "error"]) == 3


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("empty.csv", "the file is empty"),
        ("binary.csv", "binary file"),
        ("old_format.xls", "old Excel .xls"),
        ("mixed_encoding.csv", r"line 3: .* not UTF-8"),
    ],
)
def test_unreadable_files(fixture, message):
    with pytest.raises(InputFileError, match=message):
        load(EXPORTS / fixture)


def test_not_a_survey_export():
    with pytest.raises(ValidationError, match="does not look like an export of this questionnaire"):
        load(EXPORTS / "not_a_survey.csv")


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="file not found"):
        load(tmp_path / "visits.csv")


def test_unknown_column_and_skipped_question_are_warnings(tmp_path):
    df = pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)
    df["审核人"] = "李四"
    df["来自IP"] = "10.0.0.1"  # 问卷星 metadata: known, left out without a warning
    path = tmp_path / "extra.csv"
    df.to_csv(path, index=False)
    loaded = load(path)  # strict, but warnings do not stop it
    warnings = [str(p) for p in loaded.warnings]
    assert any("审核人" in w and "ignored" in w for w in warnings)
    assert not any("来自IP" in w for w in warnings)
    assert any("skipped this optional question" in w for w in warnings)


def test_form_is_recognised_from_headers():
    assert load(SAMPLE / "requests.csv", form=None).form == "requests"
    assert load(SAMPLE / "frame.csv", form=None).form == "frame"
    assert load(SAMPLE / "visits.csv", form=None).form == "visits"


def test_ledger_consistency_rules():
    with pytest.raises(ValidationError) as info:
        load(EXPORTS / "requests_resolved_without_date.csv", form="requests")
    lines = [str(p) for p in info.value.problems if p.severity == "error"]
    assert any(":2:resolved_date:" in x and "resolution date is empty" in x for x in lines)
    assert any(
        ":3:resolved_date: '2020-01-01'" in x and "resolved before it was raised" in x
        for x in lines
    )
