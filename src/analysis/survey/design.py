"""Design-based estimation: weights, strata, clusters, calibration and Taylor SEs.

A :class:`Design` binds a DataFrame to how it was sampled (weights, strata, primary
sampling units, finite-population correction) and estimates means, totals and shares,
overall or by domain, with the standard errors R's ``survey`` package gives:
Taylor linearisation, PSUs taken as sampled with replacement within strata, a
one-stage finite-population correction, and calibration (raking, post-stratification)
accounted for as ``svyrecvar()`` does. Comparisons between domains and the
design-adjusted chi-square are in :mod:`analysis.survey.compare`.

The module knows nothing of the questionnaire: every variable is a column name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.survey import _columns, _variance
from analysis.survey._calibration import Calibration

LONELY_PSU = ("fail", "adjust", "certainty", "remove")


class Design(Calibration):
    """A survey sample with its design, ready for estimation.

    Parameters
    ----------
    data : the respondents, one row each; never modified.
    weights : column of sampling weights. When None and ``fpc`` gives population
        counts, the base weight is N_h / n_h (population over sampled PSUs of the
        stratum); with ``fpc`` as sampling fractions it is 1 / f_h; with neither,
        every row weighs 1 (an unweighted simple random sample).
    strata : stratum column, or a list of columns whose combination is the stratum.
        None: one stratum.
    psu : primary sampling unit (cluster) column or list of columns. Codes are taken
        within stratum (R's ``nest=TRUE``). None: each row is its own PSU.
    fpc : finite-population correction column, constant within strata: either the
        number of PSUs in the stratum's population (R's ``fpc``; for firms sampled
        directly, the number of firms) or, when every value is <= 1, the sampling
        fraction. None: no correction (sampling with replacement).
    lonely_psu : what a stratum with a single PSU contributes to the variance, as
        R's ``options(survey.lonely.psu=)``: ``"fail"`` (default) raises a
        DesignError naming the strata; ``"adjust"`` centres the lone PSU at zero, the
        grand mean of a mean's or share's linearised values (conservative);
        ``"certainty"`` and ``"remove"`` make it contribute nothing (use
        ``"certainty"`` when the unit was taken with certainty). A stratum whose
        ``fpc`` says it was fully enumerated never fails: it has no variance.
        The default fails because the choice changes the standard errors and
        belongs in the brief's methods note, not in a silent default.
    confidence : level of the confidence intervals, overridable per call.

    Raises
    ------
    DesignError
        unknown column; missing values in a design column; missing, negative or
        non-numeric weights; an ``fpc`` that varies within a stratum, mixes
        fractions and counts or is smaller than the stratum's sample; a stratum
        with a single PSU while ``lonely_psu="fail"``.

    Notes
    -----
    Standard errors match R's ``svydesign(id=~psu, strata=~strata,
    weights=~weights, fpc=~fpc)`` with ``svymean``/``svytotal``/``svyby``.
    Intervals use Student's t with the design's degrees of freedom (PSUs minus
    strata holding respondents of the cell), as ``svyciprop`` does; R's
    ``confint()`` on a mean uses the normal quantile instead, so its intervals are
    slightly narrower.

    Examples
    --------
    >>> d = Design(apistrat, weights="pw", strata="stype", fpc="fpc")  # doctest: +SKIP
    >>> d.mean("api00")  # doctest: +SKIP
       estimate        se      ci_low     ci_high   df    n
    0  662.2874  9.408941  643.732188  680.842538  197  200
    """

    __slots__ = ("_confidence", "_data", "_engine", "_lonely", "_notes", "_spec", "_w")

    def __init__(
        self,
        data: pd.DataFrame,
        weights: str | None = None,
        strata: str | Sequence[str] | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | None = None,
        lonely_psu: str = "fail",
        confidence: float = 0.95,
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise DesignError(
                f"data must be a pandas DataFrame, not {type(data).__name__}",
                "pass the survey table as a DataFrame",
            )
        if len(data) == 0:
            raise DesignError("the data has no rows", "check the file or filter that made it")
        if lonely_psu not in LONELY_PSU:
            raise DesignError(
                f"lonely_psu={lonely_psu!r} is not an option",
                f"use one of {', '.join(map(repr, LONELY_PSU))}",
            )
        _columns.check_confidence(confidence)
        if strata is not None:
            strata = _columns.columns(data, strata, "strata")
            h, labels = _columns.group_codes(data, strata, "strata")
        else:
            h, labels = np.zeros(len(data), np.int64), ["(all)"]
        p = None
        if psu is not None:
            p = _columns.group_codes(data, _columns.columns(data, psu, "psu"), "psu")[0]
        x = name = None
        if fpc is not None:
            name = _columns.columns(data, fpc, "fpc")[0]
            x = _columns.numeric(data[name], name, "fpc needs numbers")
        structure, base = _variance.build(h, labels, p, x, name, data.index, lonely_psu)
        self._data = data
        self._engine = _variance.Engine(structure)
        self._w = _columns.weights(data, weights) if weights is not None else base
        self._lonely = lonely_psu
        self._confidence = float(confidence)
        self._spec = {"weights": weights, "strata": strata, "psu": psu, "fpc": name}
        self._notes: dict = {}

    # -- read-only views -------------------------------------------------------------

    @property
    def data(self) -> pd.DataFrame:
        """The DataFrame the design was built on."""
        return self._data

    @property
    def weights(self) -> pd.Series:
        """The (calibrated, if raked or post-stratified) weight of each row."""
        return pd.Series(self._w, index=self._data.index, name="weight")

    @property
    def df(self) -> int:
        """Design degrees of freedom: PSUs minus strata (those with positive weight)."""
        rows = np.flatnonzero(self._w > 0)
        return int(self._domain_df(rows, np.zeros(len(rows), np.int64), 1)[0])

    @property
    def confidence(self) -> float:
        """Default level of confidence intervals."""
        return self._confidence

    @property
    def lonely_psu(self) -> str:
        """How single-PSU strata are treated (see the class docstring)."""
        return self._lonely

    @property
    def methods(self) -> dict:
        """How the design was specified and how its errors are computed, as plain data.

        A JSON-friendly dict for a brief's methods note: the columns of strata, PSUs,
        weights and fpc; the counts of strata, PSUs, rows and the weighted
        population; the single-PSU rule and the strata it applies to; the
        calibration steps; the variance and interval methods; plus any notes the
        builder of the design added (see :func:`analysis.survey.sampling.frame_design`).

        Examples
        --------
        >>> design.methods["lonely_psu"]                 # doctest: +SKIP
        'adjust'
        """
        s, spec = self._engine.s, self._spec
        n_h = np.bincount(s.psu_h, minlength=s.H)
        single = [str(s.labels[i]) for i in np.flatnonzero(s.single)]
        if spec["weights"] is not None:
            weights = f"column {spec['weights']!r}"
        elif spec["fpc"] is not None:
            weights = f"population over sample per stratum (N_h / n_h, from {spec['fpc']!r})"
        else:
            weights = "equal (unweighted)"
        return {
            "strata": _names(spec["strata"]),
            "psu": _names(spec["psu"]) or "each row",
            "weights": weights,
            "fpc": spec["fpc"],
            "rows": len(self._data),
            "strata_count": int(s.H),
            "psu_count": int(s.C),
            "census_strata": int(((s.d == 0) & (n_h > 1)).sum()),
            "population": float(self._w.sum()),
            "df": self.df,
            "lonely_psu": self._lonely,
            "single_psu_strata": single,
            "calibration": [step.label for step in self._engine.steps],
            "variance": "Taylor linearisation; PSUs with replacement within strata, "
            "one-stage finite-population correction (R survey: svyrecvar)",
            "intervals": "t with the design's degrees of freedom; shares on the logit scale "
            "(R: svyciprop method='logit')",
            "confidence": self._confidence,
            **self._notes,
        }

    def __repr__(self) -> str:
        s = self._engine.s
        cal = "; ".join(step.label for step in self._engine.steps) or "none"
        return (
            f"Design(rows={len(self._data)}, strata={s.H}, psu={s.C}, df={self.df}, "
            f"weight total={self._w.sum():.6g}, calibration: {cal})"
        )

    # -- estimates -------------------------------------------------------------------

    def mean(
        self, var: str, by: str | Sequence[str] | None = None, confidence: float | None = None
    ) -> pd.DataFrame:
        """Weighted mean of a numeric column, overall or by domain.

        Parameters
        ----------
        var : numeric (or boolean) column. Missing values leave the row out of the
            cell as R's ``na.rm=TRUE`` does; the design itself is kept.
        by : domain column or columns. Domains are estimated within the full design
            (rows outside a domain count as zeros), never by subsetting it.
        confidence : interval level; default the design's.

        Returns
        -------
        DataFrame with the ``by`` columns, then ``estimate, se, ci_low, ci_high,
        df, n``: ``df`` the degrees of freedom of the t interval, ``n`` the rows
        with a value in the cell. An empty domain gives ``n=0`` and NaN.

        Raises
        ------
        DesignError
            unknown column, non-numeric or infinite values.

        Examples
        --------
        >>> design.mean("api00", by="stype")            # doctest: +SKIP
        """
        return self._estimate(var, by, confidence, "mean()", self._linearise_mean)

    def total(
        self, var: str, by: str | Sequence[str] | None = None, confidence: float | None = None
    ) -> pd.DataFrame:
        """Estimated population total of a numeric column, overall or by domain.

        Parameters, return value and errors as :meth:`mean`. Rows missing ``var``
        count as zero (R's ``na.rm=TRUE``): with item non-response the total covers
        the respondents who answered only.

        Examples
        --------
        >>> design.total("enroll")                      # doctest: +SKIP
        """
        return self._estimate(var, by, confidence, "total()", self._linearise_total)

    def _estimate(self, var, by, confidence, caller: str, linearise) -> pd.DataFrame:
        """A mean or total by domain: linearise, then SE, df and t interval."""
        y = self._numeric(var, caller)
        dom, D, table = self._domains(by)
        rows, z, k, est, n = linearise(y, dom, D)
        se = _variance.se(self._cov_blocks(rows, z, k, D, 1)[:, 0, 0])
        se[n == 0] = np.nan
        df = self._domain_df(rows, k, D)
        low, high = _variance.t_interval(est, se, df, self._level(confidence))
        return _frame(
            table, {"estimate": est, "se": se, "ci_low": low, "ci_high": high, "df": df, "n": n}
        )

    def proportion(
        self,
        var: str | Sequence[str],
        by: str | Sequence[str] | None = None,
        confidence: float | None = None,
        method: str = "logit",
    ) -> pd.DataFrame:
        """Weighted shares, with intervals that stay inside [0, 1].

        Parameters
        ----------
        var : a categorical column (one row per level; all categories of a pandas
            Categorical, else the levels seen), or a list of 0/1 indicator columns,
            the options of a multi-select question (one row per column; each
            column's missing values leave that row out of that option only).
        by : domain column or columns, as in :meth:`mean`.
        confidence : interval level; default the design's.
        method : ``"logit"`` (R's ``svyciprop(method="logit")``) or ``"beta"`` (R's
            ``svyciprop(method="beta")``, Korn and Graubard's interval with the
            effective sample size; better coverage for small cells and shares near 0
            or 1, see the notes).

        Returns
        -------
        DataFrame with the ``by`` columns, ``level`` (the category, or the indicator
        column's name), ``estimate, se, ci_low, ci_high, df, n``; ``n`` counts the
        rows answering in the domain (the base of the share).

        Raises
        ------
        DesignError
            unknown column; an indicator column with a value other than 0 or 1;
            an unknown ``method``.

        Notes
        -----
        ``logit`` is expit(logit(p) +/- t_df * se / (p (1 - p))). ``beta`` is the
        Clopper-Pearson interval with n_eff = p (1 - p) / se^2 successes-and-failures,
        scaled by (t_{n-1} / t_df)^2 as R does (n the cell's respondents; R counts
        the rows of the domain's design, the same number for a design that is not
        calibrated). When p is exactly 0 or 1 both collapse (R gives NaN), so the open
        side is the Clopper-Pearson bound for 0 (or n) successes out of the cell's n
        respondents: [0, 1 - (alpha/2)^(1/n)] (Korn and Graubard's choice of n when
        the design effect cannot be estimated).

        Examples
        --------
        >>> design.proportion("sch.wide", by="stype")              # doctest: +SKIP
        >>> design.proportion(["need_loans", "need_land", "need_staff"])  # doctest: +SKIP
        """
        level = self._level(confidence)
        _columns.check_method(method)
        dom, D, table = self._domains(by)
        if isinstance(var, str):
            codes, levels = _columns.factor(self._column(var), var)
            rows, k, est, n = self._linearise_share(codes, len(levels), dom, D)
            L = len(levels)
            V = self._cov_blocks(rows, self._w[rows], k, D, L)
            J = _variance.share_jacobian(est, np.bincount(k // L, self._w[rows], minlength=D))
            se = _variance.se(np.einsum("dlm,dmk,dlk->dl", J, V, J))
            df = np.repeat(self._domain_df(rows, k // L, D), L)
            names = list(levels)
            est, se, n = est.ravel(), se.ravel(), np.repeat(n, L)
            se[n == 0] = np.nan
        else:
            cols = _columns.columns(self._data, var, "proportion")
            L = len(cols)
            parts = []
            for col in cols:
                y = self._indicator(col)
                rows, z, k, p, m = self._linearise_mean(y, dom, D)
                s = _variance.se(self._cov_blocks(rows, z, k, D, 1)[:, 0, 0])
                s[m == 0] = np.nan
                parts.append((p, s, m, self._domain_df(rows, k, D)))
            # domain-major order, like the categorical case
            est, se, n, df = (np.stack([part[i] for part in parts], 1).ravel() for i in range(4))
            names = cols
        low, high = _variance.share_interval(est, se, df, n, level, method)
        out = {
            "level": np.tile(np.asarray(names, dtype=object), D),
            "estimate": est,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "df": df,
            "n": n,
        }
        return _frame(None if table is None else table.loc[table.index.repeat(L)], out)

    def replicate(
        self, kind: str, replicates: int | None = None, seed: int | None = None, mse: bool = False
    ):
        """The same sample with replicate weights: jackknife or bootstrap.

        Parameters
        ----------
        kind : ``"JKn"`` (stratified jackknife), ``"JK1"`` (delete-one-PSU jackknife,
            unstratified designs) or ``"bootstrap"`` (Rao and Wu's rescaled bootstrap,
            R's ``type="subbootstrap"``, with the fpc kept).
        replicates : bootstrap replicates (default 500); for ``JKn``, a number of
            random groups of PSUs to delete instead of one PSU at a time (default None:
            one replicate per PSU, as R).
        seed : seed of the bootstrap draws or the grouping.
        mse : centre the variance at the full-sample estimate instead of the mean of
            the replicates (R's ``mse=TRUE``).

        Returns
        -------
        analysis.survey.replicate.ReplicateDesign
            with ``mean``, ``total`` and ``proportion`` giving the same columns as
            this design's, ``weights()`` and ``export(path)``.

        Raises
        ------
        DesignError
            an unknown kind; JK1 on a stratified design; a calibrated design; a
            stratum with a single PSU under ``lonely_psu="fail"``.

        Examples
        --------
        >>> design.replicate("JKn").mean("api00")             # doctest: +SKIP
        >>> design.replicate("bootstrap", 1000, seed=1)       # doctest: +SKIP
        """
        from analysis.survey.replicate import ReplicateDesign

        return ReplicateDesign(self, kind, replicates, seed, mse)

    def assign(self, **columns) -> Design:
        """The same design over the data with columns added or replaced (derived variables).

        Parameters
        ----------
        **columns : column name = array-like, one value per row, in row order (a
            Series must carry the data's index).

        Returns
        -------
        Design with the same strata, PSUs, weights and calibration; the original
        DataFrame is not modified. Replacing a design column (strata, PSU, fpc,
        weights) does not change the design: it was read when the design was built.

        Raises
        ------
        DesignError
            a column whose length is not the number of rows, or a Series on another index.

        Examples
        --------
        >>> design.assign(satisfied=design.data.overall_satisfaction >= 4)  # doctest: +SKIP
        """
        n = len(self._data)
        for name, values in columns.items():
            if isinstance(values, pd.Series) and not values.index.equals(self._data.index):
                raise DesignError(
                    f"column {name!r} is a Series on another index than the data",
                    "derive it from design.data, or pass its .to_numpy() in row order",
                )
            if len(values) != n:
                raise DesignError(
                    f"column {name!r} has {len(values)} values for {n} rows",
                    "give one value per row of the design's data",
                )
        new = self._copy()
        # a shallow copy: the new columns are its own, the others shared, not copied
        # (DataFrame.assign would copy every column: 0.5 GB at a million visits)
        data = self._data.copy(deep=False)
        for name, values in columns.items():
            data[name] = values  # replaces the column in the copy, never writes into it
        new._data = data
        return new

    # -- private: data access --------------------------------------------------------

    def _level(self, confidence: float | None) -> float:
        if confidence is None:
            return self._confidence
        _columns.check_confidence(confidence)
        return float(confidence)

    def _column(self, name: str) -> pd.Series:
        if not isinstance(name, str):
            raise DesignError(
                f"expected one column name, got {name!r}",
                "pass the variable's column name as a string",
            )
        return self._data[_columns.columns(self._data, name, "variable")[0]]

    def _numeric(self, name: str, what: str) -> np.ndarray:
        return _columns.numeric(self._column(name), name, f"{what} needs numbers")

    def _indicator(self, name: str) -> np.ndarray:
        y = _columns.numeric(
            self._column(name), name, "an option of a multi-select question must be a 0/1 column"
        )
        bad = ~np.isnan(y) & (y != 0) & (y != 1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DesignError(
                f"column {name!r} has the value {y[i]:g} in row {self._data.index[i]!r}; "
                "an option of a multi-select question must be 0 or 1",
                "recode the option as 1 = chosen, 0 = not chosen, empty = not asked",
            )
        return y

    def _domains(self, by) -> tuple[np.ndarray, int, pd.DataFrame | None]:
        """Domain code of each row (-1 outside every domain), count, domain table."""
        n = len(self._data)
        cols = _columns.columns(self._data, by, "by") if by is not None else []
        if not cols:
            return np.zeros(n, np.int64), 1, None
        codes = np.zeros(n, np.int64)
        valid = np.ones(n, bool)
        levels = []
        for col in cols:
            c, u = _columns.factor(self._data[col], col)
            valid &= c >= 0
            codes = codes * len(u) + np.maximum(c, 0)
            levels.append((col, self._data[col].dtype, u))
        if all(isinstance(dtype, pd.CategoricalDtype) for _, dtype, _ in levels):
            # every category is a domain, sampled or not: empty ones report n = 0
            keys = np.arange(int(np.prod([len(u) for _, _, u in levels])))
            dom = np.where(valid, codes, -1)
        else:
            inv, keys = pd.factorize(codes[valid], sort=True)
            keys = np.asarray(keys, dtype=np.int64)
            dom = np.full(n, -1, np.int64)
            dom[valid] = inv
        table, rest = {}, keys
        for col, dtype, u in reversed(levels):
            idx = rest % len(u)
            table[col] = (
                pd.Categorical.from_codes(idx, dtype=dtype)
                if isinstance(dtype, pd.CategoricalDtype)
                else u.take(idx)
            )
            rest = rest // len(u)
        return dom, len(keys), pd.DataFrame({col: table[col] for col in cols})

    def _copy(self) -> Design:
        new = object.__new__(Design)
        for slot in Design.__slots__:
            setattr(new, slot, getattr(self, slot))
        return new

    def _annotated(self, **notes) -> Design:
        """A copy whose :attr:`methods` carries extra notes (plain JSON values)."""
        new = self._copy()
        new._notes = {**self._notes, **notes}
        return new

    # -- private: linearisation ------------------------------------------------------

    def _linearise_mean(self, y, dom, D):
        """Rows used, linearised values z, their domain, estimates and counts."""
        rows = np.flatnonzero((dom >= 0) & ~np.isnan(y))
        k = dom[rows]
        w = self._w[rows]
        N = np.bincount(k, w, minlength=D)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = np.bincount(k, w * y[rows], minlength=D) / N
            # centred per domain before any sum, so large means lose no digits
            z = w * (y[rows] - est[k]) / N[k]
        return rows, np.nan_to_num(z), k, est, np.bincount(k, minlength=D)

    def _linearise_total(self, y, dom, D):
        """As :meth:`_linearise_mean`, for totals (z = w y, no centring)."""
        rows = np.flatnonzero((dom >= 0) & ~np.isnan(y))
        k = dom[rows]
        z = self._w[rows] * y[rows]
        n = np.bincount(k, minlength=D)
        return rows, z, k, np.where(n > 0, np.bincount(k, z, minlength=D), np.nan), n

    def _linearise_share(self, codes, L, dom, D):
        """Rows used, their domain x level column, shares (D x L), counts (D)."""
        rows = np.flatnonzero((dom >= 0) & (codes >= 0))
        k = dom[rows] * L + codes[rows]
        A = np.bincount(k, self._w[rows], minlength=D * L).reshape(D, L)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = A / A.sum(1, keepdims=True)
        return rows, k, est, np.bincount(k // L, minlength=D)

    def _cov_blocks(self, rows, z, k, nb, L):
        return self._engine.cov(rows, z, k, nb, L)

    def _domain_df(self, rows, k, D):
        return self._engine.domain_df(rows, k, D, self._w)


# -- helpers -----------------------------------------------------------------------


def _names(columns) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else [str(c) for c in columns]


def _frame(table: pd.DataFrame | None, columns: dict) -> pd.DataFrame:
    out = pd.DataFrame(columns)
    if table is None:
        return out
    return pd.concat([table.reset_index(drop=True), out], axis=1)
