"""Columns of a survey DataFrame read for estimation, with errors that say where.

Every problem raises :class:`~analysis.errors.DesignError` naming the column, the
row (the DataFrame's index label) and the value, and what to do about it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import DesignError


def columns(data, names, role) -> list[str]:
    """Column names as a list, each checked to be in the data."""
    cols = [names] if isinstance(names, str) else list(names)
    for col in cols:
        if col not in data.columns:
            raise DesignError(
                f"{role} column {col!r} is not in the data",
                f"use one of: {', '.join(map(str, list(data.columns)[:40]))}",
            )
    return cols


def group_codes(data, cols, role):
    """Integer codes of the combination of columns, and a label per code."""
    codes = np.zeros(len(data), np.int64)
    for col in cols:
        s = data[col]
        if s.isna().any():
            row = s.index[s.isna().to_numpy()][0]
            raise DesignError(
                f"{role} column {col!r} is missing in row {row!r} ({int(s.isna().sum())} rows)",
                f"every respondent needs a {role}: fill the column or drop those rows",
            )
        c, u = pd.factorize(s)
        codes = codes * len(u) + c
    codes, uniques = pd.factorize(codes)
    if role == "psu":  # PSUs are many and never named in messages
        return codes.astype(np.int64), None
    first = np.zeros(len(uniques), np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    parts = [data[col].iloc[first].to_numpy().astype(str) for col in cols]
    return codes.astype(np.int64), ["|".join(p) for p in zip(*parts, strict=True)]


def weights(data, name):
    name = columns(data, name, "weights")[0]
    w = numeric(data[name], name, "weights must be numbers")
    bad = np.isnan(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        what = "missing" if np.isnan(w[i]) else f"negative ({w[i]:g})"
        raise DesignError(
            f"column {name!r} is {what} in row {data.index[i]!r} ({int(bad.sum())} such rows)",
            "every respondent needs a weight >= 0: recompute the weights or drop the row "
            "before building the design",
        )
    if w.sum() <= 0:
        raise DesignError(f"column {name!r} is zero in every row", "check the weight column")
    return w


def factor(s: pd.Series, name: str) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 missing) and levels: all categories of a Categorical, else sorted."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy(np.int64), pd.Index(s.cat.categories)
    try:
        codes, levels = pd.factorize(s, sort=True)
    except TypeError:  # mixed types cannot be sorted: keep the order of appearance
        codes, levels = pd.factorize(s)
    return codes.astype(np.int64), pd.Index(levels)


def numeric(s: pd.Series, name: str, need: str) -> np.ndarray:
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        seen = s.dropna()
        example = f", e.g. {seen.iloc[0]!r} in row {seen.index[0]!r}" if len(seen) else ""
        raise DesignError(
            f"column {name!r} is not numeric (dtype {s.dtype}{example}); {need}",
            "convert it with pandas.to_numeric, or use proportion() for a categorical answer",
        )
    y = s.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(y).any():
        i = int(np.flatnonzero(np.isinf(y))[0])
        raise DesignError(
            f"column {name!r} is infinite in row {s.index[i]!r}",
            "replace the value (or set it missing) before estimating",
        )
    return y


def check_confidence(confidence) -> None:
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise DesignError(
            f"confidence={confidence!r} is not a level between 0 and 1",
            "use e.g. 0.95 for 95% intervals",
        )


SHARE_METHODS = ("logit", "beta")


def check_method(method) -> None:
    if method not in SHARE_METHODS:
        raise DesignError(
            f"method={method!r} is not an interval method for shares",
            f"use one of {', '.join(map(repr, SHARE_METHODS))}",
        )
