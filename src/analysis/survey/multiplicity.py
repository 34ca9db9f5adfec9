"""Many comparisons in one brief: Benjamini-Hochberg q-values.

Every family of tests of a brief (region contrasts, wave changes, size gaps) is
adjusted together, so that "significant" keeps the false discovery rate at
1 - confidence; a suppressed comparison is missing and does not count as a test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from analysis.errors import DesignError


def adjust_pvalues(pvalues):
    """Benjamini-Hochberg adjusted p-values (false discovery rate) for many comparisons.

    Parameters
    ----------
    pvalues : array-like or Series of p-values; NaN (a comparison that could not be
        made) stays NaN and does not count as a test.

    Returns
    -------
    The adjusted p-values (q-values), same shape; a Series keeps its index.

    Raises
    ------
    DesignError
        a p-value outside [0, 1].

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.2])
    array([0.04      , 0.05333333, 0.05333333, 0.2       ])
    """
    values = np.asarray(pvalues, dtype=float)
    flat = values.ravel()
    ok = ~np.isnan(flat)
    if ((flat[ok] < 0) | (flat[ok] > 1)).any():
        raise DesignError(
            f"p-values must lie in [0, 1], got {flat[ok].min():g} to {flat[ok].max():g}",
            "pass the p_value column of the comparisons",
        )
    out = np.full(flat.shape, np.nan)
    if ok.any():
        out[ok] = multipletests(flat[ok], method="fdr_bh")[1]
    out = out.reshape(values.shape)
    if isinstance(pvalues, pd.Series):
        return pd.Series(out, index=pvalues.index, name=pvalues.name)
    return out


def add_q(table: pd.DataFrame, level: float, flag: str = "significant") -> pd.DataFrame:
    """Insert Benjamini-Hochberg ``q_value`` over the table's p-values (suppressed ones
    are missing and do not count) and the ``flag`` column q < 1 - confidence (missing
    where there is no test), right after ``p_value``."""
    q = adjust_pvalues(table["p_value"].to_numpy(dtype=float))
    significant = pd.array(q < 1 - level, dtype="boolean")
    significant[np.isnan(q)] = pd.NA
    at = table.columns.get_loc("p_value") + 1
    out = table.drop(columns=[c for c in ("q_value", flag) if c in table.columns])
    out.insert(at, "q_value", q)
    out.insert(at + 1, flag, significant)
    return out
