"""Firms visited in both waves: changes between waves with the firm as the cluster.

The frame design (:func:`analysis.survey.sampling.frame_design`) has strata wave x region
x size and each visit its own primary sampling unit: a firm visited in both waves is two
independent units, and the covariance of its two answers is missing from every
wave-to-wave change. With a firm identifier (the instrument's field of ``role: firm``),
:func:`panel_design` stacks the waves as one sample of firms: strata region x size (the
frame strata without the wave), each firm one cluster holding its visits of both waves,
the same weights. The variance of a change is then the with-replacement variance of
the firms' combined contributions (the "ultimate cluster" estimator), so a firm's two
answers enter together and their covariance counts; a firm visited once is a cluster
of one visit, as before.

This is R's ``svydesign(id = ~firm, strata = ~stratum, weights = ~w, nest = TRUE)`` on
the stacked waves, and a change is ``svycontrast`` of ``svyby(..., ~wave, covmat =
TRUE)`` (checked in the tests). R needs clusters nested in strata, and so does this: a
firm whose region or size class changed between waves is put in the stratum of its
latest visit. The design has no finite-population correction (the waves' frames
differ, and a stratum's fpc would have to be one number): for a change this is
conservative where sampling fractions are large, and negligible elsewhere.

Estimates of one wave (levels) keep the frame design; only comparisons across waves use
this one. ``simulations/panel_coverage.py`` checks the coverage of its intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.survey.design import Design

WEIGHT = "_panel_weight"
FIRM = "_panel_firm"
STRATUM = "_panel_stratum"


def panel_design(
    design: Design, firm: str, strata=("region", "size"), wave: str = "wave"
) -> Design:
    """The design for changes between waves: the firm as the cluster across waves.

    Parameters
    ----------
    design : the frame design of the stacked waves (its weights are kept).
    firm : the column identifying a firm across waves; a visit without one is a firm
        of its own.
    strata : the design's strata without the wave.
    wave : the wave column (a firm's latest visit gives its stratum).

    Returns
    -------
    Design
        over the same rows and data (plus three private columns), strata ``strata``,
        PSU the firm, the frame design's weights, no fpc; ``methods`` says so and
        counts the firms visited in more than one wave (``panel_firms``).

    Raises
    ------
    DesignError
        a missing column.

    Examples
    --------
    >>> changes = panel_design(frame_design(visits, frame), "firm_id")  # doctest: +SKIP
    >>> difference(changes, "score", "wave", 2025, 2024)                # doctest: +SKIP
    """
    data = design.data
    for col in (firm, wave, *strata):
        if col not in data.columns:
            raise DesignError(
                f"the data has no column {col!r} for the panel design",
                "name the firm identifier in the instrument (role: firm) and load it",
            )
    ids = data[firm].astype("object").to_numpy()
    missing = pd.isna(ids)
    rows = np.arange(len(data))
    ids = np.where(missing, np.char.add("visit:", rows.astype(str)), ids.astype(str))
    parts = [data[col].astype(str) for col in strata]
    cell = parts[0].str.cat(parts[1:], sep="|", na_rep="").to_numpy()
    order = np.argsort(pd.to_numeric(data[wave]).to_numpy(), kind="stable")
    latest = pd.Series(cell[order], index=ids[order]).groupby(level=0).last()
    stratum = latest.reindex(ids).to_numpy()
    panel = design.assign(**{WEIGHT: design._w, FIRM: ids, STRATUM: stratum})
    out = Design(
        panel.data,
        weights=WEIGHT,
        strata=STRATUM,
        psu=FIRM,
        lonely_psu=design.lonely_psu,
        confidence=design.confidence,
    )
    waves = pd.Series(data[wave].to_numpy()).groupby(ids).nunique()
    return out._annotated(
        sampling="the stacked waves as one sample of firms (changes between waves)",
        panel_firm=firm,
        panel_firms=int((waves > 1).sum()),
        panel_strata=list(strata),
        variance_note="firms are clusters across waves, strata without the wave, "
        "with replacement (no fpc)",
    )
