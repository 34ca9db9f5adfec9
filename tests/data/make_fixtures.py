"""Write the export fixtures in tests/data/exports/ and tests/data/instruments/.

Run from the project root: ``python tests/data/make_fixtures.py``. The files are
committed; this script documents how each was made. Every export is derived from the
same 40 synthetic visits, written the ways survey tools and Excel write them.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd

from analysis.ingest.instrument import load_instrument
from analysis.sample.generate import generate_sample

HERE = Path(__file__).parent
EXPORTS = HERE / "exports"
BAD = HERE / "bad"
INSTRUMENTS = HERE / "instruments"
INST = load_instrument()
VISITS = INST.visits


def canonical() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    s = generate_sample(firms=400, seed=7)
    v = s.visits.iloc[:40].copy()
    # Make sure the fixture has multi-select answers whose labels contain a separator.
    v.loc[v.index[0], "difficulties__labour"] = 1.0
    ids = set(v["visit_id"])
    r = s.requests[s.requests["visit_id"].isin(ids)].copy()
    return v, r, s.frame


def labelled(v: pd.DataFrame, joiner: str | None = "┋", numbered: bool = True) -> pd.DataFrame:
    """The export of a survey platform: label headers ("1.您企业所在的市州："), label
    values, ratings as label text, multi-selects joined in one cell (or 0/1 columns
    headed "5.(融资难融资贵)" when ``joiner`` is None)."""
    out = {}
    for i, q in enumerate(VISITS.fields, 1):
        head = f"{i}.{q.label.zh}：" if numbered else q.label.zh
        if q.type == "multi":
            cols = v[list(q.columns)]
            if joiner is None:
                for c in q.choices:
                    out[f"{i}.({c.label.zh})"] = (
                        cols[f"{q.name}__{c.value}"].map({1.0: "1", 0.0: "0"}).fillna("(跳过)")
                    )
            else:
                labels = [c.label.zh for c in q.choices]
                joined = cols.apply(
                    lambda row, labels=labels: (
                        "(跳过)"
                        if row.isna().all()
                        else joiner.join(
                            lab for lab, x in zip(labels, row, strict=True) if x == 1.0
                        )
                    ),
                    axis=1,
                )
                out[head] = joined
        elif q.type in ("single", "likert"):
            lookup = {c.value: c.label.zh for c in q.choices}
            values = v[q.name].astype(object)
            out[head] = [
                lookup.get(int(x) if q.type == "likert" else x, "(跳过)")
                if pd.notna(x)
                else "(跳过)"
                for x in values
            ]
        elif q.type == "date":
            out[head] = pd.to_datetime(v[q.name]).dt.strftime("%Y年%-m月%-d日")
        else:
            out[head] = v[q.name].astype(object).where(v[q.name].notna(), "")
    return pd.DataFrame(out)


def option_numbers(v: pd.DataFrame) -> pd.DataFrame:
    """Every choice as its option number (1 = first option), as 问卷星's 按选项序号
    download writes them: ratings too, so 非常满意 (listed first, score 5) is 1."""
    out = v.copy().astype(object)
    for q in VISITS.fields:
        if q.type in ("single", "likert"):
            pos = {c.value: str(k) for k, c in enumerate(q.choices, 1)}
            key = [int(x) if q.type == "likert" and pd.notna(x) else x for x in v[q.name]]
            out[q.name] = [pos.get(x, "") for x in key]
    return out


def write_xlsx(path: Path, sheets: dict[str, list[list]], merge: str | None = None) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
        if merge and name == next(iter(sheets)):
            ws.merge_cells(merge)
    book.save(path)


def rows_of(df: pd.DataFrame) -> list[list]:
    return [list(df.columns), *df.astype(object).where(df.notna(), None).values.tolist()]


def main() -> None:
    EXPORTS.mkdir(exist_ok=True)
    INSTRUMENTS.mkdir(exist_ok=True)
    v, r, frame = canonical()
    csv = dict(index=False, lineterminator="\n")

    v.to_csv(EXPORTS / "utf8_variable_names.csv", encoding="utf-8", **csv)
    r.to_csv(EXPORTS / "requests_ledger.csv", encoding="utf-8", **csv)
    frame.to_csv(EXPORTS / "frame.csv", encoding="utf-8", **csv)
    labelled(v).to_csv(EXPORTS / "gb18030_label_headers_joined.csv", encoding="gb18030", **csv)
    labelled(v, joiner="、").to_csv(EXPORTS / "gbk_label_headers.csv", encoding="gbk", **csv)
    labelled(v, joiner=None).to_csv(
        EXPORTS / "utf8_bom_multiselect_01_columns.csv", encoding="utf-8-sig", **csv
    )
    option_numbers(v).to_csv(EXPORTS / "option_numbers.csv", encoding="utf-8", **csv)

    joined = labelled(v, joiner="；", numbered=False)
    write_xlsx(EXPORTS / "multiselect_joined.xlsx", {"Sheet1": rows_of(joined)})
    title = [["2025年民营企业大走访调查结果"] + [None] * (len(joined.columns) - 1)]
    write_xlsx(EXPORTS / "title_row_merged.xlsx", {"数据": title + rows_of(joined)}, merge="A1:H1")
    write_xlsx(
        EXPORTS / "two_sheets.xlsx",
        {"说明": [["本表为走访数据导出"], ["导出时间", "2025-10-01"]], "答卷数据": rows_of(joined)},
    )

    # --- bad inputs: each breaks one rule -------------------------------------------
    bad = v.head(6).copy().astype(object)
    bad.loc[bad.index[3], "visit_id"] = bad.loc[bad.index[1], "visit_id"]
    bad.to_csv(EXPORTS / "duplicate_ids.csv", encoding="utf-8", **csv)

    bad = v.head(6).copy().astype(object)
    bad.loc[bad.index[2], "region"] = "拉萨市"
    bad.loc[bad.index[4], "r_service"] = 7
    bad.loc[bad.index[5], "employees"] = "很多"
    bad.to_csv(EXPORTS / "values_outside_choices.csv", encoding="utf-8", **csv)

    bad = v.head(4).copy().astype(object)
    bad.loc[bad.index[1], "visit_date"] = "2025-02-30"
    bad.loc[bad.index[2], "visit_date"] = "2099-05-01"
    bad.to_csv(EXPORTS / "impossible_dates.csv", encoding="utf-8", **csv)

    v.head(5).drop(columns=["region"]).to_csv(
        EXPORTS / "missing_required_column.csv", encoding="utf-8", **csv
    )

    text = v.head(5).to_csv(index=False, lineterminator="\n")
    lines = text.splitlines()
    (EXPORTS / "truncated.csv").write_text(
        "\n".join([*lines[:-1], lines[-1][:60]]) + "\n", encoding="utf-8"
    )

    pd.DataFrame({"学校": ["一中", "二中"], "学生数": [1200, 900]}).to_csv(
        EXPORTS / "not_a_survey.csv", encoding="utf-8", **csv
    )
    (EXPORTS / "empty.csv").write_bytes(b"")
    (EXPORTS / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (EXPORTS / "old_format.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    (EXPORTS / "mixed_encoding.csv").write_bytes(
        b"visit_id,region\n" + "QF1,西宁市\n".encode() + "QF2,海东市\n".encode("gbk")
    )

    orphan = r.head(4).copy().astype(object)
    orphan.loc[orphan.index[2], "visit_id"] = "QF2024-999999"
    orphan.to_csv(EXPORTS / "requests_orphan.csv", encoding="utf-8", **csv)
    ledger = r.head(4).copy().astype(object)
    ledger.loc[ledger.index[0], "status"] = "resolved"
    ledger.loc[ledger.index[0], "resolved_date"] = None
    ledger.loc[ledger.index[1], "status"] = "resolved"
    ledger.loc[ledger.index[1], "resolved_date"] = "2020-01-01"
    ledger.to_csv(EXPORTS / "requests_resolved_without_date.csv", encoding="utf-8", **csv)
    small = frame.copy()
    visited = v.groupby(["wave", "region", "size"], observed=True).size().sort_values()
    busiest, another = visited.index[-1], visited.index[0]
    key = list(zip(small.wave, small.region, small["size"], strict=True))
    small.loc[[k == busiest for k in key], "firms"] = 1  # fewer firms than were visited
    small = small[[k != another for k in key]]  # a visited stratum missing from the frame
    small.to_csv(EXPORTS / "frame_smaller_than_sample.csv", encoding="utf-8", **csv)

    # --- instruments ------------------------------------------------------------------
    survey = [
        ["type", "name", "label::zh", "label::en", "required", "dimension", "personal"],
        ["text", "visit_id", "走访编号", "Visit ID", "yes", None, None],
        ["integer", "wave", "调查年度", "Wave", "yes", None, None],
        ["date", "visit_date", "走访日期", "Visit date", "yes", None, None],
        ["begin group", "profile", "企业情况", "Profile", None, None, None],
        ["select_one region", "region", "您企业所在的市州", "Region", "yes", None, None],
        ["select_one size", "size", "企业规模", "Size", "yes", None, None],
        ["end group", None, None, None, None, None, None],
        [
            "select_one rating",
            "r_service",
            "政务服务便利度满意度",
            "Service",
            None,
            "government",
            None,
        ],
        [
            "select_multiple difficulty",
            "difficulties",
            "主要困难",
            "Difficulties",
            None,
            None,
            None,
        ],
        ["integer", "employees", "从业人数", "Employees", None, None, None],
        ["text", "phone", "联系电话", "Phone", None, None, "yes"],
    ]
    choices = [["list_name", "name", "label::zh", "label::en"]]
    for list_name in ("region", "size", "rating", "difficulty"):
        for c in INST.choice_lists[list_name]:
            choices.append([list_name, c.value, c.label.zh, c.label.en])
    write_xlsx(
        INSTRUMENTS / "xlsform_basic.xlsx",
        {
            "survey": survey,
            "choices": choices,
            "settings": [["form_id", "version", "form_title"], ["mini", "1", "小问卷"]],
        },
    )
    write_xlsx(
        INSTRUMENTS / "xlsform_unknown_list.xlsx",
        {
            "survey": [["type", "name", "label::zh"], ["select_one colour", "c", "颜色"]],
            "choices": [["list_name", "name", "label::zh"], ["size", "large", "大型"]],
        },
    )
    base = (Path(INST.source)).read_text(encoding="utf-8")
    (INSTRUMENTS / "duplicate_names.yaml").write_text(
        base.replace("      - name: county\n", "      - name: region\n", 1), encoding="utf-8"
    )
    (INSTRUMENTS / "unknown_type.yaml").write_text(
        base.replace(
            "type: likert, choices: rating, dimension: factor",
            "type: likret, choices: rating, dimension: factor",
            1,
        ),
        encoding="utf-8",
    )
    (INSTRUMENTS / "label_without_english.yaml").write_text(
        base.replace("label: {zh: 走访单位, en: Visiting unit}", "label: {zh: 走访单位}", 1),
        encoding="utf-8",
    )


def _column_letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def bad_inputs() -> None:
    """tests/data/bad/: malformed inputs beyond the export fixtures, one rule each."""
    BAD.mkdir(exist_ok=True)
    v, r, frame = canonical()
    csv = dict(index=False, lineterminator="\n")
    head = v.head(6).copy().astype(object)

    v.head(0).to_csv(BAD / "header_only.csv", encoding="utf-8", **csv)
    (BAD / "utf16_without_bom.csv").write_bytes(v.head(3).to_csv(index=False).encode("utf-16-le"))
    x = head.copy()
    for col in ("region", "size", "industry", "visit_date"):
        x[col] = ""
    x.to_csv(BAD / "required_columns_empty.csv", encoding="utf-8", **csv)
    x = head.copy()
    x.loc[x.index[1], "urgent_needs"] = '=HYPERLINK("http://example.com/x","点击查看")'
    x.loc[x.index[3], "suggestions"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    x.to_csv(BAD / "formula_injection.csv", encoding="utf-8", **csv)
    x = head.copy()
    x.loc[x.index[0], "employees"] = -5
    x.loc[x.index[1], "founded"] = 1850
    x.to_csv(BAD / "numbers_out_of_range.csv", encoding="utf-8", **csv)
    x = head.copy()
    x.loc[x.index[4], "r_finance"] = "很好"
    x.to_csv(BAD / "rating_label_unknown.csv", encoding="utf-8", **csv)
    x = head.copy()
    x["wave"] = "二〇二五"
    x.to_csv(BAD / "wave_not_a_number.csv", encoding="utf-8", **csv)
    x = head.copy()
    x.loc[x.index[2], "difficulties__financing"] = "有点"
    x.to_csv(BAD / "multiselect_not_zero_one.csv", encoding="utf-8", **csv)
    pd.DataFrame(
        {
            "客户编号": ["C1", "C2"],
            "产品满意度": [4, 5],
            "推荐意愿": [9, 7],
            "购买渠道": ["线上", "门店"],
        }
    ).to_csv(BAD / "another_questionnaire.csv", encoding="utf-8", **csv)
    frame.drop(columns=["firms"]).to_csv(BAD / "frame_without_counts.csv", encoding="utf-8", **csv)
    pd.concat([frame, frame.head(1)]).to_csv(
        BAD / "frame_duplicate_stratum.csv", encoding="utf-8", **csv
    )
    ledger = r.head(4).copy().astype(object)
    ledger.loc[ledger.index[1], "status"] = "已解决了吧"
    ledger.to_csv(BAD / "requests_unknown_status.csv", encoding="utf-8", **csv)
    (BAD / "corrupt.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 200)

    joined = labelled(v.head(5), joiner="、", numbered=False)
    write_xlsx(
        BAD / "sheets_none_match.xlsx",
        {"说明": [["本表为走访数据导出"]], "统计": [["指标", "数值"], ["户数", 5]]},
    )
    # a two-row header: the question over its options, merged across their columns
    q = VISITS["difficulties"]
    multi = labelled(v.head(5), joiner=None, numbered=False)
    option_cols = [
        h
        for h in multi.columns
        if h.endswith(")") and h.split(".(")[-1][:-1] in {c.label.zh for c in q.choices}
    ]
    cols = [c for c in joined.columns if c != q.label.zh]
    top = [None] * len(cols) + [q.label.zh] + [None] * (len(option_cols) - 1)
    sub = cols + [h.split(".(")[-1][:-1] for h in option_cols]
    body = [
        [joined.at[i, c] for c in cols] + [multi.at[i, h] for h in option_cols]
        for i in joined.index
    ]
    write_xlsx(
        BAD / "two_row_header.xlsx",
        {"Sheet1": [top, sub, *body]},
        merge=f"{_column_letter(len(cols) + 1)}1:{_column_letter(len(cols) + len(option_cols))}1",
    )
    book = openpyxl.Workbook()
    ws = book.active
    for row in rows_of(v.head(4)):
        ws.append(row)
    ws["Q3"] = "=SUM(N3:P3)/3"  # r_approval as a formula Excel never calculated
    book.save(BAD / "uncalculated_formula.xlsx")

    (BAD / "params_wrong_type.yaml").write_text("wave: 二〇二五\n", encoding="utf-8")
    (BAD / "params_unknown_name.yaml").write_text("regoin: 海东市\n", encoding="utf-8")
    (BAD / "params_not_a_mapping.yaml").write_text("- region\n- wave\n", encoding="utf-8")
    (BAD / "params_region_not_surveyed.yaml").write_text("region: 拉萨市\n", encoding="utf-8")
    rule = (
        "rules:\n  - id: x\n    topic: {zh: 甲, en: a}\n    priority: high\n"
        "    when: {when}\n    evidence: [difficulty.financing.share]\n"
        "    departments: [fin_reg]\n    title: {zh: 甲, en: a}\n    problem: {zh: 甲, en: a}\n"
        "    actions: [{zh: 甲, en: a}]\n"
    )
    (BAD / "rules_bad_expression.yaml").write_text(
        rule.replace("{when}", "difficulty.financing.share >>= 0.3"), encoding="utf-8"
    )
    (BAD / "rules_unknown_fact.yaml").write_text(
        rule.replace("{when}", "difficulty.finance.share >= 0.3"), encoding="utf-8"
    )
    (BAD / "rules_not_yaml.yaml").write_text("rules: [\n  - id: x\n", encoding="utf-8")
    (BAD / "coding_bad.yaml").write_text("categories:\n  financing: 12\n", encoding="utf-8")


if __name__ == "__main__":
    main()
    bad_inputs()
