"""Replicate weights for users of other software: the visits with their weights.

``qifang replicates`` loads the survey of a parameter set (the same parameters as
``qifang run``), builds its design and replicate weights
(:meth:`analysis.survey.design.Design.replicate`) and writes the answers with the
full-sample weight and the replicate weights to CSV or XLSX, with the variance formula's
constants beside them (README: "Replicate weights in R and Stata"). Personal fields and
free-text answers are left out; the file is microdata for the office's analysts, not for
publication (no cell is suppressed in it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from analysis.errors import ParameterError
from analysis.ingest.params import PATHS

KINDS = ("bootstrap", "JKn", "JK1")


def export_replicates(
    raw: dict,
    out: str | Path,
    kind: str = "bootstrap",
    replicates: int | None = None,
    seed: int | None = None,
) -> Path:
    """Write the visits with replicate weights to ``out`` (``.csv`` or ``.xlsx``).

    Parameters
    ----------
    raw : parameters as for ``qifang run`` (visits, frame, instrument, confidence …;
        region, industry and size do not narrow the file: a domain is estimated within
        the whole design, so every visit is written).
    out : the file to write; replaced only once the new one is complete. Beside a CSV,
        ``<name>.replicates.txt`` holds the variance formula's constants.
    kind, replicates, seed : as :meth:`analysis.survey.design.Design.replicate`
        (bootstrap: 500 replicates by default; JKn: one replicate per firm unless a
        number of groups is given).

    Returns
    -------
    The path written.

    Raises
    ------
    ParameterError
        ``out`` is not a ``.csv`` or ``.xlsx`` file, or is one of the run's inputs.
    """
    from analysis.findings.build import open_survey
    from analysis.ingest.params import check

    out = Path(out)
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise ParameterError(
            f"--out {out} is not a .csv or .xlsx file", "name a .csv or .xlsx file"
        )
    if kind not in KINDS:
        raise ParameterError(
            f"--kind {kind!r} is not a kind of replicate weights", f"use one of: {', '.join(KINDS)}"
        )
    if replicates is not None and replicates < 2:
        raise ParameterError(f"--replicates {replicates} is too few", "use e.g. --replicates 500")
    p = check(raw)
    inputs = {Path(getattr(p, name)).resolve() for name in PATHS if getattr(p, name)}
    if out.resolve() in inputs or out.with_suffix(".replicates.txt").resolve() in inputs:
        raise ParameterError(f"--out {out} is one of the inputs", "write to another file")
    if not out.parent.is_dir():
        raise ParameterError(
            f"--out {out}: the folder {out.parent} does not exist",
            "create it first, or name a file in an existing folder",
        )
    survey = open_survey(p)
    design = survey.design
    columns = [
        c
        for q in survey.instrument.visits.fields
        if not q.personal and (q.type != "text" or q.role == "id")
        for c in q.columns
        if c in design.data.columns
    ]
    rep = design.replicate(kind, replicates, seed)
    # Written in a private folder next to the target, then moved into place: a failed
    # export never leaves half a file where the last good one was.
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".qifang-replicates-") as tmp:
        written = rep.export(Path(tmp) / out.name, columns=columns)
        sidecar = written.with_suffix(".replicates.txt")
        if sidecar.exists():
            os.replace(sidecar, out.with_suffix(".replicates.txt"))
        os.replace(written, out)
    return out
