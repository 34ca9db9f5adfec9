"""Read and check the office's three ledgers: submissions, events, services.

Each file is read by the survey's loader (:func:`analysis.ingest.load.load`, with one
form per ledger from :mod:`analysis.tracking.spec`): CSV in UTF-8 or GBK, or XLSX, with
zh or en headers, title rows skipped, dates in any common form. Then the ledger's own
meaning is given and checked, and every problem names the file, the row (as in Excel),
the column and the value, and says what to do:

- a kind, event, level, leader … that is not a choice, with the closest valid one;
- an amount without a clear unit (the header says 金额（万元）, or the cell 35万元), an
  amount in a unit the header contradicts, a negative amount;
- a duplicated submission id, and the same event entered twice;
- an event pointing at no submission, or dated before its submission;
- an adoption without its body or level, an instruction without its level or leader;
- a figure in a measure the kind of service does not have; a row that names one firm
  (a firm key) but counts several.

The raw files are only read.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import Problem, ValidationError
from analysis.ingest._cells import normalize
from analysis.ingest.instrument import Instrument
from analysis.ingest.load import load
from analysis.tracking.spec import LEDGERS, MONEY_UNITS, LedgerSpec, Option, load_spec

ADOPTION = ("adopted", "forwarded")
_SPLIT = re.compile(r"[\s,，;；、|┋/]+")
_AMOUNT = re.compile(r"^([-+]?(?:\d+(?:,\d{3})*|\d*)(?:\.\d+)?)\s*(.*)$")
_NUMBERING = re.compile(r"^[A-Za-z0-9]{1,2}[.、:：\s]\s*")


@dataclass(frozen=True)
class Ledger:
    """One ledger, read and coded: ``data`` has one column per field (choices as their
    codes, dates as datetimes, amounts in yuan) and ``row``, the row in the file."""

    name: str
    path: str
    sha256: str
    data: pd.DataFrame
    headers: dict[str, str]  # field -> the header as written in the file

    @property
    def file(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class Ledgers:
    """The office's three ledgers and what reading them found."""

    spec: LedgerSpec
    submissions: Ledger
    events: Ledger
    services: Ledger
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def __getitem__(self, name: str) -> Ledger:
        return getattr(self, name)


def read_ledgers(
    submissions: str | Path,
    events: str | Path,
    services: str | Path,
    spec: LedgerSpec | None = None,
    regions: Instrument | None = None,
    strict: bool = True,
) -> Ledgers:
    """Read and check the three ledgers.

    Parameters
    ----------
    submissions, events, services : the ledgers (CSV or XLSX).
    spec : their description; default ``data/instrument/office-ledgers.yaml``.
    regions : an instrument whose region list names the services' regions (西宁 and
        西宁市 are then one region); default the bundled questionnaire.
    strict : raise when any problem is an error (default); with False return them.

    Returns
    -------
    Ledgers

    Raises
    ------
    InputFileError
        A file cannot be read as a table at all.
    ValidationError
        ``strict`` and a ledger breaks a rule; every problem of the three files is listed.

    Examples
    --------
    >>> ledgers = read_ledgers("data/sample/submissions.csv", "data/sample/events.csv",
    ...                        "data/sample/services.csv")
    >>> ledgers.submissions.data.kind.value_counts()["social"]
    23
    """
    from analysis.ingest.instrument import load_instrument

    spec = spec or load_spec()
    regions = regions or load_instrument()
    problems: list[Problem] = []
    read = {}
    for name, path in zip(LEDGERS, (submissions, events, services), strict=True):
        loaded = load(path, name, spec.instrument, strict=False)
        data = loaded.data.copy()
        data["row"] = loaded.row_numbers
        headers = {var: header for header, var in loaded.provenance.columns.items()}
        ledger = Ledger(name, str(path), loaded.provenance.sha256, data, headers)
        # "N of M rows skipped this optional question" is about survey answers: in a
        # ledger, an empty optional cell is ordinary; so is a ledger with no rows yet
        empty = len(data) == 0
        problems += [
            p
            for p in loaded.problems
            if (p.severity == "error" or p.row is not None)
            and not (empty and p.row is None and p.column is None)
        ]
        flagged = {(p.row, p.column) for p in loaded.problems if p.severity == "error"}
        problems += _code(ledger, spec, flagged)
        read[name] = ledger
    _regions(read["services"], regions)
    problems += _checks(read, spec)
    problems.sort(key=lambda p: (LEDGERS.index(_ledger_of(p, read)), p.row or 0))
    ledgers = Ledgers(spec, read["submissions"], read["events"], read["services"], tuple(problems))
    if strict and ledgers.errors:
        raise ValidationError(list(ledgers.problems))
    return ledgers


def _ledger_of(p: Problem, read: dict) -> str:
    return next((n for n, ledger in read.items() if ledger.path == p.path), "services")


def _problem(ledger: Ledger, row, column: str, value, message: str, fix: str, severity="error"):
    field_header = ledger.headers.get(column, column)
    return Problem(
        ledger.path,
        None if row is None else int(row),
        field_header,
        None if value is None else str(value),
        message,
        fix,
        severity,
    )


# --- giving the cells their meaning -------------------------------------------------


def _code(ledger: Ledger, spec: LedgerSpec, flagged: set) -> list[Problem]:
    data = ledger.data
    problems = []
    for f in spec.fields[ledger.name]:
        if f.name not in ledger.headers:
            if f.type == "list":
                data[f.name] = [()] * len(data)
            continue
        text = data[f.name]
        if f.type == "choice":
            codes, found = _choices(ledger, f.name, text, spec.choices[f.choices], f.label)
            data[f.name] = codes
            problems += found
        elif f.type == "list":
            data[f.name] = [
                tuple(t for t in _SPLIT.split(str(v)) if t) if pd.notna(v) else () for v in text
            ]
        elif f.type in ("id", "text"):
            data[f.name] = text.astype(object).where(text.notna(), None)
    if ledger.name == "services":
        for m in spec.measures:
            if m.money and m.name in ledger.headers:
                values, found = _money(ledger, m.name, flagged)
                data[m.name] = values
                problems += found
            elif m.name not in data:
                data[m.name] = np.nan
    return problems


def _keys(option: Option) -> set[str]:
    return {
        normalize(k) for k in (option.value, option.label.zh, option.label.en, *option.aliases) if k
    }


def closest(text: str, options: tuple[Option, ...]) -> Option:
    """The option whose code, label or alias is most like ``text``."""
    key = normalize(text)
    best, score = options[0], -1.0
    for option in options:
        for k in _keys(option):
            s = difflib.SequenceMatcher(None, key, k).ratio()
            if s > score:
                best, score = option, s
    return best


def _choices(ledger: Ledger, column: str, text: pd.Series, options, label):
    table = {k: o.value for o in options for k in _keys(o)}
    codes, problems = [], []
    listing = "、".join(f"{o.label.zh} ({o.value})" for o in options)
    for row, value in zip(ledger.data["row"], text, strict=True):
        if value is None or pd.isna(value):
            codes.append(None)
            continue
        key = normalize(value)
        code = table.get(key) or table.get(_NUMBERING.sub("", key))
        if code is None:
            near = closest(str(value), options)
            problems.append(
                _problem(
                    ledger,
                    row,
                    column,
                    value,
                    f"not a valid {label.en.lower()} ({column}); the closest is "
                    f"{near.label.zh} ({near.value})",
                    f"write {near.label.zh} or {near.value} if that is meant; valid: {listing}",
                )
            )
        codes.append(code)
    return pd.Series(codes, index=text.index, dtype=object), problems


def unit_of(text: str) -> float | None:
    """The yuan in one unit of a header or a cell's unit: 万元 → 10,000; None if unknown.

    >>> unit_of("金额（万元）"), unit_of("Amount (CNY 10k)"), unit_of("金额")
    (10000.0, 10000.0, None)
    """
    s = unicodedata.normalize("NFKC", str(text)).strip()
    m = re.search(r"\(([^()]*)\)\s*$", s)
    inside = normalize(m.group(1)) if m else ""
    if inside in MONEY_UNITS:
        return MONEY_UNITS[inside]
    bare = normalize(s)
    for unit in ("亿元", "万元", "千元", "元"):
        if bare.endswith(unit) and len(bare) > len(unit):
            return MONEY_UNITS[unit]
    return MONEY_UNITS.get(bare)


def _money(ledger: Ledger, column: str, flagged: set):
    header = ledger.headers[column]
    per = unit_of(header)
    values, problems = [], []
    for row, value in zip(ledger.data["row"], ledger.data[column], strict=True):
        if value is None or pd.isna(value) or (int(row), header) in flagged:
            values.append(np.nan)
            continue
        text = unicodedata.normalize("NFKC", str(value)).strip().replace("，", ",")
        m = _AMOUNT.match(text)
        number = m.group(1).replace(",", "") if m else ""
        if not m or number in ("", "+", "-"):
            problems.append(
                _problem(
                    ledger, row, column, value, "not an amount", "write a number, e.g. 35 or 35万元"
                )
            )
            values.append(np.nan)
            continue
        own = m.group(2).strip()
        cell_unit = MONEY_UNITS.get(normalize(own)) if own else None
        if own and cell_unit is None:
            problems.append(
                _problem(
                    ledger,
                    row,
                    column,
                    value,
                    f"unknown unit {own!r}",
                    "write the amount in 元, 万元 or 亿元",
                )
            )
            values.append(np.nan)
            continue
        if cell_unit is not None and per is not None and cell_unit != per:
            problems.append(
                _problem(
                    ledger,
                    row,
                    column,
                    value,
                    f"the cell says {own} but the header {header!r} says another unit",
                    "write the number alone, in the header's unit",
                )
            )
            values.append(np.nan)
            continue
        unit = cell_unit or per
        if unit is None:
            problems.append(
                _problem(
                    ledger,
                    row,
                    column,
                    value,
                    f"an amount without a clear unit (the header {header!r} names none)",
                    "name the unit in the header, e.g. 金额（万元） or 金额（元）, "
                    "or in the cell (35万元)",
                )
            )
            values.append(np.nan)
            continue
        amount = float(number) * unit
        if amount < 0:
            problems.append(
                _problem(
                    ledger,
                    row,
                    column,
                    value,
                    "a negative amount",
                    "correct the amount; a refund or correction is entered by editing the "
                    "original row",
                )
            )
            values.append(np.nan)
            continue
        values.append(round(amount, 2))
    return pd.Series(values, index=ledger.data.index, dtype=float), problems


def _regions(services: Ledger, instrument: Instrument) -> None:
    """Name the services' regions as the questionnaire does, where it knows them."""
    data = services.data
    if "region" not in data:
        data["region"] = None
    table: dict[str, tuple[str, str]] = {}
    for c in instrument.question("region").choices:
        for key in (c.value, c.label.zh, c.label.en, c.short.zh, c.short.en, c.code):
            if key:
                table[normalize(key)] = (c.label.zh, c.label.en)
    zh, en = [], []
    for value in data["region"]:
        if value is None or pd.isna(value):
            zh.append(None)
            en.append(None)
            continue
        hit = table.get(normalize(value), (str(value).strip(), str(value).strip()))
        zh.append(hit[0])
        en.append(hit[1])
    data["region"] = zh
    data["region_en"] = en


# --- checks across rows and files ---------------------------------------------------


def _checks(read: dict[str, Ledger], spec: LedgerSpec) -> list[Problem]:
    sub, ev, srv = read["submissions"], read["events"], read["services"]
    problems: list[Problem] = []
    s, e = sub.data, ev.data

    first_row: dict[str, int] = {}
    for row, ident in zip(s["row"], s["submission_id"], strict=True):
        if ident is None:
            continue
        if ident in first_row:
            problems.append(
                _problem(
                    sub,
                    row,
                    "submission_id",
                    ident,
                    f"duplicated id: submission_id {ident!r} is also on row {first_row[ident]}",
                    "give each item its own id, or delete the repeated row",
                )
            )
        else:
            first_row[ident] = int(row)
    submitted = dict(zip(s["submission_id"], s["submitted"], strict=True))
    submitted = {k: submitted[k] for k in first_row}
    ids = list(first_row)

    seen: dict[tuple, int] = {}
    key_columns = [
        c
        for c in ("submission_id", "event", "body", "level", "publication", "leader", "date")
        if c in e
    ]
    for pos in range(len(e)):
        r = e.iloc[pos]
        row, ident, event, date = int(r["row"]), r["submission_id"], r["event"], r["date"]
        if ident is not None and ident not in submitted:
            near = [_closest_id(ident, ids)] if ids else []
            problems.append(
                _problem(
                    ev,
                    row,
                    "submission_id",
                    ident,
                    f"this event points at no submission (no submission_id {ident!r} in "
                    f"{sub.file})" + (f"; the closest id is {near[0]!r}" if near else ""),
                    f"correct the id, or add the item to {sub.file}",
                )
            )
        elif (
            ident is not None
            and pd.notna(date)
            and pd.notna(submitted[ident])
            and date < submitted[ident]
        ):
            problems.append(
                _problem(
                    ev,
                    row,
                    "date",
                    date.date().isoformat(),
                    f"dated before its submission ({ident} was submitted on "
                    f"{submitted[ident].date().isoformat()}, {sub.file} row "
                    f"{first_row[ident]})",
                    "correct one of the two dates",
                )
            )
        if event in (*ADOPTION, "instructed"):
            needs = ("body", "level") if event in ADOPTION else ("level", "leader")
            for column in needs:
                if column in e and (r[column] is None or pd.isna(r[column])):
                    label = spec.field("events", column).label
                    problems.append(
                        _problem(
                            ev,
                            row,
                            column,
                            "",
                            f"{spec.option('event', event).label.zh} ({event}) without its "
                            f"{label.en.lower()} ({column})",
                            f"fill in {label.zh}: the annual count is by {label.en.lower()}",
                        )
                    )
        key = tuple(None if pd.isna(r[c]) else r[c] for c in key_columns)
        if event is not None and key in seen:
            problems.append(
                _problem(
                    ev,
                    row,
                    "event",
                    r["event"],
                    f"the same event is also on row {seen[key]}",
                    "delete the repeated row: it would be counted twice",
                )
            )
        seen.setdefault(key, row)
    problems += _service_checks(srv, spec)
    return problems


def _closest_id(ident: str, ids: list[str]) -> str:
    """The id most like ``ident``: by similarity, then by characters in the same place
    (S2025-O1 is S2025-01 with a letter for a digit, not S2025-19)."""

    def score(other: str):
        same = sum(a == b for a, b in zip(ident, other, strict=False))
        return (difflib.SequenceMatcher(None, ident, other).ratio(), same)

    return max(ids, key=score)


def _service_checks(srv: Ledger, spec: LedgerSpec) -> list[Problem]:
    problems = []
    d = srv.data
    names = [m.name for m in spec.measures]
    for pos in range(len(d)):
        r = d.iloc[pos]
        kind = r["kind"]
        if kind is None:
            continue
        own = spec.kind(kind).measures
        for m in names:
            if m in srv.headers and pd.notna(r[m]) and m not in own:
                problems.append(
                    _problem(
                        srv,
                        r["row"],
                        m,
                        r[m] if spec.measure(m).money else _plain(r[m]),
                        f"{spec.kind(kind).label.zh} ({kind}) has no measure "
                        f"{spec.measure(m).label.zh} ({m})",
                        f"clear the cell, or add {m} to the measures of {kind} in {spec.source}",
                    )
                )
        firm = r.get("firm_id")
        if firm is not None and pd.notna(firm) and pd.notna(r["firms"]) and r["firms"] > 1:
            problems.append(
                _problem(
                    srv,
                    r["row"],
                    "firms",
                    _plain(r["firms"]),
                    "the row names one firm (firm key) but counts several",
                    "write one row per firm, or leave the firm key empty",
                )
            )
        if all(pd.isna(r[m]) for m in own) and (firm is None or pd.isna(firm)):
            problems.append(
                _problem(
                    srv,
                    r["row"],
                    "kind",
                    kind,
                    "the row has none of its kind's figures "
                    f"({', '.join(own)}); it adds nothing to the totals",
                    "fill in the figures, or delete the row",
                    "warning",
                )
            )
    return problems


def _plain(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
