from __future__ import annotations

from dataclasses import replace

import pytest

from analysis.findings.facts import Fact
from analysis.findings.model import Text
from analysis.writing import plain

L = Text(zh="x", en="x")


def share(value, lo=None, hi=None, path="difficulty.financing.share"):
    return Fact(path, "share", value, L, lo, hi, n=500)


def change(value, significant, path="difficulty.financing.change"):
    return Fact(path, "points", value, L, value - 0.03, value + 0.03, 400, 0.01, significant)


@pytest.mark.parametrize(
    ("value", "lo", "hi", "zh", "en"),
    [
        (0.614, 0.580, 0.647, "六成以上", "more than six in ten"),
        (0.588, 0.55, 0.62, "近六成", "nearly six in ten"),
        (0.289, 0.25, 0.33, "近三成", "nearly three in ten"),
        (0.513, 0.48, 0.55, "半数以上", "more than half of"),
        (0.072, 0.05, 0.10, "不足一成", "fewer than one in ten"),
        (0.96, 0.93, 0.98, "绝大多数", "almost all"),
        # an interval too wide for a band: a vague phrase, not a false precise one
        (0.45, 0.25, 0.65, "相当一部分", "a sizeable share of"),
    ],
)
def test_shares_in_tenths_from_the_estimate_and_its_interval(value, lo, hi, zh, en):
    f = share(value, lo, hi)
    assert plain.choose("share", f, {f.path: f}, "zh") == zh
    assert plain.choose("share", f, {f.path: f}, "en") == en


def test_a_rise_is_called_marked_only_when_significant_after_adjustment():
    up = change(0.052, True)
    same = change(0.045, False)
    assert plain.choose("change", up, {}, "zh") == "较上年明显上升"
    assert plain.choose("change", same, {}, "zh") == "与上年基本持平"
    assert plain.choose("change", change(-0.06, True), {}, "zh") == "较上年明显下降"
    untested = Fact("index.overall.change", "score_points", 1.2, L)
    assert plain.choose("change", untested, {}, "zh") == "与上年基本持平"


@pytest.mark.parametrize(
    ("value", "rank", "phrase"),
    [
        (0.614, 1, "反映最为集中"),
        (0.20, 3, "反映较为集中"),  # top three
        (0.31, 6, "反映较为集中"),  # cited by 30% or more
        (0.29, 4, "有一定反映"),
        (0.144, 10, "反映相对较少"),  # 检查执法过多过频: never 较为集中
    ],
)
def test_concentrated_only_in_the_top_three_or_at_thirty_percent(value, rank, phrase):
    f = share(value, path="difficulty.inspection.share")
    r = Fact("difficulty.inspection.rank", "rank", rank, L)
    facts = {f.path: f, r.path: r}
    assert plain.choose("standing", f, facts, "zh") == phrase


def gap(a, b, n_a, n_b, significant):
    return Fact(
        "difficulty.financing.gap",
        "gap",
        a - b,
        L,
        None,
        None,
        min(n_a, n_b),
        0.001,
        significant,
        a,
        b,
        n_a,
        n_b,
        Text(zh="微型", en="Micro"),
        Text(zh="大型", en="Large"),
    )


def test_a_group_where_no_firm_reported_it_is_said_so_never_called_significant():
    f = gap(0.578, 0.0, 120, 17, True)  # 17 large firms, none cited it, SE of zero
    zh = plain.choose("contrast", f, {}, "zh")
    assert zh == "微型企业为57.8%，17家大型企业均未反映"
    assert "显著" not in zh
    assert plain.choose("contrast", f, {}, "en").endswith("none of the 17 large firms did")


def test_a_ratio_is_said_in_whole_times():
    f = gap(0.652, 0.146, 900, 60, True)
    assert plain.choose("contrast", f, {}, "zh") == "微型企业为65.2%，是大型企业（14.6%）的4倍多"


def test_a_large_difference_on_few_firms_is_not_called_small():
    f = gap(0.382, 0.588, 120, 17, False)
    assert "尚不能确定" in plain.choose("contrast", f, {}, "zh")
    assert "差别不大" in plain.choose("contrast", gap(0.146, 0.141, 900, 60, False), {}, "zh")


def test_a_driver_that_matters_and_scores_low():
    rank = Fact("driver.r_enforcement.rank", "rank", 2, L)
    prio = Fact("driver.r_enforcement.priority", "flag", True, L)
    score = Fact("item.r_enforcement.score", "score", 61.5, L, 59.8, 63.2)
    overall = Fact("index.overall.score", "score", 63.3, L, 62.3, 64.3)
    facts = {f.path: f for f in (rank, prio, score, overall)}
    # 关键因素 only for a key factor of the rules' key_factors condition
    key = plain.choose("driver", rank, facts, "zh", key=True)
    assert key == "评价偏低且是影响企业满意度的关键因素"
    assert plain.choose("driver", rank, facts, "zh") == "对满意度影响较大而评价偏低"
    low = {**facts, prio.path: replace(prio, value=False)}
    assert plain.choose("driver", rank, low, "zh") == "对企业满意度影响较大"
    assert plain.choose("score", score, facts, "zh") == "评价偏低"


def test_every_phrase_is_recorded_with_its_fact_and_untraced_ones_are_found():
    f = share(0.614, 0.58, 0.647)
    with plain.recording() as traces:
        plain.record(plain.Trace("六成以上", "share", f.path, "zh"))
    text = "六成以上企业反映融资难；涉企检查反映较为集中；企业说“订单明显下降”。"
    stray, rest = plain.untraced(text, traces, "zh")
    assert stray == ["反映较为集中"]  # typed by hand; the firm's quoted words are not scanned
    assert "六成以上" not in rest
    assert plain.verify(traces, {f.path: f}, "zh") == []
    wrong = [plain.Trace("近六成", "share", f.path, "zh")]
    assert plain.verify(wrong, {f.path: f}, "zh") == [
        "“近六成” (difficulty.financing.share: the rules give '六成以上')"
    ]


def test_the_rules_file_is_checked(tmp_path):
    bad = tmp_path / "plain.yaml"
    bad.write_text("share:\n  - {when: value < 1, zh: 甲, en: a, b}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="exactly when, zh and en"):
        plain.rules(str(bad))


@pytest.mark.parametrize(
    ("value", "kind", "zh", "en"),
    [
        (43, "count", "40余", "over 40"),
        (1508, "count", "1,500余", "over 1,500"),
        (40, "count", "40", "40"),
        (8, "count", "8", "8"),
        (21_345_600, "money", "2,134万余元", "over CNY 21.3 million"),
        (17_340_000, "money", "1,734万元", "CNY 17.34 million"),
        (320_000_000, "money", "3.2亿元", "CNY 320 million"),
        (1_253_400_000, "money", "12.5亿余元", "over CNY 1.25 billion"),
        (345_600, "money", "34万余元", "over CNY 340,000"),
    ],
)
def test_a_ledger_figure_is_rounded_down_into_words(value, kind, zh, en):
    """The 工作总结's approximate wording (40余件, 2,134万余元): never more than the count."""
    fact = Fact("service.x.y", kind, value, Text(zh="x", en="x"))
    assert plain.choose("approximate", fact, {}, "zh") == zh
    assert plain.choose("approximate", fact, {}, "en") == en


def test_an_exact_figure_is_not_vocabulary_and_a_phrase_is_taken_out_whole():
    fact = Fact("service.x.items", "count", 43, Text(zh="x", en="x"))
    traces = [plain.Trace("40余", "approximate", fact.path, "zh")]
    stray, rest = plain.untraced("督办40余件，另有140余件", traces, "zh")
    assert stray == ["140余"] and rest == "督办 件，另有140余件"
    # a count printed as it is ({exact}) is left to the number audit
    assert plain.untraced("督办43件", [], "zh") == ([], "督办43件")
