"""Disclosure control: estimates resting on too few firms are blanked before anyone sees them.

A cell (a region, a size class, an industry within a region …) answered by fewer
than ``min_cell`` firms can identify them, and its estimate is too noisy to print
anyway. :func:`suppress` blanks every value of such a row: the estimate, its SE and
interval, the p-value, rank or any other figure derived from it become missing, and
a ``suppressed`` column says so. A comparison (a difference, a change) is suppressed
when either side rests on too few firms. Every table function of
:mod:`analysis.measures.index`, :mod:`analysis.measures.indicators` and
:mod:`analysis.measures.models` takes ``min_cell`` and applies this before returning, and
before any multiple-testing adjustment, so a blanked comparison never counts as a test.

The respondent counts (``n``, ``n_a``, ``n_b``) stay: they tell the reader why a cell
is empty, and the number of firms sampled in a cell is not confidential. This is
primary suppression only: a blanked cell that could be recovered from published
margins (complementary suppression) is not handled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import DesignError

MIN_CELL = 10
# every figure our tables can carry about a cell; codes, counts and df are kept
VALUES = (
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "estimate_a",
    "estimate_b",
    "p_value",
    "q_value",
    "average",
    "difference",
    "difference_se",
    "rank",
    "rank_low",
    "rank_high",
    "weight",
    "share",
    "performance",
    "performance_se",
    "performance_ci_low",
    "performance_ci_high",
)
FLAGS = ("significant", "differs")
COUNTS = ("n", "n_a", "n_b")


def suppress(table: pd.DataFrame, min_cell: int = MIN_CELL, counts=None) -> pd.DataFrame:
    """Blank the rows of an estimate table whose cells have fewer than ``min_cell`` firms.

    Parameters
    ----------
    table : an estimate table (``estimate, se, ci_low, ci_high, …, n``) or a
        comparison table (``…, n_a, n_b``).
    min_cell : the smallest number of responding firms a published cell may rest
        on; 0 or 1 turns suppression off (a cell with no respondents has no
        estimate anyway).
    counts : the count columns to check; default those of ``n, n_a, n_b`` present.
        A row is suppressed when any of them is below ``min_cell``.

    Returns
    -------
    A copy with the figures of suppressed rows (estimate, SE, interval, p- and
    q-values, ranks, … as listed in ``VALUES``) set to NaN, significance flags
    (``FLAGS``) set to missing, and a boolean column ``suppressed``.

    Raises
    ------
    DesignError
        ``min_cell`` is not a non-negative integer; the table has no count column.

    Examples
    --------
    >>> t = pd.DataFrame({"estimate": [0.4, 0.7], "se": [0.05, 0.2], "n": [120, 6]})
    >>> suppress(t).to_dict("list")
    {'estimate': [0.4, nan], 'se': [0.05, nan], 'n': [120, 6], 'suppressed': [False, True]}
    """
    check_min_cell(min_cell)
    names = [c for c in (COUNTS if counts is None else counts) if c in table.columns]
    if not names:
        raise DesignError(
            "the table has no respondent count column (n, n_a or n_b)",
            "suppress tables straight from the estimating functions, which carry n",
        )
    small = np.zeros(len(table), bool)
    for col in names:
        small |= table[col].to_numpy(dtype=float, na_value=0) < min_cell
    out = table.copy()
    for col in VALUES:
        if col in out.columns:
            out[col] = out[col].astype(float).mask(small)
    for col in FLAGS:
        if col in out.columns:
            out[col] = out[col].astype("boolean").mask(small)
    out["suppressed"] = small
    return out


def check_min_cell(min_cell) -> None:
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)) or min_cell < 0:
        raise DesignError(
            f"min_cell={min_cell!r} is not a number of firms",
            "give a whole number >= 0 (default 10; 0 turns suppression off)",
        )
