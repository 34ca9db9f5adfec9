"""Relative importance of the key drivers and its standard errors from replicates.

Johnson's (2000) relative weights split the explained variance of a regression among
correlated predictors (see :mod:`analysis.measures.models`); their standard errors come
from the design's jackknife replicate weights (:mod:`analysis.survey.replicate`), since
they have no linearisation here.
"""

from __future__ import annotations

import itertools

import numpy as np

from analysis.survey.design import Design

# the key drivers' jackknife deletes one PSU at a time up to this many PSUs; beyond, the
# PSUs of each stratum are put in random groups (the grouped jackknife), so a million
# firms take thousands of replicates, not a million
JACKKNIFE_UNITS = 5000


def importance_replicates(design: Design, rows: np.ndarray, A: np.ndarray, k: int):
    """Standard errors of the relative importance shares from JKn replicate weights.

    Parameters
    ----------
    design : the full design (the replicates are its own, R's ``as.svrepdesign(design,
        "JKn")`` below ``JACKKNIFE_UNITS`` PSUs, grouped beyond).
    rows : the domain's rows that enter the model.
    A : their matrix ``[1, items (k), profile dummies, outcome]``.
    k : number of items.

    Returns
    -------
    (se, df): the SE of each item's share of the explained variance (R:
    ``withReplicates`` on the replicate design), and the replicates' degrees of freedom.
    Each replicate recomputes the weighted cross-products, so the shares are those of
    :func:`relative_weights` with that replicate's weights; replicates that leave the
    domain's weights alone are the full-sample shares without computing them.
    """
    C = design._engine.s.C
    rep = design.replicate(
        "JKn", replicates=None if C <= JACKKNIFE_UNITS else JACKKNIFE_UNITS, seed=0
    )
    w = design._w[rows]
    q = A.shape[1]
    units = rep._unit[rows]
    order = np.argsort(units, kind="stable")
    bounds = np.flatnonzero(np.r_[True, units[order][1:] != units[order][:-1], True])
    used = units[order][bounds[:-1]]
    # cross-products of [1, items, profile, outcome] by replicate unit, one unit at a time
    G = np.empty((len(used), q * q))
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        X = A[order[a:b]]
        G[i] = ((X * w[order[a:b], None]).T @ X).ravel()
    M0 = G.sum(0).reshape(q, q)
    full = _shares(_relative_weights(M0, k))
    D = rep._A[used]  # factor deviations of the domain's units, units x replicates
    touched = np.unique(D.indices) if hasattr(D, "indices") else np.flatnonzero((D != 0).any(0))
    thetas = np.tile(full, (rep.replicates, 1))
    if len(touched):
        delta = np.asarray(D[:, touched].T @ G).reshape(-1, q, q)
        raw = _relative_weights_many(M0[None] + delta, k)
        with np.errstate(invalid="ignore", divide="ignore"):
            thetas[touched] = raw / raw.sum(1, keepdims=True)
    se = np.sqrt(np.maximum(rep.variance(thetas, full), 0.0))
    df = int(rep._domain_df(rows, np.zeros(len(rows), np.int64), 1)[0])
    return se, df


def _shares(weight: np.ndarray) -> np.ndarray:
    total = weight.sum()
    return weight / total if total > 0 else np.full(len(weight), np.nan)


def relative_weights(corr: np.ndarray) -> np.ndarray:
    """Johnson's relative weights from a correlation matrix, outcome in the last row.

    Parameters
    ----------
    corr : (p + 1) x (p + 1) correlation matrix of the p predictors and the outcome.

    Returns
    -------
    array of p relative weights; they sum to the R^2 of the regression.

    Examples
    --------
    >>> relative_weights(np.array([[1, 0, .5], [0, 1, .3], [.5, .3, 1]])).round(2)
    array([0.25, 0.09])
    """
    Rxx, rxy = corr[:-1, :-1], corr[:-1, -1]
    values, vectors = np.linalg.eigh(Rxx)
    keep = values > 1e-10 * max(values.max(), 1e-300)
    # Lambda: correlations of the predictors with their closest orthogonal twins
    Lam = (vectors[:, keep] * np.sqrt(values[keep])) @ vectors[:, keep].T
    beta = (vectors[:, keep] / np.sqrt(values[keep])) @ vectors[:, keep].T @ rxy
    return (Lam**2) @ (beta**2)


def _relative_weights(M: np.ndarray, k: int) -> np.ndarray:
    """Relative weights of the k items on their weighted correlations with overall
    satisfaction net of the profile, from M = A'WA with A = [1, items, profile, y]:
    the residual cross-products after regressing items and y on the profile are the
    Schur complement D'WD - D'WZ (Z'WZ)^-1 Z'WD, without forming a residual."""
    z = [0, *range(k + 1, M.shape[0] - 1)]  # intercept and profile
    d = [*range(1, k + 1), M.shape[0] - 1]  # items and satisfaction
    coef = np.linalg.lstsq(M[np.ix_(z, z)], M[np.ix_(z, d)], rcond=None)[0]
    C = (M[np.ix_(d, d)] - M[np.ix_(d, z)] @ coef) / M[0, 0]
    sd = np.sqrt(np.diag(C))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(C / np.outer(sd, sd))
    np.fill_diagonal(corr, 1.0)
    return relative_weights(corr)


def _relative_weights_many(Ms: np.ndarray, k: int) -> np.ndarray:
    """:func:`_relative_weights` of a stack of cross-product matrices at once (the
    replicates'): batched pseudo-inverse and eigen-decompositions."""
    q = Ms.shape[1]
    z = [0, *range(k + 1, q - 1)]
    d = [*range(1, k + 1), q - 1]
    coef = np.linalg.pinv(Ms[:, z][:, :, z]) @ Ms[:, z][:, :, d]
    C = (Ms[:, d][:, :, d] - Ms[:, d][:, :, z] @ coef) / Ms[:, 0, 0][:, None, None]
    sd = np.sqrt(np.einsum("rii->ri", C))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(C / (sd[:, :, None] * sd[:, None, :]))
    idx = np.arange(k + 1)
    corr[:, idx, idx] = 1.0
    Rxx, rxy = corr[:, :k, :k], corr[:, :k, k]
    values, vectors = np.linalg.eigh(Rxx)
    keep = values > 1e-10 * np.maximum(values.max(1, keepdims=True), 1e-300)
    root = np.where(keep, np.sqrt(np.where(keep, values, 1.0)), 0.0)
    inv = np.where(keep, 1 / np.where(keep, root, 1.0), 0.0)
    Lam = (vectors * root[:, None, :]) @ vectors.transpose(0, 2, 1)
    beta = (vectors * inv[:, None, :]) @ np.einsum("rji,rj->ri", vectors, rxy)[:, :, None]
    return np.einsum("rij,rj->ri", Lam**2, beta[:, :, 0] ** 2)
