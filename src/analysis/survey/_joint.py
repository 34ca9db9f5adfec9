"""Domains of a brief and joint estimates: the plumbing of index, indicators and models.

``mask`` reads the ``domain=`` argument every estimating function takes (None, a
boolean array or Series in row order, or the name of a boolean column) and
``within`` turns it into a ``by`` column, so the brief's population is estimated as a
domain of the full design. ``means`` estimates the means of several variables in
several groups at once, with the full covariance matrix of all of them (groups may
overlap: a region and the province it belongs to), from which any linear contrast
(region minus province, this wave minus the last, a weighted index) gets its SE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.survey.design import Design

KEY = "_in_domain"


def mask(design: Design, domain) -> np.ndarray | None:
    """The domain as a boolean array over the design's rows; None for everyone."""
    if domain is None:
        return None
    data = design.data
    if isinstance(domain, str):
        if domain not in data.columns:
            raise DesignError(
                f"domain column {domain!r} is not in the data",
                "pass a boolean mask (analysis.survey.sampling.domain_mask) or a boolean column",
            )
        domain = data[domain]
    if isinstance(domain, pd.Series) and not domain.index.equals(data.index):
        raise DesignError(
            "the domain mask is a Series on another index than the design's data",
            "build it from design.data (analysis.survey.sampling.domain_mask(design.data, ...))",
        )
    values = np.asarray(domain)
    if values.shape != (len(data),):
        raise DesignError(
            f"the domain mask has shape {values.shape}, the data {len(data)} rows",
            "give one True/False per row of the design's data",
        )
    if values.dtype != bool:
        raise DesignError(
            f"the domain mask must be boolean, not {values.dtype}",
            "pass a True/False mask, e.g. analysis.survey.sampling.domain_mask(design.data, ...)",
        )
    return None if values.all() else values


def within(design: Design, domain, by) -> tuple[Design, list[str] | None]:
    """The design and the ``by`` list that estimate ``by`` inside the domain only."""
    by = [by] if isinstance(by, str) else (list(by) if by is not None else None)
    m = mask(design, domain)
    if m is None:
        return design, by
    # one category; rows outside are missing, so they belong to no domain
    flag = pd.Categorical.from_codes(np.where(m, 0, -1), categories=["in"])
    return design.assign(**{KEY: flag}), [KEY, *(by or [])]


def strip(table: pd.DataFrame) -> pd.DataFrame:
    """The estimate table without the domain column ``within`` added."""
    return table.drop(columns=KEY) if KEY in table.columns else table


def groups(design: Design, m: np.ndarray | None, by: str | None) -> tuple[np.ndarray, pd.Index]:
    """Code of each row's ``by`` group inside the domain (-1 outside), and the groups.

    A categorical ``by`` keeps every category (empty ones give NaN estimates).
    """
    n = len(design.data)
    inside = np.ones(n, bool) if m is None else m
    if by is None:
        return np.where(inside, 0, -1), pd.Index(["all"])
    codes, _, table = design._domains(by)
    return np.where(inside, codes, -1), pd.Index(table[by])


@dataclass(frozen=True)
class Joint:
    """Means of L variables in G groups (of one or more partitions), column-major by
    partition, group, variable, with the covariance matrix of all of them."""

    est: np.ndarray
    cov: np.ndarray
    n: np.ndarray
    df: np.ndarray  # of each column's group: its PSUs minus strata

    def contrast(self, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Estimates and SEs of the linear combinations A @ means (NaN-safe rows)."""
        est = A @ np.nan_to_num(self.est)
        var = np.einsum("ik,kl,il->i", A, self.cov, A)
        used = A != 0
        missing = (used & np.isnan(self.est)[None, :]).any(1)
        est[missing] = np.nan
        se = np.sqrt(np.maximum(var, 0))
        se[missing] = np.nan
        return est, se


def means(
    design: Design, Y: np.ndarray, partitions: list[tuple[np.ndarray, int]], full: bool = True
) -> Joint:
    """Joint linearisation of the means of the columns of ``Y`` (NaN: no answer) in
    every group of each partition (codes -1 outside any group). ``full=False`` gives
    the variances only (a diagonal ``cov``), much faster for many columns."""
    L = Y.shape[1]
    sizes = [G * L for _, G in partitions]
    K = int(sum(sizes))
    est, count, df = np.full(K, np.nan), np.zeros(K, np.int64), np.zeros(K, np.int64)
    variance = np.zeros(K)
    rows_all, z_all, k_all = [], [], []
    offset = 0
    for codes, G in partitions:
        cols = offset + np.arange(G)[:, None] * L + np.arange(L)[None, :]
        for j in range(L):
            rows, z, k, e, m = design._linearise_mean(Y[:, j], codes, G)
            if full:  # int32 where it fits: these add up to (columns x rows) entries
                rows_all.append(rows.astype(np.int32) if len(Y) < 2**31 else rows)
                z_all.append(z)
                k_all.append(cols[k, j].astype(np.int32) if K < 2**31 else cols[k, j])
            else:
                variance[cols[:, j]] = design._engine.cov(rows, z, k, G, 1)[:, 0, 0]
            est[cols[:, j]] = np.where(m > 0, e, np.nan)
            count[cols[:, j]] = m
        # the group's degrees of freedom, whoever answered (R: degf of the subset design)
        inside = np.flatnonzero(codes >= 0)
        df[cols] = design._domain_df(inside, codes[inside], G)[:, None]
        offset += G * L
    if not full:
        return Joint(est, np.diag(variance), count, df)
    stacked = []
    for parts in (rows_all, z_all, k_all):
        stacked.append(np.concatenate(parts))
        parts.clear()  # one list at a time: never the parts and the whole of all three
    cov = design._engine.cov(*stacked, 1, K, repeated=True)[0]
    return Joint(est, cov, count, df)
