"""Difficulties, policies and outlook shares on the bundled sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignError
from analysis.ingest.load import load
from analysis.measures import indicators
from analysis.survey.compare import difference
from analysis.survey.design import Design
from analysis.survey.sampling import domain_mask, frame_design

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def design():
    visits = load(SAMPLE / "visits.csv").data
    return frame_design(visits, load(SAMPLE / "frame.csv", "frame").data)


@pytest.fixture(scope="module")
def latest(design):
    return domain_mask(design.data, wave=2025)


def test_difficulties_are_weighted_shares_ranked(design, latest):
    out = indicators.difficulties(design, domain=latest)
    assert len(out) == 12 and out["rank"].tolist() == list(range(1, 13))
    assert out.estimate.is_monotonic_decreasing
    assert out.option.iloc[0] == "financing"  # micro firms dominate the population
    inside = design.assign(latest=latest)
    ref = inside.proportion(["difficulties__financing"], by="latest").iloc[1]
    row = out.iloc[0]
    assert (row.estimate, row.se, row.n) == (ref.estimate, ref.se, ref.n)


def test_difficulties_by_size_and_industry(design, latest):
    by_size = indicators.difficulties(design, domain=latest, by="size")
    assert len(by_size) == 4 * 12
    assert by_size.groupby("size", observed=True)["rank"].min().eq(1).all()
    fin = by_size[by_size.option == "financing"].set_index("size").estimate
    assert fin["micro"] > fin["small"] > fin["medium"] > fin["large"]  # planted gradient
    by_industry = indicators.difficulties(design, domain=latest, by="industry")
    small = by_industry[by_industry.n < 10]
    assert len(small) and small.suppressed.all() and small.estimate.isna().all()
    assert small["rank"].isna().all()


def test_planted_financing_gap_between_micro_and_large_firms(design):
    """Planted: 62% of micro firms and 12% of large firms cite financing."""
    out = indicators.difficulty_gaps(design, a="micro", b="large").set_index("option")
    gap = out.loc["financing"]
    assert gap.estimate_a == pytest.approx(0.62, abs=0.05)
    assert gap.estimate_b == pytest.approx(0.12, abs=0.05)
    assert gap.ci_low > 0.40 and gap.significant and gap.q_value < 1e-10
    assert not out.drop(index="financing").significant.any()  # nothing else planted
    ref = difference(design, ["difficulties__financing"], "size", "micro", "large",
                     statistic="proportion").iloc[0]  # fmt: skip
    assert (gap.estimate, gap.se, gap.p_value) == (ref.estimate, ref.se, ref.p_value)


def test_gap_within_a_domain(design, latest):
    out = indicators.difficulty_gaps(design, domain=latest).set_index("option")
    answered = design.data["difficulties__financing"].notna()
    micro = (design.data["size"] == "micro") & latest & answered
    assert out.loc["financing", "n_a"] == micro.sum()
    assert out.loc["financing"].significant


def test_policy_rates_and_the_reach_gap(design, latest):
    out = indicators.policies(design, domain=latest)
    assert list(out.columns[:2]) == ["policy", "measure"] and len(out) == 6 * 3
    wide = out.pivot(index="policy", columns="measure", values="estimate")
    # the reach gap is the share of aware firms that did not benefit
    np.testing.assert_allclose(wide.reach_gap, 1 - wide.benefited / wide.aware, rtol=1e-12)
    status = design.data.p_finance[latest]
    base = out.set_index(["policy", "measure"]).n
    assert base["p_finance", "reach_gap"] == status.isin(["aware", "benefited"]).sum()
    assert base["p_finance", "aware"] == status.notna().sum()
    # planted: micro firms know less and get less credit
    by_size = indicators.policies(design, domain=latest, by="size").set_index(
        ["size", "policy", "measure"]
    )
    assert (
        by_size.estimate["micro", "p_finance", "reach_gap"]
        > by_size.estimate["large", "p_finance", "reach_gap"]
    )


def test_satisfaction_and_outlook_shares_sum_to_one(design, latest):
    out = indicators.shares(design, domain=latest, by="size")
    sums = out.groupby(["size", "question"], observed=True).estimate.sum()
    np.testing.assert_allclose(sums, 1.0)
    assert set(out.question) == {"overall_satisfaction", "invest_plan", "hiring_plan"}
    ratings = out[out.question == "overall_satisfaction"].level
    assert set(ratings) == {1, 2, 3, 4, 5} and all(type(v) is int for v in ratings)


def test_unknown_question_is_refused(design):
    with pytest.raises(DesignError, match="no option columns needs__<option>"):
        indicators.difficulties(design, question="needs")


def test_unweighted_shares_would_mislead(design, latest):
    """The design weights turn a 45% micro sample back into an 85% micro population."""
    weighted = indicators.difficulties(design, domain=latest).set_index("option").estimate
    flat = Design(design.data[latest])
    unweighted = flat.proportion(["difficulties__financing"]).estimate.iloc[0]
    assert weighted["financing"] - unweighted > 0.08
    assert isinstance(weighted, pd.Series)
