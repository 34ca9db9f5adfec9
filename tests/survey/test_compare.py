"""Domain differences, Rao-Scott chi-square and BH adjustment against R's survey package.

Reference values: tests/data/reference/r_reference.csv (see the README there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis.errors import DesignError
from analysis.survey.compare import ChiSquare, chisq, difference, versus_all
from analysis.survey.design import Design
from analysis.survey.multiplicity import adjust_pvalues

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}


@pytest.fixture(scope="module")
def r_values() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "r_reference.csv", keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="module")
def apistrat() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apistrat.csv", index_col=0)


@pytest.fixture(scope="module")
def apiclus1() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apiclus1.csv")


@pytest.fixture(scope="module")
def dstrat(apistrat) -> Design:
    return Design(apistrat, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1) -> Design:
    return Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def designs(apistrat, apiclus1, dstrat, dclus1) -> dict[str, Design]:
    apiclus2 = pd.read_csv(REFERENCE / "apiclus2.csv")
    return {
        "dstrat": dstrat,
        "dstrat_nofpc": Design(apistrat, weights="pw", strata="stype"),
        "dclus1": dclus1,
        "dclus1_nofpc": Design(apiclus1, weights="pw", psu="dnum"),
        "dclus2": Design(apiclus2, weights="pw", psu="dnum"),
        "rclus1_tight": dclus1.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}),
        "pclus1": dclus1.poststratify("stype", POP_TYPES),
        "pstrat": dstrat.poststratify("sch.wide", POP_SCHWIDE),
    }


NAMES = [
    "dstrat",
    "dstrat_nofpc",
    "dclus1",
    "dclus1_nofpc",
    "dclus2",
    "rclus1_tight",
    "pclus1",
    "pstrat",
]


@pytest.mark.parametrize("name", NAMES)
def test_domain_differences_match_r_svycontrast(name, designs, r_values):
    rows = r_values[(r_values.design == name) & (r_values.statistic == "difference")]
    assert len(rows) == 3
    for ref in rows.itertuples():
        a, b = ref.domain.split("-")
        if ref.level:
            out = difference(designs[name], ref.variable, ref.by, a, b, statistic="proportion")
            got = out[out.level == ref.level].iloc[0]
        else:
            got = difference(designs[name], ref.variable, ref.by, a, b).iloc[0]
        assert got.estimate == pytest.approx(ref.estimate, rel=1e-6), ref
        assert got.se == pytest.approx(ref.se, rel=1e-6), ref
        assert got.p_value == pytest.approx(ref.p_value, rel=1e-6), ref
        assert got.df == ref.df


@pytest.mark.parametrize("name", NAMES)
def test_chisq_matches_r_svychisq_f(name, designs, r_values):
    rows = r_values[(r_values.design == name) & (r_values.statistic == "chisq_F")]
    assert len(rows) == 2
    for ref in rows.itertuples():
        test = chisq(designs[name], *ref.variable.split("|"))
        assert isinstance(test, ChiSquare)
        assert test.statistic == pytest.approx(ref.estimate, rel=1e-6), ref
        assert test.ndf == pytest.approx(ref.ndf, rel=1e-6), ref
        assert test.ddf == pytest.approx(ref.ddf, rel=1e-6), ref
        assert test.p_value == pytest.approx(ref.p_value, rel=1e-6), ref


def test_difference_columns_and_the_two_estimates(dclus1):
    out = difference(dclus1, "api00", "stype", "E", "H")
    assert list(out.columns) == [
        "estimate_a",
        "estimate_b",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "df",
        "p_value",
        "n_a",
        "n_b",
    ]
    means = dclus1.mean("api00", by="stype").set_index("stype")
    row = out.iloc[0]
    assert (row.estimate_a, row.estimate_b) == (means.estimate["E"], means.estimate["H"])
    assert (row.n_a, row.n_b) == (144, 14)
    assert row.ci_low < row.estimate < row.ci_high


def test_independent_strata_have_no_covariance_but_clusters_do(dstrat, dclus1):
    # E and H are separate strata of dstrat: Var(a - b) = Var(a) + Var(b)
    se = dstrat.mean("api00", by="stype").set_index("stype").se
    got = difference(dstrat, "api00", "stype", "E", "H").se.iloc[0]
    assert got == pytest.approx(np.hypot(se["E"], se["H"]))
    # in dclus1 E and H schools share districts: the covariance counts
    se = dclus1.mean("api00", by="stype").set_index("stype").se
    got = difference(dclus1, "api00", "stype", "E", "H").se.iloc[0]
    assert abs(got - np.hypot(se["E"], se["H"])) > 0.5


def test_two_waves_stacked_in_one_design(apistrat, apiclus1):
    # two independent samples in one design: the wave is a column, strata and PSUs apart
    wave1 = apiclus1.assign(wave=2023, st="clus", psu=apiclus1.dnum.astype(str))
    wave2 = apistrat.assign(wave=2024, st=apistrat.stype, psu=apistrat.snum.astype(str))
    both = pd.concat([wave1, wave2], ignore_index=True)
    design = Design(both, weights="pw", strata="st", psu="psu", fpc="fpc")
    change = difference(design, "api00", "wave", 2024, 2023).iloc[0]
    alone = [
        Design(wave2, weights="pw", strata="stype", fpc="fpc").mean("api00").iloc[0],
        Design(wave1, weights="pw", psu="dnum", fpc="fpc").mean("api00").iloc[0],
    ]
    assert change.estimate == pytest.approx(alone[0].estimate - alone[1].estimate)
    assert change.se == pytest.approx(np.hypot(alone[0].se, alone[1].se))
    assert change.df == (200 - 3) + (15 - 1)


def test_difference_within_each_level_of_another_column(dclus1):
    out = difference(dclus1, "api00", "sch.wide", "Yes", "No", within="stype")
    means = dclus1.mean("api00", by=["stype", "sch.wide"]).set_index(["stype", "sch.wide"])
    assert out.stype.tolist() == ["E", "H", "M"]
    for row in out.itertuples():
        want = means.estimate[(row.stype, "Yes")] - means.estimate[(row.stype, "No")]
        assert row.estimate == pytest.approx(want)
    totals = difference(
        dclus1, "enroll", "sch.wide", "Yes", "No", within="stype", statistic="total"
    )
    assert (totals.se > 0).all()


def test_share_differences_for_categories_and_indicator_columns(apiclus1, dclus1):
    levels = difference(dclus1, "awards", "stype", "E", "M", statistic="proportion")
    assert levels.level.tolist() == ["No", "Yes"]
    assert levels.estimate.sum() == pytest.approx(0)
    data = apiclus1.assign(won=(apiclus1.awards == "Yes").astype(int))
    design = Design(data, weights="pw", psu="dnum", fpc="fpc")
    option = difference(design, ["won"], "stype", "E", "M", statistic="proportion").iloc[0]
    yes = levels[levels.level == "Yes"].iloc[0]
    assert option.level == "won"
    for col in ["estimate", "se", "p_value"]:
        assert option[col] == pytest.approx(yes[col])


def test_empty_domain_difference_is_nan_not_an_error(apistrat):
    data = apistrat.assign(stype=pd.Categorical(apistrat.stype, ["E", "H", "M", "X"]))
    design = Design(data, weights="pw", strata="stype", fpc="fpc")
    row = difference(design, "api00", "stype", "X", "E").iloc[0]
    assert row.n_a == 0 and np.isnan(row.estimate) and np.isnan(row.p_value)


def test_difference_refuses_unknown_levels_and_statistics(dclus1):
    with pytest.raises(DesignError, match=r"'K' is not a level of 'stype'.*'E', 'H', 'M'"):
        difference(dclus1, "api00", "stype", "K", "H")
    with pytest.raises(DesignError, match="same domain"):
        difference(dclus1, "api00", "stype", "E", "E")
    with pytest.raises(DesignError, match="statistic='median' is not known"):
        difference(dclus1, "api00", "stype", "E", "H", statistic="median")
    with pytest.raises(DesignError, match="one value for each `by` column"):
        difference(dclus1, "api00", ["stype", "awards"], "E", "H")


def test_chisq_is_zero_for_an_exactly_independent_table(apistrat):
    # half of each stratum in each group: the weighted table is exactly independent
    data = apistrat.assign(half=apistrat.groupby("stype").cumcount() % 2)
    test = chisq(Design(data, weights="pw", strata="stype"), "half", "stype")
    assert test.statistic == pytest.approx(0, abs=1e-9) and test.p_value == pytest.approx(1)
    assert test.n == 200


def test_chisq_needs_two_levels(dstrat, apistrat):
    one = Design(apistrat.assign(one="a"), weights="pw", strata="stype")
    with pytest.raises(DesignError, match=r"'one' has fewer than two levels"):
        chisq(one, "one", "stype")


def test_adjust_pvalues_is_benjamini_hochberg():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205])
    np.testing.assert_allclose(adjust_pvalues(p), multipletests(p, method="fdr_bh")[1])
    assert (adjust_pvalues(p) >= p).all()


def test_adjust_pvalues_keeps_nan_and_index():
    p = pd.Series([0.01, np.nan, 0.04, 0.03], index=list("abcd"), name="p_value")
    q = adjust_pvalues(p)
    assert list(q.index) == list("abcd") and q.name == "p_value"
    assert np.isnan(q["b"])
    np.testing.assert_allclose(q.dropna(), multipletests([0.01, 0.04, 0.03], method="fdr_bh")[1])
    with pytest.raises(DesignError, match=r"p-values must lie in \[0, 1\]"):
        adjust_pvalues([0.2, 1.5])


# -- a domain against the whole (region against province) ------------------------------


@pytest.mark.parametrize("name", ["dstrat", "dclus1", "rclus1_tight", "pclus1"])
@pytest.mark.parametrize("variable", ["api00", "acs.k3"])
def test_domain_versus_all_matches_r_svycontrast(name, variable, designs, r_values):
    ref = r_values[
        (r_values.design == name)
        & (r_values.statistic == "versus_all")
        & (r_values.variable == variable)
    ]
    out = versus_all(designs[name], variable, by="stype")
    assert list(out.stype) == list(ref.domain) == ["E", "H", "M"]
    np.testing.assert_allclose(out.estimate, ref.estimate, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(out.se, ref.se, rtol=1e-6, atol=1e-9)
    tested = ref.se.to_numpy() > 1e-12
    np.testing.assert_allclose(out.p_value[tested], ref.p_value[tested], rtol=1e-6)
    # E holds every acs.k3 respondent: E against the whole is a domain against itself
    assert (out.p_value[~tested & out.estimate.notna().to_numpy()] == 1).all()
    assert (out.df.to_numpy() == ref.df.to_numpy()).all()


def test_versus_all_is_narrower_than_treating_the_two_as_independent(dstrat):
    out = versus_all(dstrat, "api00", by="stype")
    naive = np.hypot(dstrat.mean("api00", by="stype").se, dstrat.mean("api00").se.iloc[0])
    assert (out.se < naive).all()


def test_versus_all_within_a_domain_compares_with_the_domain_only(dclus1):
    inside = (dclus1.data["sch.wide"] == "Yes").to_numpy()
    out = versus_all(dclus1, ["api00", "api99"], by="stype", domain=inside)
    yes = dclus1.data[inside]
    assert out.n_b.iloc[0] == len(yes) and list(out.variable[:2]) == ["api00", "api99"]
    whole = np.average(yes.api00, weights=yes.pw)
    assert out.estimate_b.iloc[0] == pytest.approx(whole)


@pytest.mark.parametrize("name", ["dstrat", "dclus1", "rclus1_tight", "pclus1"])
def test_joint_means_give_a_weighted_sum_of_means_with_rs_se(name, designs, r_values):
    """Two means with different respondents, combined as an index combines dimensions."""
    from analysis.survey import _joint

    design = designs[name]
    ref = r_values[(r_values.design == name) & (r_values.statistic == "combination")].iloc[0]
    Y = design.data[["api00", "acs.k3"]].to_numpy(float)
    joint = _joint.means(design, Y, [(np.zeros(len(Y), np.int64), 1)])
    est, se = joint.contrast(np.array([[0.25, 0.75]]))
    assert est[0] == pytest.approx(ref.estimate, rel=1e-9)
    assert se[0] == pytest.approx(ref.se, rel=1e-6)


# -- a difference of shares where one side has no estimated sampling error ------------


@pytest.fixture(scope="module")
def r_values_2() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "r_reference_2.csv", keep_default_na=False, na_values=["NA"])


@pytest.mark.parametrize("b", ["H", "M"])
@pytest.mark.parametrize("as_list", [True, False])
def test_zero_side_difference_uses_mover_as_computed_in_r(dstrat, r_values_2, b, as_list):
    # 4 of 100 elementary schools score above 880, none of 50 high (or middle) schools
    d = dstrat.assign(high=(dstrat.data["api00"] > 880).astype(float).to_numpy())
    out = difference(d, ["high"] if as_list else "high", "stype", "E", b, statistic="proportion")
    got = out.iloc[-1]  # the share of 1s (the categorical form lists 0 then 1)
    ref = r_values_2.set_index(["statistic", "domain"])
    mover, t = ref.loc[("mover", f"E-{b}")], ref.loc[("difference", f"E-{b}")]
    assert got.test == "mover"
    assert got.estimate == pytest.approx(mover.estimate, rel=1e-12)
    assert got.ci_low == pytest.approx(mover.ci_low, rel=1e-9)
    assert got.ci_high == pytest.approx(mover.ci_high, rel=1e-9)
    assert got.p_value == pytest.approx(mover.p_value, rel=1e-6)
    # the t test on the one-sided SE would have called it significant (R: p = 0.041)
    assert got.se == pytest.approx(t.se, rel=1e-9)
    assert t.p_value < 0.05 < got.p_value


def test_differences_with_sampling_error_on_both_sides_keep_the_t_test(dstrat):
    out = difference(dstrat, "sch.wide", "stype", "E", "M", statistic="proportion")
    assert set(out.test) == {"t"}


def test_zero_side_test_keeps_its_level_where_the_t_test_does_not():
    # planted: 17 large firms and 150 micro firms, both citing a difficulty with
    # probability 4%: no true gap. The t test on the one-sided SE rejects whenever the
    # large firms happen to show 0 of 17 (half the time); MOVER keeps near its 5%.
    rng = np.random.default_rng(13)
    strata = np.repeat(["micro", "large"], [150, 17])
    fpc = np.where(strata == "micro", 14_000, 83)
    old = new = zero = 0
    reps = 300
    for _ in range(reps):
        y = (rng.random(len(strata)) < 0.04).astype(float)
        data = pd.DataFrame({"size": strata, "fpc": fpc, "y": y})
        out = difference(
            Design(data, strata="size", fpc="fpc"),
            ["y"],
            "size",
            "micro",
            "large",
            statistic="proportion",
        ).iloc[0]
        if out.test != "mover":
            continue
        zero += 1
        if out.estimate != 0:  # both sides 0 of n: no test either way
            old += 2 * stats.t.sf(abs(out.estimate / out.se), out.df) < 0.05
        new += out.p_value < 0.05
    assert zero > 100
    assert old / zero > 0.25
    assert new / zero < 0.05
