"""Changes between waves with the firm as the cluster, against R, and by simulation.

Reference values: tests/data/reference/r_reference_2.csv (statistic "change"), made by
tests/data/r/make_reference_2.R from tests/data/reference/panel.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignError
from analysis.survey.compare import difference
from analysis.survey.design import Design
from analysis.survey.panel import panel_design

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


@pytest.fixture(scope="module")
def panel():
    return pd.read_csv(REFERENCE / "panel.csv")


@pytest.fixture(scope="module")
def ref():
    r = pd.read_csv(REFERENCE / "r_reference_2.csv", keep_default_na=False, na_values=["NA"])
    return r[r.statistic == "change"].set_index(["design", "variable"])


def frame(panel) -> Design:
    return Design(panel, weights="weight", strata=["wave", "size"], fpc="fpc")


@pytest.mark.parametrize(("variable", "statistic"), [("y", "mean"), (["high"], "proportion")])
def test_firm_clustered_change_matches_r_svycontrast(panel, ref, variable, statistic):
    design = panel_design(frame(panel), "firm", strata=["size"])
    got = difference(design, variable, "wave", 2, 1, statistic=statistic).iloc[0]
    name = variable if isinstance(variable, str) else variable[0]
    r = ref.loc[("panel", name)]
    assert got.estimate == pytest.approx(r.estimate, rel=1e-12)
    assert got.se == pytest.approx(r.se, rel=1e-9)
    assert got.df == r.df
    old = difference(frame(panel), variable, "wave", 2, 1, statistic=statistic).iloc[0]
    r = ref.loc[("independent", name)]
    assert old.se == pytest.approx(r.se, rel=1e-9)
    assert got.se < old.se  # a revisited firm's answers agree: the change is surer


def test_a_firm_is_one_cluster_in_the_stratum_of_its_latest_visit(panel):
    design = panel_design(frame(panel), "firm", strata=["size"])
    m = design.methods
    assert m["panel_firms"] == 38 and m["psu"] == ["_panel_firm"]
    data = design.data
    grown = data[(data.wave == 2) & (data["size"] == "medium")].firm
    moved = data[data.firm.isin(grown) & (data.wave == 1) & (data["size"] == "small")]
    assert len(moved) == 3 and (moved["_panel_stratum"] == "medium").all()
    assert np.allclose(design.weights, frame(panel).weights)


def test_visits_without_a_firm_id_are_firms_of_their_own(panel):
    data = panel.assign(firm=panel.firm.where(panel.wave == 1))  # ids lost in wave 2
    design = panel_design(frame(data), "firm", strata=["size"])
    assert design.methods["panel_firms"] == 0
    assert (
        design.data["_panel_firm"].nunique()
        == len(data.firm.dropna().unique()) + (data.wave == 2).sum()
    )


def test_missing_firm_column_is_named(panel):
    with pytest.raises(DesignError, match="firm_id"):
        panel_design(frame(panel), "firm_id", strata=["size"])


def test_coverage_of_changes_with_half_the_firms_revisited():
    # the fast version of simulations/panel_coverage.py: 200 panels with a planted change
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "simulations" / "panel_coverage.py"
    spec = importlib.util.spec_from_file_location("panel_coverage", path)
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    summary = sim.run(200, seed=5)
    now, before = summary.iloc[0], summary.iloc[1]
    assert 0.91 <= now.coverage <= 0.99
    assert before.coverage >= now.coverage
    # the independent treatment's SE overstates the spread of the estimates; this one not
    assert before.mean_se > 1.1 * before.sd_estimate
    assert now.mean_se == pytest.approx(now.sd_estimate, rel=0.15)
