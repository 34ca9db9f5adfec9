"""Replicate-weight designs: jackknife (JKn, JK1) and the Rao-Wu rescaled bootstrap.

:meth:`analysis.survey.design.Design.replicate` turns a design into a
:class:`ReplicateDesign`: the full-sample weights and R sets of replicate weights,
each the full weights times a factor per primary sampling unit. An estimate's
variance is the spread of its R replicate estimates,

    v = scale * sum_r rscale_r (theta_r - centre)^2,

centre the mean of the replicate estimates (R's default ``survey.replicates.mse =
FALSE``) or, with ``mse=True``, the full-sample estimate. The weights can be handed to
users of other software with :meth:`ReplicateDesign.export`, and any statistic gets a
standard error by recomputing it with each replicate's weights, which is how the key
drivers' relative weights get theirs (:mod:`analysis.measures.models`).

========== ============================================================================
kind       replicates, as R's ``as.svrepdesign(design, type=kind)`` with its defaults
========== ============================================================================
``JKn``    one per PSU of every stratum with two or more: the PSU's weight set to 0,
           the stratum's other PSUs' multiplied by n_h / (n_h - 1); rscale
           (1 - f_h)(n_h - 1) / n_h, scale 1. A fully enumerated stratum has none (R's
           ``survey.drop.replicates``). A stratum with one PSU follows the design's
           ``lonely_psu``: ``"fail"`` raises, ``"remove"`` and ``"certainty"`` give it
           no replicate, ``"adjust"`` one replicate with its PSU at 0 and every other
           PSU of the sample multiplied by H / (H - 1), rscale (H - 1) / H (R's rule).
``JK1``    delete-one-PSU jackknife of an unstratified design: factors n / (n - 1) and
           0; scale (1 - f)(n - 1) / n, rscales 1.
``bootstrap`` Rao and Wu's rescaled bootstrap with n_h - 1 PSUs drawn with replacement
           in each stratum: factor 1 - l_h + l_h n_h / (n_h - 1) m_hi, m_hi the times
           PSU i was drawn, l_h = sqrt(1 - f_h); scale 1 / (R - 1), rscales 1. Without an
           fpc (l_h = 1) this is R's ``type="subbootstrap"`` (R's ``"bootstrap"`` is
           Canty and Davison's, a different scheme); R's subbootstrap drops the fpc,
           this one keeps it (Rao, Wu and Yue 1992), so that its expected variance of a
           total is the linearised one with the fpc. Strata with one PSU, or fully
           enumerated, keep factor 1. Default 500 replicates.
========== ============================================================================

JKn also takes ``replicates=K``: the PSUs of each stratum are then put at random (by
``seed``) into groups, K in all (at least two per stratum, in proportion to its PSUs),
and a replicate deletes a group: the grouped jackknife that statistical offices publish
(far fewer columns than PSUs); with as many groups as PSUs it is R's JKn.

Degrees of freedom: as R's ``degf()`` of a replicate design (the rank of the
replicate weights, less one), which for the jackknife is the PSUs (or groups) less the
strata holding the domain's rows, and for the bootstrap that or R - 1, the smaller.
Calibrated (raked, post-stratified) designs are refused: R recalibrates each replicate,
which is not done here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.errors import DesignError
from analysis.survey import _columns, _variance

KINDS = ("JKn", "JK1", "bootstrap")
BOOTSTRAP_REPLICATES = 500


class ReplicateDesign:
    """A survey sample with replicate weights; ``mean``, ``total`` and ``proportion`` as
    :class:`~analysis.survey.design.Design`'s, with the same columns.

    Made by :meth:`analysis.survey.design.Design.replicate`; see the module notes.

    Examples
    --------
    >>> rep = design.replicate("JKn")                       # doctest: +SKIP
    >>> rep.mean("api00", by="stype")                       # doctest: +SKIP
    >>> rep.export("apistrat-jkn.csv", columns=["api00", "stype"])  # doctest: +SKIP
    """

    __slots__ = (
        "_A",
        "_base",
        "_confidence",
        "_data",
        "_h",
        "_kind",
        "_mse",
        "_rscales",
        "_scale",
        "_uncounted",
        "_unit",
        "_unit_h",
        "_w",
    )

    def __init__(self, base, kind: str, replicates=None, seed=None, mse: bool = False):
        if kind not in KINDS:
            raise DesignError(
                f"kind={kind!r} is not a kind of replicate weights",
                f"use one of {', '.join(map(repr, KINDS))}",
            )
        if base._engine.steps:
            raise DesignError(
                "replicate weights of a calibrated (raked or post-stratified) design are "
                "not made here: each replicate would need calibrating again",
                "build the replicates on the design before calibration",
            )
        s = base._engine.s
        psu = np.arange(len(base.data)) if s.c is None else s.c
        if kind == "JK1" and s.H > 1:
            raise DesignError(
                f"JK1 is the jackknife of an unstratified design; this one has {s.H} strata",
                "use kind='JKn' (stratified jackknife) or 'bootstrap'",
            )
        if replicates is not None and (
            isinstance(replicates, bool)
            or not isinstance(replicates, (int, np.integer))
            or replicates < 2
        ):
            raise DesignError(
                f"replicates={replicates!r} is not a number of replicates",
                "give a whole number of at least 2, or None for the default",
            )
        if kind == "JK1" and replicates is not None:
            raise DesignError(
                "JK1 has one replicate per PSU", "leave replicates=None, or use kind='JKn'"
            )
        n_h = np.bincount(s.psu_h, minlength=s.H)
        f = s.f
        rng = np.random.default_rng(seed)
        if kind == "bootstrap":
            unit, unit_h = np.arange(s.C), s.psu_h
            A, scale, rscales = _bootstrap(s.psu_h, n_h, f, replicates, rng)
        else:
            unit, unit_h = _groups(s.psu_h, n_h, replicates, rng)
            A, rscales = _jackknife(unit_h, f, n_h, s.single, base.lonely_psu, s.labels)
            scale = 1.0
            if kind == "JK1":
                scale, rscales = (
                    float(rscales[0]),
                    np.ones(len(rscales)) if len(rscales) else rscales,
                )
        self._base = base
        self._data = base.data
        self._w = base._w
        self._kind = kind
        self._unit = unit[psu]  # replicate unit of each row
        self._unit_h = unit_h
        self._h = s.h
        self._A = sparse.csr_matrix(A) if sparse.issparse(A) else A
        self._scale = float(scale)
        self._rscales = np.asarray(rscales, float)
        self._mse = bool(mse)
        self._confidence = base.confidence
        # a lone PSU with R's "adjust" replicate adds a rank to the weights: its stratum
        # is not subtracted in the degrees of freedom
        adjusted = s.single & (base.lonely_psu == "adjust") & (kind != "bootstrap")
        self._uncounted = adjusted

    # -- views -----------------------------------------------------------------------

    @property
    def data(self) -> pd.DataFrame:
        return self._data

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def replicates(self) -> int:
        return self._A.shape[1]

    @property
    def scale(self) -> float:
        return self._scale

    @property
    def rscales(self) -> np.ndarray:
        return self._rscales.copy()

    @property
    def mse(self) -> bool:
        return self._mse

    @property
    def df(self) -> int:
        rows = np.flatnonzero(self._w > 0)
        return int(self._domain_df(rows, np.zeros(len(rows), np.int64), 1)[0])

    def weights(self) -> pd.DataFrame:
        """The replicate weights, one column per replicate (``repw_1`` …), row-aligned
        with the data: full-sample weight times each replicate's factor."""
        factors = self._factors(np.arange(len(self._data)))
        cols = [f"repw_{r + 1}" for r in range(self.replicates)]
        return pd.DataFrame(factors * self._w[:, None], index=self._data.index, columns=cols)

    def __repr__(self) -> str:
        return (
            f"ReplicateDesign(kind={self._kind!r}, rows={len(self._data)}, "
            f"replicates={self.replicates}, scale={self._scale:.6g}, mse={self._mse})"
        )

    def with_data(self, data: pd.DataFrame) -> ReplicateDesign:
        """The same replicate weights over the data with columns added (in row order,
        on the same index): for derived variables, as :meth:`Design.assign`."""
        new = object.__new__(ReplicateDesign)
        for slot in ReplicateDesign.__slots__:
            setattr(new, slot, getattr(self, slot))
        extra = {c: data[c] for c in data.columns if c not in self._data.columns}
        new._base = self._base.assign(**extra)
        new._data = new._base.data
        return new

    # -- estimates -------------------------------------------------------------------

    def mean(self, var: str, by=None, confidence: float | None = None) -> pd.DataFrame:
        """Weighted mean, overall or by domain (columns as :meth:`Design.mean`)."""
        return self._ratio(var, by, confidence, total=False)

    def total(self, var: str, by=None, confidence: float | None = None) -> pd.DataFrame:
        """Estimated total, overall or by domain (columns as :meth:`Design.total`)."""
        return self._ratio(var, by, confidence, total=True)

    def proportion(
        self,
        var: str | Sequence[str],
        by=None,
        confidence: float | None = None,
        method: str = "logit",
    ) -> pd.DataFrame:
        """Shares with intervals inside [0, 1] (columns as :meth:`Design.proportion`).

        ``logit``: as R's ``svyciprop(method="logit")`` on a replicate design, the
        interval is t on the logit scale with the replicates' variance of the
        logit of the share (not the delta method); ``beta``: Korn and Graubard's with
        the effective sample size from the share's replicate variance.
        """
        base = self._base
        level = base._level(confidence)
        _columns.check_method(method)
        dom, D, table = base._domains(by)
        if isinstance(var, str):
            codes, levels = _columns.factor(base._column(var), var)
            L = len(levels)
            ok = (dom >= 0) & (codes >= 0)
            cols = [((codes == j) & ok).astype(float) for j in range(L)]
            names = list(levels)
            dens = [ok.astype(float)] * L
        else:
            names = _columns.columns(self._data, var, "proportion")
            L = len(names)
            cols, dens = [], []
            for col in names:
                y = base._indicator(col)
                ok = (dom >= 0) & ~np.isnan(y)
                cols.append(np.where(ok, y, 0.0))
                dens.append(ok.astype(float))
        out = []
        for j in range(L):
            est, reps, n = self._ratio_replicates(cols[j], dens[j], dom, D)
            out.append((est, reps, n, dens[j]))
        est = np.stack([o[0] for o in out], 1).ravel()  # domain-major
        n = np.stack([o[2] for o in out], 1).ravel()
        reps = np.concatenate([o[1][:, :, None] for o in out], 2).reshape(self.replicates, -1)
        se = _variance.se(self._variance(reps, est))
        df = np.concatenate(
            [self._domain_df(*self._rows(o[3], dom), D)[:, None] for o in out], 1
        ).ravel()
        se[n == 0] = np.nan
        if method == "logit":
            with np.errstate(invalid="ignore", divide="ignore"):
                logit = np.log(est / (1 - est))
                se_logit = _variance.se(self._variance(np.log(reps / (1 - reps)), logit))
            q = _variance.t_quantile(df, level)
            with np.errstate(invalid="ignore", over="ignore"):
                low = 1 / (1 + np.exp(-(logit - q * se_logit)))
                high = 1 / (1 + np.exp(-(logit + q * se_logit)))
            cp_low, cp_high = _variance.share_interval(est, se, df, n, level, "logit")
            edge = (est == 0) | (est == 1)
            low, high = np.where(edge, cp_low, low), np.where(edge, cp_high, high)
        else:
            low, high = _variance.share_interval(est, se, df, n, level, "beta")
        frame = {
            "level": np.tile(np.asarray(names, dtype=object), D),
            "estimate": est,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "df": df,
            "n": n,
        }
        return _frame(None if table is None else table.loc[table.index.repeat(L)], frame)

    def replicate_estimates(self, values: np.ndarray) -> np.ndarray:
        """Replicate totals of per-row values (rows x k): the building block for any
        statistic made of weighted sums. Returns (replicates x k)."""
        P = self._unit_totals(np.asarray(values, float) * self._w[:, None])
        return P.sum(0)[None, :] + np.asarray(self._A.T @ P)

    def variance(self, thetas: np.ndarray, estimate: np.ndarray) -> np.ndarray:
        """The replicate variance of estimates whose replicate values are ``thetas``
        (replicates x k), centred as the design says (R's ``svrVar``)."""
        return self._variance(np.asarray(thetas, float), np.asarray(estimate, float))

    def export(self, path: str | Path, columns: Sequence[str] | None = None) -> Path:
        """Write the data with the full-sample weight (``weight``) and the replicate
        weights (``repw_1`` …) to CSV (UTF-8 with BOM) or XLSX, for R, Stata or SPSS.

        Parameters
        ----------
        path : ``.csv`` or ``.xlsx``.
        columns : the data's columns to include (default all); put no personal data in
            a file you hand out.

        Returns
        -------
        The path. Beside a CSV, ``<name>.replicates.txt`` (in an XLSX: a second sheet
        ``replicates``) records the kind, scale, rscales and mse, which R's
        ``svrepdesign`` and Stata's ``svyset`` need (see the README).
        """
        path = Path(path)
        cols = list(self._data.columns) if columns is None else list(columns)
        _columns.columns(self._data, cols, "export")
        table = self._data[cols].reset_index(drop=True)
        table.insert(len(cols), "weight", self._w)
        table = pd.concat([table, self.weights().reset_index(drop=True)], axis=1)
        info = pd.DataFrame(
            {
                "replicate": [f"repw_{r + 1}" for r in range(self.replicates)],
                "rscale": self._rscales,
            }
        )
        meta = {"kind": self._kind, "scale": repr(self._scale), "mse": str(self._mse).upper()}
        if path.suffix.lower() == ".xlsx":
            with pd.ExcelWriter(path, engine="openpyxl") as book:
                table.to_excel(book, sheet_name="data", index=False)
                info.assign(**meta).to_excel(book, sheet_name="replicates", index=False)
        elif path.suffix.lower() == ".csv":
            table.to_csv(path, index=False, encoding="utf-8-sig")
            lines = [f"{k}: {v}" for k, v in meta.items()]
            lines.append("rscales: " + " ".join(repr(float(x)) for x in self._rscales))
            path.with_suffix(".replicates.txt").write_text("\n".join(lines) + "\n", "utf-8")
        else:
            raise DesignError(
                f"cannot export replicate weights to {path.name}", "use a .csv or .xlsx path"
            )
        return path

    # -- private -----------------------------------------------------------------------

    def _ratio(self, var, by, confidence, total: bool) -> pd.DataFrame:
        base = self._base
        level = base._level(confidence)
        y = base._numeric(var, "total()" if total else "mean()")
        dom, D, table = base._domains(by)
        ok = (dom >= 0) & ~np.isnan(y)
        num = np.where(ok, y, 0.0)
        if total:
            rows, k = self._rows(ok.astype(float), dom)
            T = self.replicate_estimates(_spread(num * ok, dom, D))
            est = np.bincount(k, (self._w * num)[rows], minlength=D)
            n = np.bincount(k, minlength=D)
            reps = T
        else:
            est, reps, n = self._ratio_replicates(num, ok.astype(float), dom, D)
        se = _variance.se(self._variance(reps, est))
        est = np.where(n > 0, est, np.nan)
        se[n == 0] = np.nan
        df = self._domain_df(*self._rows(ok.astype(float), dom), D)
        low, high = _variance.t_interval(est, se, df, level)
        cols = {"estimate": est, "se": se, "ci_low": low, "ci_high": high, "df": df, "n": n}
        return _frame(table, cols)

    def _ratio_replicates(self, num, den, dom, D):
        """Full-sample and replicate ratios sum(w num) / sum(w den) per domain."""
        Y = self.replicate_estimates(np.hstack([_spread(num, dom, D), _spread(den, dom, D)]))
        with np.errstate(invalid="ignore", divide="ignore"):
            reps = Y[:, :D] / Y[:, D:]
            w = self._w
            top = np.bincount(np.maximum(dom, 0), w * num * (dom >= 0), minlength=D)
            bottom = np.bincount(np.maximum(dom, 0), w * den * (dom >= 0), minlength=D)
            est = top / bottom
        n = np.bincount(np.maximum(dom, 0), (den > 0) & (dom >= 0), minlength=D).astype(int)
        return est, reps, n

    def _rows(self, used, dom):
        rows = np.flatnonzero((used > 0) & (dom >= 0))
        return rows, dom[rows]

    def _variance(self, reps: np.ndarray, est: np.ndarray) -> np.ndarray:
        keep = self._rscales > 0
        with np.errstate(invalid="ignore"):
            centre = est if self._mse else reps[keep].mean(0) if keep.any() else est
            dev = reps - centre[None, :]
        return self._scale * np.einsum("r,rk->k", self._rscales, dev * dev)

    def _unit_totals(self, Z: np.ndarray) -> np.ndarray:
        """Totals of the rows of Z (one row per data row) by replicate unit."""
        U = self._A.shape[0]
        return np.column_stack(
            [np.bincount(self._unit, Z[:, j], minlength=U) for j in range(Z.shape[1])]
        )

    def _factors(self, rows) -> np.ndarray:
        A = self._A
        dense = A[self._unit[rows]]
        dense = dense.toarray() if sparse.issparse(dense) else np.asarray(dense)
        return 1.0 + dense

    def _domain_df(self, rows, k, D):
        """R's ``degf()`` of the domain's replicate design, the rank of its replicate
        weights less one: the replicate units holding the domain's rows, less the
        strata whose units all hold some (each such stratum's rows add up to the same
        pattern), less one when none does; the bootstrap at most replicates - 1."""
        keep = self._w[rows] > 0
        rows, k = rows[keep], k[keep]
        pairs = pd.unique(self._unit[rows].astype(np.int64) * D + k)
        units = np.bincount(pairs % D, minlength=D)
        unit_h = self._unit_h[pairs // D]
        H = len(self._uncounted)
        present = np.bincount(unit_h * D + pairs % D, minlength=H * D).reshape(H, D)
        total = np.bincount(self._unit_h, minlength=H)[:, None]
        full = ((present == total) & (present > 0) & ~self._uncounted[:, None]).sum(0)
        df = units - np.maximum(full, 1)
        if self._kind == "bootstrap":
            df = np.minimum(df, self.replicates - 1)
        return df


# -- how the replicates are made ------------------------------------------------------------


def _groups(psu_h, n_h, replicates, rng):
    """Replicate unit of each PSU (the PSU itself, or its random group in its stratum)
    and each unit's stratum."""
    C = len(psu_h)
    if replicates is None or replicates >= C:
        return np.arange(C), psu_h.copy()
    H = len(n_h)
    multi = n_h >= 2
    # at least two groups per stratum with two or more PSUs, the rest in proportion
    g = np.where(multi, 2, n_h).astype(float)
    spare = replicates - g.sum()
    if spare < 0:
        raise DesignError(
            f"replicates={replicates} is fewer than two per stratum ({int(g.sum())} needed)",
            f"give at least {int(g.sum())} replicates, or None for one per PSU",
        )
    g = g.astype(np.int64)
    # the rest one at a time to the stratum with the most PSUs per group (its groups
    # are the largest), never more groups than PSUs: exactly `replicates` in all
    for _ in range(int(spare)):
        ratio = np.where(multi & (g < n_h), n_h / np.maximum(g, 1), -1.0)
        if ratio.max() < 0:
            break
        g[int(ratio.argmax())] += 1
    unit = np.empty(C, np.int64)
    unit_h = []
    start = 0
    for h in range(H):
        members = np.flatnonzero(psu_h == h)
        members = members[rng.permutation(len(members))]
        labels = np.arange(len(members)) % max(g[h], 1)
        unit[members] = start + labels
        unit_h += [h] * max(g[h], 1) if len(members) else []
        start += max(g[h], 1) if len(members) else 0
    return unit, np.asarray(unit_h, np.int64)


def _jackknife(unit_h, f, n_h_psu, single, lonely, labels):
    """Sparse factor deviations (units x replicates) and rscales of the jackknife."""
    U, H = len(unit_h), len(f)
    g_h = np.bincount(unit_h, minlength=H)
    rows, cols, vals, rscales = [], [], [], []
    r = 0
    for h in range(H):
        members = np.flatnonzero(unit_h == h)
        g = len(members)
        if g == 0 or f[h] >= 1:
            continue  # fully enumerated: no replicate (R's survey.drop.replicates)
        if g == 1:
            if not single[h]:
                continue
            if lonely == "fail":
                raise DesignError(
                    f"stratum {labels[h]!r} has a single PSU: no jackknife replicate",
                    "choose lonely_psu='adjust', 'certainty' or 'remove' for the design",
                )
            if lonely != "adjust":
                continue
            # R: the lone PSU at 0, every other PSU of the sample times H / (H - 1)
            others = np.flatnonzero(unit_h != h)
            rows.append(np.r_[members[0], others])
            cols.append(np.full(1 + len(others), r))
            vals.append(np.r_[-1.0, np.full(len(others), H / (H - 1) - 1)])
            rscales.append((H - 1) / H)
            r += 1
            continue
        block = np.full((g, g), g / (g - 1) - 1)  # unit x replicate of this stratum
        np.fill_diagonal(block, -1.0)
        rows.append(np.repeat(members, g))
        cols.append(r + np.tile(np.arange(g), g))
        vals.append(block.ravel())
        rscales += [(1 - f[h]) * (g - 1) / g] * g
        r += g
    del n_h_psu, g_h
    if rows:
        rows, cols, vals = (np.concatenate(x) for x in (rows, cols, vals))
    A = sparse.csc_matrix((vals, (rows, cols)), shape=(U, r))
    return A, np.asarray(rscales)


def _bootstrap(psu_h, n_h, f, replicates, rng):
    B = BOOTSTRAP_REPLICATES if replicates is None else int(replicates)
    C = len(psu_h)
    A = np.zeros((C, B))
    for h in np.flatnonzero((n_h >= 2) & (f < 1)):
        members = np.flatnonzero(psu_h == h)
        n = len(members)
        lam = np.sqrt(1 - f[h])
        draws = rng.integers(0, n, size=(B, n - 1))
        counts = np.zeros((B, n))
        np.add.at(counts, (np.repeat(np.arange(B), n - 1), draws.ravel()), 1.0)
        A[members] = (lam * (n / (n - 1) * counts - 1)).T
    return A, 1 / (B - 1), np.ones(B)


def _spread(values: np.ndarray, dom: np.ndarray, D: int) -> np.ndarray:
    """Per-row values placed in their domain's column (rows x D); zero outside."""
    out = np.zeros((len(values), D))
    inside = dom >= 0
    out[np.flatnonzero(inside), dom[inside]] = values[inside]
    return out


def _frame(table, columns: dict) -> pd.DataFrame:
    out = pd.DataFrame(columns)
    if table is None:
        return out
    return pd.concat([table.reset_index(drop=True), out], axis=1)
