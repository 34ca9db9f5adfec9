"""问卷星 exports as offices download them (tests/data/wjx/ and examples/city/, written
by tests/data/make_wjx.py): every one either gives briefs whose figures match a hand
computation on the same file (tests/hand.py, plain pandas), for the whole and for every
region however small, or stops with a message that says what to do.

The briefs are built in process, as the three notebooks build them (findings, every
section and chart of the brief, every draft with its number audit); tests/test_city_example.py
and test_cli_runs_* below run them through `qifang run` and `qifang batch`.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

import hand
from analysis import Brief, audit, load_rules, make_drafts, suggest
from analysis.errors import ParameterError, ValidationError
from analysis.findings import build
from analysis.ingest.instrument import load_instrument
from analysis.ingest.load import load
from analysis.ingest.params import check, read_params_file
from analysis.writing.brief import SECTIONS
from conftest import ROOT, WJX

CITY = ROOT / "examples" / "city"
PROVINCE = {"requests": WJX / "province_requests.csv", "frame": WJX / "province_frame.csv"}
FIXTURES = {
    "province_text": (
        {"visits": WJX / "province_text.xlsx", **PROVINCE},
        hand.PROVINCE,
    ),
    "province_numbers": (
        {
            "visits": WJX / "province_numbers.xlsx",
            "requests": WJX / "province_requests_by_number.csv",
            "frame": WJX / "province_frame.csv",
        },
        replace(hand.PROVINCE, numbers=True),
    ),
    "province_gbk": ({"visits": WJX / "province_text_gbk.csv", **PROVINCE}, hand.PROVINCE),
    "city_text": (
        {
            "visits": CITY / "visits.xlsx",
            "requests": "",
            "frame": CITY / "frame.csv",
            "instrument": CITY / "instrument.yaml",
        },
        hand.CITY,
    ),
    "city_numbers": (
        {
            "visits": WJX / "city_numbers.xlsx",
            "requests": "",
            "frame": CITY / "frame.csv",
            "instrument": CITY / "instrument.yaml",
        },
        replace(hand.CITY, numbers=True),
    ),
    "city_minimal": (
        {
            "visits": WJX / "city_minimal.xlsx",
            "requests": "",
            "frame": CITY / "frame.csv",
            "instrument": WJX / "city_minimal.yaml",
        },
        hand.CITY,
    ),
}
# province_text and province_gbk load to the same data as province_numbers, and
# city_numbers to that of city_text (test_number_and_text_exports_…): every region of
# one of each; the charts of one of each questionnaire (English charts differ in labels)
EVERY_REGION = ("province_numbers", "city_text")
DRAWN = ("province_text", "city_text", "city_minimal")


def params(name: str, **more) -> dict:
    return {k: str(v) for k, v in {**FIXTURES[name][0], **more}.items()}


@pytest.fixture(scope="module")
def surveys():
    return {}


def survey_of(surveys, name):
    if name not in surveys:
        surveys[name] = build.open_survey(params(name))
    return surveys[name]


def expected(name: str):
    inputs, layout = FIXTURES[name]
    return hand.figures(inputs["visits"], inputs["frame"], layout), layout


def brief_of(s, charts: bool = False):
    """What the notebooks make of a survey, in process: findings, every section of the
    brief, every draft with its number audit, and (``charts``) every chart."""
    f = build.build_findings(s)
    suggestions = suggest(f, load_rules(None, s.instrument), s.instrument)
    html = {}
    for lang in ("zh", "en"):
        b = Brief(f, suggestions, lang)
        html[lang] = "".join(b.section(x).html for x in SECTIONS)
        for chart in CHARTS if charts and lang == "zh" else ():
            b.chart(chart)
        for draft in make_drafts(f, suggestions, lang):
            assert not audit(draft, f), draft.genre
    return f, html


# each region's charts are drawn by `qifang batch` in tests/test_city_example.py
CHARTS = ("dimensions", "regions", "difficulties", "financing_by_size", "policies", "drivers")
CHARTS += ("voices", "requests")


def check_figures(f, want) -> int:
    """Every published figure equals the hand computation; a figure the disclosure
    control hid (too few firms, or recomputable from others) is not compared. Returns
    how many were compared."""
    assert f.method.n_visits == want["n"]
    figures = [("overall", f.index.overall), ("financing", f.difficulty("financing").share)]
    figures += [(d.code, d.score) for d in f.index.dimensions]
    shown = [(k, stat) for k, stat in figures if not stat.suppressed]
    for key, stat in shown:
        assert stat.estimate == pytest.approx(want[key], rel=1e-9), key
    return len(shown)


@pytest.mark.parametrize("name", list(FIXTURES))
def test_the_whole_brief_matches_the_hand_computation(surveys, name):
    firms, _ = expected(name)
    f, html = brief_of(survey_of(surveys, name), charts=name in DRAWN)
    want = hand.index(firms)
    assert check_figures(f, want) == len(f.index.dimensions) + 2  # nothing hidden
    shown = f"{want['overall']:.1f}分"
    assert shown in html["zh"]
    assert "None" not in html["zh"] and "—分" not in html["zh"]


@pytest.mark.parametrize("name", EVERY_REGION)
def test_every_region_gets_a_brief_with_the_hand_figures(surveys, name):
    firms, layout = expected(name)
    whole = survey_of(surveys, name)
    for label in layout.regions:
        s = build.for_params(whole, region=label)
        f, html = brief_of(s)
        want = hand.index(firms, label)
        assert f.method.n_visits == want["n"]
        if want["n"] >= s.params.min_cell:
            assert not f.index.overall.suppressed
            check_figures(f, want)
        # whatever the region cannot support is left out with one sentence, not a crash
        for o in f.omitted:
            if o.kind == "data":
                assert o.reason.zh in html["zh"] and o.reason.en in html["en"]


@pytest.mark.parametrize("name", ["city_text", "city_minimal"])
def test_a_county_of_18_firms_leaves_out_the_drivers_and_says_why(surveys, name):
    s = build.for_params(survey_of(surveys, name), region="湟源县")
    f, html = brief_of(s, charts=True)
    assert f.method.n_visits == 18 and f.drivers is None
    reason = f.omission("drivers").reason.zh
    assert reason.startswith("关键因素分析需要") and "湟源县仅有" in reason
    assert "影响企业满意度的关键因素" in html["zh"] and reason in html["zh"]
    check_figures(f, hand.index(expected(name)[0], "湟源县"))
    # no chart of four suppressed bars, no "in their words:" without words
    assert Brief(f, [], "zh").chart("financing_by_size") is None
    quoted = any(c.quotes for b in f.open_answers for c in b.categories)
    assert ("以下为企业原话" in html["zh"]) == quoted


def test_what_the_questionnaire_does_not_ask_is_left_out_cleanly(surveys):
    f, html = brief_of(survey_of(surveys, "city_minimal"))
    assert f.policies == [] and f.requests is None
    assert {o.section: o.kind for o in f.omitted} == {
        "voices": "design",
        "requests": "design",
        "policies": "design",
    }
    zh = html["zh"]
    for heading in ("惠企政策知晓和享受情况", "企业急难愁盼", "企业诉求办理情况"):
        assert heading not in zh
    assert (
        "本简报不含以下内容：问卷未设急难愁盼开放题。未提供诉求办理台账。问卷未设惠企政策题目。"
        in zh
    )
    # the sections that are there are numbered one after another
    assert "<h2>三、影响企业满意度的关键因素</h2>" in zh and "<h2>四、对策建议</h2>" in zh


def test_number_and_text_exports_of_the_same_answers_load_the_same():
    cols = lambda d: d.drop(columns=["visit_id"]).filter(regex="^(?!.*_other$)")  # noqa: E731
    text = load(WJX / "province_text.xlsx").data
    numbers = load(WJX / "province_numbers.xlsx").data
    gbk = load(WJX / "province_text_gbk.csv").data
    pd.testing.assert_frame_equal(cols(text), cols(numbers))
    pd.testing.assert_frame_equal(text, gbk)
    inst = load_instrument(CITY / "instrument.yaml")
    city = load(CITY / "visits.xlsx", instrument=inst).data
    pd.testing.assert_frame_equal(
        cols(city), cols(load(WJX / "city_numbers.xlsx", instrument=inst).data)
    )


def test_option_numbers_are_read_through_the_questionnaires_order():
    loaded = load(WJX / "province_numbers.xlsx")
    raw = pd.read_excel(WJX / "province_numbers.xlsx", dtype=str)
    head = next(c for c in raw.columns if c.endswith("—政务服务便利度"))
    first = raw[head].iloc[0]
    assert loaded.data["r_service"].iloc[0] == 6 - int(first)  # option 1 = 非常满意 = 5
    (note,) = [p for p in loaded.warnings if "按选项序号" in p.message]
    assert "1 = 非常满意（5分）" in note.message


def test_wjx_metadata_fill_ins_and_the_hidden_sheet():
    loaded = load(WJX / "province_text.xlsx")
    d, prov = loaded.data, loaded.provenance
    assert (prov.sheet, prov.rows) == ("答卷数据", 304)  # not the hidden 40-row copy
    assert prov.columns["1、走访编号："] == "visit_id" and "序号" not in prov.columns
    assert d["wave"].unique().tolist() == [2025]  # from 提交答卷时间
    assert d["visit_date"].notna().all()
    other = d["ownership"].astype(object) == "other"
    assert other.any() and d.loc[other, "ownership_other"].notna().all()
    assert set(d.loc[other, "ownership_other"]) <= {"集体企业", "农民专业合作社", "个体工商户转企"}
    assert not [p for p in loaded.warnings if "NOT read" in p.message]
    hidden = load(WJX / "province_text.xlsx", sheet="旧数据（勿删）")
    assert hidden.provenance.rows == 40  # read when named


def test_wave_from_the_parameter_when_the_dates_span_two_years(tmp_path):
    raw = pd.read_csv(WJX / "province_text_gbk.csv", dtype=str, encoding="gbk")
    raw.loc[:9, "提交答卷时间"] = "2024/12/28 10:00:00"
    path = tmp_path / "across_new_year.csv"
    raw.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(ValidationError, match=r"span 2024–2025: the wave cannot be told") as info:
        load(path)
    assert "wave=2025" in str(info.value)
    assert load(path, wave=2025).data["wave"].eq(2025).all()


STOPS = [
    (
        {"visits": WJX / "province_reworded.xlsx"},
        ValidationError,
        [
            "no column is the index rating item '融资服务' (r_finance)",
            "the closest unread column is '12、(金融服务)'",
            "aliases: [金融服务]",
            "unread question columns: '12、(金融服务)', '12、(办事便利程度)'",
        ],
    ),
    (
        {"visits": WJX / "province_numbers_regions_named.xlsx"},
        ValidationError,
        ["would reverse every rating", "download the answers again"],
    ),
    (
        {"visits": WJX / "page_saved_as.xls"},
        ValidationError,
        ["this is a web page (HTML), not a spreadsheet, although its name ends in .xls"],
    ),
    (
        {"requests": WJX / "province_requests_by_number.csv"},
        ValidationError,
        ["none of the 190 requests points at a visit", "read from its column '1、走访编号：'"],
    ),
]


@pytest.mark.parametrize(("change", "error", "messages"), STOPS)
def test_what_cannot_be_read_stops_before_any_notebook(change, error, messages):
    from analysis.pipeline.run import prepare

    raw = {**params("province_text"), **{k: str(v) for k, v in change.items()}}
    with pytest.raises(error) as info:
        prepare(raw)
    for message in messages:
        assert message in str(info.value)


def test_params_typed_with_a_full_width_colon():
    with pytest.raises(
        ParameterError, match=r"line 1 \('region：海东市'\) writes the colon as '：'"
    ):
        read_params_file(WJX / "params_fullwidth_colon.yaml")


def test_region_short_forms_are_aliases_in_data_and_parameters(surveys):
    s = survey_of(surveys, "province_text")
    assert set(s.visits["region"].astype(str)) == {
        "xining", "haidong", "haibei", "huangnan", "hainan", "guoluo", "yushu", "haixi"
    }  # fmt: skip
    assert build.for_params(s, region="海西州").params.region == "haixi"
    assert check({"region": "海西州"}).region == "海西州"  # normalised against the data later


def qifang(*args, cwd=ROOT):
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=cwd,
    )


def test_cli_runs_the_option_number_export_the_right_way_round(tmp_path):
    firms, _ = expected("province_numbers")
    want = hand.index(firms)["overall"]
    args = [f"{k}={v}" for k, v in params("province_numbers").items()]
    done = qifang("run", *args, "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "按选项序号" in done.stdout  # said how the ratings were read
    folder = tmp_path / "2025-all"
    findings = build.Findings.load(folder / "findings.json")
    assert findings.index.overall.estimate == pytest.approx(want, rel=1e-9)
    html = (folder / "brief.html").read_text(encoding="utf-8")
    assert f"全省营商环境指数为{want:.1f}分" in html


def test_cli_validate_and_run_agree_on_an_unreadable_export(tmp_path):
    reworded = str(WJX / "province_reworded.xlsx")
    checked = qifang("validate", reworded, str(WJX / "province_frame.csv"))
    ran = qifang("run", f"visits={reworded}", f"frame={WJX / 'province_frame.csv'}", "requests=",
                 "--out", str(tmp_path))  # fmt: skip
    assert checked.returncode == 1 and ran.returncode == 1
    assert "WARNING: 3 column(s) look like questions but were NOT read" in checked.stdout
    for out in (checked.stdout, ran.stderr):
        assert "no column is the index rating item '政务服务便利度' (r_service)" in out
    assert "failed in cell" not in ran.stderr and "Traceback" not in ran.stderr
    assert not any(tmp_path.iterdir())  # nothing written


def test_default_names_keep_your_data_apart_from_the_samples_in_briefs(tmp_path):
    from analysis.pipeline.run import BRIEFS, default_name

    own = replace(check(params("province_numbers")), wave=2025)
    sample = replace(check({}), wave=2025)
    assert default_name(own, BRIEFS) == "province_numbers-2025-all"
    assert default_name(sample, BRIEFS) == "2025-all"
    assert default_name(own, tmp_path) == "2025-all"  # a folder of its own (the desk's jobs)


def test_the_notebooks_tables_of_a_small_county(surveys):
    from analysis.findings.tables import tables

    small = build.for_params(survey_of(surveys, "city_text"), region="湟源县")
    table = tables(build.build_findings(small), "zh")
    assert "关键因素" not in table and "诉求" not in table  # no model, no ledger
    assert table["地区"].columns[0] == "区县" and table["地区"].columns[-1] == "与全市比较"
    assert table["急难愁盼"]["回答数"].sum() >= 11


def test_a_model_that_cannot_be_fitted_leaves_its_section_out(surveys, monkeypatch):
    import numpy as np

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr("analysis.measures.models.key_drivers", singular)
    s = build.for_params(survey_of(surveys, "city_text"), region="城北区")
    f, html = brief_of(s)
    assert f.drivers is None
    reason = f.omission("drivers").reason
    assert (
        reason.zh
        == "城北区的评价数据无法拟合关键因素模型（各项评价高度相关或作答过于集中），本节从略。"
    )
    assert reason.zh in html["zh"] and reason.en in html["en"]


def test_a_blank_open_question_and_a_ledger_with_strays(tmp_path, capsys):
    from analysis.pipeline.run import prepare

    raw = pd.read_csv(WJX / "province_text_gbk.csv", dtype=str, encoding="gbk")
    raw[next(c for c in raw.columns if "意见建议" in c)] = "(空)"
    visits = tmp_path / "blank_suggestions.csv"
    raw.to_csv(visits, index=False, encoding="gbk")
    ledger = pd.read_csv(PROVINCE["requests"], dtype=str, encoding="utf-8-sig")
    ledger.loc[:2, "走访编号"] = "QF2024-000001"  # three requests of a visit not in the export
    requests = tmp_path / "ledger.csv"
    ledger.to_csv(requests, index=False)
    said = []
    p = prepare(
        {"visits": str(visits), "requests": str(requests), "frame": str(PROVINCE["frame"])},
        log=said.append,
    )
    assert any("3 of 190 requests point at no visit" in line for line in said)
    f, _ = brief_of(build.open_survey(p))
    assert f.requests.overall.total == 187  # the strays are left out, as validate said
    assert [b.field for b in f.open_answers if b.answered] == ["urgent_needs"]


def test_a_ledger_error_stops_at_the_parameter_check_not_in_a_notebook(tmp_path):
    from analysis.pipeline.run import prepare

    ledger = pd.read_csv(PROVINCE["requests"], dtype=str, encoding="utf-8-sig")
    ledger.loc[4, "办理状态"] = "已解决了吧"
    requests = tmp_path / "ledger.csv"
    ledger.to_csv(requests, index=False)
    with pytest.raises(
        ValidationError, match=r"ledger.csv:6:办理状态: '已解决了吧' — not a choice"
    ):
        prepare({**params("province_text"), "requests": str(requests)})


def test_a_frame_stratum_without_firms_or_visits_is_fine():
    inst = load_instrument(CITY / "instrument.yaml")
    frame = load(CITY / "frame.csv", "frame", inst)
    assert not frame.errors
    empty = frame.data[frame.data["firms"] == 0]
    assert [(r, s) for r, s in zip(empty["region"], empty["size"], strict=True)] == [
        ("huangyuan", "large")
    ]


def test_two_columns_for_one_question_say_which_to_keep(tmp_path):
    raw = pd.read_csv(WJX / "province_text_gbk.csv", dtype=str, encoding="gbk")
    raw.insert(7, "2、问卷编号：", raw["1、走访编号："])
    path = tmp_path / "two_ids.csv"
    raw.to_csv(path, index=False, encoding="gbk")
    with pytest.raises(ValidationError) as info:
        load(path)
    assert (
        "columns '1、走访编号：', '2、问卷编号：' all read as '走访编号' (visit_id) — keep the one "
        "that holds 走访编号: delete or rename the other(s) in a copy of the export"
    ) in str(info.value)
