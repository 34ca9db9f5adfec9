"""Calibration of a survey design to known population margins: raking and
post-stratification, with standard errors that account for it.

:class:`Calibration` is a mixin of :class:`analysis.survey.design.Design`; it is kept apart
so each module stays small. The variance side of calibration lives in
:mod:`analysis.survey._variance` (``Step`` and ``Block``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.survey import _variance

# A calibrated design is of the caller's class (Design); this module never imports it.
_D = TypeVar("_D", bound="Calibration")


class Calibration:
    """Raking and post-stratification for :class:`~analysis.survey.design.Design`."""

    __slots__ = ()

    # -- calibration -----------------------------------------------------------------

    def poststratify(self: _D, variable: str, counts: Mapping[Hashable, float]) -> _D:
        """A new design whose weights reproduce known population counts of one variable.

        Parameters
        ----------
        variable : column defining the post-strata (every row needs a value).
        counts : population count of each level, e.g. ``{"E": 4421, "H": 755}``.

        Returns
        -------
        Design with weights w * N_g / sum_g(w); its standard errors remove the
        post-stratum means from the linearised values, as R's ``postStratify()``.

        Raises
        ------
        DesignError
            missing values in ``variable``; a level in the data without a count, or
            with a count but no respondents; counts that are not positive numbers.

        Examples
        --------
        >>> design.poststratify("stype", {"E": 4421, "H": 755, "M": 1018})  # doctest: +SKIP
        """
        codes, target = self._margin(variable, counts)
        totals = np.bincount(codes, self._w, minlength=len(target))
        w = self._w * (target / totals)[codes]
        block = _variance.Block(codes, len(target), np.ones(len(w)), w)
        step = _variance.Step((block,), np.diag(1 / target), f"poststratify({variable})")
        return self._calibrated(w, step)

    def rake(
        self: _D,
        margins: Mapping[str, Mapping[Hashable, float]],
        tol: float = 1e-10,
        max_iter: int = 1000,
    ) -> _D:
        """A new design raked (iterative proportional fitting) to several known margins.

        Parameters
        ----------
        margins : ``{variable: {level: population count}}``; every margin must sum
            to the same population total.
        tol : convergence: the largest relative gap between a weighted margin and its
            target. R's ``rake()`` stops once margins are within 1 unit, so its
            estimates can differ from these in the fifth or sixth digit.
        max_iter : passes over the margins before giving up.

        Returns
        -------
        Design with raked weights; its standard errors project the linearised values
        off the margins as R's ``svyrecvar()`` does for a raked design (its
        back-fitting taken to convergence).

        Raises
        ------
        DesignError
            as :meth:`poststratify` for each margin; margins with different totals;
            no convergence (margins that no weights can meet, e.g. empty cells).

        Examples
        --------
        >>> design.rake({"stype": {"E": 4421, "H": 755, "M": 1018},
        ...              "sch.wide": {"No": 1072, "Yes": 5122}})     # doctest: +SKIP
        """
        if not isinstance(margins, Mapping) or not margins:
            raise DesignError(
                "rake() needs at least one margin", "pass {variable: {level: population count}}"
            )
        parsed = [(name, *self._margin(name, counts)) for name, counts in margins.items()]
        sums = {name: target.sum() for name, _, target in parsed}
        if max(sums.values()) - min(sums.values()) > 1e-6 * max(sums.values()):
            raise DesignError(
                "the margins do not describe the same population: totals "
                + ", ".join(f"{name}={total:g}" for name, total in sums.items()),
                "correct the population counts so every margin sums to the same total",
            )
        w = self._w.copy()
        for _ in range(max_iter):
            for _name, codes, target in parsed:
                w *= (target / np.bincount(codes, w, minlength=len(target)))[codes]
            gap = max(
                np.max(np.abs(np.bincount(c, w, minlength=len(t)) / t - 1)) for _, c, t in parsed
            )
            if gap < tol:
                break
        else:
            raise DesignError(
                f"raking did not converge after {max_iter} passes (margins still off by "
                f"{gap:.2g} relative)",
                "check for levels combinations without respondents, or collapse levels",
            )
        inverse = np.where(w > 0, 1 / np.where(w > 0, w, 1), 0.0)
        blocks = tuple(_variance.Block(c, len(t), inverse, w) for _, c, t in parsed)
        step = _variance.Step(blocks, _variance.rake_solve(blocks), f"rake({', '.join(margins)})")
        return self._calibrated(w, step)

    # -- private ---------------------------------------------------------------------

    def _margin(self, variable: str, counts) -> tuple[np.ndarray, np.ndarray]:
        """Row codes and population counts of a calibration variable."""
        col = self._column(variable)
        if not isinstance(counts, Mapping) or not counts:
            raise DesignError(
                f"population counts for {variable!r} must be a non-empty mapping {{level: count}}",
                "pass e.g. {'E': 4421, 'H': 755}",
            )
        if col.isna().any():
            row = col.index[col.isna().to_numpy()][0]
            raise DesignError(
                f"column {variable!r} is missing in row {row!r} (and "
                f"{int(col.isna().sum()) - 1} more); every respondent needs a "
                "calibration cell",
                "fill or impute the column before calibrating",
            )
        keys = pd.Index(list(counts))
        target = np.array([counts[key] for key in keys], dtype=float)
        if not (np.isfinite(target) & (target > 0)).all():
            raise DesignError(
                f"population counts for {variable!r} must be positive numbers: {dict(counts)!r}",
                "correct the counts (from the frame)",
            )
        codes = keys.get_indexer(col)
        if (codes < 0).any():
            unknown = sorted(map(str, pd.unique(col[codes < 0])))
            raise DesignError(
                f"levels {unknown} of {variable!r} have no population count (counts given "
                f"for {[str(k) for k in keys]})",
                "add their counts, or recode them into a level that has one",
            )
        empty = np.bincount(codes, self._w, minlength=len(keys)) <= 0
        if empty.any():
            raise DesignError(
                f"levels {[str(k) for k in keys[empty]]} of {variable!r} have a population "
                "count but no respondents with positive weight",
                "collapse them with a neighbouring level (in data and counts alike)",
            )
        return codes.astype(np.int64), target

    def _calibrated(self: _D, w: np.ndarray, step: _variance.Step) -> _D:
        new = self._copy()
        new._w = w
        new._engine = self._engine.calibrated(step)
        return new
