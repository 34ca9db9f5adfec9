"""Replicate-weight designs against R's as.svrepdesign (JKn, JK1, subbootstrap).

Reference values: tests/data/reference/r_reference_2.csv, made by
tests/data/r/make_reference_2.R with R's survey 4.1.1; R is not needed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignError
from analysis.survey.design import Design

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"


@pytest.fixture(scope="module")
def r_values() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "r_reference_2.csv", keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="module")
def api():
    return {
        "apistrat": pd.read_csv(REFERENCE / "apistrat.csv", index_col=0),
        "apiclus1": pd.read_csv(REFERENCE / "apiclus1.csv"),
        "apiclus2": pd.read_csv(REFERENCE / "apiclus2.csv"),
    }


@pytest.fixture(scope="module")
def designs(api):
    a, c1, c2 = api["apistrat"], api["apiclus1"], api["apiclus2"]
    return {
        "jkn_dstrat": Design(a, weights="pw", strata="stype", fpc="fpc").replicate("JKn"),
        "jkn_dstrat_nofpc": Design(a, weights="pw", strata="stype").replicate("JKn"),
        "jkn_dstrat_mse": Design(a, weights="pw", strata="stype", fpc="fpc").replicate(
            "JKn", mse=True
        ),
        "jk1_dclus1": Design(c1, weights="pw", psu="dnum", fpc="fpc").replicate("JK1"),
        "jk1_dclus1_nofpc": Design(c1, weights="pw", psu="dnum").replicate("JK1"),
        "jk1_dclus2": Design(c2, weights="pw", psu="dnum").replicate("JK1"),
    }


def _row(out, by, domain, level=""):
    keep = np.ones(len(out), bool)
    if by:
        keep &= out[by].astype(str).to_numpy() == domain
    if level:
        keep &= out["level"].astype(str).to_numpy() == level
    assert keep.sum() == 1
    return out[keep].iloc[0]


@pytest.mark.parametrize(
    "name",
    [
        "jkn_dstrat",
        "jkn_dstrat_nofpc",
        "jkn_dstrat_mse",
        "jk1_dclus1",
        "jk1_dclus1_nofpc",
        "jk1_dclus2",
    ],
)
def test_jackknife_estimates_match_r_as_svrepdesign(name, designs, r_values):
    rep = designs[name]
    rows = r_values[r_values.design == name]
    assert len(rows) >= 20
    for ref in rows.itertuples():
        what = f"{name} {ref.statistic} {ref.variable} {ref.domain}"
        tol = 1e-12
        if ref.statistic in ("svymean", "svytotal"):
            fn = rep.mean if ref.statistic == "svymean" else rep.total
            got = _row(fn(ref.variable, by=ref.by or None), ref.by, ref.domain)
        elif ref.statistic.startswith("ciprop_"):
            data = rep.data.assign(yes=(rep.data[ref.variable] == ref.level).astype(float))
            sub = rep.with_data(data)
            out = sub.proportion(["yes"], by=ref.by or None, method=ref.statistic[7:])
            got = _row(out, ref.by, ref.domain)
            # R fits each replicate's logit by IRLS (svyglm, tolerance 1e-8), here it is
            # exact: the logit limits agree to 7 digits, the beta limits to 10
            tol = 1e-7 if ref.statistic == "ciprop_logit" else 1e-9
            assert got.ci_low == pytest.approx(ref.ci_low, rel=tol), what
            assert got.ci_high == pytest.approx(ref.ci_high, rel=tol), what
        else:
            continue
        assert got.estimate == pytest.approx(ref.estimate, rel=tol), what
        assert got.se == pytest.approx(ref.se, rel=1e-9), what
        if not np.isnan(ref.df):
            assert got.df == ref.df, what


@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty"])
def test_jkn_single_psu_strata_follow_r(rule, api, r_values):
    data = api["apistrat"].assign(st=api["apistrat"]["stype"].astype(str))
    data.loc[data["snum"] == data["snum"].min(), "st"] = "X"
    rep = Design(data, weights="pw", strata="st", lonely_psu=rule).replicate("JKn")
    ref = r_values[r_values.design == f"jkn_lonely_{rule}"].iloc[0]
    got = rep.mean("api00").iloc[0]
    assert rep.replicates == ref.replicates
    assert got.se == pytest.approx(ref.se, rel=1e-9)
    assert got.df == ref.df


def test_jkn_refuses_a_single_psu_stratum_when_the_design_fails_on_it(api):
    data = api["apistrat"].assign(st=api["apistrat"]["stype"].astype(str))
    data.loc[data["snum"] == data["snum"].min(), "st"] = "X"
    with pytest.raises(DesignError, match="single PSU"):
        Design(data, weights="pw", strata="st", lonely_psu="adjust").replicate("JKn")
        Design(data, weights="pw", strata="st", lonely_psu="fail")


@pytest.mark.parametrize(
    ("name", "args"),
    [("boot_dstrat_nofpc", {"strata": "stype"}), ("boot_dclus1_nofpc", {"psu": "dnum"})],
)
def test_bootstrap_matches_r_subbootstrap_within_monte_carlo_error(name, args, api, r_values):
    data = api["apistrat"] if "strata" in args else api["apiclus1"]
    design = Design(data, weights="pw", **args)
    for ref in r_values[r_values.design == name].itertuples():
        ses = [
            design.replicate("bootstrap", 500, seed=s).mean(ref.variable).se[0] for s in range(40)
        ]
        # R: the mean and SD of 40 SEs from 500 replicates; the two means differ by
        # less than 4 standard errors of their difference
        spread = np.sqrt(ref.se**2 / 40 + np.var(ses, ddof=1) / 40)
        assert abs(np.mean(ses) - ref.estimate) < 4 * spread, (ref.variable, np.mean(ses))


def test_bootstrap_with_fpc_estimates_the_linearised_variance_with_fpc(api):
    # R's subbootstrap drops the fpc; ours keeps it: its mean variance is the Taylor one
    design = Design(api["apistrat"], weights="pw", strata="stype", fpc="fpc")
    taylor = design.mean("api00").se[0]
    v = [design.replicate("bootstrap", 500, seed=s).mean("api00").se[0] ** 2 for s in range(40)]
    assert np.sqrt(np.mean(v)) == pytest.approx(taylor, rel=0.03)
    nofpc = Design(api["apistrat"], weights="pw", strata="stype").mean("api00").se[0]
    assert abs(np.sqrt(np.mean(v)) - taylor) < abs(np.sqrt(np.mean(v)) - nofpc)


def test_grouped_jackknife_gives_the_asked_replicates_and_a_close_se(api):
    design = Design(api["apistrat"], weights="pw", strata="stype", fpc="fpc")
    rep = design.replicate("JKn", replicates=60, seed=3)
    assert rep.replicates == 60
    got = rep.mean("api00").iloc[0]
    assert got.df == 60 - 3
    assert got.se == pytest.approx(design.mean("api00").se[0], rel=0.25)


def test_replicate_weights_are_the_weights_times_the_factors(designs):
    rep = designs["jk1_dclus1"]
    w = rep.weights()
    assert w.shape == (len(rep.data), 15)
    first = rep.data["dnum"] == rep.data["dnum"].iloc[0]
    col = w.columns[0]
    assert (w.loc[first, col] == 0).all()
    assert np.allclose(w.loc[~first, col], rep.data.loc[~first, "pw"] * 15 / 14)


def test_export_writes_what_r_reads_back(designs, tmp_path):
    rep = designs["jkn_dstrat"]
    path = rep.export(tmp_path / "api.csv", columns=["stype", "api00"])
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert list(table.columns[:3]) == ["stype", "api00", "weight"]
    assert table.shape == (200, 3 + 200)
    meta = (tmp_path / "api.replicates.txt").read_text(encoding="utf-8")
    assert "kind: JKn" in meta and "mse: FALSE" in meta
    rscales = np.array(meta.split("rscales: ")[1].split(), float)
    # the variance as R's svrepdesign(type="JKn", scale=1, rscales=...) computes it
    reps = (table.filter(like="repw_").to_numpy() * table.api00.to_numpy()[:, None]).sum(0)
    reps = reps / table.filter(like="repw_").sum(axis=0).to_numpy()
    v = np.sum(rscales * (reps - reps.mean()) ** 2)
    assert np.sqrt(v) == pytest.approx(rep.mean("api00").se[0], rel=1e-12)
    xlsx = rep.export(tmp_path / "api.xlsx", columns=["api00"])
    assert pd.read_excel(xlsx, sheet_name="replicates")["kind"].iloc[0] == "JKn"


def test_bad_replicate_requests_are_refused(api, designs):
    strat = Design(api["apistrat"], weights="pw", strata="stype")
    with pytest.raises(DesignError, match="unstratified"):
        strat.replicate("JK1")
    with pytest.raises(DesignError, match="kind"):
        strat.replicate("BRR")
    with pytest.raises(DesignError, match="calibrated"):
        strat.poststratify("sch.wide", {"No": 1072, "Yes": 5122}).replicate("JKn")
    with pytest.raises(DesignError, match="number of replicates"):
        strat.replicate("bootstrap", replicates=1)
