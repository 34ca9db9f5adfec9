"""Closing the loop: each suggestion topic's submissions, what became of them, and the
next wave's indicator — worded as an association in time, never as a cause."""

from __future__ import annotations

import pytest

from analysis.errors import ValidationError
from analysis.ingest.instrument import load_instrument
from analysis.tracking.build import open_ledgers
from analysis.tracking.loop import run_scope
from ledger_files import copy_sample, edit


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("2024-all", {"wave": 2024, "region": None}),
        ("2024-haidong", {"wave": 2024, "region": "haidong"}),
        (
            "2025-haixi-C-micro-en",
            {"wave": 2025, "region": "haixi", "industry": "C", "size": "micro"},
        ),
        ("2024-海东", None),
        ("mybrief", None),
        ("2024-all-Z", None),
    ],
)
def test_run_names(name, scope):
    assert run_scope(name, load_instrument()) == scope


def test_the_sample_loop(sample_results):
    loop = {t.rule: t for t in sample_results.loop}
    assert list(loop) == ["financing", "inspection", "government_services", "arrears", "labour"]
    financing = loop["financing"]
    assert [s.submission_id for s in financing.submissions] == [
        "P2025-01",
        "S2025-01",
        "S2025-04",
        "S2025-10",
        "S2025-20",
    ]
    assert "全国工商联、省政协、省委办公厅采用" in financing.submissions[1].outcome.zh
    assert "获省级主要领导批示" in financing.submissions[1].outcome.zh
    assert financing.submissions[0].outcome.zh == "已立案；已答复（A类）；已办结"
    first, later = financing.indicators
    assert (first.run, first.wave, first.next_wave) == ("2024-all", 2024, 2025)
    assert later.next_wave is None  # suggestions drawn on the 2025 wave: none after it yet
    # the planted effect: Haidong's government services rise by about 0.7 on the 1-5 scale
    # (17.5 index points); the province's change is small
    gov = {i.run: i for i in loop["government_services"].indicators}
    haidong = gov["2024-haidong"]
    assert haidong.kind == "score" and haidong.scope.zh == "海东市"
    assert 13 < haidong.change < 22 and haidong.significant
    assert haidong.ci_low < haidong.change < haidong.ci_high
    assert haidong.after - haidong.before == pytest.approx(haidong.change)
    assert abs(gov["2024-all"].change) < haidong.change / 2
    # financing: the share of firms citing it, 2024 against 2025
    assert first.kind == "share" and 0.5 < first.before < 0.7 and 0.5 < first.after < 0.7


def test_the_loop_is_worded_as_association(sample_results):
    from analysis.tracking.brief import ResultsBrief

    zh = ResultsBrief(sample_results, "zh").section("loop").html
    en = ResultsBrief(sample_results, "en").section("loop").html
    assert "建议报送后，下一轮调查（2025年）中" in zh
    assert "海东市：建议报送后，下一轮调查（2025年）中政务环境得分由2024年的" in zh
    assert "不表明变化由报送引起" in zh and "does not show that the submissions caused" in en
    for word in ("因此", "由于报送", "得益于", "推动了", "促进了"):
        assert word not in zh
    for word in ("because", "thanks to", "led to", "therefore"):
        assert word not in en.lower()


def test_a_rule_or_run_that_does_not_exist(tmp_path):
    paths = copy_sample(tmp_path)
    edit(paths, "submissions", 13, "对应建议", "finacing")
    edit(paths, "submissions", 14, "依据调查", "2024年全省简报")
    with pytest.raises(ValidationError) as err:
        open_ledgers({"period": "2025", **{k: str(v) for k, v in paths.items()}})
    found = {(p.row, p.column, p.value): p.message for p in err.value.problems}
    assert "the closest is 'financing'" in found[(13, "对应建议", "finacing")]
    assert "not the name of a Qifang run" in found[(14, "依据调查", "2024年全省简报")]
