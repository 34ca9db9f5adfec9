from __future__ import annotations

import pytest

from analysis.errors import ParameterError
from findings_fixture import sample_findings


@pytest.fixture(scope="module")
def f():
    return sample_findings()


def test_scope_method_and_headline(f):
    assert (f.scope.wave, f.scope.compare_wave, f.scope.label.zh) == (2025, 2024, "全省")
    assert f.scope.fieldwork.zh == "2025年4月至9月"
    assert f.method.n_visits == 1497 and f.headline.n == 1497
    # the weights represent the frame: registered firms of 2025 in the sample's frame
    assert f.method.n_population == 110_717
    assert f.method.lonely_psu == "adjust"


def test_planted_financing_gap_leads_the_difficulties(f):
    top = f.difficulties[0]
    assert top.code == "financing" and top.rank == 1
    gap = top.size_gap
    assert gap.significant and gap.estimate > 0.4 and gap.p_adjusted < 0.001
    assert f.headline.top_difficulty.code == "financing"


def test_planted_drivers_rank_first(f):
    assert [d.code for d in f.drivers.items[:2]] == ["r_service", "r_enforcement"]
    assert f.drivers.items[1].quadrant == "priority"  # important, rated below average


def test_planted_government_services_change_by_region(f):
    regions = {r.code: r for r in f.index.regions}
    assert regions["haidong"].government_change.significant
    assert regions["haidong"].government_change.estimate > 10
    assert not regions["haixi"].government_change.significant


def test_p_values_are_adjusted_together(f):
    changes = [d.change for d in f.difficulties if d.change] + [
        r.government_change for r in f.index.regions if r.government_change
    ]
    assert all(c.p_adjusted >= c.p_value for c in changes)


def test_redacted_quotes_only(f):
    from analysis.sample.generate import generate_sample

    planted = generate_sample().truth.identifiers["value"]
    text = f.to_json()
    assert not [v for v in planted if v in text]


def test_small_cells_are_suppressed_and_listed():
    f = sample_findings(min_cell=200)
    by_size = {lv.code: lv.stat for lv in f.difficulties[0].by_size}
    assert by_size["large"].suppressed and by_size["large"].estimate is None
    assert by_size["large"].n < 200
    assert any(s.table == "regions" for s in f.suppressed)


def test_a_region_brief_is_a_domain_of_the_whole_design():
    f = sample_findings(region="haidong")
    assert f.scope.label.zh == "海东市"
    assert f.method.n_visits == 227  # haidong's 2025 visits
    # the planted improvement is in one dimension of five: government services
    government = f.dimension("government").change
    assert government.significant and government.estimate > 10


def test_parameters_are_checked_first():
    with pytest.raises(ParameterError, match="region='拉萨' is not in the data"):
        sample_findings(region="拉萨")


def test_one_cut_off_date_per_wave_in_every_brief():
    """The province's brief and a region's said different cut-off dates for the same
    wave when each took the latest date inside its own subset."""
    dates = {
        sample_findings(**kw).scope.as_of
        for kw in ({}, {"region": "haidong"}, {"region": "guoluo"}, {"size": "large"})
    }
    assert len(dates) == 1
    province, region = sample_findings(), sample_findings(region="guoluo")
    assert province.requests.as_of == region.requests.as_of == province.scope.as_of


def test_a_cut_off_date_can_be_given():
    f = sample_findings(as_of="2025-11-30")
    assert f.scope.as_of == f.requests.as_of == "2025-11-30"
