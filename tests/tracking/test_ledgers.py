"""Reading and checking the office's ledgers: each bad-ledger case stops with its message,
naming the file, the row, the column and the value."""

from __future__ import annotations

import pytest
from openpyxl import Workbook

from analysis.errors import InputFileError, ValidationError
from analysis.tracking.ledgers import read_ledgers, unit_of
from ledger_files import cell, copy_sample, edit, ledgers


def read(paths, strict=True):
    return read_ledgers(paths["submissions"], paths["events"], paths["services"], strict=strict)


def problem(exc: ValidationError, needle: str):
    hits = [p for p in exc.problems if needle in p.message and p.severity == "error"]
    assert hits, [str(p) for p in exc.problems]
    return hits[0]


def test_the_sample_ledgers_read_without_errors():
    from conftest import SAMPLE

    paths = {n: SAMPLE / f"{n}.csv" for n in ("submissions", "events", "services")}
    led = read(paths)
    assert not led.errors
    s = led.submissions.data
    assert len(s) == 38 and s.kind.value_counts()["social"] == 23
    # services.csv is GBK with a title row above the header, as Excel saves it
    d = led.services.data
    assert d.row.min() == 3 and len(d) == 392
    # 金额（万元）: amounts in yuan
    finance = d[(d.kind == "finance") & (d.date.dt.year == 2025)]
    assert finance.amount.sum() == 1_250_000_000
    # 西宁 and 西宁市 are one region, named as the questionnaire names it
    assert "西宁" not in set(d.region) and "西宁市" in set(d.region)


def test_an_event_pointing_at_no_submission(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "events", 5, "报送编号", "S2025-O1")  # a letter O for a zero
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "points at no submission")
    assert (p.path.endswith("events.csv"), p.row, p.column, p.value) == (
        True,
        5,
        "报送编号",
        "S2025-O1",
    )
    assert "closest id is 'S2025-01'" in p.message


def test_an_event_dated_before_its_submission(tmp_path):
    paths = copy_sample(tmp_path)
    assert cell(paths, "events", 5, "报送编号") == "S2025-01"  # submitted 2025-02-20
    edit(paths, "events", 5, "日期", "2025年2月1日")
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "dated before its submission")
    assert (p.row, p.column, p.value) == (5, "日期", "2025-02-01")
    assert "2025-02-20" in p.message and "submissions.csv row" in p.message


def test_a_negative_amount(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "services", 4, "金额（万元）", "-12000")
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "negative amount")
    assert (p.path.endswith("services.csv"), p.row, p.column, p.value) == (
        True,
        4,
        "金额（万元）",
        "-12000",
    )


def test_a_duplicated_id(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "submissions", 12, "报送编号", "S2025-01")  # row 13 holds S2025-01
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "duplicated id")
    assert (p.row, p.column, p.value) == (13, "报送编号", "S2025-01")
    assert "also on row 12" in p.message


@pytest.mark.parametrize(
    ("name", "row", "column", "value", "closest"),
    [
        ("submissions", 6, "报送类别", "社情民意信", "社情民意信息 (social)"),
        ("submissions", 6, "报送类别", "提按", "政协提案 (proposal)"),
        ("events", 3, "事件", "采纳了", "采用 (adopted)"),
        ("events", 8, "事件", "批复", "批示 (instructed)"),
        ("services", 4, "服务类别", "融资对接会", "融资对接 (finance)"),
    ],
)
def test_an_unknown_kind_or_event_names_the_closest(tmp_path, name, row, column, value, closest):
    paths = copy_sample(tmp_path)
    edit(paths, name, row, column, value)
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "the closest is")
    assert (p.row, p.column, p.value) == (row, column, value)
    assert p.message.endswith(closest)


def test_an_amount_without_a_unit(tmp_path):
    paths = copy_sample(tmp_path)
    from ledger_files import read_rows, write_rows

    rows = read_rows(paths["services"], "services")
    rows[1][rows[1].index("金额（万元）")] = "金额"
    write_rows(paths["services"], "services", rows)
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "without a clear unit")
    assert (p.row, p.column, p.value) == (3, "金额", "15000")


def test_units_in_cells_and_headers(tmp_path):
    paths = ledgers(
        tmp_path,
        [["S1", "social", "t", "2025-03-01", "省政协", "融资"]],
        [],
        [
            ["finance", "2025-03-01", "西宁", "", "10", "100"],
            ["finance", "2025-03-02", "西宁", "", "10", "0.5亿元"],
            ["finance", "2025-03-03", "西宁", "", "10", "2,500"],
        ],
    )
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "says another unit")  # 亿元 in a 万元 column
    assert (p.row, p.value) == (3, "0.5亿元")
    edit_rows = [
        ["Kind", "Date", "Region", "Firm key", "Firms", "Amount"],
        ["finance", "2025-03-01", "西宁", "", "10", "100万元"],
        ["finance", "2025-03-02", "西宁", "", "10", "0.5亿元"],
        ["finance", "2025-03-03", "西宁", "", "10", "2,500元"],
    ]
    import csv

    with open(paths["services"], "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(edit_rows)
    amounts = read(paths).services.data.amount.tolist()
    assert amounts == [1_000_000, 50_000_000, 2_500]


@pytest.mark.parametrize(
    ("header", "yuan"),
    [
        ("金额（万元）", 1e4),
        ("金额(亿元)", 1e8),
        ("投入资金（元）", 1),
        ("Amount (CNY 10k)", 1e4),
        ("amount (yuan)", 1),
        ("捐赠金额万元", 1e4),
        ("金额", None),
        ("amount", None),
    ],
)
def test_unit_of_a_header(header, yuan):
    assert unit_of(header) == yuan


def test_an_adoption_needs_its_body_and_level(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "events", 4, "层级", "")
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "without its level")
    assert (p.row, p.column) == (4, "层级")


def test_the_same_event_twice(tmp_path):
    from ledger_files import read_rows, write_rows

    paths = copy_sample(tmp_path)
    rows = read_rows(paths["events"], "events")
    write_rows(paths["events"], "events", [*rows, rows[4]])
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "same event is also on row 5")
    assert p.row == len(rows) + 1


def test_a_measure_the_kind_does_not_have(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "services", 4, "岗位数（个）", "30")  # a finance row
    with pytest.raises(ValidationError) as err:
        read(paths)
    p = problem(err.value, "has no measure")
    assert (p.row, p.column, p.value) == (4, "岗位数（个）", "30")


def test_every_problem_of_the_three_files_at_once(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "events", 5, "报送编号", "S2025-91")
    edit(paths, "services", 4, "金额（万元）", "-1")
    edit(paths, "submissions", 6, "报送类别", "提按")
    with pytest.raises(ValidationError) as err:
        read(paths)
    files = [p.path.rsplit("/", 1)[-1] for p in err.value.problems if p.severity == "error"]
    assert files == ["submissions.csv", "events.csv", "services.csv"]
    text = str(err.value)
    assert "events.csv:5:报送编号: 'S2025-91'" in text


def test_an_xlsx_ledger_with_english_headers_and_title_rows(tmp_path):
    paths = copy_sample(tmp_path)
    book = Workbook()
    ws = book.active
    ws.title = "Submissions 2025"
    ws.append(["Qinghai FIC — submissions ledger"])
    ws.append([])
    ws.append(["Submission ID", "Kind", "Title", "Date submitted", "Sent to", "Topic"])
    import datetime as dt

    ws.append(["X1", "social", "A report", dt.datetime(2025, 3, 4), "省政协", "融资"])
    ws.append(["X2", "CPPCC proposal", "A proposal", "2025/1/15", "省政协", "税费"])
    path = tmp_path / "submissions.xlsx"
    book.save(path)
    led = read_ledgers(path, paths["events"], paths["services"], strict=False)
    data = led.submissions.data
    assert data.kind.tolist() == ["social", "proposal"]
    assert data.row.tolist() == [4, 5]
    assert str(data.submitted.iloc[0].date()) == "2025-03-04"
    # the sample's events now point at submissions this file does not have
    assert any("points at no submission" in p.message for p in led.errors)


def test_a_missing_file_is_an_input_error(tmp_path):
    paths = copy_sample(tmp_path)
    paths["events"] = tmp_path / "nope.csv"
    with pytest.raises(InputFileError, match="file not found"):
        read(paths)


def test_firm_key_rows_count_one_firm(tmp_path):
    paths = ledgers(
        tmp_path,
        [["S1", "social", "t", "2025-03-01", "省政协", "融资"]],
        [],
        [["jobs", "2025-03-01", "西宁", "91630100MA0000001X", "3", ""]],
    )
    with pytest.raises(ValidationError) as err:
        read(paths)
    assert problem(err.value, "names one firm").value == "3"


def test_raw_files_are_not_modified(tmp_path):
    import hashlib

    paths = copy_sample(tmp_path)
    before = {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in paths.items()}
    read(paths)
    assert before == {n: hashlib.sha256(p.read_bytes()).hexdigest() for n, p in paths.items()}
