"""Coding one column of an export: its distinct values go through the cell parser
(:mod:`analysis.ingest._cells`) and the results are mapped back to the rows in one
vectorised step, so a million rows code in seconds. Used by :mod:`analysis.ingest.load`.

A choice with text written beside it (问卷星's ``其他〖集体企业〗``) is read as the
choice, and the text is kept in a column ``<question>_other``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import Problem
from analysis.ingest._cells import FALSE, FORMULA, MAX_TEXT, TRUE, fill_in, normalize, parse
from analysis.ingest.instrument import Question
from analysis.ingest.iorw import RawTable

OTHER = "_other"  # suffix of the column holding a choice's fill-in text


def problem(raw: RawTable, row, column, value, message, fix, severity="error") -> Problem:
    return Problem(
        raw.path, None if row is None else int(row), column, value, message, fix, severity
    )


def empty(q: Question, n: int):
    if q.type == "single":
        return pd.Categorical([None] * n, categories=list(q.values))
    if q.type == "text":
        return pd.array([None] * n, dtype="string[pyarrow]")
    if q.type == "date":
        return np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    return np.full(n, np.nan)


def distinct(raw: RawTable, j: int):
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


def option_numbers(raw: RawTable, j: int, missing) -> bool | None:
    """Whether a single-choice column is written as option numbers (True), as text
    (False), or cannot tell (None: empty)."""
    _, values = distinct(raw, j)
    seen = False
    for text in values.to_pylist():
        if missing(text):
            continue
        main, _ = fill_in(text)
        if not main.strip().isdigit():
            return False
        seen = True
    return True if seen else None


def _text_values(q: Question, values, missing) -> tuple[object, dict]:
    """Free text, ids and names: nearly every value is distinct, so they are checked
    with Arrow compute on the whole column, and only suspect values in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(values)
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


def column(raw: RawTable, q: Question, j: int, missing, table: dict) -> tuple[dict, list[Problem]]:
    """One column of one question: its coded data (and fill-in texts), and problems."""
    codes, values = distinct(raw, j)
    header = raw.header[j]
    bad: dict[int, tuple[str, str]] = {}
    extras: dict[int, str] = {}
    if q.type == "text":
        coded, bad = _text_values(q, values, missing)
    else:
        values = values.to_pylist()
        coded = []
        for k, text in enumerate(values):
            if missing(text):
                coded.append(None)
                continue
            main, extra = fill_in(text)
            if extra:
                extras[k] = extra
            value, why = parse(q, main, table)
            if why:
                bad[k] = why
            coded.append(value)

    problems = []
    if bad:
        bad_codes = np.fromiter(bad, dtype=np.int64)
        for pos in np.flatnonzero(np.isin(codes, bad_codes)):
            message, fix = bad[int(codes[pos])]
            value = values[int(codes[pos])]
            value = value.as_py() if hasattr(value, "as_py") else value
            problems.append(problem(raw, raw.row_numbers[pos], header, value, message, fix))
    out = {}
    if q.type == "multi":
        for c in q.choices:
            per_value = np.array([np.nan if v is None else float(c.value in v) for v in coded])
            out[f"{q.name}__{c.value}"] = per_value[codes] if len(codes) else np.array([])
    else:
        out[q.name] = _assemble(q, coded, codes)
    if extras:
        out[q.name + OTHER] = _texts(extras, len(values), codes)
    return out, problems


def _texts(extras: dict[int, str], n: int, codes: np.ndarray):
    per_value = pd.array([extras.get(k) for k in range(n)], dtype="string[pyarrow]")
    return per_value.take(codes) if len(codes) else pd.array([], dtype="string[pyarrow]")


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


def multi_columns(raw: RawTable, q: Question, cols, missing) -> tuple[dict, list[Problem]]:
    """A multi-select exported as one 0/1 column per option."""
    problems: list[Problem] = []
    present = {option for _, option in cols}
    out: dict[str, object] = {}
    any_answer = np.zeros(raw.nrows, dtype=bool)
    others = []
    for j, option in cols:
        codes, values = distinct(raw, j)
        values = values.to_pylist()
        label = q.choice(option).label
        vals, extras = [], {}
        for k, text in enumerate(values):
            main, extra = fill_in(text)
            t = normalize(main)
            if extra:
                extras[k] = extra
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
                problem(
                    raw,
                    raw.row_numbers[pos],
                    raw.header[j],
                    values[codes[pos]],
                    f"option '{label.zh}' of '{q.short.zh}' must be 1 or 0",
                    "write 1 if the option was chosen, 0 if not",
                )
            )
        arr[arr == -1.0] = np.nan
        any_answer |= ~np.isnan(arr)
        out[f"{q.name}__{option}"] = arr
        if extras:
            others.append(_texts(extras, len(values), codes))
    for c in q.choices:
        name = f"{q.name}__{c.value}"
        if c.value not in present:
            # an option the export has no column for was not offered: 0 where answered
            out[name] = np.where(any_answer, 0.0, np.nan)
    coded = {c: out[c] for c in q.columns}
    if others:
        text = others[0]
        for more in others[1:]:
            text = text.fillna(more)
        coded[q.name + OTHER] = text
    return coded, problems
