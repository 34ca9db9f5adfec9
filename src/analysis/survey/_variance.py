"""The numerical core behind :class:`analysis.survey.design.Design`: variances and intervals.

Given the linearised values z of some estimates (each used row adds its z to one
column), it returns the covariance matrix of the column totals as R's
``svyrecvar()`` does: calibration residuals first, then PSU totals, deviations from
their stratum mean, with-replacement factor n/(n-1) and the finite-population
correction (1 - f), single-PSU strata by the chosen rule.

Everything is a few ``np.bincount`` passes over the used rows plus small dense
algebra, so a million rows take well under a second. Calibration never materialises
residuals row by row: with B the weighted group indicators of the calibrations,
residual totals are W - P @ Gamma and their cross-products expand into pieces
(P'DP, stratum sums of P) computed once per design.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, stats

from analysis.errors import DesignError

# PSU x column cells up to which PSU totals are held in a dense array (160 MB)
_DENSE_CELLS = 20_000_000
CHUNK = 65_536  # rows at a time in products of tall matrices: bounds the temporaries


def gram(A: np.ndarray, d: np.ndarray) -> np.ndarray:
    """A' diag(d) A, summed a chunk of rows at a time: never an n x p temporary."""
    out = np.zeros((A.shape[1], A.shape[1]))
    for start in range(0, len(A), CHUNK):
        part = A[start : start + CHUNK]
        out += part.T @ (part * d[start : start + CHUNK, None])
    return out


def rows_times(A: np.ndarray, d: np.ndarray, M: np.ndarray) -> np.ndarray:
    """diag(d) A M, a chunk of rows at a time."""
    out = np.empty((len(A), M.shape[1]))
    for start in range(0, len(A), CHUNK):
        part = slice(start, start + CHUNK)
        out[part] = (A[part] * d[part, None]) @ M
    return out


@dataclass(frozen=True)
class Structure:
    """Strata and PSUs as integer codes, with each stratum's variance factors."""

    h: np.ndarray  # stratum of each row
    c: np.ndarray | None  # PSU of each row (None: each row is its own PSU)
    psu_h: np.ndarray  # stratum of each PSU
    H: int
    C: int
    d: np.ndarray  # per stratum: (1 - f) n / (n - 1), the PSU cross-product factor
    between: np.ndarray  # per stratum: d / n, the factor of the squared stratum total
    lonely: np.ndarray  # per stratum: 1 - f for a single-PSU stratum, else 0
    labels: tuple = field(repr=False)
    single: np.ndarray = field(repr=False)  # per stratum: a single PSU, not a census
    f: np.ndarray = field(repr=False, default=None)  # per stratum: the sampling fraction


@dataclass(frozen=True)
class Block:
    """Groups of one post-stratifier or raking margin, as svyrecvar() uses them."""

    codes: np.ndarray
    size: int
    a: np.ndarray  # factor on the linearised values before the group sums
    psw: np.ndarray  # weights after calibration


@dataclass(frozen=True)
class Step:
    """One calibration: residuals x - sum_b psw_b X_b beta_b, beta = solve @ X'(a x)."""

    blocks: tuple[Block, ...]
    solve: np.ndarray
    label: str


def build(h, labels, psu, fpc, fpc_name, index, lonely):
    """The design's :class:`Structure` and the base weights its fpc implies.

    ``h`` and ``psu`` are integer codes (``psu`` None for one row per PSU), ``fpc``
    the column's values or None; ``fpc_name`` and ``index`` only word the errors.
    """
    n, H = len(h), len(labels)
    if psu is not None:
        # PSU codes are nested in strata: the same code in two strata is two PSUs
        c, uniques = pd.factorize(h * (psu.max() + 1) + psu)
        c, C = c.astype(np.int64), len(uniques)
        psu_h = np.empty(C, np.int64)
        psu_h[c] = h
    else:
        c, C, psu_h = None, n, h
    n_h = np.bincount(psu_h, minlength=H)
    f, base = _fraction(fpc, fpc_name, index, h, n_h, labels)
    lonely_h = (n_h == 1) & (f < 1)
    if lonely == "fail" and lonely_h.any():
        names = [labels[i] for i in np.flatnonzero(lonely_h)]
        more = " …" if len(names) > 10 else ""
        raise DesignError(
            f"{len(names)} stratum/strata have a single PSU, so their variance cannot be "
            f"estimated: {', '.join(map(repr, names[:10]))}{more}",
            "merge each with a similar stratum, or choose a rule: lonely_psu='adjust' "
            "(conservative), 'certainty' (the unit was taken with certainty) or 'remove'",
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(n_h > 1, (1 - f) * n_h / (n_h - 1), 0.0)
        between = np.where(n_h > 1, d / n_h, 0.0)
    lone = np.where(lonely_h, 1 - f, 0.0) if lonely == "adjust" else np.zeros(H)
    structure = Structure(h, c, psu_h, H, C, d, between, lone, tuple(labels), lonely_h, f)
    return structure, base


def _fraction(x, name, index, h, n_h, labels):
    """Sampling fraction per stratum, and the base weights it implies."""
    H = len(n_h)
    if x is None:
        return np.zeros(H), np.ones(len(h))
    if np.isnan(x).any() or (x < 0).any():
        i = int(np.flatnonzero(np.isnan(x) | (x < 0))[0])
        raise DesignError(
            f"column {name!r} has {x[i]!r} in row {index[i]!r}",
            "give each stratum's population count (or sampling fraction)",
        )
    low, high = np.full(H, np.inf), np.full(H, -np.inf)
    np.minimum.at(low, h, x)
    np.maximum.at(high, h, x)
    if (low != high).any():
        i = int(np.flatnonzero(low != high)[0])
        raise DesignError(
            f"column {name!r} varies within stratum {labels[i]!r} ({low[i]:g} to {high[i]:g})",
            "the fpc is one number per stratum: merge the frame counts by stratum",
        )
    if (x <= 1).all():
        if (low == 0).any():
            i = int(np.flatnonzero(low == 0)[0])
            raise DesignError(
                f"column {name!r} gives stratum {labels[i]!r} a sampling fraction of 0",
                "give the population count or the fraction sampled",
            )
        return low, (1 / low)[h]
    if (x < 1).any():
        raise DesignError(
            f"column {name!r} mixes sampling fractions (<= 1) and population counts",
            "use one or the other for every stratum",
        )
    if (low < n_h).any():
        i = int(np.flatnonzero(low < n_h)[0])
        raise DesignError(
            f"column {name!r} gives stratum {labels[i]!r} a population of {low[i]:g}, fewer "
            f"than its {n_h[i]} sampled PSUs",
            "the fpc counts PSUs in the population (firms, when firms are sampled directly); "
            "check the frame counts and the stratum definition",
        )
    return n_h / low, (low / n_h)[h]


def rake_solve(blocks) -> np.ndarray:
    """Unweighted projection onto the margins' indicators: the limit of the
    back-fitting svyrecvar() runs for a raked design (it stops after 10 sweeps)."""
    XtX = np.block(
        [
            [
                np.bincount(b1.codes * b2.size + b2.codes, minlength=b1.size * b2.size).reshape(
                    b1.size, b2.size
                )
                for b2 in blocks
            ]
            for b1 in blocks
        ]
    ).astype(float)
    # the margins share the intercept, so X'X is singular: invert it on its range
    vals, vecs = np.linalg.eigh(XtX)
    keep = vals > 1e-9 * vals.max()
    return (vecs[:, keep] / vals[keep]) @ vecs[:, keep].T


class Engine:
    """Covariances of estimated totals under one design (strata, PSUs, calibration)."""

    def __init__(self, structure: Structure, steps: tuple[Step, ...] = ()) -> None:
        self.s = structure
        self.steps = steps
        self._cal: dict | None = None

    def calibrated(self, step: Step) -> Engine:
        return Engine(self.s, (*self.steps, step))

    def domain_df(self, rows, k, D, w):
        """PSUs minus strata holding rows (of positive weight) of each domain, as R's
        degf() of the domain's subset design."""
        s = self.s
        keep = w[rows] > 0
        rows, k = rows[keep], k[keep]
        strata = np.bincount(s.h[rows] * D + k, minlength=s.H * D).reshape(s.H, D)
        if s.c is None:
            psus = np.bincount(k, minlength=D)
        else:
            key = s.c[rows] * D + k
            cells = s.C * D
            if cells <= max(4 * len(rows), 1_000_000):
                psus = (np.bincount(key, minlength=cells).reshape(s.C, D) > 0).sum(0)
            else:
                psus = np.bincount(pd.unique(key) % D, minlength=D)
        return psus - (strata > 0).sum(0)

    def cov(self, rows, z, k, nb, L, repeated=False):
        """The nb blocks (L x L) of the covariance matrix of the nb * L column totals,
        where each used row ``rows[i]`` adds ``z[i]`` to column ``k[i]``.

        ``repeated``: a row may appear several times in ``rows`` (adding to several
        columns, e.g. the means of several variables); without it, each row is taken
        to add to one column only, which lets element samples skip the PSU totals.
        """
        s = self.s
        K = nb * L
        # one-pass sums of squares: exact zeros (a share fixed by the strata) may come
        # out as +-1e-9 of the estimate's scale, far below any reported digit
        S = np.bincount(s.h[rows] * K + k, z, minlength=s.H * K).reshape(s.H, K)
        DW = None
        # with one row per PSU the row number is the PSU code (C = rows, psu_h = h)
        psu = rows if s.c is None else s.c[rows]
        if s.c is None and not repeated:
            # each row is its own PSU and adds to one column: cross-products are diagonal
            WDW = np.zeros((nb, L, L))
            diag = np.bincount(k, s.d[s.h[rows]] * z * z, minlength=K).reshape(nb, L)
            WDW[:, np.arange(L), np.arange(L)] = diag
        elif s.C * K <= _DENSE_CELLS:
            W = np.bincount(psu * K + k, z, minlength=s.C * K).reshape(s.C, K)
            DW = W * s.d[s.psu_h][:, None]
            WDW = np.einsum("cdl,cdm->dlm", W.reshape(s.C, nb, L), DW.reshape(s.C, nb, L))
        else:
            if self.steps:  # the calibration terms below need D W itself
                W = sparse.csr_matrix((z, (psu, k)), shape=(s.C, K))
                DW = sparse.diags(s.d[s.psu_h]) @ W
                prod = (W.T @ DW).tocoo()
            else:  # W'DW as (D^1/2 W)'(D^1/2 W): one sparse matrix in memory, not two
                W = sparse.csr_matrix((np.sqrt(s.d[s.psu_h])[psu] * z, (psu, k)), shape=(s.C, K))
                prod = (W.T @ W).tocoo()
            del W
            same = prod.row // L == prod.col // L
            at = (prod.row // L) * L * L + (prod.row % L) * L + prod.col % L
            WDW = np.bincount(at[same], prod.data[same], minlength=nb * L * L).reshape(nb, L, L)
        if self.steps:
            cal = self._calibration()
            gamma, PDW = self._calibration_terms(rows, z, k, K, DW, cal)
            g3, p3 = gamma.reshape(-1, nb, L), PDW.reshape(-1, nb, L)
            cross = np.einsum("gdl,gdm->dlm", p3, g3)
            q3 = (cal["PDP"] @ gamma).reshape(-1, nb, L)
            WDW = WDW - cross - cross.transpose(0, 2, 1) + np.einsum("gdl,gdm->dlm", g3, q3)
            S = S - cal["SP"] @ gamma
        S3 = S.reshape(s.H, nb, L)
        V = WDW - np.einsum("hdl,hdm->dlm", S3 * s.between[:, None, None], S3)
        if s.lonely.any():
            # R's "adjust": the lone PSU's total deviates from zero, not from its stratum
            V += np.einsum("hdl,hdm->dlm", S3 * s.lonely[:, None, None], S3)
        return V

    def cov_matrix(self, rows, Z):
        """Covariance matrix (L x L) of the column totals of Z, where each used row
        ``rows[i]`` adds the whole vector ``Z[i]`` (e.g. the influence values of L
        regression coefficients). Dense, so fast for many columns; same result as
        :meth:`cov` with every row repeated once per column."""
        s = self.s
        n, L = Z.shape
        if self.steps:  # calibration terms are written for the stacked form
            k = np.tile(np.arange(L), n)
            return self.cov(np.repeat(rows, L), Z.ravel(), k, 1, L, repeated=True)[0]
        if s.c is None:
            W, h = Z, s.h[rows]
        else:
            # PSU totals: sort rows by PSU and add each run
            c = s.c[rows]
            order = np.argsort(c, kind="stable")
            c = c[order]
            starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
            W, h = np.add.reduceat(Z[order], starts, axis=0), s.psu_h[c[starts]]
        WDW = gram(W, s.d[h])
        S = np.column_stack([np.bincount(h, W[:, j], minlength=s.H) for j in range(L)])
        V = WDW - S.T @ (S * s.between[:, None])
        if s.lonely.any():
            V += S.T @ (S * s.lonely[:, None])
        return V

    def _calibration(self) -> dict:
        """Design-level pieces of the calibration terms, computed once per design."""
        if self._cal is not None:
            return self._cal
        s = self.s
        blocks = [b for step in self.steps for b in step.blocks]

        def pair(b1, b2, values):
            key = b1.codes * b2.size + b2.codes
            return np.bincount(key, values, minlength=b1.size * b2.size).reshape(b1.size, b2.size)

        # how an earlier step's groups feed a later step's group sums
        cross = [
            [
                np.block(
                    [[pair(b1, b2, b1.a * b2.psw) for b2 in earlier.blocks] for b1 in step.blocks]
                )
                for earlier in self.steps[:i]
            ]
            for i, step in enumerate(self.steps)
        ]
        if s.c is None:
            P = None
            d = s.d[s.h]
            PDP = np.block([[pair(b1, b2, d * b1.psw * b2.psw) for b2 in blocks] for b1 in blocks])
        else:
            P = [sparse.csr_matrix((b.psw, (s.c, b.codes)), shape=(s.C, b.size)) for b in blocks]
            D = sparse.diags(s.d[s.psu_h])
            PDP = np.block([[(p1.T @ D @ p2).toarray() for p2 in P] for p1 in P])
        SP = np.hstack(
            [
                np.bincount(s.h * b.size + b.codes, b.psw, minlength=s.H * b.size).reshape(
                    s.H, b.size
                )
                for b in blocks
            ]
        )
        self._cal = {"cross": cross, "P": P, "PDP": PDP, "SP": SP}
        return self._cal

    def _calibration_terms(self, rows, z, k, K, DW, cal):
        """Calibration coefficients Gamma (groups x K) and P' D W for the used rows."""
        s = self.s
        betas = []
        for i, step in enumerate(self.steps):
            r = np.vstack(
                [
                    np.bincount(b.codes[rows] * K + k, b.a[rows] * z, minlength=b.size * K).reshape(
                        b.size, K
                    )
                    for b in step.blocks
                ]
            )
            for j in range(i):
                r = r - cal["cross"][i][j] @ betas[j]
            betas.append(step.solve @ r)
        blocks = [b for step in self.steps for b in step.blocks]
        if s.c is None:
            dz = s.d[s.h[rows]] * z
            PDW = np.vstack(
                [
                    np.bincount(
                        b.codes[rows] * K + k, dz * b.psw[rows], minlength=b.size * K
                    ).reshape(b.size, K)
                    for b in blocks
                ]
            )
        else:
            PDW = np.vstack([_dense(p.T @ DW) for p in cal["P"]])
        return np.vstack(betas), PDW


def share_jacobian(est, N):
    """J[d, l, m] = d p_dl / d A_dm for shares p_dl = A_dl / N_d (zero in empty domains)."""
    L = est.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        J = (np.eye(L)[None] - est[:, :, None]) / N[:, None, None]
    return np.nan_to_num(J, nan=0.0, posinf=0.0, neginf=0.0)


def se(variance: np.ndarray) -> np.ndarray:
    # a zero variance (a share fixed by the strata, say) can come out as -1e-18
    return np.sqrt(np.maximum(variance, 0.0))


def t_quantile(df, level):
    with np.errstate(invalid="ignore"):
        return stats.t.ppf(0.5 + level / 2, np.where(df >= 1, df, np.nan))


def t_interval(est, se, df, level):
    q = t_quantile(df, level)
    return est - q * se, est + q * se


def share_interval(p, se, df, n, level, method="logit"):
    """Interval of shares: R's ``svyciprop(method="logit")`` or ``method="beta"``.

    ``logit``: expit(logit(p) +/- t_df se / (p (1 - p))). ``beta``: Korn and
    Graubard's Clopper-Pearson interval with the effective sample size
    n_eff = p (1 - p) / se^2, scaled by (t_{n-1} / t_df)^2 as R does, n the cell's
    respondents. At p exactly 0 or 1 both collapse (R gives NaN), so the open side is
    the Clopper-Pearson bound for 0 (or n) successes out of n: 1 - (alpha/2)^(1/n),
    Korn and Graubard's choice when the design effect cannot be estimated.
    """
    p, se, df, n = (np.asarray(x, float) for x in (p, se, df, n))
    alpha = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "beta":
            t_n = stats.t.ppf(alpha / 2, np.where(n > 1, n - 1, np.nan))
            t_df = stats.t.ppf(alpha / 2, np.where(df >= 1, df, np.nan))
            n_eff = p * (1 - p) / se**2 * (t_n / t_df) ** 2
            low = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            high = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
            # a share with no sampling error (fixed by the strata): no width, as logit
            fixed = (se == 0) & np.isfinite(t_df)
            low, high = np.where(fixed, p, low), np.where(fixed, p, high)
        else:
            q = t_quantile(df, level)
            logit = np.log(p / (1 - p))
            half = q * se / (p * (1 - p))
            low = 1 / (1 + np.exp(-(logit - half)))
            high = 1 / (1 + np.exp(-(logit + half)))
        bound = (alpha / 2) ** (1 / np.where(n > 0, n, np.nan))
    low = np.where(p == 0, 0.0, np.where(p == 1, bound, low))
    high = np.where(p == 0, 1 - bound, np.where(p == 1, 1.0, high))
    return low, high


def _dense(m) -> np.ndarray:
    return m.toarray() if sparse.issparse(m) else np.asarray(m)


def mover_interval(pa, sa, dfa, na, pb, sb, dfb, nb, level, r=0.0, method="beta"):
    """Interval of the difference of two shares pa - pb by MOVER (Newcombe's hybrid
    method as Zou and Donner generalised it): each side's own interval (here Korn and
    Graubard's, with the Clopper-Pearson bound at 0 or 1) recovers the variance on
    each side of the difference, ``r`` the correlation of the two estimates:

        low  = d - sqrt((pa - la)^2 + (ub - pb)^2 - 2 r (pa - la)(ub - pb))
        high = d + sqrt((ua - pa)^2 + (pb - lb)^2 - 2 r (ua - pa)(pb - lb))

    Unlike the t interval it stays valid when a side's estimated SE is zero (no firm of
    a small group cites a difficulty): that side still contributes its exact bound.
    """
    la, ua = share_interval(pa, sa, dfa, na, level, method)
    lb, ub = share_interval(pb, sb, dfb, nb, level, method)
    pa, pb, r = (np.asarray(x, float) for x in (pa, pb, r))
    d = pa - pb
    a, b = pa - la, ub - pb
    low = d - np.sqrt(np.maximum(a * a + b * b - 2 * r * a * b, 0.0))
    a, b = ua - pa, pb - lb
    high = d + np.sqrt(np.maximum(a * a + b * b - 2 * r * a * b, 0.0))
    return low, high


def mover_p_value(pa, sa, dfa, na, pb, sb, dfb, nb, r=0.0, method="beta") -> np.ndarray:
    """Two-sided p-values of pa - pb = 0 by inverting :func:`mover_interval`: the
    smallest alpha at which the (1 - alpha) interval leaves out zero."""
    from scipy.optimize import brentq

    values = (pa, sa, dfa, na, pb, sb, dfb, nb, r)
    args = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, float)) for x in values))
    out = np.full(len(args[0]), np.nan)
    for i in range(len(out)):
        a = [x[i] for x in args]
        d = a[0] - a[4]
        if not np.isfinite(d):
            continue
        if d == 0:
            out[i] = 1.0
            continue

        def gap(alpha, a=a, d=d):
            low, high = mover_interval(*a[:8], 1 - alpha, a[8], method)
            return float(low[()] if d > 0 else -high[()])

        lo, hi = 1e-12, 1 - 1e-9
        g_lo, g_hi = gap(lo), gap(hi)
        if not (np.isfinite(g_lo) and np.isfinite(g_hi)):
            continue
        out[i] = lo if g_lo > 0 else 1.0 if g_hi < 0 else brentq(gap, lo, hi, xtol=1e-14)
    return out
