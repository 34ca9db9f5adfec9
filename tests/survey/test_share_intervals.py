"""Share intervals: R's svyciprop(method="beta") (Korn-Graubard) and the logit default.

Reference values: tests/data/reference/r_reference_2.csv, made by
tests/data/r/make_reference_2.R with R's survey 4.1.1; R is not needed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import DesignError
from analysis.survey.design import Design

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


@pytest.fixture(scope="module")
def r_values() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "r_reference_2.csv", keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="module")
def designs() -> dict[str, Design]:
    apistrat = pd.read_csv(REFERENCE / "apistrat.csv", index_col=0)
    apiclus1 = pd.read_csv(REFERENCE / "apiclus1.csv")
    apiclus2 = pd.read_csv(REFERENCE / "apiclus2.csv")
    return {
        "dstrat": Design(apistrat, weights="pw", strata="stype", fpc="fpc"),
        "dstrat_nofpc": Design(apistrat, weights="pw", strata="stype"),
        "dclus1": Design(apiclus1, weights="pw", psu="dnum", fpc="fpc"),
        "dclus1_nofpc": Design(apiclus1, weights="pw", psu="dnum"),
        "dclus2": Design(apiclus2, weights="pw", psu="dnum"),
    }


def _row(out: pd.DataFrame, by: str, domain: str, level: str) -> pd.Series:
    keep = out["level"].astype(str).to_numpy() == level
    if by:
        keep &= out[by].astype(str).to_numpy() == domain
    assert keep.sum() == 1
    return out[keep].iloc[0]


@pytest.mark.parametrize("name", ["dstrat", "dstrat_nofpc", "dclus1", "dclus1_nofpc", "dclus2"])
def test_beta_intervals_match_r_svyciprop(name, designs, r_values):
    design = designs[name]
    rows = r_values[(r_values.design == name) & (r_values.statistic == "ciprop_beta")]
    assert len(rows) > 20
    for ref in rows.itertuples():
        out = design.proportion(ref.variable, by=ref.by or None, method="beta")
        got = _row(out, ref.by, ref.domain, ref.level)
        what = f"{name} {ref.variable} {ref.domain} {ref.level}"
        assert got.estimate == pytest.approx(ref.estimate, rel=1e-10), what
        assert got.se == pytest.approx(ref.se, rel=1e-9), what
        assert got.ci_low == pytest.approx(ref.ci_low, rel=1e-9), what
        assert got.ci_high == pytest.approx(ref.ci_high, rel=1e-9), what
        assert got.df == ref.df, what


def test_beta_is_near_the_exact_binomial_interval_in_a_simple_random_sample():
    # 1 firm of 50 in an equal-probability sample: Clopper-Pearson is [0.05%, 10.6%];
    # the logit interval reaches 12.9%, Korn-Graubard stays within a point of exact
    data = pd.DataFrame({"y": [1.0] + [0.0] * 49})
    design = Design(data)
    exact = stats.beta.ppf([0.025, 0.975], [1, 2], [50, 49])
    beta = design.proportion(["y"], method="beta").iloc[0]
    logit = design.proportion(["y"]).iloc[0]
    assert abs(beta.ci_high - exact[1]) < 0.005 < abs(logit.ci_high - exact[1])
    assert beta.ci_low == pytest.approx(exact[0], abs=0.001)


def test_zero_and_one_get_the_clopper_pearson_bound_with_either_method(designs):
    # no high school in apiclus1 runs a year-round calendar (0 of 14): R gives NaN
    for method in ("logit", "beta"):
        out = designs["dclus1"].proportion("yr.rnd", by="stype", method=method)
        yes, no = _row(out, "stype", "H", "Yes"), _row(out, "stype", "H", "No")
        assert (yes.estimate, yes.se, yes.ci_low) == (0, 0, 0)
        assert yes.ci_high == pytest.approx(stats.beta.ppf(0.975, 1, 14))
        assert (no.ci_high, no.ci_low) == (1, pytest.approx(stats.beta.ppf(0.025, 14, 1)))
        assert np.isfinite(out[["ci_low", "ci_high"]].to_numpy()).all()


def test_beta_for_indicator_columns_equals_beta_for_the_category(designs):
    d = designs["dstrat"]
    yes = (d.data["sch.wide"] == "Yes").astype(float)
    cat = _row(d.proportion("sch.wide", by="stype", method="beta"), "stype", "H", "Yes")
    ind = d.assign(yes=yes.to_numpy()).proportion(["yes"], by="stype", method="beta")
    got = ind[ind["stype"] == "H"].iloc[0]
    assert (got.ci_low, got.ci_high) == (pytest.approx(cat.ci_low), pytest.approx(cat.ci_high))


def test_unknown_method_is_refused(designs):
    with pytest.raises(DesignError, match="interval method"):
        designs["dstrat"].proportion("sch.wide", method="wilson")
