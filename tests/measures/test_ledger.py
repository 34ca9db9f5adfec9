"""The requests ledger: counts, Kaplan–Meier medians with censoring, overdue items, waves.

``tests/data/ledger/ledger_small.csv`` has 12 requests; every expected number below is
worked out by hand from it (as of its latest date, 2025-12-01):

=========  ========  ====  ==========================================  =========
request    dept      wave  days                                        status
=========  ========  ====  ==========================================  =========
2024-01    natres    2024  70 (05-01 → 07-10)                          resolved
2024-02    natres    2024  100 (05-10 → 08-18)                         resolved
2024-03    natres    2024  548+ (2024-06-01 → as of), censored          open
2025-01    natres    2025  40                                          resolved
2025-02    natres    2025  61+ (10-01 → 12-01), censored                in progress
2024-04    tax       2024  10                                          resolved
2024-05    tax       2024  20                                          resolved
2025-03    tax       2025  5                                           resolved
2025-04    fin_reg   2025  30 (11-01 → 12-01)                          resolved
2024-06    fin_reg   2024  456+ (2024-09-01 → as of), censored          open
2025-05    fin_reg   2025  15                                          resolved
2025-06    miit      2025  11+ (11-20 → 12-01), censored                in progress
=========  ========  ====  ==========================================  =========
"""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from analysis.errors import ParameterError, ValidationError
from analysis.ingest.load import load
from analysis.measures.ledger import (
    LedgerReport,
    WaveChange,
    follow_through,
    ledger_report,
    overdue,
    wave_change,
)
from conftest import DATA, SAMPLE


@pytest.fixture(scope="module")
def small():
    return load(DATA / "ledger" / "ledger_small.csv", form="requests").data


@pytest.fixture(scope="module")
def small_visits(small):
    return pd.DataFrame({"visit_id": small["visit_id"], "wave": small["visit_id"].str[2:6]})


@pytest.fixture(scope="module")
def small_report(small, small_visits):
    return ledger_report(small, small_visits.astype({"wave": int}))


@pytest.fixture(scope="module")
def sample_report():
    requests = load(SAMPLE / "requests.csv", form="requests").data
    visits = load(SAMPLE / "visits.csv").data
    return ledger_report(requests, visits)


def test_small_counts_and_rate(small_report):
    r = small_report
    assert r.as_of == "2025-12-01"  # the latest date in the ledger
    assert (r.requests, r.resolved, r.in_progress, r.open) == (12, 8, 2, 2)
    assert r.resolution_rate == pytest.approx(8 / 12)
    assert r.left_out == 0


def test_small_kaplan_meier_median(small_report):
    # Ordered times (+ = censored): 5 10 11+ 15 20 30 40 61+ 70 100 456+ 548+.
    # S: 5 → 11/12 = .917; 10 → .833; 15 → .833·8/9 = .741; 20 → .648; 30 → .556;
    # 40 → .556·5/6 = .463 < .5, so the median is 40 days.
    assert small_report.median_days == 40
    assert small_report.median_ci_high is None  # the curve never falls far enough


def test_small_by_department(small_report):
    t = small_report.by_department.set_index("department")
    assert t.loc["natres", ["requests", "resolved", "in_progress", "open"]].tolist() == [5, 3, 1, 1]
    assert t.loc["natres", "resolution_rate"] == pytest.approx(0.6)
    # natres: 40 (5 at risk) → .8; 61+; 70 (3 at risk) → .533; 100 (2 at risk) → .267.
    # Without censoring (open = resolved on 12-01) the median would be 70, not 100.
    assert t.loc["natres", "median_days"] == 100
    # tax: 5, 10, 20 all resolved → S = .667, .333: median 10.
    assert t.loc["tax", "median_days"] == 10 and t.loc["tax", "resolution_rate"] == 1
    # fin_reg: 15 (3 at risk) → .667; 30 (2 at risk) → .333; 456+: median 30.
    assert t.loc["fin_reg", "median_days"] == 30
    # miit: one request, still in progress: no median.
    assert t.loc["miit", "requests"] == 1 and math.isnan(t.loc["miit", "median_days"])
    assert t.loc["miit", "resolution_rate"] == 0


def test_small_overdue(small_report, small):
    # Unresolved on 12-01: 548, 61, 456 and 11 days old; more than 60: three.
    assert small_report.overdue == 3
    t = small_report.overdue_by_department.set_index("department")
    assert t.loc["natres", ["unresolved", "overdue", "open", "in_progress"]].tolist() == [
        2,
        2,
        1,
        1,
    ]
    assert t.loc["natres", "oldest_days"] == 548
    assert t.loc["fin_reg", "overdue"] == 1 and t.loc["miit", "overdue"] == 0
    # The limit is strict: the 61-day request is overdue at 60 days, not at 61.
    assert overdue(small, days=61, by=None).iloc[0]["overdue"] == 2
    by_category = small_report.overdue_by_category.set_index("category")
    assert by_category.loc["land", "overdue"] == 2


def test_small_as_of_moves_censoring_and_status(small):
    # On 2025-06-12 three requests were not yet raised (2025-02, -04, -06) and 2025-05,
    # resolved on 06-16, was still in progress.
    t = follow_through(small, as_of="2025-06-12").iloc[0]
    assert (t.requests, t.resolved, t.in_progress, t.open) == (9, 6, 1, 2)
    t = follow_through(small, as_of="2025-06-12", by="department").set_index("department")
    assert t.loc["fin_reg", ["resolved", "in_progress", "open"]].tolist() == [0, 1, 1]
    assert ledger_report(small, as_of="2025-06-12").left_out == 3


def test_small_wave_change(small_report):
    w = small_report.waves
    t = w.table.set_index("wave")
    assert t.loc[2024, ["requests", "resolved", "open"]].tolist() == [6, 4, 2]
    assert t.loc[2025, ["requests", "resolved", "in_progress"]].tolist() == [6, 4, 2]
    # 2024: 10 → .833, 20 → .667, 70 → .5 (not below .5), 100 → .333: median 100
    # (statsmodels, like SAS, takes the first time the curve falls *below* one half).
    assert t.loc[2024, "median_days"] == 100
    # 2025: 5 → .833, 11+, 15 → .625, 30 → .417: median 30.
    assert t.loc[2025, "median_days"] == 30
    # Log-rank by hand: over the event times 5 10 15 20 30 40 70 100, 2024 had O = 4
    # resolutions against E = .5 + .545 + .556 + .625 + .571 + .667 + 1 + 1 = 5.464,
    # variance .25 + .248 + .247 + .234 + .245 + .222 = 1.446: chi2 = 1.464² / 1.446.
    assert w.statistic == pytest.approx(1.4821, abs=1e-3)
    assert w.df == 1 and w.test == "logrank"
    assert w.p_value == pytest.approx(0.2234, abs=1e-3)


def test_wave_column_in_the_ledger_is_used(small, small_report):
    with_wave = small.assign(wave=small["visit_id"].str[2:6].astype(int))
    pd.testing.assert_frame_equal(wave_change(with_wave).table, small_report.waves.table)
    t = follow_through(with_wave, by=["wave", "department"]).set_index(["wave", "department"])
    assert t.loc[(2024, "natres"), "median_days"] == 100  # 70, 100, 548+
    assert t.loc[(2025, "natres"), "requests"] == 2 and math.isnan(
        t.loc[(2025, "natres"), "median_ci_high"]
    )


def test_results_are_json_friendly_and_hold_no_request_text(small_report):
    def check(obj):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if isinstance(value, pd.DataFrame):
                assert "summary" not in value.columns and "request_id" not in value.columns
                text = value.select_dtypes(exclude="number").astype(str).to_numpy().ravel()
                assert not any("企业反映" in t for t in text)
            elif dataclasses.is_dataclass(value):
                check(value)
            else:
                assert value is None or type(value) in (int, float, str), (f.name, type(value))

    assert isinstance(small_report, LedgerReport)
    assert isinstance(small_report.waves, WaveChange)
    check(small_report)


def test_sample_figures(sample_report):
    r = sample_report
    assert r.as_of == "2025-12-31"
    assert (r.requests, r.resolved, r.in_progress, r.open) == (2029, 1896, 7, 126)
    assert r.resolution_rate == pytest.approx(1896 / 2029)
    # every unresolved request in the sample is older than 60 days on 2025-12-31
    assert r.overdue == r.in_progress + r.open


def test_sample_natres_is_the_slowest_department(sample_report):
    t = sample_report.by_department.set_index("department")
    assert t["median_days"].idxmax() == "natres"  # planted median 75 days (2024)
    assert t.loc["natres", "median_ci_low"] > t.drop(index="natres")["median_days"].max()


def test_sample_2025_is_resolved_faster(sample_report):
    t = sample_report.waves.table.set_index("wave")
    ratio = t.loc[2025, "median_days"] / t.loc[2024, "median_days"]
    assert 0.6 <= ratio <= 0.85  # planted 0.75
    assert t.loc[2025, "median_ci_high"] < t.loc[2024, "median_ci_low"]
    assert sample_report.waves.p_value < 1e-6
    # never handled: planted 8% (2024) and 5% (2025) of requests
    share_open = t["open"] / t["requests"]
    assert share_open[2024] > share_open[2025]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda d: d.drop(columns="status"), ValidationError, "required column 'status'"),
        (lambda d: d.assign(status="done"), ValidationError, "status is not resolved"),
        (
            lambda d: d.assign(resolved_date=pd.NaT, status="resolved"),
            ValidationError,
            "resolution date is missing",
        ),
        (
            lambda d: d.assign(resolved_date=d.raised_date - pd.Timedelta(days=1)),
            ValidationError,
            "resolved before it was raised",
        ),
    ],
)
def test_bad_ledgers(small, change, error, match):
    with pytest.raises(error, match=match):
        follow_through(change(small.copy()))


def test_bad_parameters(small, small_visits):
    with pytest.raises(ParameterError, match="not a date"):
        follow_through(small, as_of="last Tuesday")
    with pytest.raises(ParameterError, match="whole number of days"):
        overdue(small, days=-1)
    with pytest.raises(ParameterError, match=r"cannot group.*no such column"):
        follow_through(small, by="region")
    with pytest.raises(ParameterError, match="one request"):
        overdue(small, by="summary")
    with pytest.raises(ParameterError, match="no wave column"):
        wave_change(small)
    with pytest.raises(ParameterError, match="2 request"):
        wave_change(small, small_visits.iloc[2:])
