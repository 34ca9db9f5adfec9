"""Check survey exports against the instrument and against each other, reporting every
problem in one pass (``qifang validate``).

Per file, :func:`analysis.ingest.load.load` checks columns and cells. Across files this module
checks that every request points at a visit, and that the frame covers every sampled
stratum with at least as many firms as were visited.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputFileError, Problem, ValidationError
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.ingest.load import Loaded, load


@dataclass(frozen=True)
class Report:
    """The outcome of validating one or more files."""

    loaded: tuple[Loaded, ...]
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(
    paths: list[str | Path], instrument: Instrument | None = None, sheet: str | None = None
) -> Report:
    """Validate exports: each file's kind (visits, requests, frame) is recognised from
    its headers, then every file and every cross-file rule is checked.

    Parameters
    ----------
    paths : the files; typically visits, requests ledger and frame together.
    instrument : default the bundled questionnaire.
    sheet : worksheet name, for workbooks.

    Returns
    -------
    Report
        Every problem found; nothing is raised for bad contents.

    Examples
    --------
    >>> report = validate(["data/sample/visits.csv", "data/sample/requests.csv"])
    >>> report.ok
    True
    """
    inst = instrument or load_instrument()
    loaded: list[Loaded] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            result = load(path, form=None, instrument=inst, sheet=sheet, strict=False)
        except InputFileError as exc:
            problems.append(
                Problem(str(path), None, None, None, exc.message.split(": ", 1)[-1], exc.fix)
            )
            continue
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        loaded.append(result)
        problems.extend(result.problems)
    by_form = {ld.form: ld for ld in loaded}
    if "requests" in by_form and "visits" in by_form:
        problems.extend(_requests_point_at_visits(by_form["requests"], by_form["visits"]))
    if "frame" in by_form and "visits" in by_form:
        problems.extend(_frame_covers_sample(by_form["frame"], by_form["visits"], inst))
    return Report(tuple(loaded), tuple(problems))


def _requests_point_at_visits(requests: Loaded, visits: Loaded) -> list[Problem]:
    known = set(visits.data["visit_id"].dropna())
    ids = requests.data["visit_id"]
    orphan = ids.notna() & ~ids.isin(known)
    column = _header(requests, "visit_id")
    return [
        Problem(
            requests.provenance.path,
            int(requests.row_numbers[pos]),
            column,
            str(ids.iloc[pos]),
            f"request points at no visit in {Path(visits.provenance.path).name}",
            "correct the visit id, or add the visit to the visits file",
        )
        for pos in np.flatnonzero(orphan.to_numpy())
    ]


def _frame_covers_sample(frame: Loaded, visits: Loaded, inst: Instrument) -> list[Problem]:
    keys = ["wave", "region", "size"]
    f = frame.data.dropna(subset=[*keys, "firms"])
    counts = visits.data.dropna(subset=keys).groupby(keys, observed=True).size().rename("visited")
    merged = counts.reset_index().merge(f, on=keys, how="left")
    out = []
    region = inst.question("region")
    size = inst.question("size")
    for row in merged.itertuples(index=False):  # one row per stratum, not per firm
        stratum = (
            f"{row.wave} × {region.choice(row.region).label.zh} × {size.choice(row.size).label.zh}"
        )
        if pd.isna(row.firms):
            out.append(
                Problem(
                    frame.provenance.path,
                    None,
                    "firms",
                    stratum,
                    "the frame has no count for a stratum that was visited",
                    "add the number of registered firms for this wave, region and size",
                )
            )
        elif row.firms < row.visited:
            out.append(
                Problem(
                    frame.provenance.path,
                    None,
                    "firms",
                    f"{stratum}: {row.firms:g}",
                    f"fewer registered firms than the {row.visited} visited",
                    "correct the frame count (it must be at least the number visited)",
                )
            )
    return out


def _header(loaded: Loaded, variable: str) -> str:
    for header, name in loaded.provenance.columns.items():
        if name == variable:
            return header
    return variable
