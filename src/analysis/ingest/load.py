"""Load survey exports into analysis-ready data, checking every cell against the instrument.

Exports come as survey tools and Excel make them: CSV in UTF-8, UTF-8 with BOM or
GBK/GB18030, or XLSX; headers either the instrument's variable names or the question
labels as exported (``1.您企业所在的市州：``), and 问卷星's shapes (see
:mod:`analysis.ingest.headers`: matrix rows ``15、(政务服务便利度)``, metadata 序号,
提交答卷时间 …); single choices as codes, label text or option numbers; ratings as
numbers or labels (非常满意 … 非常不满意); multi-selects as one 0/1 column per option
(``5.(融资难融资贵)``) or one cell joined by ``┋ ; ， 、``; a choice with its fill-in
text (``其他〖集体企业〗``); ``(跳过)``, ``(空)`` and blanks as missing. All of them load
to the same data.

An export by option number (问卷星's 按选项序号) is recognised from its single choices:
when every single-choice question is written as option numbers, a rating's number is
read as its option's place in the questionnaire, not as a score (1 = 非常满意 = 5 when
the questionnaire lists 非常满意 first).

Coding works on each column's distinct values (a few hundred at most) and maps them
back to rows in one vectorised step, so a million rows load in seconds.

The loaded data has one column per question (``<question>__<option>`` per option of a
multi-select): single choices as pandas categoricals of the choice codes, ratings and
numbers as floats, dates as datetimes, multi-select options as 0/1 floats (missing
when the question was skipped), text as strings; fill-in texts in
``<question>_other``. The raw file is only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import Problem, ValidationError
from analysis.ingest import core
from analysis.ingest._cells import Missing, choice_lookup, normalize
from analysis.ingest._checks import row_checks
from analysis.ingest._coding import column, empty, multi_columns, option_numbers, problem
from analysis.ingest.headers import HeaderIndex, metadata_role
from analysis.ingest.instrument import Form, Instrument, Question, load_instrument
from analysis.ingest.iorw import RawTable, read_table, release_memory, sha256

__all__ = ["Loaded", "Provenance", "load", "load_survey", "normalize"]


@dataclass(frozen=True)
class Provenance:
    """Where loaded data came from: the file, its hash, and how it was read."""

    path: str
    sha256: str
    rows: int
    encoding: str | None
    sheet: str | None
    header_row: int
    columns: dict[str, str]  # header as in the file -> variable it was read as


@dataclass(frozen=True)
class Loaded:
    """One loaded file: the coded data, its provenance, and every problem found."""

    data: pd.DataFrame
    form: str
    provenance: Provenance
    problems: tuple[Problem, ...]
    row_numbers: np.ndarray  # the spreadsheet row of each data row

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")


def load(
    path: str | Path,
    form: str | None = "visits",
    instrument: Instrument | None = None,
    sheet: str | None = None,
    strict: bool = True,
    wave: int | None = None,
) -> Loaded:
    """Load one export (visits, requests ledger or frame) and check every cell.

    Parameters
    ----------
    path : a CSV or XLSX file.
    form : ``"visits"``, ``"requests"`` or ``"frame"``; None recognises it from the
        headers.
    instrument : the questionnaire; default the bundled one.
    sheet : the worksheet of a workbook; default the visible sheet that looks like
        the form (hidden sheets are read only when named).
    strict : raise :class:`ValidationError` if any problem is an error (default);
        with False, return the problems with the data (used by ``qifang validate``).
    wave : the wave of visits whose export has no wave column (问卷星 writes none);
        without it, the year of the visit date (or 提交答卷时间) when all visits fall
        in one year.

    Returns
    -------
    Loaded

    Raises
    ------
    InputFileError
        The file cannot be read as a table at all.
    ValidationError
        ``strict`` and the contents break the instrument's rules; every problem of
        the file is listed.

    Examples
    --------
    >>> loaded = load("data/sample/visits.csv")
    >>> loaded.data["size"].cat.categories.tolist()
    ['large', 'medium', 'small', 'micro']
    """
    inst = instrument or load_instrument()
    indexes = {name: HeaderIndex(f) for name, f in inst.forms.items()}

    if form is None:

        def score(header: list[str], group: list[str]) -> int:
            return max(ix.score(header, group) for ix in indexes.values())
    else:
        if form not in indexes:
            raise ValueError(f"form must be one of {', '.join(indexes)}")
        score = indexes[form].score
    raw = read_table(path, score, sheet=sheet)
    if form is None:
        form = max(indexes, key=lambda name: indexes[name].score(raw.header, raw.group))
    data, problems, mapping = _code(raw, indexes[form], inst, wave)
    prov = Provenance(
        path=str(Path(path)),
        sha256=sha256(path),
        rows=raw.nrows,
        encoding=raw.encoding,
        sheet=raw.sheet,
        header_row=raw.header_row,
        columns=mapping,
    )
    loaded = Loaded(data, form, prov, tuple(problems), raw.row_numbers)
    if len(data) > 100_000:  # the raw columns were released while coding
        release_memory()
    if strict and loaded.errors:
        raise ValidationError(list(loaded.problems))
    return loaded


def load_survey(path: str | Path, instrument: Instrument | None = None, **kw) -> Loaded:
    """Load a visits export (see :func:`load`)."""
    return load(path, "visits", instrument, **kw)


def _file_problems(raw: RawTable) -> list[Problem]:
    problems = [
        problem(
            raw,
            row,
            None,
            None,
            f"row has {message}",
            "fix the quoting or the delimiters of this row in the file",
        )
        for row, message in raw.bad_rows
    ]
    problems += [
        problem(
            raw,
            row,
            raw.header[j],
            value,
            message,
            "open the file in Excel so it calculates, save it, and load it again (or paste "
            "the values)",
        )
        for row, j, value, message in raw.bad_cells
    ]
    if raw.nrows == 0:
        problems.append(
            problem(
                raw,
                None,
                None,
                None,
                "the file has a header but no data rows",
                "export the survey with its answers",
            )
        )
    return problems


@dataclass
class _Columns:
    """Which columns of the file hold which question, and what was left unread."""

    targets: dict[str, list[tuple[int, object]]]
    mapping: dict[str, str]
    unread: list[int]
    notes: list[Problem]


def _match(raw: RawTable, index: HeaderIndex) -> _Columns:
    form = index.form
    targets: dict[str, list[tuple[int, object]]] = {}
    mapping: dict[str, str] = {}
    unread: list[int] = []
    stand_ins: dict[str, int] = {}
    group = raw.group + [""] * (len(raw.header) - len(raw.group))
    for j, header in enumerate(raw.header):
        hit = index.match_in_group(header, group[j])
        known, role = metadata_role(header)
        if hit is None or (known and role is not None):
            if known:  # 序号, 提交答卷时间, 来自IP …: not a question
                if role is not None:
                    stand_ins.setdefault(role, j)
            elif header.strip():
                unread.append(j)
            continue
        q, option = hit
        targets.setdefault(q.name, []).append((j, option))
        mapping[header] = q.name if option is None else f"{q.name}__{option}"
    notes = []
    # 序号 stands in for the visit id and 提交答卷时间 for the visit date only when the
    # questionnaire has no such question of its own.
    for role, q in (("id", form.by_role("id")), ("submitted", _date_question(form))):
        if q is None or role not in stand_ins or q.name in targets or form.name != "visits":
            continue
        j = stand_ins[role]
        targets[q.name] = [(j, None)]
        mapping[raw.header[j]] = q.name
        notes.append(
            problem(
                raw,
                raw.header_row,
                raw.header[j],
                None,
                f"read as {q.label.zh} ({q.name}): the export has no column of its own for it",
                "nothing to do; add the question to the questionnaire to record it yourself",
                "warning",
            )
        )
    return _Columns(targets, mapping, unread, notes)


def _date_question(form: Form) -> Question | None:
    return next((q for q in form.fields if q.type == "date" and q.required), None)


def _numbered(raw: RawTable, form: Form, targets, missing) -> tuple[bool, bool]:
    """Whether the export writes choices as option numbers, and whether it mixes option
    numbers and text (then a rating's number cannot be told apart from a score)."""
    seen = set()
    for q in form.fields:
        plain = [j for j, option in targets.get(q.name, []) if option is None]
        if q.type != "single" or not plain or all(isinstance(v, int) for v in q.values):
            continue
        seen.add(option_numbers(raw, plain[0], missing))
    return (True in seen and False not in seen), (True in seen and False in seen)


def _in_order(q: Question) -> bool:
    """Whether a rating's option numbers are its scores (the scale listed 1, 2, 3 …)."""
    return all(c.value == pos for pos, c in enumerate(q.choices, 1))


def _code(raw: RawTable, index: HeaderIndex, inst: Instrument, wave: int | None = None):
    form = index.form
    problems = _file_problems(raw)
    cols = _match(raw, index)
    targets, mapping = cols.targets, cols.mapping
    problems += cols.notes
    if not targets:
        raise ValidationError(
            [
                problem(
                    raw,
                    raw.header_row,
                    None,
                    None,
                    f"none of the columns is a question of the {form.name} form — this does not "
                    "look like an export of this questionnaire",
                    "check the file, the sheet (--sheet) and the instrument (--instrument)",
                )
            ]
        )
    problems += core.unread_columns(raw, form, cols.unread, targets)

    missing = Missing(inst.missing_labels)
    numbered, mixed = _numbered(raw, form, targets, missing)
    reversed_ratings: list[Question] = []
    ambiguous: list[tuple[Question, int]] = []
    columns: dict[str, object] = {}
    for q in form.fields:
        where = targets.get(q.name, [])
        if not where:
            if q.required and not (q.role == "wave" and form.name == "visits"):
                problems.append(
                    problem(
                        raw,
                        raw.header_row,
                        q.label.zh,
                        None,
                        f"required column '{q.label.zh}' ({q.name}) is missing",
                        f"add a column headed '{q.label.zh}' or '{q.name}'",
                    )
                )
            for c in q.columns:
                columns[c] = empty(q, raw.nrows)
            continue
        plain = [j for j, option in where if option is None]
        if len(plain) > 1 or (plain and len(where) > 1 and q.type != "multi"):
            problems.append(_duplicate(raw, q, where))
        if q.type == "likert" and not _in_order(q) and option_numbers(raw, plain[0], missing):
            if mixed:
                ambiguous.append((q, plain[0]))
            elif numbered:
                reversed_ratings.append(q)
        if q.type == "multi" and not plain:
            coded, probs = multi_columns(raw, q, where, missing)
        else:
            table = choice_lookup(q, positions=numbered and q.type == "likert")
            coded, probs = column(raw, q, plain[0], missing, table)
        columns.update(coded)
        problems.extend(probs)
        for j, _ in where:
            raw.columns[j] = None  # coded: let the raw text go now, not at the end

    data = pd.DataFrame(columns, index=pd.RangeIndex(raw.nrows))
    if reversed_ratings:
        problems.append(_by_option_number(raw, reversed_ratings))
    if ambiguous:
        problems.append(_mixed(raw, ambiguous))
    if form.name == "visits":
        problems += _wave(raw, form, data, targets, wave)
        problems += core.missing_core(raw, inst, data, targets, cols.unread)
    flagged = {(p.row, p.column) for p in problems if p.severity == "error"}
    problems.extend(row_checks(raw, form, data, targets, flagged))
    problems.sort(key=lambda p: (p.row or 0, p.severity != "error"))
    return data, problems, mapping


def _duplicate(raw: RawTable, q: Question, where) -> Problem:
    heads = [raw.header[j] for j, _ in where]
    return problem(
        raw,
        raw.header_row,
        heads[1],
        None,
        f"columns {', '.join(map(repr, heads))} all read as '{q.label.zh}' ({q.name})",
        f"keep the one that holds {q.label.zh}: delete or rename the other(s) in a copy of "
        f"the export, e.g. keep {heads[0]!r} and rename {heads[1]!r}",
    )


def _mixed(raw: RawTable, ratings: list[tuple[Question, int]]) -> Problem:
    q, j = ratings[0]
    first = q.choices[0]
    return problem(
        raw,
        raw.header_row,
        raw.header[j],
        None,
        f"the {len(ratings)} rating column(s) hold numbers, and the export writes some choices "
        "as option numbers and others as text: a rating's number may be its option number "
        f"(1 = {first.label.zh}, score {first.value}) or its score, and reading it wrongly "
        "would reverse every rating",
        "download the answers again from the survey tool 按选项文本 (as option text), or all "
        "按选项序号 (as option numbers)",
    )


def _by_option_number(raw: RawTable, ratings: list[Question]) -> Problem:
    q = ratings[0]
    order = "、".join(f"{pos} = {c.label.zh}（{c.value}分）" for pos, c in enumerate(q.choices, 1))
    return problem(
        raw,
        raw.header_row,
        None,
        None,
        f"choices are written as option numbers (按选项序号), so the {len(ratings)} rating "
        f"column(s) are read as option numbers too, in the questionnaire's order: {order}",
        "check that the instrument lists the rating options in the questionnaire's order",
        "warning",
    )


def _wave(raw: RawTable, form: Form, data: pd.DataFrame, targets, wave) -> list[Problem]:
    """Visits without a wave column take it from ``wave=`` or from their dates."""
    q = form.by_role("wave")
    if q is None or q.name in targets:
        return []
    dated = _date_question(form)
    source = next((h for h, name in _mapped(raw, targets) if dated and name == dated.name), None)
    if wave is not None:
        data[q.name] = np.full(len(data), int(wave), dtype=np.int64)
        return []
    dates = pd.to_datetime(data[dated.name]) if dated is not None else pd.Series(dtype=object)
    years = sorted({int(y) for y in dates.dt.year.dropna()}) if len(dates) else []
    if len(years) == 1:
        data[q.name] = np.full(len(data), years[0], dtype=np.int64)
        return [
            problem(
                raw,
                raw.header_row,
                source,
                None,
                f"no {q.label.zh} ({q.name}) column: every visit is taken as wave {years[0]}, "
                f"the year of {source}",
                f"nothing to do if that is the wave; otherwise give it, e.g. wave={years[0]}",
                "warning",
            )
        ]
    if years:
        return [
            problem(
                raw,
                raw.header_row,
                source,
                None,
                f"no {q.label.zh} ({q.name}) column, and the visits' dates span "
                f"{years[0]}–{years[-1]}: the wave cannot be told from them",
                f"give the wave: qifang run wave={years[-1]} … (qifang validate --wave "
                f"{years[-1]} …), or add a column '{q.label.zh}'",
            )
        ]
    return [
        problem(
            raw,
            raw.header_row,
            q.label.zh,
            None,
            f"required column '{q.label.zh}' ({q.name}) is missing",
            f"add a column headed '{q.label.zh}' or '{q.name}', or give the wave, e.g. wave=2025",
        )
    ]


def _mapped(raw: RawTable, targets) -> list[tuple[str, str]]:
    return [(raw.header[j], name) for name, where in targets.items() for j, _ in where]
