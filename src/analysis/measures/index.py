"""The business-environment index: five dimensions and an overall score, 0-100.

Each rating item (1 = very dissatisfied … 5 = very satisfied) is mapped linearly to
0-100: (r - 1) / 4 * 100. A firm's score on a dimension is the mean of the items of
that dimension it answered, provided it answered at least half of them (2 of 3);
otherwise the firm has no score on that dimension and leaves that dimension's
estimate only (the "half rule" of scale scoring: an answered item stands in for a
skipped one of the same dimension, but one item alone does not make a dimension).

A dimension's index is the design-weighted mean of the firm scores. The overall index
is the weighted sum of the five dimension indexes, with the instrument's dimension
weights (equal by default) normalised to sum to 1: so the overall figure is exactly
the weighted average of the five figures printed beside it, and its SE comes from
their joint linearisation (they are correlated through the firms that rate them).

Functions: :func:`firm_scores` (per firm), :func:`environment_index` (estimates, by domain),
:func:`item_scores` (each item on 0-100, the performance of the key-driver quadrants),
:func:`region_ranking` (regions against the province, with honest ranks) and
:func:`index_change` (from the previous wave). Every table carries ``estimate, se,
ci_low, ci_high, df, n, suppressed`` and is suppressed at ``min_cell``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.survey import _joint, _variance, disclosure, multiplicity
from analysis.survey.compare import t_test
from analysis.survey.design import Design

OVERALL = "overall"
MIN_ANSWERED = 0.5  # share of a dimension's items a firm must answer to be scored


def firm_scores(data: pd.DataFrame, instrument: Instrument | None = None) -> pd.DataFrame:
    """Each firm's 0-100 score on each dimension (NaN: fewer than half its items answered).

    Parameters
    ----------
    data : the visits, with the rating items of the instrument's dimensions.
    instrument : the questionnaire; default the bundled one.

    Returns
    -------
    DataFrame on the data's index, one float column per dimension (in the
    instrument's order).

    Raises
    ------
    DesignError
        a rating item missing from the data, or a rating outside the scale.

    Examples
    --------
    >>> firm_scores(visits).mean().round(1)                         # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    Y, dims, _ = _scores(data, inst)
    return pd.DataFrame(Y, index=data.index, columns=dims)


def environment_index(
    design: Design,
    *,
    by: str | None = None,
    domain=None,
    weights: Mapping[str, float] | None = None,
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
) -> pd.DataFrame:
    """The five dimension indexes and the overall index, overall or by domain.

    Parameters
    ----------
    design : the survey design (:func:`analysis.survey.sampling.frame_design`).
    by : a domain column (e.g. ``"region"``); None: the whole domain.
    domain : the brief's population as a boolean mask (see
        :func:`analysis.survey.sampling.domain_mask`); None: everyone in the design.
    weights : ``{dimension: weight}`` of the overall index; default the
        instrument's dimension weights. Normalised to sum to 1.
    instrument : the questionnaire; default the bundled one.
    min_cell : cells with fewer responding firms are suppressed.
    confidence : interval level; default the design's.

    Returns
    -------
    DataFrame with the ``by`` column, ``dimension`` (the five names, then
    ``"overall"``), ``estimate, se, ci_low, ci_high, df, n, suppressed``. ``n`` of the
    overall index is the smallest ``n`` of its dimensions.

    Raises
    ------
    DesignError
        missing rating items, ratings off the scale, unknown dimensions in
        ``weights``, a bad domain mask.

    Examples
    --------
    >>> latest = domain_mask(design.data, wave=2025)                  # doctest: +SKIP
    >>> environment_index(design, by="region", domain=latest)         # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    disclosure.check_min_cell(min_cell)
    level = design._level(confidence)
    Y, dims, w = _scores(design.data, inst, weights)
    codes, levels = _joint.groups(design, _joint.mask(design, domain), by)
    G = len(levels)
    joint = _joint.means(design, Y, [(codes, G)])
    est, se, n = _with_overall(joint, w, G)
    df = np.repeat(joint.df[:: len(dims)], len(dims) + 1)
    out = _table(by, levels, [*dims, OVERALL], est, se, df, n, level)
    return disclosure.suppress(out, min_cell)


def item_scores(
    design: Design,
    *,
    by: str | None = None,
    domain=None,
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Each rating item on the 0-100 scale, overall or by domain.

    Parameters are those of :func:`environment_index` (without ``weights``).

    Returns
    -------
    DataFrame with the ``by`` column, ``item``, ``dimension``, ``estimate, se,
    ci_low, ci_high, df, n, suppressed``.

    Examples
    --------
    >>> item_scores(design, domain=mask).nsmallest(3, "estimate")     # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    disclosure.check_min_cell(min_cell)
    level = design._level(confidence)
    names, dims, lo, hi = _items(design.data, inst)
    Y = _rescale(design.data, names, lo, hi)
    codes, levels = _joint.groups(design, _joint.mask(design, domain), by)
    joint = _joint.means(design, Y, [(codes, len(levels))], full=False)
    se = np.sqrt(np.maximum(np.diag(joint.cov), 0))
    se[np.isnan(joint.est)] = np.nan
    out = _table(by, levels, names, joint.est, se, joint.df, joint.n, level)
    out.insert(out.columns.get_loc("item") + 1, "dimension", np.tile(dims, len(levels)))
    return disclosure.suppress(out, min_cell)


def region_ranking(
    design: Design,
    *,
    by: str = "region",
    domain=None,
    weights: Mapping[str, float] | None = None,
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
) -> pd.DataFrame:
    """Regions ranked on each dimension and overall, each against the province average.

    A region is part of the province, so "region minus province" is estimated jointly
    (:func:`analysis.survey.compare.versus_all`); ``differs`` flags a region significantly
    above or below the average after Benjamini-Hochberg control over every region x
    dimension comparison in the table (``q_value`` < 1 - confidence). Ranks are
    honest about noise: ``rank_low`` and ``rank_high`` bound the ranks the region
    could hold, ``1 +`` the number of regions significantly above it and the number
    of regions minus those significantly below it (pairwise t-tests at the
    confidence level, unadjusted). When they differ the rank is not distinguishable.

    Parameters
    ----------
    design, domain, weights, instrument, min_cell, confidence : as
        :func:`environment_index`; ``domain`` is the whole the regions are compared
        with: one wave of the province, also in a region's brief (a region compared
        with itself says nothing).
    by : the column of the regions (any domain column works).

    Returns
    -------
    DataFrame with ``by``, ``dimension``, ``estimate, se, ci_low, ci_high, df, n``,
    ``rank, rank_low, rank_high`` (1 = highest; suppressed regions are not ranked),
    ``average`` (the whole), ``difference, difference_se, p_value, q_value,
    differs``, ``suppressed`` and ``vs_average``: ``above``, ``below``,
    ``not_different`` or ``suppressed`` (also when there is no test: a region that
    is the whole domain).

    Examples
    --------
    >>> region_ranking(design, domain=domain_mask(design.data, wave=2025))   # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    disclosure.check_min_cell(min_cell)
    level = design._level(confidence)
    Y, dims, w = _scores(design.data, inst, weights)
    codes, levels = _joint.groups(design, _joint.mask(design, domain), by)
    G, L, M = len(levels), len(dims), len(dims) + 1
    whole = np.where(codes >= 0, 0, -1)
    joint = _joint.means(design, Y, [(codes, G), (whole, 1)])
    # rows: each region's M measures, then the whole's; columns: the joint means
    A = np.zeros(((G + 1) * M, (G + 1) * L))
    for g in range(G + 1):
        A[g * M : g * M + L, g * L : (g + 1) * L] = np.eye(L)
        A[g * M + L, g * L : (g + 1) * L] = w
    est, se = joint.contrast(A)
    n = _overall_n(joint.n, G + 1, L)
    C = A @ joint.cov @ A.T
    D = np.hstack([np.eye(G * M), -np.tile(np.eye(M), (G, 1))])  # region - whole
    diff, diff_se = joint.contrast(D @ A)  # NaN only where a region has no firms
    df = np.repeat(joint.df[: G * L : L], M)
    own = slice(0, G * M)
    out = _table(by, levels, [*dims, OVERALL], est[own], se[own], df, n[own], level)
    rank, low, high = _ranks(est[own].reshape(G, M), C[own, own], df, M, level)
    out["rank"], out["rank_low"], out["rank_high"] = rank, low, high
    out["average"] = np.tile(est[G * M :], G)
    out["difference"] = diff
    out["difference_se"] = diff_se
    out["p_value"] = t_test(diff, diff_se, joint.df[-1], scale=np.abs(est[own]))
    # the whole too must rest on enough firms for anything to be said against it
    out["n_b"] = np.tile(n[G * M :], G)
    out = disclosure.suppress(out, min_cell, counts=("n", "n_b")).drop(columns="n_b")
    # a suppressed region is not ranked, and others are not ranked against it
    rank, low, high = _ranks(out["estimate"].to_numpy().reshape(G, M), C[own, own], df, M, level)
    out["rank"], out["rank_low"], out["rank_high"] = rank, low, high
    out = multiplicity.add_q(out, level, flag="differs")
    above = out["difference"].to_numpy() > 0
    out["vs_average"] = np.where(
        out["suppressed"] | out["differs"].isna(),
        "suppressed",
        np.where(out["differs"].fillna(False), np.where(above, "above", "below"), "not_different"),
    )
    return out


def index_change(
    design: Design,
    *,
    wave: str = "wave",
    current=None,
    previous=None,
    by: str | None = "region",
    domain=None,
    weights: Mapping[str, float] | None = None,
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
) -> pd.DataFrame:
    """The change of each dimension and of the overall index from the previous wave.

    Both waves are in one design (strata include the wave), so each change is a
    contrast of two domains with its design-based SE (independent samples give zero
    covariance; a panel, if modelled by PSU, would not). p-values are two-sided t
    tests; ``q_value`` are Benjamini-Hochberg adjusted over every change in the table
    (each region and the whole, each dimension and the overall index: the family of
    wave-to-wave comparisons of one brief), and ``significant`` is ``q_value < 1 -
    confidence``.

    Parameters
    ----------
    design : the survey design holding both waves.
    wave : the wave column.
    current, previous : the waves compared; default the latest wave in the domain
        and the one before it.
    by : domain column (e.g. ``"region"``) or None for the whole only.
    domain : the brief's population as a boolean mask, *without* a wave condition
        (the waves are given by ``current`` and ``previous``).
    weights, instrument, min_cell, confidence : as :func:`environment_index`.

    Returns
    -------
    DataFrame with ``by`` (each level, then ``"all"`` for the whole domain),
    ``dimension``, ``estimate_a`` (current), ``estimate_b`` (previous), ``estimate``
    (the change), ``se, ci_low, ci_high, df, p_value, q_value, significant, n_a, n_b,
    suppressed``.

    Raises
    ------
    DesignError
        fewer than two waves in the domain, or a wave that is not in it.

    Examples
    --------
    >>> index_change(design, by="region")                                  # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    disclosure.check_min_cell(min_cell)
    level = design._level(confidence)
    Y, dims, w = _scores(design.data, inst, weights)
    m = _joint.mask(design, domain)
    a, b, t = _waves(design, wave, m, current, previous)
    codes, levels = _joint.groups(design, m, by)
    G, L, M = len(levels), len(dims), len(dims) + 1
    both = (t >= 0) & (codes >= 0)
    pair = np.where(both, codes * 2 + t, -1)
    whole = np.where(both, t, -1)
    joint = _joint.means(design, Y, [(pair, 2 * G), (whole, 2)])
    groups = 2 * G + 2  # (level, wave) cells, the whole's two waves last
    A = np.zeros((groups * M, groups * L))
    for g in range(groups):
        A[g * M : g * M + L, g * L : (g + 1) * L] = np.eye(L)
        A[g * M + L, g * L : (g + 1) * L] = w
    est, _ = joint.contrast(A)
    D = np.zeros(((G + 1) * M, groups * M))
    for g in range(G + 1):
        D[g * M : (g + 1) * M, 2 * g * M : (2 * g + 1) * M] = np.eye(M)
        D[g * M : (g + 1) * M, (2 * g + 1) * M : (2 * g + 2) * M] = -np.eye(M)
    diff, se = joint.contrast(D @ A)
    n = _overall_n(joint.n, groups, L).reshape(G + 1, 2, M)
    inside = np.flatnonzero(both)
    df_g = design._domain_df(inside, codes[inside], G)
    df_all = design._domain_df(inside, np.zeros(len(inside), np.int64), 1)
    df = np.repeat(np.append(df_g, df_all), M)
    q = _variance.t_quantile(df, level)
    cur, prev = (est.reshape(G + 1, 2, M)[:, i].ravel() for i in (0, 1))
    names = [*map(str, levels), "all"]
    out = pd.DataFrame(
        {
            by or "domain": np.repeat(np.asarray(names, dtype=object), M),
            "dimension": np.tile(np.asarray([*dims, OVERALL], dtype=object), G + 1),
            "estimate_a": cur,
            "estimate_b": prev,
            "estimate": diff,
            "se": se,
            "ci_low": diff - q * se,
            "ci_high": diff + q * se,
            "df": df,
            "p_value": t_test(diff, se, df, scale=np.abs(cur)),
            "n_a": n[:, 0].ravel(),
            "n_b": n[:, 1].ravel(),
        }
    )
    if by is None:  # the whole only: its rows are the last M
        out = out.iloc[G * M :].drop(columns="domain").reset_index(drop=True)
    out = disclosure.suppress(out, min_cell)
    out = multiplicity.add_q(out, level)
    out.attrs["waves"] = {"current": _plain(a), "previous": _plain(b)}
    return out


# -- private ---------------------------------------------------------------------------


def _items(data: pd.DataFrame, inst: Instrument):
    """Item names, their dimensions, and the rating scale's ends."""
    qs = inst.items()
    if not qs:
        raise DesignError(
            f"instrument {inst.id!r} has no rating items with a dimension",
            "give each rating item of the index a `dimension:` in the instrument",
        )
    missing = [q.name for q in qs if q.name not in data.columns]
    if missing:
        raise DesignError(
            f"the data has no column(s) {', '.join(map(repr, missing))} (index rating items)",
            "load the visits with the instrument that defines these items",
        )
    values = [float(v) for q in qs for v in q.values]
    return [q.name for q in qs], [q.dimension for q in qs], min(values), max(values)


def _rescale(data: pd.DataFrame, names, lo: float, hi: float) -> np.ndarray:
    r = data[names].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(r) & ((r < lo) | (r > hi))
    if bad.any():
        i, j = (int(x[0]) for x in np.nonzero(bad))
        raise DesignError(
            f"rating {names[j]!r} is {r[i, j]:g} in row {data.index[i]!r}, outside {lo:g}-{hi:g}",
            "validate the visits (qifang validate) and correct or blank the rating",
        )
    return (r - lo) / (hi - lo) * 100.0


def _scores(data: pd.DataFrame, inst: Instrument, weights=None):
    """Firm scores (rows x dimensions), dimension names, normalised overall weights."""
    names, item_dims, lo, hi = _items(data, inst)
    R = _rescale(data, names, lo, hi)
    dims = [d.name for d in inst.dimensions if d.name in item_dims] or list(
        dict.fromkeys(item_dims)
    )
    Y = np.full((len(data), len(dims)), np.nan)
    for j, dim in enumerate(dims):
        block = R[:, [i for i, d in enumerate(item_dims) if d == dim]]
        answered = (~np.isnan(block)).sum(1)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(np.where(answered[:, None] > 0, block, 0.0), axis=1)
        Y[:, j] = np.where(answered >= MIN_ANSWERED * block.shape[1], mean, np.nan)
    return Y, dims, _weights(inst, dims, weights)


def _weights(inst: Instrument, dims, weights) -> np.ndarray:
    if weights is None:
        known = {d.name: d.weight for d in inst.dimensions}
        w = np.array([float(known.get(d, 1.0)) for d in dims])
    else:
        unknown = [k for k in weights if k not in dims]
        if unknown:
            raise DesignError(
                f"index weights name unknown dimension(s) {unknown}",
                f"use the dimensions {', '.join(dims)}",
            )
        w = np.array([float(weights.get(d, 0.0)) for d in dims])
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise DesignError(
            f"index weights {dict(zip(dims, w.tolist(), strict=True))} are not usable",
            "give non-negative weights, at least one positive",
        )
    return w / w.sum()


def _with_overall(joint: _joint.Joint, w: np.ndarray, G: int):
    L = len(w)
    M = L + 1
    A = np.zeros((G * M, G * L))
    for g in range(G):
        A[g * M : g * M + L, g * L : (g + 1) * L] = np.eye(L)
        A[g * M + L, g * L : (g + 1) * L] = w
    est, se = joint.contrast(A)
    return est, se, _overall_n(joint.n, G, L)


def _overall_n(n: np.ndarray, G: int, L: int) -> np.ndarray:
    """Counts per (group, measure): each dimension's, then the smallest for the overall."""
    n = n.reshape(G, L)
    return np.column_stack([n, n.min(1)]).ravel()


def _table(by, levels, names, est, se, df, n, level) -> pd.DataFrame:
    G, M = len(levels), len(names)
    low, high = _variance.t_interval(est, se, df, level)
    key = "item" if names and names[0].startswith("r_") else "dimension"
    out = {} if by is None else {by: np.repeat(np.asarray(levels, dtype=object), M)}
    out |= {
        key: np.tile(np.asarray(names, dtype=object), G),
        "estimate": est,
        "se": se,
        "ci_low": low,
        "ci_high": high,
        "df": df,
        "n": n,
    }
    return pd.DataFrame(out)


def _ranks(est: np.ndarray, C: np.ndarray, df: np.ndarray, M: int, level: float):
    """Rank (1 = highest) and its honest bounds per (region, measure), NaN if unranked."""
    G = est.shape[0]
    rank, low, high = (np.full((G, M), np.nan) for _ in range(3))
    for j in range(M):
        e = est[:, j]
        ok = np.flatnonzero(~np.isnan(e))
        if not len(ok):
            continue
        idx = ok * M + j
        V = C[np.ix_(idx, idx)]
        d = e[ok][:, None] - e[ok][None, :]
        s = np.sqrt(np.maximum(np.diag(V)[:, None] + np.diag(V)[None, :] - 2 * V, 0))
        p = t_test(d, s, np.minimum.outer(df[idx], df[idx]), scale=np.abs(e[ok])[:, None])
        sig = p < 1 - level
        above = (d < 0) & sig  # others significantly above this region
        below = (d > 0) & sig
        rank[ok, j] = 1 + (d < 0).sum(1)
        low[ok, j] = 1 + above.sum(1)
        high[ok, j] = len(ok) - below.sum(1)
    return rank.ravel(), low.ravel(), high.ravel()


def _waves(design: Design, wave: str, m, current, previous):
    """The two waves compared and each row's side (0 current, 1 previous, -1 neither)."""
    col = design._column(wave)
    seen = pd.unique(col[m] if m is not None else col)
    seen = sorted(v for v in seen if not pd.isna(v))
    if current is None:
        if len(seen) < 2:
            raise DesignError(
                f"the change needs two waves; the domain has {seen or 'none'}",
                "give a domain without a wave condition (the waves compared are current= "
                "and previous=), and load the visits of the previous wave too",
            )
        current = seen[-1]
    if previous is None:
        earlier = [v for v in seen if v < current]
        if not earlier:
            raise DesignError(
                f"no wave before {current!r} in the domain (waves: {seen})",
                "give previous= explicitly, or load the earlier wave",
            )
        previous = earlier[-1]
    for v in (current, previous):
        if v not in seen:
            raise DesignError(f"wave {v!r} is not in the domain", f"use one of {seen}")
    t = np.where(col == current, 0, np.where(col == previous, 1, -1))
    if m is not None:
        t = np.where(m, t, -1)
    return current, previous, t


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
