"""Load survey exports into analysis-ready data, checking every cell against the instrument.

Exports come as survey tools and Excel make them: CSV in UTF-8, UTF-8 with BOM or
GBK/GB18030, or XLSX; headers either the instrument's variable names or the question
labels as exported (``1.您企业所在的市州：``); single choices as codes, label text or
option numbers; ratings as numbers or labels (非常满意 … 非常不满意); multi-selects as
one 0/1 column per option (``5.(融资难融资贵)``) or one cell joined by ``┋ ; ， 、``;
``(跳过)``, ``(空)`` and blanks as missing. All of them load to the same data.

Coding works on each column's distinct values (a few hundred at most) and maps them
back to rows in one vectorised step, so a million rows load in seconds.

The loaded data has one column per question (``<question>__<option>`` per option of a
multi-select): single choices as pandas categoricals of the choice codes, ratings and
numbers as floats, dates as datetimes, multi-select options as 0/1 floats (missing
when the question was skipped), text as strings. The raw file is only read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import Problem, ValidationError
from analysis.ingest._cells import (
    FALSE,
    FORMULA,
    MAX_TEXT,
    TRUE,
    Missing,
    choice_lookup,
    normalize,
    parse,
)
from analysis.ingest.instrument import Form, Instrument, Question, load_instrument
from analysis.ingest.iorw import RawTable, read_table, release_memory, sha256

_LEADING_NUMBER = re.compile(r"^\s*(?:Q|第)?\s*\d+(?:[.\-_]\d+)*\s*(?:[.、:：)）]|题)?\s*")
_TRAILING = re.compile(r"[\s:：?？。*＊]+$")
_OPTION = re.compile(r"^(?P<prefix>.*?)[(（](?P<option>[^()（）]+)[)）]$")


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


def _header_key(text: str) -> str:
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = _LEADING_NUMBER.sub("", s)
    s = _TRAILING.sub("", s)
    return normalize(s)


class _HeaderIndex:
    """Recognises a form's columns by variable name, label, short label or alias."""

    def __init__(self, form: Form):
        self.form = form
        self.whole: dict[str, tuple[Question, object]] = {}
        self.option_by_label: dict[str, list[tuple[Question, object]]] = {}
        self.multi_prefix: dict[str, Question] = {}
        for q in form.fields:
            for key in (q.name, q.label.zh, q.label.en, q.short.zh, q.short.en, *q.aliases):
                self.whole.setdefault(_header_key(key), (q, None))
            if q.type == "multi":
                for key in (q.name, q.label.zh, q.label.en, q.short.zh, q.short.en, *q.aliases):
                    self.multi_prefix[_header_key(key)] = q
                for c in q.choices:
                    self.whole[normalize(f"{q.name}__{c.value}")] = (q, c.value)
                    self.whole[normalize(f"{q.name}/{c.value}")] = (q, c.value)
                    for key in {c.label.zh, c.label.en, c.short.zh, c.short.en, str(c.value)}:
                        self.option_by_label.setdefault(normalize(key), []).append((q, c.value))

    def match(self, header: str) -> tuple[Question, object] | None:
        if not header.strip():
            return None
        key = _header_key(header)
        if key in self.whole:
            return self.whole[key]
        m = _OPTION.match(unicodedata.normalize("NFKC", header).strip())
        if m:
            prefix = _header_key(m.group("prefix"))
            option = normalize(m.group("option"))
            candidates = self.option_by_label.get(option, [])
            if prefix in self.multi_prefix:
                candidates = [c for c in candidates if c[0] is self.multi_prefix[prefix]]
            if len(candidates) == 1:
                return candidates[0]
        return None

    def match_in_group(self, header: str, group: str) -> tuple[Question, object] | None:
        """A header cell read with the group header above it: an option (融资难融资贵)
        under its question (您企业目前面临的主要困难), as two-row Excel headers have it."""
        hit = self.match(header)
        if hit is None and group.strip() and header.strip():
            hit = self.match(f"{group}({header})")
        return hit

    def score(self, header: list[str], group: list[str] = ()) -> int:
        group = list(group) + [""] * (len(header) - len(group))
        pairs = zip(header, group[: len(header)], strict=True)
        return sum(self.match_in_group(h, g) is not None for h, g in pairs)


def load(
    path: str | Path,
    form: str | None = "visits",
    instrument: Instrument | None = None,
    sheet: str | None = None,
    strict: bool = True,
) -> Loaded:
    """Load one export (visits, requests ledger or frame) and check every cell.

    Parameters
    ----------
    path : a CSV or XLSX file.
    form : ``"visits"``, ``"requests"`` or ``"frame"``; None recognises it from the
        headers.
    instrument : the questionnaire; default the bundled one.
    sheet : the worksheet of a workbook; default the sheet that looks like the form.
    strict : raise :class:`ValidationError` if any problem is an error (default);
        with False, return the problems with the data (used by ``qifang validate``).

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
    indexes = {name: _HeaderIndex(f) for name, f in inst.forms.items()}

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
    data, problems, mapping = _code(raw, indexes[form], inst)
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


def _problem(raw: RawTable, row, column, value, message, fix, severity="error") -> Problem:
    return Problem(
        raw.path, None if row is None else int(row), column, value, message, fix, severity
    )


def _code(raw: RawTable, index: _HeaderIndex, inst: Instrument):
    form = index.form
    problems: list[Problem] = []
    for row, message in raw.bad_rows:
        problems.append(
            _problem(
                raw,
                row,
                None,
                None,
                f"row has {message}",
                "fix the quoting or the delimiters of this row in the file",
            )
        )
    for row, j, value, message in raw.bad_cells:
        problems.append(
            _problem(
                raw,
                row,
                raw.header[j],
                value,
                message,
                "open the file in Excel so it calculates, save it, and load "
                "it again (or paste the values)",
            )
        )
    if raw.nrows == 0:
        problems.append(
            _problem(
                raw,
                None,
                None,
                None,
                "the file has a header but no data rows",
                "export the survey with its answers",
            )
        )

    targets: dict[str, list[tuple[int, object]]] = {}
    mapping: dict[str, str] = {}
    group = raw.group + [""] * (len(raw.header) - len(raw.group))
    for j, header in enumerate(raw.header):
        hit = index.match_in_group(header, group[j])
        if hit is None:
            if header.strip():
                problems.append(
                    _problem(
                        raw,
                        raw.header_row,
                        header,
                        None,
                        f"column is not a question of the {form.name} form; it is ignored",
                        "remove it, or add the question to the instrument",
                        "warning",
                    )
                )
            continue
        q, option = hit
        targets.setdefault(q.name, []).append((j, option))
        mapping[header] = q.name if option is None else f"{q.name}__{option}"

    if not targets:
        raise ValidationError(
            [
                _problem(
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

    missing = Missing(inst.missing_labels)
    columns: dict[str, object] = {}
    for q in form.fields:
        cols = targets.get(q.name, [])
        if not cols:
            if q.required:
                problems.append(
                    _problem(
                        raw,
                        raw.header_row,
                        q.label.zh,
                        None,
                        f"required column '{q.label.zh}' ({q.name}) is missing",
                        f"add a column headed '{q.label.zh}' or '{q.name}'",
                    )
                )
            for c in q.columns:
                columns[c] = _empty(q, raw.nrows)
            continue
        plain = [j for j, option in cols if option is None]
        if len(plain) > 1 or (plain and len(cols) > 1 and q.type != "multi"):
            heads = ", ".join(repr(raw.header[j]) for j, _ in cols)
            problems.append(
                _problem(
                    raw,
                    raw.header_row,
                    raw.header[cols[1][0]],
                    None,
                    f"columns {heads} all hold '{q.name}'",
                    "keep one of them",
                )
            )
        if q.type == "multi" and not plain:
            coded, probs = _multi_columns(raw, q, cols, missing)
        else:
            coded, probs = _column(raw, q, plain[0], missing)
        columns.update(coded)
        problems.extend(probs)
        for j, _ in cols:
            raw.columns[j] = None  # coded: let the raw text go now, not at the end

    data = pd.DataFrame(columns, index=pd.RangeIndex(raw.nrows))
    flagged = {(p.row, p.column) for p in problems if p.severity == "error"}
    problems.extend(_row_checks(raw, form, data, targets, flagged))
    problems.sort(key=lambda p: (p.row or 0, p.severity != "error"))
    return data, problems, mapping


def _empty(q: Question, n: int):
    if q.type == "single":
        return pd.Categorical([None] * n, categories=list(q.values))
    if q.type == "text":
        return pd.array([None] * n, dtype="string[pyarrow]")
    if q.type == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, np.nan)


def _distinct(raw: RawTable, j: int):
    """A column as (codes into its distinct values, the distinct values as an Arrow
    string array)."""
    import pyarrow as pa

    arr = raw.columns[j]
    if isinstance(arr, pa.ChunkedArray):
        if pa.types.is_dictionary(arr.type):
            arr = arr.unify_dictionaries()  # blocks read in parallel have own dictionaries
        arr = arr.combine_chunks()
    if not pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_encode()
    return np.asarray(arr.indices), arr.dictionary


def _text_values(q: Question, distinct, missing) -> tuple[object, dict]:
    """Free text, ids and names: nearly every value is distinct, so they are checked
    with Arrow compute on the whole column, and only suspect values in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(distinct)
    length = pc.utf8_length(trimmed).to_numpy(zero_copy_only=False)
    absent = pc.is_in(trimmed, value_set=pa.array(sorted(missing.raw))).to_numpy(
        zero_copy_only=False
    )
    for k in np.flatnonzero(~absent & (length <= missing.longest + 2)):
        absent[k] = missing(trimmed[int(k)].as_py())  # short: maybe a missing label
    suspect = (length > MAX_TEXT) | pc.match_substring_regex(trimmed, FORMULA.pattern).to_numpy(
        zero_copy_only=False
    )
    bad = {}
    for k in np.flatnonzero(suspect & ~absent):
        bad[int(k)] = parse(q, trimmed[int(k)].as_py(), {})[1]
    keep = ~absent & ~suspect
    return pc.if_else(pa.array(keep), trimmed, pa.scalar(None, pa.string())), bad


def _column(raw: RawTable, q: Question, j: int, missing) -> tuple[dict, list[Problem]]:
    codes, distinct = _distinct(raw, j)
    header = raw.header[j]
    bad: dict[int, tuple[str, str]] = {}
    if q.type == "text":
        values, bad = _text_values(q, distinct, missing)
    else:
        distinct = distinct.to_pylist()
        values: list[object] = []
        table = choice_lookup(q) if q.type in ("single", "likert", "multi") else {}
        for k, text in enumerate(distinct):
            if missing(text):
                values.append(None)
                continue
            value, why = parse(q, text, table)
            if why:
                bad[k] = why
            values.append(value)

    problems = []
    if bad:
        bad_codes = np.fromiter(bad, dtype=np.int64)
        for pos in np.flatnonzero(np.isin(codes, bad_codes)):
            message, fix = bad[int(codes[pos])]
            value = distinct[int(codes[pos])]
            value = value.as_py() if hasattr(value, "as_py") else value
            problems.append(_problem(raw, raw.row_numbers[pos], header, value, message, fix))
    if q.type == "multi":
        out = {}
        for c in q.choices:
            per_value = np.array([np.nan if v is None else float(c.value in v) for v in values])
            out[f"{q.name}__{c.value}"] = per_value[codes] if len(codes) else np.array([])
        return out, problems
    return {q.name: _assemble(q, values, codes)}, problems


def _assemble(q: Question, values: list, codes: np.ndarray):
    if q.type == "single":
        cats = list(q.values)
        pos = np.array([-1 if v is None else cats.index(v) for v in values], dtype=np.int64)
        return pd.Categorical.from_codes(pos[codes] if len(codes) else [], categories=cats)
    if q.type in ("likert", "number"):
        arr = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        arr = arr[codes] if len(codes) else np.array([])
        if q.integer and not np.isnan(arr).any():
            return arr.astype(np.int64)  # a complete whole-number column (the wave) stays int
        return arr
    if q.type == "date":
        arr = np.array(
            [np.datetime64("NaT") if v is None else np.datetime64(v, "ns") for v in values],
            dtype="datetime64[ns]",
        )
        return arr[codes] if len(codes) else np.array([], dtype="datetime64[ns]")
    arr = pd.arrays.ArrowStringArray(values)  # an Arrow array from _text_values
    return arr.take(codes) if len(codes) else pd.array([], dtype="string[pyarrow]")


def _multi_columns(raw: RawTable, q: Question, cols, missing) -> tuple[dict, list[Problem]]:
    """A multi-select exported as one 0/1 column per option."""
    problems: list[Problem] = []
    present = {option for _, option in cols}
    out: dict[str, np.ndarray] = {}
    any_answer = np.zeros(raw.nrows, dtype=bool)
    for j, option in cols:
        codes, distinct = _distinct(raw, j)
        distinct = distinct.to_pylist()
        label = q.choice(option).label
        vals = []
        for text in distinct:
            t = normalize(text)
            if missing(text):
                vals.append(np.nan)
            elif t in TRUE or t in (normalize(label.zh), normalize(label.en), normalize(option)):
                vals.append(1.0)
            elif t in FALSE:
                vals.append(0.0)
            else:
                vals.append(-1.0)
        arr = np.array(vals)[codes] if len(codes) else np.array([])
        for pos in np.flatnonzero(arr == -1.0):
            problems.append(
                _problem(
                    raw,
                    raw.row_numbers[pos],
                    raw.header[j],
                    distinct[codes[pos]],
                    f"option '{label.zh}' of '{q.short.zh}' must be 1 or 0",
                    "write 1 if the option was chosen, 0 if not",
                )
            )
        arr[arr == -1.0] = np.nan
        any_answer |= ~np.isnan(arr)
        out[f"{q.name}__{option}"] = arr
    for c in q.choices:
        name = f"{q.name}__{c.value}"
        if c.value not in present:
            # an option the export has no column for was not offered: 0 where answered
            out[name] = np.where(any_answer, 0.0, np.nan)
    return {c: out[c] for c in q.columns}, problems


def _row_checks(
    raw: RawTable, form: Form, data: pd.DataFrame, targets, flagged: set
) -> list[Problem]:
    """Checks across cells: required answers, duplicate ids, ledger consistency, and a
    summary warning per optional question that some firms skipped. A cell already
    reported as invalid is not reported again as empty."""
    problems: list[Problem] = []
    rows = raw.row_numbers
    header_of = {name: raw.header[cols[0][0]] for name, cols in targets.items()}
    for q in form.fields:
        if q.name not in targets:
            continue
        col = data[q.columns[0]] if q.type != "multi" else data[list(q.columns)].iloc[:, 0]
        empty = np.asarray(pd.isna(col))
        if q.required:
            for pos in np.flatnonzero(empty):
                if (int(rows[pos]), header_of[q.name]) in flagged:
                    continue
                problems.append(
                    _problem(
                        raw,
                        rows[pos],
                        header_of[q.name],
                        "",
                        f"required '{q.short.zh}' ({q.name}) is empty",
                        "fill it in, or remove the row if it is not a real visit",
                    )
                )
        elif empty.any() and not q.personal:
            first = ", ".join(str(r) for r in rows[np.flatnonzero(empty)[:5]])
            problems.append(
                _problem(
                    raw,
                    None,
                    header_of[q.name],
                    None,
                    f"{int(empty.sum())} of {len(empty)} rows skipped this optional question "
                    f"(first rows: {first})",
                    "nothing to do if the firms did not answer it",
                    "warning",
                )
            )
    ident = form.by_role("id")
    if ident is not None and ident.name in targets:
        ids = data[ident.name]
        dup = ids.duplicated(keep=False) & ids.notna()
        if dup.any():
            first_row = pd.Series(rows).groupby(ids.to_numpy()).transform("min").to_numpy()
            for pos in np.flatnonzero(dup.to_numpy() & (first_row != rows)):
                problems.append(
                    _problem(
                        raw,
                        rows[pos],
                        header_of[ident.name],
                        str(ids.iloc[pos]),
                        f"duplicate {ident.name}: also on row {first_row[pos]}",
                        "keep one of the rows, or give each visit its own id",
                    )
                )
    if form.name == "frame" and {"wave", "region", "size"} <= set(targets):
        keys = data[["wave", "region", "size"]].astype(str)
        dup = keys.duplicated(keep=False).to_numpy() & data["firms"].notna().to_numpy()
        first_row = pd.Series(rows).groupby([keys[c] for c in keys]).transform("min").to_numpy()
        for pos in np.flatnonzero(dup & (first_row != rows)):
            problems.append(
                _problem(
                    raw,
                    rows[pos],
                    header_of["region"],
                    " × ".join(keys.iloc[pos]),
                    f"this wave × region × size is also on row {first_row[pos]}",
                    "keep one count per stratum",
                )
            )
    if form.name == "requests" and {"status", "raised_date", "resolved_date"} <= set(targets):
        status = data["status"].astype(object)
        raised, resolved = data["raised_date"], data["resolved_date"]
        checks = [
            (
                (status == "resolved") & resolved.isna(),
                "resolved_date",
                "status is 已办结 (resolved) but the resolution date is empty",
                "add the date it was resolved, or correct the status",
            ),
            (
                resolved < raised,
                "resolved_date",
                "resolved before it was raised",
                "correct one of the two dates",
            ),
            (
                (status != "resolved") & resolved.notna() & status.notna(),
                "resolved_date",
                "has a resolution date but its status is not 已办结 (resolved)",
                "correct the status or remove the date",
            ),
        ]
        for mask, column, message, fix in checks:
            for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
                problems.append(
                    _problem(
                        raw,
                        rows[pos],
                        header_of.get(column, column),
                        str(resolved.iloc[pos].date()) if pd.notna(resolved.iloc[pos]) else "",
                        message,
                        fix,
                    )
                )
    return problems
