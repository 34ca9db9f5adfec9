"""Design-based estimates against R's survey package, and their properties.

Reference values: tests/data/reference/ (README there). `r_reference.csv` was made
by tests/data/r/make_reference.R with R's survey 4.1.1; R is not needed here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.errors import DesignError
from analysis.survey import _variance
from analysis.survey.design import Design

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
def apiclus2() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "apiclus2.csv")


@pytest.fixture(scope="module")
def dstrat(apistrat) -> Design:
    return Design(apistrat, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def dclus1(apiclus1) -> Design:
    return Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")


@pytest.fixture(scope="module")
def designs(apistrat, apiclus1, apiclus2, dstrat, dclus1) -> dict[str, Design]:
    """Python twins of the designs defined in make_reference.R."""
    return {
        "dstrat": dstrat,
        "dstrat_nofpc": Design(apistrat, weights="pw", strata="stype"),
        "dclus1": dclus1,
        "dclus1_nofpc": Design(apiclus1, weights="pw", psu="dnum"),
        "dclus2": Design(apiclus2, weights="pw", psu="dnum"),
        "rclus1": dclus1.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}),
        "rclus1_tight": dclus1.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}),
        "pclus1": dclus1.poststratify("stype", POP_TYPES),
        "pstrat": dstrat.poststratify("sch.wide", POP_SCHWIDE),
    }


def pick(out: pd.DataFrame, by: str, domain: str, level: str = "") -> pd.Series:
    """The row of an estimate table for a `|`-joined domain (and level)."""
    keep = np.ones(len(out), bool)
    if by:
        for col, value in zip(by.split("|"), domain.split("|"), strict=True):
            keep &= out[col].astype(str).to_numpy() == value
    if level:
        keep &= out["level"].astype(str).to_numpy() == level
    assert keep.sum() == 1, (by, domain, level)
    return out[keep].iloc[0]


# -- published values (tests/data/reference/README.md) ------------------------------


def test_stratified_mean_and_total_match_published_r_values(dstrat):
    mean = dstrat.mean("api00").iloc[0]
    total = dstrat.total("enroll").iloc[0]
    assert (round(mean.estimate, 2), round(mean.se, 4)) == (662.29, 9.4089)
    assert (round(total.estimate), round(total.se)) == (3_687_178, 114_642)
    assert mean.n == 200 and mean.df == 197


def test_mean_without_fpc_matches_published_se(apistrat):
    se = Design(apistrat, weights="pw", strata="stype").mean("api00").se.iloc[0]
    assert round(se, 4) == 9.5361


def test_domain_means_match_published_values(dstrat):
    out = dstrat.mean("api00", by="stype")
    assert list(out.stype) == ["E", "H", "M"]
    assert list(out.estimate.round(2)) == [674.43, 625.82, 636.60]
    assert list(out.se.round(4)) == [12.3825, 14.9371, 16.2147]
    assert list(out.n) == [100, 50, 50]


def test_interval_uses_t_with_design_df_not_rs_normal_quantile(dstrat):
    row = dstrat.mean("api00").iloc[0]
    assert (round(row.ci_low, 2), round(row.ci_high, 2)) == (643.73, 680.84)
    z = stats.norm.ppf(0.975)  # R's confint(): [643.85, 680.73]
    assert (round(row.estimate - z * row.se, 2), round(row.estimate + z * row.se, 2)) == (
        643.85,
        680.73,
    )


# -- generated R values (make_reference.R) --------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "dstrat",
        "dstrat_nofpc",
        "dclus1",
        "dclus1_nofpc",
        "dclus2",
        "rclus1_tight",
        "pclus1",
        "pstrat",
        "rclus1",
    ],
)
def test_estimates_match_r(name, designs, r_values):
    design = designs[name]
    # rclus1 is R's rake() with its default stopping rule (margins within 1 unit),
    # ours runs to convergence: they agree to 4 significant digits only
    rtol, atol = (1e-4, 1e-5) if name == "rclus1" else (1e-6, 1e-6)
    rows = r_values[
        (r_values.design == name) & r_values.statistic.isin(["svymean", "svytotal", "proportion"])
    ]
    assert len(rows) > 30
    for ref in rows.itertuples():
        by = ref.by.split("|") if ref.by else None
        if ref.statistic == "proportion":
            out = design.proportion(ref.variable, by=by)
        else:
            out = (design.mean if ref.statistic == "svymean" else design.total)(ref.variable, by=by)
        got = pick(out, ref.by, ref.domain, ref.level)
        what = f"{ref.statistic} {ref.variable} {ref.domain} {ref.level}"
        assert got.estimate == pytest.approx(ref.estimate, rel=rtol), what
        # SEs that are zero in theory (a raked or stratum share) are compared absolutely
        assert got.se == pytest.approx(ref.se, rel=rtol, abs=atol), what
        if ref.statistic == "proportion":
            assert got.ci_low == pytest.approx(ref.ci_low, rel=rtol, abs=atol), what
            assert got.ci_high == pytest.approx(ref.ci_high, rel=rtol, abs=atol), what
            assert got.df == ref.df, what


@pytest.mark.parametrize("rule", ["adjust", "remove", "certainty"])
def test_lonely_psu_rules_match_r(rule, apistrat, r_values):
    design = Design(lonely_strata(apistrat), weights="pw", strata="st", lonely_psu=rule)
    ref = r_values[r_values.design == f"lonely_{rule}"]
    got = [design.mean("api00").se.iloc[0], *design.mean("api00", by="stype").se]
    assert got == pytest.approx(ref.se.to_list(), rel=1e-9)


def lonely_strata(apistrat: pd.DataFrame) -> pd.DataFrame:
    """apistrat with one school alone in stratum X (as make_reference.R)."""
    st = apistrat.stype.where(apistrat.snum != apistrat.snum.min(), "X")
    return apistrat.assign(st=st)


def test_single_psu_stratum_fails_by_default_naming_it(apistrat):
    with pytest.raises(DesignError, match=r"single PSU.*'X'.*lonely_psu='adjust'"):
        Design(lonely_strata(apistrat), weights="pw", strata="st")


def test_fully_enumerated_single_psu_stratum_is_not_lonely(apistrat):
    data = lonely_strata(apistrat)
    data["N"] = np.where(data.st == "X", 1, data.fpc)  # the lone school is its stratum
    design = Design(data, weights="pw", strata="st", fpc="N")
    removed = Design(data, weights="pw", strata="st", fpc="N", lonely_psu="remove")
    assert design.mean("api00").se.iloc[0] == removed.mean("api00").se.iloc[0]


# -- weights, fpc and design structure --------------------------------------------------


def test_weights_from_population_counts_are_n_over_n(apistrat, dstrat):
    from_fpc = Design(apistrat, strata="stype", fpc="fpc")
    expected = apistrat.fpc / apistrat.groupby("stype").stype.transform("size")
    np.testing.assert_allclose(from_fpc.weights, expected)
    pd.testing.assert_frame_equal(
        from_fpc.mean("api00", by="stype"), dstrat.mean("api00", by="stype"), rtol=1e-6
    )


def test_fpc_as_sampling_fraction_equals_population_counts(apistrat, dstrat):
    data = apistrat.assign(frac=apistrat.groupby("stype").stype.transform("size") / apistrat.fpc)
    by_fraction = Design(data, weights="pw", strata="stype", fpc="frac")
    pd.testing.assert_frame_equal(by_fraction.total("enroll"), dstrat.total("enroll"))


def test_no_weights_no_fpc_is_an_equal_weight_sample(apistrat):
    out = Design(apistrat).mean("api00").iloc[0]
    y = apistrat.api00
    assert out.estimate == pytest.approx(y.mean())
    assert out.se == pytest.approx(y.std() / np.sqrt(len(y)))  # with-replacement SRS
    assert out.df == len(y) - 1


def test_fpc_lowers_the_standard_error(designs):
    for with_fpc, without in [("dstrat", "dstrat_nofpc"), ("dclus1", "dclus1_nofpc")]:
        assert (
            designs[with_fpc].mean("api00").se.iloc[0] < designs[without].mean("api00").se.iloc[0]
        )


def test_strata_and_psu_can_be_lists_of_columns(apistrat):
    data = apistrat.assign(big=apistrat.enroll > 500, one=1)
    combined = data.assign(both=data.stype + data.big.astype(str))
    as_list = Design(data, weights="pw", strata=["stype", "big"], psu=["snum", "one"])
    as_one = Design(combined, weights="pw", strata="both")
    pd.testing.assert_frame_equal(as_list.mean("api00"), as_one.mean("api00"))
    assert as_list.df == 200 - 6


def test_psu_codes_are_nested_in_strata(apiclus1):
    data = apiclus1.assign(st=np.where(apiclus1.dnum % 2 == 0, "even", "odd"))
    # districts numbered 1, 2, ... afresh in each stratum: the same code, two PSUs
    data["cluster"] = data.groupby("st").dnum.rank(method="dense").astype(int)
    local = Design(data, weights="pw", strata="st", psu="cluster")
    pd.testing.assert_frame_equal(
        local.mean("api00"), Design(data, weights="pw", strata="st", psu="dnum").mean("api00")
    )
    assert local.df == 15 - 2


def test_element_psus_equal_explicit_one_row_psus(apistrat, dstrat):
    explicit = Design(apistrat, weights="pw", strata="stype", fpc="fpc", psu="snum")
    for d1, d2 in [
        (dstrat, explicit),
        (
            dstrat.rake({"sch.wide": POP_SCHWIDE, "awards": {"No": 2000, "Yes": 4194}}),
            explicit.rake({"sch.wide": POP_SCHWIDE, "awards": {"No": 2000, "Yes": 4194}}),
        ),
    ]:
        pd.testing.assert_frame_equal(
            d1.proportion("awards", by="stype"), d2.proportion("awards", by="stype")
        )
        pd.testing.assert_frame_equal(
            d1.total("enroll", by="sch.wide"), d2.total("enroll", by="sch.wide")
        )


@pytest.mark.parametrize("design", ["dclus1", "dstrat", "raked"])
def test_sparse_psu_totals_equal_dense_ones(design, dclus1, dstrat, monkeypatch):
    from analysis.survey import _joint

    d = {"dclus1": dclus1, "dstrat": dstrat}.get(design) or dclus1.rake(
        {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}
    )
    # several columns at once: rows repeated across columns, as the index does
    Y = d.data[["api00", "api99", "meals"]].to_numpy(float)
    codes = pd.factorize(d.data["stype"], sort=True)[0]

    def estimates():
        joint = _joint.means(d, Y, [(codes, 3), (np.zeros(len(Y), np.int64), 1)])
        return [d.proportion("awards", by="stype"), d.mean("api00", by="stype"), joint.cov]

    dense = estimates()
    monkeypatch.setattr(_variance, "_DENSE_CELLS", 0)
    sparse = estimates()
    for a, b in zip(dense[:2], sparse[:2], strict=True):
        pd.testing.assert_frame_equal(a, b)
    np.testing.assert_allclose(sparse[2], dense[2], rtol=1e-10, atol=1e-12)


def test_data_is_never_modified(apistrat):
    before = apistrat.copy()
    design = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    design.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}).proportion("awards", by="stype")
    pd.testing.assert_frame_equal(apistrat, before)


# -- domains and missing values --------------------------------------------------------


def test_domain_totals_sum_to_the_total(dclus1):
    overall = dclus1.total("enroll").estimate.iloc[0]
    assert dclus1.total("enroll", by="stype").estimate.sum() == pytest.approx(overall)


def test_shares_sum_to_one_in_every_domain(dclus1):
    out = dclus1.proportion("awards", by=["stype", "sch.wide"])
    sums = out.groupby(["stype", "sch.wide"]).estimate.sum()
    np.testing.assert_allclose(sums, 1)


def test_missing_values_are_treated_as_out_of_domain(apistrat):
    # a mean over respondents of E schools equals the E domain of the full variable
    data = apistrat.assign(api_e=apistrat.api00.where(apistrat.stype == "E"))
    design = Design(data, weights="pw", strata="stype", fpc="fpc")
    as_missing = design.mean("api_e").iloc[0]
    as_domain = pick(design.mean("api00", by="stype"), "stype", "E")
    assert as_missing.estimate == pytest.approx(as_domain.estimate)
    assert as_missing.se == pytest.approx(as_domain.se)
    assert as_missing.n == 100


def test_empty_domains_give_a_row_with_n_zero_not_an_error(apistrat):
    data = apistrat.assign(stype=pd.Categorical(apistrat.stype, ["E", "H", "M", "X"]))
    design = Design(data, weights="pw", strata="stype", fpc="fpc")
    empty = pick(design.mean("api00", by="stype"), "stype", "X")
    assert empty.n == 0 and np.isnan(empty.estimate) and np.isnan(empty.se)
    shares = design.proportion("awards", by="stype")
    assert shares[shares.stype == "X"].n.tolist() == [0, 0]
    # all answers missing in a domain: acs.k3 is asked of elementary schools only
    by_type = design.mean("acs.k3", by="stype")
    assert by_type.n.tolist() == [97, 0, 0, 0] and by_type.estimate.isna().tolist()[1:] == [
        True,
        True,
        True,
    ]


def test_rows_missing_the_domain_belong_to_no_domain(apistrat):
    data = apistrat.assign(group=apistrat.stype.where(apistrat.stype != "M"))
    out = Design(data, weights="pw", strata="stype").mean("api00", by="group")
    assert out.group.tolist() == ["E", "H"]


# -- proportions ----------------------------------------------------------------------


def test_proportion_intervals_stay_inside_0_1(designs):
    for design in designs.values():
        out = design.proportion("yr.rnd", by=["stype", "awards"])
        ok = out.n > 0
        assert ((out.ci_low[ok] >= 0) & (out.ci_high[ok] <= 1)).all()
        assert (out.ci_low[ok] <= out.estimate[ok]).all()
        assert (out.estimate[ok] <= out.ci_high[ok]).all()


def test_zero_and_one_shares_get_a_clopper_pearson_bound(dclus1):
    # no high school in apiclus1 runs a year-round calendar (0 of 14)
    out = dclus1.proportion("yr.rnd", by="stype")
    yes, no = pick(out, "stype", "H", "Yes"), pick(out, "stype", "H", "No")
    assert (yes.estimate, yes.se, yes.ci_low) == (0, 0, 0)
    assert yes.ci_high == pytest.approx(1 - 0.025 ** (1 / 14))
    assert (no.estimate, no.ci_high) == (1, 1)
    assert no.ci_low == pytest.approx(0.025 ** (1 / 14))


def test_multi_select_options_equal_the_yes_share_of_each_column(dclus1, apiclus1):
    names = ["awards", "sch.wide", "comp.imp"]
    data = apiclus1.assign(**{f"opt_{c}": (apiclus1[c] == "Yes").astype(float) for c in names})
    data.loc[data.index[:5], "opt_awards"] = np.nan  # not asked of five schools
    design = Design(data, weights="pw", psu="dnum", fpc="fpc")
    options = design.proportion([f"opt_{c}" for c in names], by="stype")
    assert options.level.tolist()[:3] == ["opt_awards", "opt_sch.wide", "opt_comp.imp"]
    for c in names[1:]:
        got = options[options.level == f"opt_{c}"].reset_index(drop=True)
        want = dclus1.proportion(c, by="stype")
        want = want[want.level == "Yes"].reset_index(drop=True)
        cols = ["stype", "estimate", "se", "ci_low", "ci_high", "df", "n"]
        pd.testing.assert_frame_equal(got[cols], want[cols], rtol=1e-9)
    awards = design.mean("opt_awards", by="stype")
    assert options[options.level == "opt_awards"].n.tolist() == awards.n.tolist()


def test_indicator_must_be_zero_or_one(apiclus1):
    data = apiclus1.assign(opt=np.where(apiclus1.index == 3, 2.0, 1.0))
    with pytest.raises(DesignError, match=r"'opt' has the value 2 in row 3.*0 or 1"):
        Design(data, weights="pw", psu="dnum").proportion(["opt"])


def test_confidence_level_per_call_and_per_design(apistrat, dstrat):
    wide = dstrat.proportion("awards").iloc[0]
    narrow = dstrat.proportion("awards", confidence=0.9).iloc[0]
    assert wide.ci_low < narrow.ci_low < narrow.estimate < narrow.ci_high < wide.ci_high
    design90 = Design(apistrat, weights="pw", strata="stype", fpc="fpc", confidence=0.9)
    assert (
        design90.mean("api00").ci_low.iloc[0] == dstrat.mean("api00", confidence=0.9).ci_low.iloc[0]
    )


# -- calibration ------------------------------------------------------------------------


def test_raking_reproduces_every_margin(apiclus1, dclus1):
    raked = dclus1.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    for column, counts in [("stype", POP_TYPES), ("sch.wide", POP_SCHWIDE)]:
        sums = raked.weights.groupby(apiclus1[column]).sum()
        np.testing.assert_allclose(sums[list(counts)], list(counts.values()), rtol=1e-9)
        shares = raked.proportion(column)
        assert shares.se.max() < 1e-6  # a calibrated margin is known: no variance
    np.testing.assert_allclose(dclus1.weights, apiclus1.pw)  # the original is untouched


def test_poststratification_reproduces_counts_and_chains(apistrat, dstrat):
    post = dstrat.poststratify("sch.wide", POP_SCHWIDE)
    sums = post.weights.groupby(apistrat["sch.wide"]).sum()
    np.testing.assert_allclose(sums[["No", "Yes"]], [1072, 5122])
    twice = post.rake({"awards": {"No": 2500, "Yes": 3694}})
    assert "poststratify(sch.wide); rake(awards)" in repr(twice)
    assert twice.weights.groupby(apistrat.awards).sum()["Yes"] == pytest.approx(3694)


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"weights": "weight"}, r"weights column 'weight' is not in the data"),
        ({"strata": ["stype", "region"]}, r"strata column 'region' is not in the data"),
        ({"weights": "pw", "lonely_psu": "average"}, r"lonely_psu='average' is not an option"),
        ({"confidence": 95}, r"confidence=95 is not a level between 0 and 1"),
        ({"weights": "name"}, r"column 'name' is not numeric .*'Open Magnet"),
    ],
)
def test_bad_design_arguments_raise_design_errors(apistrat, kwargs, message):
    with pytest.raises(DesignError, match=message):
        Design(apistrat, **kwargs)


def test_bad_weights_name_the_row(apistrat):
    negative = apistrat.assign(pw=apistrat.pw.where(apistrat.index != 7, -1.0))
    with pytest.raises(DesignError, match=r"'pw' is negative \(-1\) in row 7.*weight >= 0"):
        Design(negative, weights="pw")
    missing = apistrat.assign(pw=apistrat.pw.where(apistrat.index != 9))
    with pytest.raises(DesignError, match=r"'pw' is missing in row 9"):
        Design(missing, weights="pw")


def test_bad_fpc_is_refused(apistrat):
    small = apistrat.assign(fpc=np.where(apistrat.stype == "H", 40, apistrat.fpc))
    with pytest.raises(DesignError, match=r"stratum 'H' a population of 40, fewer than its 50"):
        Design(small, strata="stype", fpc="fpc")
    varying = apistrat.assign(fpc=apistrat.fpc + (apistrat.index == 1))
    with pytest.raises(DesignError, match=r"'fpc' varies within stratum 'E'"):
        Design(varying, strata="stype", fpc="fpc")
    mixed = apistrat.assign(fpc=np.where(apistrat.stype == "H", 0.5, apistrat.fpc))
    with pytest.raises(DesignError, match="mixes sampling fractions"):
        Design(mixed, strata="stype", fpc="fpc")


def test_missing_stratum_is_refused(apistrat):
    data = apistrat.assign(stype=apistrat.stype.where(apistrat.index != 5))
    with pytest.raises(DesignError, match=r"strata column 'stype' is missing in row 5"):
        Design(data, strata="stype")


def test_estimating_an_unknown_or_text_column_raises(dstrat):
    with pytest.raises(DesignError, match=r"variable column 'api01' is not in the data"):
        dstrat.mean("api01")
    with pytest.raises(DesignError, match=r"'stype' is not numeric.*'E'.*proportion\(\)"):
        dstrat.mean("stype")
    with pytest.raises(DesignError, match=r"by column 'size' is not in the data"):
        dstrat.proportion("awards", by="size")


def test_bad_calibration_targets_are_refused(dstrat, apistrat):
    with pytest.raises(DesignError, match=r"levels \['M'\] of 'stype' have no population count"):
        dstrat.poststratify("stype", {"E": 4421, "H": 755})
    with pytest.raises(
        DesignError,
        match=r"levels \['X'\] of 'stype' have a population count "
        r"but no respondents",
    ):
        dstrat.poststratify("stype", {**POP_TYPES, "X": 10})
    with pytest.raises(DesignError, match=r"not describe the same population"):
        dstrat.rake({"stype": POP_TYPES, "sch.wide": {"No": 1, "Yes": 2}})
    missing = apistrat.assign(awards=apistrat.awards.where(apistrat.index != 4))
    design = Design(missing, weights="pw", strata="stype")
    with pytest.raises(DesignError, match=r"'awards' is missing in row 4"):
        design.poststratify("awards", {"No": 3000, "Yes": 3194})


# -- derived columns, methods note, joint covariances ------------------------------------


def test_assign_adds_columns_to_the_same_design(dstrat, apistrat):
    derived = dstrat.assign(high=(apistrat.api00 > 700).to_numpy())
    assert "high" not in dstrat.data.columns and "high" in derived.data.columns
    np.testing.assert_array_equal(derived.weights, dstrat.weights)
    raked = dstrat.poststratify("sch.wide", POP_SCHWIDE).assign(x=apistrat.api00)
    pd.testing.assert_frame_equal(
        raked.mean("x"), dstrat.poststratify("sch.wide", POP_SCHWIDE).mean("api00")
    )


def test_assign_refuses_misaligned_columns(dstrat, apistrat):
    with pytest.raises(DesignError, match=r"'x' has 3 values for 200 rows"):
        dstrat.assign(x=[1, 2, 3])
    with pytest.raises(DesignError, match=r"Series on another index"):
        dstrat.assign(x=apistrat.api00.reset_index(drop=True))


def test_methods_note_is_plain_json_and_names_lonely_strata(apistrat, dclus1):
    import json

    design = Design(lonely_strata(apistrat), weights="pw", strata="st", lonely_psu="adjust")
    note = design.methods
    assert json.loads(json.dumps(note)) == note
    assert note["lonely_psu"] == "adjust" and note["single_psu_strata"] == ["X"]
    assert note["strata"] == ["st"] and note["psu"] == "each row" and note["df"] == 196
    raked = dclus1.rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}).methods
    assert raked["calibration"] == ["rake(stype, sch.wide)"] and raked["psu"] == ["dnum"]


@pytest.mark.parametrize("name", ["dstrat", "dclus1", "pclus1", "rclus1_tight", "lonely"])
def test_rows_adding_to_several_columns_get_their_cross_products(name, designs, apistrat):
    """The engine with repeated rows (one row, several estimates) against two
    independent routes: one column at a time, and the dense influence matrix."""
    if name == "lonely":
        design = Design(lonely_strata(apistrat), weights="pw", strata="st", lonely_psu="adjust")
    else:
        design = designs[name]
    rng = np.random.default_rng(3)
    rows = np.flatnonzero(design.data["sch.wide"].to_numpy() == "Yes")
    Z = rng.normal(size=(len(rows), 3))
    stacked = design._engine.cov(
        np.repeat(rows, 3), Z.ravel(), np.tile(np.arange(3), len(rows)), 1, 3, repeated=True
    )[0]
    np.testing.assert_allclose(stacked, design._engine.cov_matrix(rows, Z), rtol=1e-10)
    for j in range(3):
        alone = design._engine.cov(rows, Z[:, j], np.zeros(len(rows), np.int64), 1, 1)[0, 0, 0]
        assert stacked[j, j] == pytest.approx(alone, rel=1e-10)
