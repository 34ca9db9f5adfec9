"""Key drivers: regressions against R's svyglm and svyolr, relative weights, quadrants."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.ingest.load import load
from analysis.measures import models
from analysis.survey import _variance
from analysis.survey.design import Design
from analysis.survey.sampling import domain_mask, frame_design

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def r_values() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "r_reference.csv", keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="module")
def api_designs() -> dict[str, Design]:
    apistrat = pd.read_csv(REFERENCE / "apistrat.csv", index_col=0)
    apiclus1 = pd.read_csv(REFERENCE / "apiclus1.csv")
    dclus1 = Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    return {
        "dstrat": Design(apistrat, weights="pw", strata="stype", fpc="fpc"),
        "dclus1": dclus1,
        "pclus1": dclus1.poststratify("stype", {"E": 4421, "H": 755, "M": 1018}),
    }


@pytest.fixture(scope="module")
def sample_design():
    visits = load(SAMPLE / "visits.csv").data
    return frame_design(visits, load(SAMPLE / "frame.csv", "frame").data)


@pytest.fixture(scope="module")
def drivers(sample_design):
    return models.key_drivers(sample_design)


def _api_model(design: Design, domain: str):
    data = design.data
    inside = np.ones(len(data), bool) if not domain else (data["sch.wide"] == "Yes").to_numpy()
    rows = np.flatnonzero(inside)
    X = np.column_stack([data.ell, data.meals, data.stype == "H", data.stype == "M"])
    band = pd.cut(data.api00, [0, 550, 650, 750, 1000], labels=False).to_numpy() + 1.0
    w = design._w[rows] * len(rows) / design._w[rows].sum()
    return rows, X.astype(float)[rows], w, data.api00.to_numpy(float)[rows], band[rows]


def _fit_linear(design, rows, w, y, X):
    A = np.column_stack([np.ones(len(y)), X, y])  # as key_drivers lays it out
    return models._linear(design, rows, w, y, A[:, :-1], _variance.gram(A, w), 0.95)


@pytest.mark.parametrize(
    ("name", "domain"),
    [("dstrat", ""), ("dclus1", ""), ("pclus1", ""), ("dclus1", "sch.wide=Yes")],
)
def test_regressions_match_r_svyglm_and_svyolr(name, domain, api_designs, r_values):
    design = api_designs[name]
    rows, X, w, api00, band = _api_model(design, domain)
    ref = r_values[(r_values.design == name) & (r_values.domain == domain)]
    glm = ref[ref.statistic == "svyglm"]
    linear = _fit_linear(design, rows, w, api00, X)
    np.testing.assert_allclose(linear["params"], glm.estimate, rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(linear["cov"])), glm.se, rtol=1e-9)
    assert linear["df"] == glm.df.iloc[0]
    table = models._coef_table("linear", list(glm.variable), linear, len(rows))
    np.testing.assert_allclose(table.p_value, glm.p_value, rtol=1e-6)
    olr = ref[ref.statistic == "svyolr"]
    start = _fit_linear(design, rows, w, band, X)
    ordinal = models._ordinal(design, rows, w, band, X, start, 0.95)
    np.testing.assert_allclose(ordinal["params"], olr.estimate, rtol=1e-5)
    np.testing.assert_allclose(np.sqrt(np.diag(ordinal["cov"])), olr.se, rtol=1e-5)


def test_ordinal_derivatives_are_those_of_the_weighted_likelihood(api_designs):
    from statsmodels.tools.numdiff import approx_fprime

    _, X, w, _, band = _api_model(api_designs["dclus1"], "")
    model = models._WeightedOrdered(band, X, w)
    params = np.array([-0.02, -0.06, -2.0, -1.0, -5.0, 0.4, 0.6])
    np.testing.assert_allclose(
        model.score(params), approx_fprime(params, model.loglike, centered=True), rtol=1e-5
    )
    numeric = approx_fprime(params, model.score, centered=True)
    np.testing.assert_allclose(model.hessian(params), numeric, rtol=1e-4, atol=1e-3)


def test_relative_weights_sum_to_r2_and_reduce_to_r_squared_when_orthogonal():
    corr = np.array([[1, 0, 0.5], [0, 1, 0.3], [0.5, 0.3, 1]])
    np.testing.assert_allclose(models.relative_weights(corr), [0.25, 0.09])
    # five items sharing a common factor, as satisfaction ratings do
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2000, 5)) + 0.8 * rng.normal(size=(2000, 1))
    y = X @ [0.5, 0.3, 0.0, -0.2, 0.1] + rng.normal(size=2000)
    X1 = np.column_stack([np.ones(len(y)), X])
    r2 = 1 - np.var(y - X1 @ np.linalg.lstsq(X1, y, rcond=None)[0]) / np.var(y)
    weights = models.relative_weights(np.corrcoef(np.column_stack([X, y]), rowvar=False))
    assert weights.sum() == pytest.approx(r2)
    # within half a point of the Shapley (LMG) decomposition they approximate
    lmg = _lmg(np.corrcoef(np.column_stack([X, y]), rowvar=False))
    np.testing.assert_allclose(weights, lmg, atol=0.005)
    assert (np.argsort(weights) == np.argsort(lmg)).all()


def _lmg(C: np.ndarray) -> np.ndarray:
    p = len(C) - 1

    def r2(s):
        s = list(s)
        return C[-1, s] @ np.linalg.solve(C[np.ix_(s, s)], C[s, -1]) if s else 0.0

    out = np.zeros(p)
    for j in range(p):
        others = [k for k in range(p) if k != j]
        for size in range(p):
            for s in itertools.combinations(others, size):
                share = 1 / (p * len(list(itertools.combinations(others, size))))
                out[j] += share * (r2((*s, j)) - r2(s))
    return out


def test_planted_drivers_rank_first(drivers):
    """Planted: overall satisfaction = 0.45 r_service + 0.40 r_enforcement + small rest."""
    top = drivers.importance.head(2)
    assert top.item.tolist() == ["r_service", "r_enforcement"]
    assert top.share.sum() > 0.5 and drivers.importance.share.iloc[2] < 0.1
    assert drivers.importance.share.sum() == pytest.approx(1.0)
    coef = drivers.coefficients.set_index(["model", "term"]).estimate
    assert coef["linear", "r_service"] == pytest.approx(0.45, abs=0.05)
    assert coef["linear", "r_enforcement"] == pytest.approx(0.40, abs=0.05)


def test_model_choice_is_reported_with_its_reason(drivers):
    fit = drivers.fit
    assert drivers.model in ("linear", "ordinal") and "AIC" in drivers.reason
    better = "ordinal" if fit["ordinal"]["aic"] < fit["linear"]["aic"] else "linear"
    assert drivers.model == better
    assert fit["ordinal"]["converged"] and 0.5 < fit["linear"]["r2"] < 0.9
    assert json.loads(json.dumps(fit)) == fit and json.dumps(drivers.cutoffs)
    terms = set(drivers.coefficients.term)
    assert {"(intercept)", "size=small", "region=haidong", "cut:4|5"} <= terms
    assert "size=micro" not in terms  # the largest level is the reference


def test_quadrants_put_high_importance_low_performance_first(drivers):
    imp = drivers.importance.set_index("item")
    cut = drivers.cutoffs
    assert cut["importance"] == pytest.approx(1 / 15)
    assert cut["performance"] == pytest.approx(imp.performance.mean())
    for item, row in imp.iterrows():
        high, low = row.share >= cut["importance"], row.performance < cut["performance"]
        expected = {
            (True, True): "priority",
            (True, False): "strength",
            (False, True): "secondary",
            (False, False): "maintain",
        }[(high, low)]
        assert row.quadrant == expected, item
    assert imp.loc["r_enforcement", "quadrant"] == "priority"


def test_drivers_in_a_domain_leave_out_constant_profile(sample_design):
    mask = domain_mask(sample_design.data, region="haidong")
    out = models.key_drivers(sample_design, domain=mask)
    assert not any(t.startswith("region=") for t in out.coefficients.term)
    assert out.n <= mask.sum() and out.importance.item.iloc[0] in ("r_service", "r_enforcement")


def test_too_few_firms_give_no_model_and_nothing_ranked(sample_design):
    mask = domain_mask(sample_design.data, region="guoluo", size="large")
    out = models.key_drivers(sample_design, domain=mask)
    assert out.model == "none" and "too few" in out.reason
    assert out.importance.suppressed.all() and out.importance.quadrant.isna().all()
    assert out.importance["rank"].isna().all()


@pytest.mark.parametrize("domain", ["", "sch.wide=Yes"])
def test_importance_standard_errors_match_r_with_replicates(domain, api_designs):
    # R: withReplicates(as.svrepdesign(dstrat, "JKn"), relweights) with Johnson's
    # relative weights of ell, meals, mobility, col.grad in api00, net of school type
    r_values = pd.read_csv(REFERENCE / "r_reference_2.csv", keep_default_na=False, na_values=["NA"])
    ref = r_values[(r_values.statistic == "relweight") & (r_values.domain == domain)]
    design = api_designs["dstrat"]
    data = design.data
    inside = np.ones(len(data), bool) if not domain else (data["sch.wide"] == "Yes").to_numpy()
    rows = np.flatnonzero(inside)
    A = np.column_stack(
        [
            np.ones(len(data)),
            data.ell,
            data.meals,
            data.mobility,
            data["col.grad"],
            data.stype == "H",
            data.stype == "M",
            data.api00,
        ]
    ).astype(float)[rows]
    w = design._w[rows]
    share = models._relative_weights(_variance.gram(A, w), 4)
    share = share / share.sum()
    se, df = models.importance_replicates(design, rows, A, 4)
    np.testing.assert_allclose(share, ref.estimate, rtol=1e-10)
    np.testing.assert_allclose(se, ref.se, rtol=1e-8)
    assert df == ref.df.iloc[0]


def test_planted_drivers_have_intervals_clear_of_the_rest(drivers):
    imp = drivers.importance.set_index("item")
    top = imp.loc[["r_service", "r_enforcement"]]
    rest = imp.drop(index=["r_service", "r_enforcement"])
    assert (top.share_ci_low > rest.share_ci_high.max()).all()
    assert (imp.share_ci_low <= imp.share).all() and (imp.share <= imp.share_ci_high).all()
