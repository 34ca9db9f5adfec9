"""Comparisons on a survey design: domain differences and crosstab tests.

Every function takes a :class:`~analysis.survey.design.Design` and linearises on the full
design, so two domains (two size classes, or two waves stacked in one design) are
compared with their covariance, not as if they were independent samples.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import DesignError
from analysis.survey import _columns, _joint, _variance
from analysis.survey.design import Design

_STATISTICS = ("mean", "total", "proportion")


@dataclass(frozen=True)
class ChiSquare:
    """A design-adjusted test of independence in a two-way table.

    Attributes
    ----------
    statistic : Rao-Scott second-order F, Pearson's X^2 divided by the mean
        generalised design effect.
    ndf, ddf : its (fractional) degrees of freedom, d and d * (design df).
    p_value : upper tail of F(ndf, ddf).
    pearson : Pearson's X^2 of the weighted table scaled to the sample size.
    n : respondents with both variables.
    """

    statistic: float
    ndf: float
    ddf: float
    p_value: float
    pearson: float
    n: int


def difference(
    design: Design,
    var: str | Sequence[str],
    by: str | Sequence[str],
    a: Hashable,
    b: Hashable,
    *,
    statistic: str = "mean",
    within: str | Sequence[str] | None = None,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Difference between two domains, domain ``a`` minus domain ``b``.

    Parameters
    ----------
    design : the survey design (both domains in it: for two waves, one design on the
        stacked data with the wave as a column).
    var : the variable, as for :meth:`Design.mean`, :meth:`Design.total` or
        :meth:`Design.proportion` (a categorical column or a list of 0/1 columns).
    by : column(s) whose levels define the domains.
    a, b : the two levels of ``by`` compared (tuples when ``by`` is a list).
    statistic : ``"mean"``, ``"total"`` or ``"proportion"``.
    within : optional column(s): the comparison is repeated within each of their
        levels (e.g. this wave against the last, in each region).
    confidence : interval level; default the design's.

    Returns
    -------
    DataFrame with the ``within`` columns, ``level`` (proportions), then
    ``estimate_a, estimate_b, estimate`` (a - b), ``se``, ``ci_low, ci_high``,
    ``df``, ``p_value`` (two-sided, t with the design's degrees of freedom), ``n_a,
    n_b``; for proportions also ``test``. The SE comes from the joint linearisation,
    so it includes the covariance of the two domains (R: ``svycontrast`` on
    ``svyby(..., covmat=TRUE)``).

    ``test`` is ``"t"`` for that t test, or ``"mover"`` where a side of a difference
    of shares rests on fewer than 5 firms on one side of its share (n p or
    n (1 - p) < 5), in particular a share of exactly 0 or 1 (0 of 17 large firms cite a
    difficulty). Such a zero SE is not the uncertainty of a share seen in 17 firms, and
    a t test on the other side's SE alone would call nearly any gap significant; with
    few firms the t test's normal approximation fails too. There the interval and
    p-value come from MOVER (Newcombe; Zou and Donner) on the two sides'
    Korn-Graubard intervals (Clopper-Pearson at 0 or 1), with the two estimates'
    linearised correlation; it stays valid at 0 and 1. The ``se`` column keeps the
    linearised SE.

    Raises
    ------
    DesignError
        unknown column or statistic; ``a`` or ``b`` not a level of ``by``.

    Examples
    --------
    >>> difference(design, "api00", by="stype", a="E", b="H")       # doctest: +SKIP
    >>> difference(design, "satisfied", by="wave", a=2024, b=2023,
    ...            statistic="proportion", within="region")           # doctest: +SKIP
    """
    if statistic not in _STATISTICS:
        raise DesignError(
            f"statistic={statistic!r} is not known",
            f"use one of {', '.join(map(repr, _STATISTICS))}",
        )
    level = design._level(confidence)
    dom_by, _, table_by = design._domains(by)
    ia, ib = _find(table_by, a, by), _find(table_by, b, by)
    if ia == ib:
        raise DesignError(f"a and b are the same domain ({a!r})", "compare two different levels")
    ab = np.where(dom_by == ia, 0, np.where(dom_by == ib, 1, -1))
    dom_w, nw, table_w = design._domains(within)
    # domain 2w is `a` within level w of `within`, domain 2w + 1 is `b`
    dom = np.where((ab >= 0) & (dom_w >= 0), 2 * dom_w + ab, -1)
    D = 2 * nw
    if statistic == "proportion" and isinstance(var, str):
        codes, levels = _columns.factor(design._column(var), var)
        L = len(levels)
        rows, k, est, n = design._linearise_share(codes, L, dom, D)
        V = design._cov_blocks(rows, design._w[rows], k, nw, 2 * L)
        N = np.bincount(k // L, design._w[rows], minlength=D).reshape(nw, 2)
        p = est.reshape(nw, 2, L)
        with np.errstate(invalid="ignore", divide="ignore"):
            Ja = (np.eye(L)[None] - p[:, 0, :, None]) / N[:, 0, None, None]
            Jb = (np.eye(L)[None] - p[:, 1, :, None]) / N[:, 1, None, None]
        G = np.nan_to_num(np.concatenate([Ja, -Jb], axis=2))
        var_diff = np.einsum("wlm,wmk,wlk->wl", G, V, G)
        Ja, Jb = np.nan_to_num(Ja), np.nan_to_num(Jb)
        # each side's own variance and their covariance, for the test of small counts
        sides = [
            np.einsum("wlm,wmk,wlk->wl", Ja, V[:, :L, :L], Ja),
            np.einsum("wlm,wmk,wlk->wl", Jb, V[:, L:, L:], Jb),
            np.einsum("wlm,wmk,wlk->wl", Ja, V[:, :L, L:], Jb),
        ]
        dfs = design._domain_df(rows, k // L, D).reshape(nw, 2)
        side_df = [np.repeat(dfs[:, i], L) for i in (0, 1)]
        est_a, est_b = p[:, 0], p[:, 1]
        n_a, n_b = (np.repeat(n.reshape(nw, 2)[:, i], L) for i in (0, 1))
        names = list(levels)
    else:
        columns = [var] if isinstance(var, str) else _columns.columns(design.data, var, "var")
        parts = []
        for col in columns:
            if statistic == "proportion":
                y = design._indicator(col)
            else:
                y = design._numeric(col, f"{statistic}()")
            linearise = design._linearise_total if statistic == "total" else design._linearise_mean
            rows, z, k, est, n = linearise(y, dom, D)
            V = design._cov_blocks(rows, z, k, nw, 2)
            parts.append(
                (
                    est.reshape(nw, 2),
                    V[:, 0, 0] + V[:, 1, 1] - 2 * V[:, 0, 1],
                    n.reshape(nw, 2),
                    np.stack([V[:, 0, 0], V[:, 1, 1], V[:, 0, 1]], 1),
                    design._domain_df(rows, k, D).reshape(nw, 2),
                )
            )
        L = len(columns)
        est_a, est_b = (np.stack([e[:, i] for e, *_ in parts], 1) for i in (0, 1))
        var_diff = np.stack([part[1] for part in parts], 1)
        n_a, n_b = (np.stack([part[2][:, i] for part in parts], 1).ravel() for i in (0, 1))
        sides = [np.stack([part[3][:, i] for part in parts], 1) for i in (0, 1, 2)]
        side_df = [np.stack([part[4][:, i] for part in parts], 1).ravel() for i in (0, 1)]
        names = columns
    est_a, est_b = est_a.ravel(), est_b.ravel()
    diff = est_a - est_b
    se = _variance.se(var_diff.ravel())
    se[(n_a == 0) | (n_b == 0)] = np.nan
    df = np.full(len(diff), design.df)
    q = _variance.t_quantile(df, level)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_value = 2 * stats.t.sf(np.abs(diff / se), df)
    low, high = diff - q * se, diff + q * se
    test = np.full(len(diff), "t", dtype=object)
    if statistic == "proportion":
        low, high, p_value, test = _small_counts(
            est_a, est_b, [v.ravel() for v in sides], side_df, n_a, n_b, level,
            low, high, p_value, test,
        )  # fmt: skip
    out = {}
    if statistic == "proportion":
        out["level"] = np.tile(np.asarray(names, dtype=object), nw)
    out |= {
        "estimate_a": est_a,
        "estimate_b": est_b,
        "estimate": diff,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "df": df,
        "p_value": p_value,
        "n_a": n_a,
        "n_b": n_b,
    }
    if statistic == "proportion":
        out["test"] = test
    frame = pd.DataFrame(out)
    if table_w is None:
        return frame
    return pd.concat([table_w.loc[table_w.index.repeat(L)].reset_index(drop=True), frame], axis=1)


# a share's SE below this is zero: rounding noise of an exactly fixed share
_ZERO_SE = 1e-9
# fewer expected firms than this on either side of a share: no t test (the np >= 5 rule)
SMALL_COUNT = 5


def _small_counts(pa, pb, var, df, na, nb, level, low, high, p_value, test):
    """Where a side of a difference of shares rests on few firms on one side of the
    share (n p or n (1 - p) below ``SMALL_COUNT``; a share of exactly 0 or 1 has a zero
    SE), the t test's normal approximation fails, and at 0 or 1 it would take the other
    side's SE for the whole and call nearly any gap significant: there the interval
    and the p-value come from MOVER on the two sides' Korn-Graubard intervals, with
    their estimated correlation (:func:`analysis.survey._variance.mover_interval`),
    and ``test`` says so."""
    sa, sb = (_variance.se(v) for v in var[:2])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where((sa > _ZERO_SE) & (sb > _ZERO_SE), var[2] / (sa * sb), 0.0)

    def few(p, s, n):
        return (np.minimum(n * p, n * (1 - p)) < SMALL_COUNT) | (s < _ZERO_SE)

    small = (few(pa, sa, na) | few(pb, sb, nb)) & (na > 0) & (nb > 0)
    if not small.any():
        return low, high, p_value, test
    i = np.flatnonzero(small)
    args = (pa[i], sa[i], df[0][i], na[i], pb[i], sb[i], df[1][i], nb[i])
    low, high, p_value = low.copy(), high.copy(), p_value.copy()
    low[i], high[i] = _variance.mover_interval(*args, level, np.clip(r[i], -1, 1))
    p_value[i] = _variance.mover_p_value(*args, np.clip(r[i], -1, 1))
    test[i] = "mover"
    return low, high, p_value, test


def versus_all(
    design: Design,
    var: str | Sequence[str],
    by: str,
    *,
    domain=None,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Each domain's mean against the mean of all of them (a region against the province).

    A domain is part of the whole, so the two estimates are correlated: the SE of
    domain minus whole comes from their joint linearisation, not from the two SEs as
    if they were independent (which would overstate it, and hide real differences).

    Parameters
    ----------
    design : the survey design.
    var : numeric column, or list of columns (a 0/1 column's mean is a share).
    by : column whose levels are compared with the whole (every level, each once).
    domain : optional boolean mask (or boolean column): the whole is this part of
        the population, e.g. one wave (see :func:`analysis.survey.sampling.domain_mask`).
    confidence : interval level; default the design's.

    Returns
    -------
    DataFrame with ``by``, ``variable``, ``estimate_a`` (the domain), ``estimate_b``
    (the whole), ``estimate`` (a - b), ``se``, ``ci_low, ci_high``, ``df`` (of the
    whole), ``p_value`` (two-sided t), ``n_a, n_b``. R: ``svycontrast(svytotal(...),
    quote(y_d / n_d - y / n))``, the same delta method.

    Raises
    ------
    DesignError
        unknown or non-numeric column; a bad domain mask.

    Examples
    --------
    >>> versus_all(design, "api00", by="stype")                     # doctest: +SKIP
    """
    level = design._level(confidence)
    columns = [var] if isinstance(var, str) else _columns.columns(design.data, var, "var")
    Y = np.column_stack([design._numeric(col, "versus_all()") for col in columns])
    m = _joint.mask(design, domain)
    codes, levels = _joint.groups(design, m, by)
    whole = np.where(codes >= 0, 0, -1)
    G, L = len(levels), len(columns)
    joint = _joint.means(design, Y, [(codes, G), (whole, 1)])
    A = np.zeros((G * L, (G + 1) * L))
    A[np.arange(G * L), np.arange(G * L)] = 1.0
    A[np.arange(G * L), G * L + np.tile(np.arange(L), G)] = -1.0
    diff, se = joint.contrast(A)
    df = np.full(G * L, joint.df[-1])
    q = _variance.t_quantile(df, level)
    p_value = t_test(diff, se, df, scale=np.abs(joint.est[: G * L]))
    return pd.DataFrame(
        {
            by: np.repeat(np.asarray(levels, dtype=object), L),
            "variable": np.tile(np.asarray(columns, dtype=object), G),
            "estimate_a": joint.est[: G * L],
            "estimate_b": np.tile(joint.est[G * L :], G),
            "estimate": diff,
            "se": se,
            "ci_low": diff - q * se,
            "ci_high": diff + q * se,
            "df": df,
            "p_value": p_value,
            "n_a": joint.n[: G * L],
            "n_b": np.tile(joint.n[G * L :], G),
        }
    )


def t_test(estimate, se, df, scale=1.0) -> np.ndarray:
    """Two-sided t-test p-values of contrasts; a contrast of a domain with itself (a
    zero difference whose SE is rounding noise) gets p = 1, not a spurious 0."""
    estimate, se = np.asarray(estimate, float), np.asarray(se, float)
    tiny = 1e-9 * np.maximum(np.nan_to_num(scale, nan=1.0), 1.0)
    null = (se <= tiny) & (np.abs(estimate) <= tiny)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = 2 * stats.t.sf(np.abs(estimate / se), df)
    return np.where(null, 1.0, p)


def chisq(design: Design, row: str, col: str) -> ChiSquare:
    """Design-adjusted chi-square test of independence of two categorical columns.

    Parameters
    ----------
    design : the survey design.
    row, col : the two categorical columns; rows missing either are left out of
        the table (the design is kept).

    Returns
    -------
    ChiSquare with the Rao-Scott second-order F statistic, as R's
    ``svychisq(~row + col, design)`` (its default ``statistic="F"``).

    Raises
    ------
    DesignError
        unknown column; a variable with fewer than two levels among respondents.

    Examples
    --------
    >>> chisq(design, "sch.wide", "stype").p_value          # doctest: +SKIP
    """
    w_all = design._w
    r, _ = _columns.factor(design._column(row), row)
    c, _ = _columns.factor(design._column(col), col)
    rows = np.flatnonzero((r >= 0) & (c >= 0))
    w = w_all[rows]
    r, nr = _used(r[rows], w, row)
    c, nc = _used(c[rows], w, col)
    K = nr * nc
    cell = r + nr * c  # rows vary fastest, as R's interaction()
    V_totals = design._cov_blocks(rows, w, cell, 1, K)[0]
    N = w.sum()
    p = np.bincount(cell, w, minlength=K) / N
    J = (np.eye(K) - p[:, None]) / N
    V = J @ V_totals @ J.T
    # interaction contrasts orthogonal to the main effects, as svychisq() builds them
    ri, ci = np.arange(K) % nr, np.arange(K) // nr
    X1 = np.column_stack(
        [np.ones(K), *(ri == i for i in range(1, nr)), *(ci == j for j in range(1, nc))]
    ).astype(float)
    X12 = np.column_stack(
        [(ri == i) & (ci == j) for j in range(1, nc) for i in range(1, nr)]
    ).astype(float)
    C = X12 - X1 @ np.linalg.lstsq(X1, X12, rcond=None)[0]
    inv_p = np.where(p > 0, 1 / np.where(p > 0, p, 1), 0.0)
    n = len(rows)
    denom = C.T @ (C * (inv_p / n)[:, None])
    numer = (C * inv_p[:, None]).T @ V @ (C * inv_p[:, None])
    delta = np.linalg.solve(denom, numer)
    trace = np.trace(delta)
    ndf = trace**2 / np.trace(delta @ delta)
    table = (p * n).reshape(nc, nr).T
    expected = np.outer(table.sum(1), table.sum(0)) / n
    pearson = float(np.sum((table - expected) ** 2 / expected))
    F = pearson / trace
    ddf = ndf * design.df
    return ChiSquare(float(F), float(ndf), float(ddf), float(stats.f.sf(F, ndf, ddf)), pearson, n)


def _find(table: pd.DataFrame, key, by) -> int:
    """Index of the domain whose ``by`` values equal ``key``."""
    if table is None:
        raise DesignError(
            "difference() needs the domain column(s) `by`",
            "pass by='column' and two of its levels as a and b",
        )
    values = key if isinstance(key, tuple) else (key,)
    if len(values) != table.shape[1]:
        raise DesignError(
            f"{key!r} does not give one value per column of {by!r}",
            "pass a tuple with one value for each `by` column",
        )
    match = np.ones(len(table), bool)
    for col, value in zip(table.columns, values, strict=True):
        match &= (table[col] == value).to_numpy()
    if not match.any():
        known = [tuple(r) if len(r) > 1 else r[0] for r in table.itertuples(index=False)]
        raise DesignError(
            f"{key!r} is not a level of {by!r}", f"use one of: {', '.join(map(repr, known[:30]))}"
        )
    return int(np.flatnonzero(match)[0])


def _used(codes: np.ndarray, w: np.ndarray, name: str) -> tuple[np.ndarray, int]:
    """Codes renumbered over the levels that carry weight."""
    present = np.bincount(codes, w) > 0
    if present.sum() < 2:
        raise DesignError(
            f"column {name!r} has fewer than two levels among respondents",
            "a test of independence needs at least two levels on each side",
        )
    return (np.cumsum(present) - 1)[codes], int(present.sum())
