"""Check survey exports against the instrument and against each other, reporting every
problem in one pass: ``qifang validate``, and the same check ``qifang run`` makes
before any notebook starts.

Per file, :func:`analysis.ingest.load.load` checks columns and cells (and that the
brief's core questions were read, :mod:`analysis.ingest.core`). Across files this
module checks that the requests point at visits and that the frame covers every
visited stratum with at least as many firms as were visited. :func:`validate` takes
files of any kind and recognises each from its headers; :func:`check_inputs` takes
the visits, ledger and frame of a run. Both end in the same checks, so they agree.

Requests that point at no visit are left out of the ledger, with a warning that says
how many; when none points at a visit the ledger and the export use different ids,
and that is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import InputFileError, Problem, ValidationError
from analysis.ingest._checks import SKIPPED
from analysis.ingest.core import LOOKS_LIKE_A_QUESTION
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
    def unread_questions(self) -> tuple[Problem, ...]:
        """Warnings about columns that look like questions but were not read."""
        return tuple(p for p in self.warnings if LOOKS_LIKE_A_QUESTION in p.message)

    @property
    def skipped_answers(self) -> tuple[Problem, ...]:
        """The per-question summaries of answers some firms skipped."""
        return tuple(p for p in self.warnings if SKIPPED in p.message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def form(self, name: str) -> Loaded | None:
        return next((ld for ld in self.loaded if ld.form == name), None)

    def notices(self) -> list[str]:
        """The warnings a user must see before a brief is made, as lines: columns that
        look like questions but were not read first, then how the export was read
        (option numbers, metadata standing in, requests left out); the per-question
        summaries of skipped answers only as a count."""
        loud, skipped = self.unread_questions, self.skipped_answers
        out = [
            f"warning: {p}"
            for p in (*loud, *(w for w in self.warnings if w not in loud and w not in skipped))
        ]
        if skipped:
            out.append(
                f"({len(skipped):,} questions some firms skipped: `qifang validate` lists them)"
            )
        return out

    def raise_errors(self) -> None:
        """Raise :class:`ValidationError` with every problem if any is an error."""
        if self.errors:
            raise ValidationError(list(self.problems))


def validate(
    paths: list[str | Path],
    instrument: Instrument | None = None,
    sheet: str | None = None,
    wave: int | None = None,
) -> Report:
    """Validate exports: each file's kind (visits, requests, frame) is recognised from
    its headers, then every file and every cross-file rule is checked.

    Parameters
    ----------
    paths : the files; typically visits, requests ledger and frame together.
    instrument : default the bundled questionnaire.
    sheet : worksheet name, for workbooks.
    wave : the wave of visits whose export has no wave column.

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
    return _check([(path, None) for path in paths], inst, sheet, wave)


def check_inputs(
    visits: str | Path,
    requests: str | Path | None = None,
    frame: str | Path | None = None,
    instrument: Instrument | None = None,
    wave: int | None = None,
) -> Report:
    """The inputs of a run, each read as its form, with the cross-file checks of
    :func:`validate`.

    Returns
    -------
    Report
        ``report.form("visits")`` … hold the loaded data; ``report.raise_errors()``
        stops on errors.

    Examples
    --------
    >>> report = check_inputs("data/sample/visits.csv", "data/sample/requests.csv",
    ...                       "data/sample/frame.csv")
    >>> report.ok
    True
    """
    inst = instrument or load_instrument()
    files = [(visits, "visits"), (requests, "requests"), (frame, "frame")]
    return _check([(p, f) for p, f in files if p], inst, None, wave)


def _check(files, inst: Instrument, sheet, wave) -> Report:
    loaded: list[Loaded] = []
    problems: list[Problem] = []
    for path, form in files:
        try:
            result = load(path, form=form, instrument=inst, sheet=sheet, strict=False, wave=wave)
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
    orphan = (ids.notna() & ~ids.isin(known)).to_numpy()
    if not orphan.any():
        return []
    column = _header(requests, "visit_id")
    path = requests.provenance.path
    visits_name = Path(visits.provenance.path).name
    rows = requests.row_numbers[np.flatnonzero(orphan)]
    first = ", ".join(str(r) for r in rows[:5]) + (" …" if len(rows) > 5 else "")
    if orphan.sum() == ids.notna().sum():
        theirs = ", ".join(repr(x) for x in ids.dropna().unique()[:3])
        ours = ", ".join(repr(x) for x in visits.data["visit_id"].dropna().unique()[:3])
        where = _header(visits, "visit_id")
        return [
            Problem(
                path,
                None,
                column,
                None,
                f"none of the {int(ids.notna().sum()):,} requests points at a visit in "
                f"{visits_name}: the ledger's visit ids ({theirs} …) are not the export's "
                f"({ours} …, read from its column {where!r})",
                "the ledger and the export use different ids: give the visits file the column "
                "the ledger's ids come from (e.g. 走访编号), or write the export's ids into the "
                "ledger",
            )
        ]
    return [
        Problem(
            path,
            None,
            column,
            None,
            f"{int(orphan.sum()):,} of {len(ids):,} requests point at no visit in {visits_name} "
            f"(rows {first}); they are left out of the ledger section",
            "nothing to do if those visits are not in this export; otherwise correct their "
            "visit ids",
            "warning",
        )
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
