"""How the visits were sampled: the design of a brief, built from the frame, and its domain.

Firms are sampled per stratum wave x region x size class from the frame of registered
firms (``frame.csv``: columns ``wave, region, size, firms``). :func:`frame_design`
joins the visits to the frame and returns the :class:`~analysis.survey.design.Design`:
strata = wave x region x size, PSU = the firm (each visit, unless a firm column is
given), fpc = the frame's firms of the stratum, so the base weight is N_h / n_h.

A brief is about a part of the population (a region, an industry, a size class, a
wave). :func:`domain_mask` turns those parameters into a boolean mask that every
estimating function takes as ``domain=``: the part is estimated as a domain of the
full design, never by subsetting the data, so standard errors keep the design's
strata and degrees of freedom (R: estimation on ``subset(design, ...)``).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.survey.design import Design

STRATA = ("wave", "region", "size")
FPC = "_frame_firms"
# Single-PSU strata (one firm visited in a wave x region x size cell) are common in
# small regions. "adjust" keeps the cell's estimate and adds a conservative variance
# term (its PSU total measured from zero, R's survey.lonely.psu = "adjust"); failing
# would stop a routine brief, and "remove" would understate the error.
PIPELINE_LONELY_PSU = "adjust"


def frame_design(
    visits: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    psu: str | None = None,
    lonely_psu: str = PIPELINE_LONELY_PSU,
    confidence: float = 0.95,
) -> Design:
    """The design of the visits: strata wave x region x size, weights N_h / n_h from the frame.

    Parameters
    ----------
    visits : the loaded visits (``load(path).data``), with ``wave``, ``region``, ``size``.
    frame : the loaded frame, one row per wave x region x size with ``firms``, the
        registered firms of the stratum.
    psu : column identifying the firm when a firm can appear more than once in a wave;
        None: every visit is a different firm (its own PSU). PSUs are nested in
        strata, so a firm visited in two waves counts as two PSUs: the covariance of
        a panel firm's two answers is ignored, which makes wave-to-wave changes
        conservative.
    lonely_psu : rule for a stratum with a single visited firm (see
        :class:`~analysis.survey.design.Design`); default ``"adjust"`` (conservative).
    confidence : level of the confidence intervals.

    Returns
    -------
    Design
        over the visits plus a column ``_frame_firms``; its ``methods`` dict records
        the strata, weights, lonely-PSU rule (and the strata it applied to) and the
        frame's coverage: ``frame_strata_unvisited`` and ``frame_firms_unvisited``
        count the frame strata of the visited waves without any visit, whose firms
        the weights cannot represent.

    Raises
    ------
    DesignError
        a missing column; a frame listing a stratum twice or with a count that is not
        a positive number; a visited stratum absent from the frame; a stratum with
        more visited firms than the frame holds. Each names wave, region and size.

    Examples
    --------
    >>> from analysis.ingest.load import load
    >>> design = frame_design(load("data/sample/visits.csv").data,
    ...                       load("data/sample/frame.csv", "frame").data)  # doctest: +SKIP
    >>> design.methods["strata"]                                          # doctest: +SKIP
    ['wave', 'region', 'size']
    """
    for name, table, cols in (
        ("visits", visits, STRATA),
        ("frame", frame, (*STRATA, "firms")),
    ):
        if not isinstance(table, pd.DataFrame):
            raise DesignError(
                f"the {name} must be a DataFrame, not {type(table).__name__}",
                f"pass the loaded {name} table (analysis.ingest.load.load(...).data)",
            )
        missing = [c for c in cols if c not in table.columns]
        if missing:
            raise DesignError(
                f"the {name} table has no column(s) {', '.join(map(repr, missing))}",
                f"load the {name} file with its form, so columns {', '.join(cols)} are named",
            )
    firms = _frame_counts(frame)
    for col in STRATA:
        if visits[col].isna().any():
            row = visits.index[visits[col].isna().to_numpy()][0]
            raise DesignError(
                f"visit in row {row!r} has no {col} ({int(visits[col].isna().sum())} visits)",
                f"every visit needs a {col} to be weighted: fill it or drop those visits",
            )
    groups = visits.groupby(list(STRATA), observed=True, sort=False)
    code = groups.ngroup().to_numpy()
    sampled = groups.size()
    keys = [_key(k) for k in sampled.index]
    N = np.array([firms.get(k, np.nan) for k in keys])
    absent = [(k, int(n)) for k, n, c in zip(keys, sampled, N, strict=True) if np.isnan(c)]
    if absent:
        raise DesignError(
            f"{len(absent)} visited strata are not in the frame: "
            + "; ".join(f"{_name(k)} ({n} visits)" for k, n in absent[:10])
            + (" …" if len(absent) > 10 else ""),
            "add a frame row with the registered firms of each (wave, region, size), or "
            "correct the visits' wave/region/size",
        )
    over = [(k, int(n), int(c)) for k, n, c in zip(keys, sampled, N, strict=True) if n > c]
    if over:
        raise DesignError(
            f"{len(over)} strata have more visited firms than the frame holds: "
            + "; ".join(f"{_name(k)}: {n} visits, {c} firms in the frame" for k, n, c in over[:10])
            + (" …" if len(over) > 10 else ""),
            "check the frame counts (registered firms of that wave, region and size "
            "class) and the size classification of the visited firms",
        )
    waves, visited = {k[0] for k in keys}, set(keys)
    unvisited = {k: c for k, c in firms.items() if k[0] in waves and k not in visited}
    data = visits.assign(**{FPC: N[code]})
    design = Design(
        data, strata=list(STRATA), psu=psu, fpc=FPC, lonely_psu=lonely_psu, confidence=confidence
    )
    return design._annotated(
        sampling="stratified sample of firms from the frame of registered firms, "
        "strata wave x region x size class",
        frame_strata=len(keys),
        frame_strata_unvisited=[_name(k) for k in sorted(unvisited, key=str)],
        frame_firms_unvisited=int(sum(unvisited.values())),
    )


def domain_mask(
    data: pd.DataFrame,
    *,
    region: Hashable | list | None = None,
    wave: Hashable | list | None = None,
    industry: Hashable | list | None = None,
    size: Hashable | list | None = None,
) -> np.ndarray | None:
    """The rows a brief is about, as a boolean mask for the ``domain=`` of estimates.

    Parameters
    ----------
    data : the design's data (``design.data``).
    region, wave, industry, size : a value (or list of values) of that column; None:
        all. Conditions combine with "and".

    Returns
    -------
    numpy boolean array, one value per row, or None when no parameter is given
    (the whole population).

    Raises
    ------
    DesignError
        a parameter's column is missing, or a value that no row has (the brief
        would be empty): the message lists the values that exist.

    Examples
    --------
    >>> mask = domain_mask(design.data, region="haidong", wave=2025)   # doctest: +SKIP
    >>> index(design, domain=mask)                                     # doctest: +SKIP
    """
    mask = None
    for col, value in (("region", region), ("wave", wave), ("industry", industry), ("size", size)):
        if value is None:
            continue
        if col not in data.columns:
            raise DesignError(f"the data has no column {col!r}", f"drop the {col} parameter")
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        column = data[col]
        present = set(pd.unique(column.dropna()).tolist())
        unknown = [v for v in values if v not in present]
        if unknown:
            raise DesignError(
                f"{col}={unknown[0]!r} matches no visit",
                f"use one of: {', '.join(map(str, sorted(present, key=str)))}",
            )
        hit = column.isin(values).to_numpy(dtype=bool, na_value=False)
        mask = hit if mask is None else mask & hit
    return mask


def _frame_counts(frame: pd.DataFrame) -> dict:
    """{(wave, region, size): firms} of the frame, each stratum once, positive counts."""
    for col in STRATA:
        if frame[col].isna().any():
            row = frame.index[frame[col].isna().to_numpy()][0]
            raise DesignError(
                f"the frame has no {col} in row {row!r}",
                "every frame row names its wave, region and size class",
            )
    keys = [_key(k) for k in frame[list(STRATA)].itertuples(index=False, name=None)]
    firms = pd.to_numeric(frame["firms"], errors="coerce").to_numpy(dtype=float)
    bad = [k for k, c in zip(keys, firms, strict=True) if not (np.isfinite(c) and c >= 0)]
    if bad:
        raise DesignError(
            f"the frame's firm count is missing or negative for {_name(bad[0])} "
            f"({len(bad)} strata)",
            "give the number of registered firms of every stratum",
        )
    seen: dict = {}
    for k, c in zip(keys, firms, strict=True):
        if k in seen:
            raise DesignError(
                f"the frame lists {_name(k)} twice",
                "keep one row per (wave, region, size); add the counts if they are parts",
            )
        seen[k] = c
    return seen


def _key(values) -> tuple:
    wave, region, size = values
    # waves may load as integers in one file and floats in another
    wave = int(wave) if isinstance(wave, (int, float, np.integer, np.floating)) else str(wave)
    return wave, str(region), str(size)


def _name(key: tuple) -> str:
    return f"wave={key[0]} region={key[1]} size={key[2]}"
