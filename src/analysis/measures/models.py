"""Key drivers of overall satisfaction: regression, relative importance, priorities.

Overall satisfaction (1-5) is regressed on the 15 item ratings and the firm profile
(size class, region, industry) in two ways, both on the design weights:

linear
    weighted least squares from the normal equations, summed a chunk of rows at a
    time (the estimate of ``statsmodels.WLS`` and of R's ``svyglm``, checked against
    R in the tests, without WLS's several n x p copies at a million firms);
    coefficients = points of overall satisfaction per rating point;
ordinal
    an ordered probit (``statsmodels.OrderedModel``) maximising the design-weighted
    pseudo-log-likelihood, as R's ``svyolr`` does. OrderedModel takes no weights and
    has no analytic derivatives, so a small subclass supplies the weighted
    log-likelihood, its score and Hessian (fast enough for a million firms).

Standard errors of both are design-based (Taylor linearisation of the estimating
equations through the design's strata, PSUs and fpc, as R's ``svyglm``/``svyolr``):
cluster-robust by PSU when the design is clustered and heteroscedasticity-robust
(HC) when each firm is its own PSU. The linear model is an ordered probit with
thresholds fixed half-way between the answers, so both are models of the same 1-5
answer and compare on the weighted log-likelihood: the ordinal model is used when
its AIC is lower (it pays for its extra thresholds), and the reason is reported.

Relative importance is Johnson's (2000) relative weights on the design-weighted
correlation matrix of the items and satisfaction, net of the firm profile: each
item's share of the explained variance. It splits the shared variance of
correlated items as LMG/Shapley values do (usually within a point or two of them)
at the cost of one eigen-decomposition instead of 2^15 regressions; it belongs to
the linear model and is reported whichever model is used for the coefficients.

Importance-performance quadrants: importance = the share of explained variance,
cut at the average share 1/15; performance = the item's 0-100 score (:func:`analysis
.index.item_scores`), cut at the average of the 15 scores. High importance with low
performance is ``priority`` (Martilla and James's "concentrate here"); high with
high ``strength`` ("keep up the good work"); low with high ``maintain`` ("possible
overkill"); low with low ``secondary`` ("low priority").

Missing answers: a skipped item is filled with the mean of the firm's other items of
the same dimension when it answered at least half of them (the index's rule),
otherwise the firm leaves the model, as does a firm without overall satisfaction or
profile. Profile levels with fewer than ``min_level`` firms join the largest level.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis.ingest.instrument import Instrument, load_instrument
from analysis.measures import index as _index
from analysis.measures._importance import _relative_weights, _shares, importance_replicates
from analysis.measures._importance import relative_weights as relative_weights
from analysis.survey import _columns, _joint, _variance, disclosure
from analysis.survey.design import Design

PROFILE = ("size", "region", "industry")
QUADRANTS = ("priority", "strength", "maintain", "secondary")


@dataclass(frozen=True)
class Drivers:
    """Key drivers of overall satisfaction in one domain (see the module notes).

    Attributes
    ----------
    model : ``"linear"`` or ``"ordinal"``: the model whose coefficients to report;
        ``"none"`` when the domain has too few firms.
    reason : why, in one sentence (the AIC comparison, or the shortage of firms).
    n : firms in the models.
    imputed : item answers filled from the firm's dimension mean.
    fit : per model, ``loglik`` (weighted, weights scaled to sum to n), ``aic``,
        ``parameters``; ``r2`` (weighted) for the linear model.
    cutoffs : the quadrant lines, ``importance`` (1 / items) and ``performance``.
    coefficients : ``model, term, estimate, se, ci_low, ci_high, df, p_value, n,
        suppressed``; terms are item names, ``size=small``-style dummies,
        ``(intercept)`` (linear) and thresholds ``cut:3|4`` (ordinal).
    importance : ``item, dimension, weight`` (relative weight), ``share`` (of the
        explained variance; sums to 1), ``share_se, share_ci_low, share_ci_high``
        (from JKn replicate weights, :func:`importance_replicates`), ``rank``
        (1 = most important),
        ``performance, performance_se, performance_ci_low, performance_ci_high``,
        ``quadrant``, ``n`` (firms answering the item), ``suppressed``.
    """

    model: str
    reason: str
    n: int
    imputed: int
    fit: dict = field(default_factory=dict)
    cutoffs: dict = field(default_factory=dict)
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    importance: pd.DataFrame = field(default_factory=pd.DataFrame)
    needed: int = 0  # firms the models need (with model "none": more than ``n``)


def key_drivers(
    design: Design,
    *,
    domain=None,
    outcome: str = "overall_satisfaction",
    profile: Sequence[str] = PROFILE,
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    min_level: int = 30,
    confidence: float | None = None,
) -> Drivers:
    """Which items drive overall satisfaction, and which of them perform poorly.

    Parameters
    ----------
    design : the survey design.
    domain : the brief's population as a boolean mask; the models are fitted on
        it as a domain of the full design (R: ``svyglm`` on ``subset(design, …)``).
    outcome : the overall rating regressed on the items.
    profile : firm-profile columns entered as dummies (those in the data; a column
        with a single level in the domain is left out).
    instrument : the questionnaire (its rating items and dimensions).
    min_cell : fewer firms in the model, or answering an item, are suppressed.
    min_level : profile levels with fewer firms join the largest level.
    confidence : interval level; default the design's.

    Returns
    -------
    Drivers

    Raises
    ------
    DesignError
        missing rating items or outcome; a bad domain mask.

    Examples
    --------
    >>> drivers = key_drivers(design, domain=domain_mask(design.data, wave=2025))  # doctest: +SKIP
    >>> drivers.importance.query("quadrant == 'priority'")                   # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    disclosure.check_min_cell(min_cell)
    level = design._level(confidence)
    m = _joint.mask(design, domain)
    names, dims, _, _ = _index._items(design.data, inst)
    y_all = design._numeric(outcome, "key_drivers()")
    # The items' performance first: its temporaries are gone before the model's arrive.
    performance = _index.item_scores(
        design, domain=domain, instrument=inst, min_cell=min_cell, confidence=confidence
    )
    # Only the domain's rows, and only the columns the model uses, are copied.
    inside = np.flatnonzero(np.ones(len(y_all), bool) if m is None else m)
    used = [c for c in (*names, *profile) if c in design.data.columns]
    data = design.data.iloc[inside, [design.data.columns.get_loc(c) for c in used]]
    items, imputed = _filled(data, names, dims)
    ok = ~np.isnan(y_all[inside]) & ~np.isnan(items).any(1)
    dummies, terms = _profile(data, profile, ok, min_level)
    del data
    ok &= ~np.isnan(dummies).any(1)
    rows = inside[ok]
    n, k, p = len(rows), len(names), len(names) + len(terms)
    needed = max(min_cell, 2 * (p + 1))
    if n < needed or len(np.unique(y_all[inside[ok]])) < 2:
        reason = f"{n} firms answered every question the model needs, too few for {p + 1} terms"
        if n >= needed:
            reason = f"all {n} firms gave the same overall satisfaction: nothing to explain"
        return Drivers(
            "none", reason, n, 0, importance=_unranked(performance, names, dims), needed=needed
        )
    w = design._w[rows]
    w = w * (n / w.sum())  # log-likelihoods on the scale of the sample
    y = y_all[rows]
    # One matrix [1, items, profile, y]: a single weighted cross-product of it gives the
    # linear model's normal equations and the correlations for the relative weights.
    A = np.empty((n, p + 2))
    A[:, 0], A[:, 1 : k + 1], A[:, k + 1 : -1], A[:, -1] = 1.0, items[ok], dummies[ok], y
    imputed = imputed[ok]
    del items, dummies
    M = _variance.gram(A, w)
    X1 = A[:, :-1]  # a view: intercept, items, profile
    linear = _linear(design, rows, w, y, X1, M, level)
    ordinal = _ordinal(design, rows, w, y, X1[:, 1:], linear, level)
    model, reason = _choose(linear["fit"], ordinal["fit"])
    coefficients = pd.concat(
        [
            _coef_table("linear", ["(intercept)", *names, *terms], linear, n),
            _coef_table("ordinal", [*names, *terms, *ordinal["cuts"]], ordinal, n),
        ],
        ignore_index=True,
    )
    coefficients = disclosure.suppress(coefficients, min_cell)
    weight = _relative_weights(M, k)
    share_se, share_df = importance_replicates(design, rows, A, k)
    importance, cutoffs = _quadrants(names, dims, weight, performance, share_se, share_df, level)
    return Drivers(
        model=model,
        reason=reason,
        n=int(n),
        needed=needed,
        imputed=int(imputed.sum()),
        fit={"linear": linear["fit"], "ordinal": ordinal["fit"]},
        cutoffs=cutoffs,
        coefficients=coefficients,
        importance=importance,
    )


# -- the two models --------------------------------------------------------------------


def _linear(design, rows, w, y, X1, M, level) -> dict:
    # Weighted least squares from the normal equations in M (the estimate of
    # statsmodels' WLS, checked against R's svyglm in the tests), without the several
    # copies of an n x p matrix that WLS.fit makes (0.8 GB at 500k firms).
    bread = np.linalg.pinv(M[:-1, :-1])
    beta = bread @ M[:-1, -1]
    e = y - X1 @ beta
    cov = _design_cov(design, rows, _variance.rows_times(X1, w * e, bread))
    sigma2 = float(w @ e**2 / w.sum())
    mu = X1 @ beta
    values = np.unique(y)
    # the answer y_k as the interval between midpoints: an ordered probit with fixed cuts
    cuts = (values[1:] + values[:-1]) / 2
    k = np.searchsorted(values, y)
    upper = np.append(cuts, np.inf)[k]
    lower = np.append(-np.inf, cuts)[k]
    s = np.sqrt(sigma2)
    prob = special.ndtr((upper - mu) / s) - special.ndtr((lower - mu) / s)
    loglik = float(w @ np.log(np.maximum(prob, 1e-300)))
    ybar = np.average(y, weights=w)
    r2 = 1 - float(w @ e**2) / float(w @ (y - ybar) ** 2)
    params = X1.shape[1] + 1  # coefficients and the residual scale
    return {
        "params": beta,
        "cov": cov,
        "df": _df(design, rows, X1.shape[1]),
        "level": level,
        "fit": {"loglik": loglik, "aic": 2 * params - 2 * loglik, "parameters": params, "r2": r2},
    }


class _WeightedOrdered(OrderedModel):
    """OrderedModel on the design-weighted pseudo-log-likelihood, with analytic
    score and Hessian (statsmodels differentiates numerically: slow at 10^6 rows)."""

    def __init__(self, endog, exog, weights, **kwargs):
        # hasconst=False: statsmodels would otherwise look for a constant by an SVD
        super().__init__(endog, exog, distr="probit", hasconst=False, **kwargs)
        self.freq = np.asarray(weights, float)
        # which cut bounds each answer from above (U) and below (V): fixed by the data
        k = self.k_levels - 1
        n = len(self.endog)
        self._U, self._V = np.zeros((n, k)), np.zeros((n, k))
        up, lo = self.endog < k, self.endog > 0
        self._U[np.flatnonzero(up), self.endog[up]] = 1.0
        self._V[np.flatnonzero(lo), self.endog[lo] - 1] = 1.0
        self._last: tuple = (None, None)

    def loglike(self, params):
        return float(self.freq @ self.loglikeobs(params))

    def score(self, params):
        return self._derivatives(params)[0]

    def hessian(self, params):
        return self._derivatives(params)[1]

    def influence(self, params, w):
        """Influence values diag(w) S (-H)^-1 of the (beta, cuts) estimates, S the
        per-firm scores and H the weighted Hessian: the design-based sandwich's
        pieces. S is made a chunk of rows at a time, never whole."""
        cuts = self.transform_threshold_params(params)[1:-1]
        gu, gv, H = self._parts(params, cuts, True)
        X, U, V = self.exog, self._U, self._V
        bread = np.linalg.pinv(-H)
        out = np.empty((len(X), len(bread)))
        for start in range(0, len(X), _variance.CHUNK):
            i = slice(start, start + _variance.CHUNK)
            upper, lower = gu[i, None], gv[i, None]
            S = np.column_stack([-X[i] * (upper + lower), U[i] * upper + V[i] * lower])
            out[i] = (S * w[i, None]) @ bread
        return out

    def _derivatives(self, params):
        # Newton asks for the score and then the Hessian at the same point: one pass
        key = np.asarray(params, float).tobytes()
        if self._last[0] != key:
            self._last = (key, self._transformed(params))
        return self._last[1]

    def _transformed(self, params):
        cuts = self.transform_threshold_params(params)[1:-1]
        g, _, H = self._parts(params, cuts, False)
        # chain rule to statsmodels' parameters: cut_0, then log increments
        k = len(cuts)
        p = len(params) - k
        T = np.eye(len(params))
        T[p:, p] = 1.0
        for j in range(1, k):
            T[p + j :, p + j] = np.exp(params[-k + j])
        Ht = T.T @ H @ T
        for j in range(1, k):
            Ht[p + j, p + j] += np.exp(params[-k + j]) * g[p + j :].sum()
        return g @ T, Ht

    def _parts(self, params, cuts, per_firm):
        """Weighted gradient (or, ``per_firm``, the per-firm score factors of the upper
        and lower cut) and the weighted Hessian."""
        X, yk, w, U, V = self.exog, self.endog, self.freq, self._U, self._V
        eta = X @ params[: X.shape[1]]
        c = np.concatenate([[-np.inf], cuts, [np.inf]])
        u, v = c[yk + 1] - eta, c[yk] - eta
        P = np.maximum(special.ndtr(u) - special.ndtr(v), 1e-300)
        fu, fv = _pdf(u), _pdf(v)
        gu, gv = fu / P, -fv / P
        grad = np.concatenate([-(X.T @ (w * (gu + gv))), U.T @ (w * gu) + V.T @ (w * gv)])
        # f'(x) = -x f(x) of the normal density, 0 at the open ends
        du = -np.where(np.isfinite(u), u, 0.0) * fu
        dv = -np.where(np.isfinite(v), v, 0.0) * fv
        luu = w * (du / P - gu**2)
        lvv = w * (-dv / P - gv**2)
        luv = w * (-gu * gv)
        Hbb = _variance.gram(X, luu + 2 * luv + lvv)
        Hbc = -(X.T @ (U * (luu + luv)[:, None] + V * (luv + lvv)[:, None]))
        cross = U.T @ (V * luv[:, None])
        Hcc = np.diag(U.T @ luu + V.T @ lvv) + cross + cross.T
        H = np.block([[Hbb, Hbc], [Hbc.T, Hcc]])
        return (gu, gv, H) if per_firm else (grad, None, H)


def _ordinal(design, rows, w, y, X, linear, level) -> dict:
    values = np.unique(y)
    model = _WeightedOrdered(y, X, w)
    # start from the linear fit, read as an ordered probit: beta / sigma, cuts at midpoints
    beta = linear["params"]
    e = y - beta[0] - X @ beta[1:]
    s = np.sqrt(float(w @ e**2 / w.sum()))
    cuts = ((values[1:] + values[:-1]) / 2 - beta[0]) / s
    start = np.concatenate(
        [beta[1:] / s, model.transform_reverse_threshold_params(np.append(cuts, np.inf))]
    )
    with warnings.catch_warnings():  # convergence is checked below, not shouted
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = model.fit(start_params=start, method="newton", maxiter=50, disp=False)
    params = np.asarray(res.params, float)
    k = len(values) - 1
    cut_values = model.transform_threshold_params(params)[1:-1]
    theta = np.concatenate([params[:-k], cut_values])
    cov = _design_cov(design, rows, model.influence(params, w))
    loglik = float(model.loglike(params))
    n_params = len(params)
    labels = [f"cut:{_fmt(a)}|{_fmt(b)}" for a, b in itertools.pairwise(values)]
    return {
        "params": theta,
        "cov": cov,
        "df": _df(design, rows, n_params - k + 1),
        "level": level,
        "cuts": labels,
        "fit": {
            "loglik": loglik,
            "aic": 2 * n_params - 2 * loglik,
            "parameters": n_params,
            "converged": bool(res.mle_retvals.get("converged", True)),
        },
    }


def _choose(linear: dict, ordinal: dict) -> tuple[str, str]:
    a, b = ordinal["aic"], linear["aic"]
    if not ordinal.get("converged", True) or not np.isfinite(a):
        return "linear", (
            "the ordered probit did not converge on these answers (too few firms in some "
            "answer categories); the linear model is used"
        )
    if a < b:
        return "ordinal", (
            f"the ordered probit fits the answers better (AIC {a:.1f} against {b:.1f} for the "
            "linear model): the steps between answers are not even"
        )
    return "linear", (
        f"the linear model fits the answers as well as the ordered probit (AIC {b:.1f} "
        f"against {a:.1f}) and reads in rating points"
    )


def _design_cov(design: Design, rows: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Design-based covariance of estimates with influence values Z (rows x params)."""
    return design._engine.cov_matrix(rows, Z)


def _df(design: Design, rows: np.ndarray, coefficients: int) -> int:
    """Residual degrees of freedom as R's svyglm: design df + 1 - coefficients."""
    df = design._domain_df(rows, np.zeros(len(rows), np.int64), 1)[0]
    return int(max(df + 1 - coefficients, 1))


def _coef_table(model: str, terms: list[str], res: dict, n: int) -> pd.DataFrame:
    est = np.asarray(res["params"], float)
    se = np.sqrt(np.maximum(np.diag(res["cov"]), 0))
    df = np.full(len(est), res["df"], dtype=np.int64)
    q = _variance.t_quantile(df, res["level"])
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.t.sf(np.abs(est / se), df)
    return pd.DataFrame(
        {
            "model": model,
            "term": np.asarray(terms, dtype=object),
            "estimate": est,
            "se": se,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
            "df": df,
            "p_value": p,
            "n": n,
        }
    )


# -- data ------------------------------------------------------------------------------


def _filled(data: pd.DataFrame, names, dims) -> tuple[np.ndarray, np.ndarray]:
    """Item ratings with skipped items filled by the firm's mean of the dimension's other
    items (if it answered at least half), and the number filled per firm."""
    R = data[names].to_numpy(dtype=float, na_value=np.nan, copy=True)
    filled = np.zeros(len(R), np.int64)
    for dim in dict.fromkeys(dims):
        cols = [i for i, d in enumerate(dims) if d == dim]
        block = R[:, cols]
        gap = np.isnan(block)
        answered = (~gap).sum(1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(gap, 0.0, block).sum(1) / answered
        use = (answered >= _index.MIN_ANSWERED * len(cols))[:, None] & gap
        R[:, cols] = np.where(use, mean[:, None], block)
        filled += use.sum(1)
    return R, filled


def _profile(data, profile, ok, min_level) -> tuple[np.ndarray, list[str]]:
    """0/1 dummies of the profile columns (NaN where a firm has no value), and names."""
    parts, terms = [], []
    for col in profile:
        if col not in data.columns:
            continue
        codes, levels = _columns.factor(data[col], col)  # categories in their order
        counts = np.bincount(codes[ok & (codes >= 0)], minlength=len(levels))
        if (counts > 0).sum() < 2:
            continue  # constant in the domain (a brief about one region)
        largest = int(counts.argmax())  # the reference level
        for j in np.flatnonzero(counts >= min_level):
            if j != largest:
                parts.append(np.where(codes < 0, np.nan, (codes == j).astype(float)))
                terms.append(f"{col}={levels[j]}")
    if not parts:
        return np.zeros((len(data), 0)), []
    return np.column_stack(parts), terms


# -- importance and quadrants --------------------------------------------------------------


def _quadrants(
    names, dims, weight, performance, share_se=None, df=None, level=0.95
) -> tuple[pd.DataFrame, dict]:
    share = _shares(weight)
    if share_se is None:
        share_se = np.full(len(weight), np.nan)
    q = _variance.t_quantile(np.full(len(weight), np.nan if df is None else df), level)
    perf = performance.set_index("item").loc[names]
    score = perf["estimate"].to_numpy(dtype=float)
    cut_i = 1.0 / len(names)
    cut_p = float(np.nanmean(score)) if np.isfinite(score).any() else float("nan")
    high = share >= cut_i
    low_perf = score < cut_p
    quadrant = np.where(
        high,
        np.where(low_perf, "priority", "strength"),
        np.where(low_perf, "secondary", "maintain"),
    ).astype(object)
    quadrant[np.isnan(score) | np.isnan(share)] = None
    table = pd.DataFrame(
        {
            "item": np.asarray(names, dtype=object),
            "dimension": np.asarray(dims, dtype=object),
            "weight": weight,
            "share": share,
            # a t interval from the replicates, kept inside [0, 1]
            "share_se": share_se,
            "share_ci_low": np.clip(share - q * share_se, 0, 1),
            "share_ci_high": np.clip(share + q * share_se, 0, 1),
            "rank": pd.Series(share).rank(ascending=False, method="min").to_numpy(),
            "performance": score,
            "performance_se": perf["se"].to_numpy(dtype=float),
            "performance_ci_low": perf["ci_low"].to_numpy(dtype=float),
            "performance_ci_high": perf["ci_high"].to_numpy(dtype=float),
            "quadrant": quadrant,
            "n": perf["n"].to_numpy(),
            "suppressed": perf["suppressed"].to_numpy(dtype=bool),
        }
    )
    table.loc[table["suppressed"], "quadrant"] = None
    table = table.sort_values("rank", kind="stable").reset_index(drop=True)
    return table, {"importance": cut_i, "performance": cut_p}


def _unranked(performance, names, dims) -> pd.DataFrame:
    """The importance table of a domain too small for the models: nothing ranked."""
    table, _ = _quadrants(names, dims, np.zeros(len(names)), performance)
    table[["weight", "share", "share_se", "share_ci_low", "share_ci_high", "rank"]] = np.nan
    table["quadrant"] = None
    table["suppressed"] = True
    return table


def _pdf(x: np.ndarray) -> np.ndarray:
    # scipy.stats.norm.pdf costs a second per million values; exp(-inf) is 0 here too
    return np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)


def _fmt(value: float) -> str:
    return f"{value:g}"
