"""The office ledgers as data: ``data/instrument/office-ledgers.yaml``.

The YAML describes three ledgers (submissions, events, services), their columns with
zh/en labels and header aliases, the choice lists (kinds of submission, events, levels
…), the measures a service row can carry, the kinds of service with the measures each
has, and the office's lines of work (参政议政, 服务企业 …), which are the sections of
the 工作总结.

:func:`load_spec` turns it into a :class:`LedgerSpec`. Its ``instrument`` is an
:class:`~analysis.ingest.instrument.Instrument` with one form per ledger, so a ledger is
read by the same loader as a survey export (encodings, XLSX, title rows, header
aliases, dates, formula guards, every problem with file, row, column and value).
Choices, money and lists are read as text there and given their meaning in
:mod:`analysis.tracking.ledgers`, which knows the closest valid choice and the unit of
an amount.

The file is untrusted input: it is read by :func:`analysis.ingest.yamlfile.read_yaml`
(no aliases, size and nesting bounded), and every key is checked; a problem stops with
a :class:`LedgerSpecError` naming the file and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from analysis.errors import QifangError
from analysis.findings.model import Text
from analysis.ingest.instrument import DEFAULT_MISSING, Form, Instrument, Question
from analysis.ingest.instrument import Text as _Label
from analysis.ingest.yamlfile import read_yaml

DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "data" / "instrument" / "office-ledgers.yaml"
LEDGERS = ("submissions", "events", "services")
FIELD_TYPES = ("id", "text", "date", "choice", "count", "money", "list")
MAX_BYTES = 512_000
# The counting words a measure's header may carry in brackets: 企业数（家）.
COUNT_WORDS = ("家", "户", "个", "人", "人次", "件", "场", "次", "期", "村", "站", "项")
# Units of money as a header or a cell may write them, and their value in yuan.
MONEY_UNITS = {
    "元": 1.0,
    "yuan": 1.0,
    "cny": 1.0,
    "rmb": 1.0,
    "千元": 1e3,
    "thousandyuan": 1e3,
    "cny1,000": 1e3,
    "cny1000": 1e3,
    "万元": 1e4,
    "万": 1e4,
    "10kyuan": 1e4,
    "10,000yuan": 1e4,
    "10000yuan": 1e4,
    "cny10k": 1e4,
    "cny10,000": 1e4,
    "cny10000": 1e4,
    "tenthousandyuan": 1e4,
    "亿元": 1e8,
    "亿": 1e8,
    "100myuan": 1e8,
    "100millionyuan": 1e8,
    "cny100m": 1e8,
    "cny100million": 1e8,
}


class LedgerSpecError(QifangError):
    """The ledgers' description (YAML) cannot be used: missing file, bad YAML, an unknown
    key, type, choice list, line or measure."""


@dataclass(frozen=True)
class Option:
    """One choice of a list: its code, zh/en label, counting word and aliases."""

    value: str
    label: Text
    unit: Text | None = None
    aliases: tuple[str, ...] = ()
    leaders: Text | None = None  # levels: how leaders of the level are named


@dataclass(frozen=True)
class Field:
    """One column of a ledger."""

    name: str
    type: str
    label: Text
    required: bool = False
    choices: str | None = None
    personal: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    """A figure a service row can carry (firms, amount, posts …)."""

    name: str
    label: Text
    unit: Text | None  # counting word; None for money
    money: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class Kind:
    """A kind of service: its line of work, measures and the 工作总结's clauses."""

    value: str
    label: Text
    line: str
    measures: tuple[str, ...]
    clauses: tuple[Text, ...]
    units: dict[str, Text] = field(default_factory=dict)
    approximate: frozenset[str] = frozenset()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """A line of work (工作条线): a section of the 工作总结, under its heading."""

    name: str
    label: Text
    heading: Text
    plan: Text | None = None  # the 工作总结's plan for the line (下一步工作打算)


@dataclass(frozen=True, eq=False)
class LedgerSpec:
    """The three ledgers' description."""

    id: str
    version: str
    title: Text
    lines: tuple[Line, ...]
    choices: dict[str, tuple[Option, ...]]
    fields: dict[str, tuple[Field, ...]]
    labels: dict[str, Text]
    measures: tuple[Measure, ...]
    kinds: tuple[Kind, ...]
    source: str

    def kind(self, value: str) -> Kind:
        return next(k for k in self.kinds if k.value == value)

    def measure(self, name: str) -> Measure:
        return next(m for m in self.measures if m.name == name)

    def line(self, name: str) -> Line:
        return next(line for line in self.lines if line.name == name)

    def option(self, choices: str, value: str) -> Option:
        return next(o for o in self.choices[choices] if o.value == value)

    def unit(self, kind: str, measure: str) -> Text | None:
        """The counting word of a measure for a kind (融资对接 counts firms in 户)."""
        return self.kind(kind).units.get(measure) or self.measure(measure).unit

    def field(self, ledger: str, name: str) -> Field:
        return next(f for f in self.fields[ledger] if f.name == name)

    @property
    def instrument(self) -> Instrument:
        """One form per ledger, for :func:`analysis.ingest.load.load`."""
        return _instrument(self)


def load_spec(path: str | Path | None = None) -> LedgerSpec:
    """Read the ledgers' description.

    Parameters
    ----------
    path : a YAML file like ``data/instrument/office-ledgers.yaml`` (the default).

    Returns
    -------
    LedgerSpec

    Raises
    ------
    LedgerSpecError
        The file is missing, too large, not YAML, or breaks the format.

    Examples
    --------
    >>> spec = load_spec()
    >>> spec.kind("finance").label.zh, spec.unit("finance", "firms").zh
    ('融资对接', '户')
    """
    path = Path(path) if path is not None else DEFAULT_SPEC
    return _load(str(path.resolve()))


@cache
def _load(path: str) -> LedgerSpec:
    source = Path(path)
    where = source.name
    if not source.is_file():
        raise LedgerSpecError(
            f"ledgers description not found: {source}",
            "give the path of a YAML file like data/instrument/office-ledgers.yaml",
        )
    # the one reader of users' YAML: aliases refused, size and nesting bounded
    raw = read_yaml(source, LedgerSpecError, "fix the YAML syntax at the line shown", MAX_BYTES)
    if not isinstance(raw, dict):
        raise LedgerSpecError(f"{where}: expected a mapping", "see office-ledgers.yaml")
    return _build(raw, where)


def _text(raw: Any, where: str) -> Text:
    if not isinstance(raw, dict) or not isinstance(raw.get("zh"), str) or not raw.get("en"):
        raise LedgerSpecError(
            f"{where}: a label needs both zh and en", "write it as {zh: …, en: …}"
        )
    return Text(zh=str(raw["zh"]), en=str(raw["en"]))


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(a, str | int) for a in raw):
        raise LedgerSpecError(f"{where}: expected a list of texts", "write [a, b, c]")
    return tuple(str(a) for a in raw)


def _keys(raw: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise LedgerSpecError(
            f"{where}: unknown key {unknown[0]!r}", f"use only: {', '.join(sorted(allowed))}"
        )


def _option(raw: Any, where: str) -> Option:
    if not isinstance(raw, dict) or "value" not in raw:
        raise LedgerSpecError(f"{where}: a choice without a value", "give each choice a value")
    _keys(raw, {"value", "zh", "en", "unit_zh", "aliases", "leaders"}, where)
    unit = Text(zh=str(raw["unit_zh"]), en="") if raw.get("unit_zh") else None
    leaders = _text(raw["leaders"], f"{where}.leaders") if raw.get("leaders") else None
    return Option(
        str(raw["value"]), _text(raw, where), unit, _strings(raw.get("aliases"), where), leaders
    )


def _build(raw: dict, where: str) -> LedgerSpec:
    _keys(raw, {"id", "version", "title", "lines", "choices", "ledgers"}, where)
    lines = tuple(_line(x, f"{where}: lines") for x in raw.get("lines") or ())
    if not lines:
        raise LedgerSpecError(f"{where}: no lines of work", "list them under 'lines'")
    choices = {
        name: tuple(_option(o, f"{where}: choices.{name}") for o in opts or ())
        for name, opts in (raw.get("choices") or {}).items()
    }
    ledgers = raw.get("ledgers") or {}
    missing = [name for name in LEDGERS if not isinstance(ledgers.get(name), dict)]
    if missing:
        raise LedgerSpecError(
            f"{where}: ledger {missing[0]!r} is not described",
            f"describe the ledgers {', '.join(LEDGERS)}",
        )
    services = ledgers["services"]
    measures = tuple(
        _measure(m, f"{where}: services.measures") for m in services.get("measures") or ()
    )
    kinds = tuple(
        _kind(k, f"{where}: services.kinds", {m.name for m in measures}, {x.name for x in lines})
        for k in services.get("kinds") or ()
    )
    if not kinds:
        raise LedgerSpecError(f"{where}: no kinds of service", "list them under services.kinds")
    choices["service_kind"] = tuple(Option(k.value, k.label, None, k.aliases) for k in kinds)
    fields, labels = {}, {}
    for name in LEDGERS:
        spec = ledgers[name]
        labels[name] = _text(spec.get("label"), f"{where}: {name}")
        fields[name] = tuple(
            _field(f, f"{where}: {name}", choices) for f in spec.get("fields") or ()
        )
        names = [f.name for f in fields[name]]
        if len(set(names)) != len(names):
            raise LedgerSpecError(f"{where}: {name} names a column twice", "give each its own name")
    for name, required in (
        ("submissions", ("submission_id", "kind", "submitted")),
        ("events", ("submission_id", "event", "date")),
        ("services", ("kind", "date")),
    ):
        have = {f.name for f in fields[name]}
        lacking = [r for r in required if r not in have]
        if lacking:
            raise LedgerSpecError(
                f"{where}: the {name} ledger needs the column {lacking[0]!r}",
                "add it to its fields",
            )
    for name, values in (("event", ("adopted", "instructed")), ("level", ()), ("leader", ())):
        if name not in choices:
            raise LedgerSpecError(f"{where}: choice list {name!r} is missing", "add it")
        have = {o.value for o in choices[name]}
        if not set(values) <= have:
            raise LedgerSpecError(
                f"{where}: choice list {name!r} needs {', '.join(values)}",
                "keep these codes; change their labels instead",
            )
    return LedgerSpec(
        id=str(raw.get("id", "office-ledgers")),
        version=str(raw.get("version", "")),
        title=_text(raw.get("title") or {"zh": "工作台账", "en": "Office ledgers"}, where),
        lines=lines,
        choices=choices,
        fields=fields,
        labels=labels,
        measures=measures,
        kinds=kinds,
        source=where,
    )


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _line(raw: Any, where: str) -> Line:
    if not isinstance(raw, dict) or not _NAME.match(str(raw.get("name", ""))):
        raise LedgerSpecError(f"{where}: a line without a valid name", "name each line")
    _keys(raw, {"name", "zh", "en", "heading", "plan"}, f"{where}.{raw['name']}")
    label = _text(raw, f"{where}.{raw['name']}")
    heading = raw.get("heading")
    heading = _text(heading, f"{where}.{raw['name']}.heading") if heading else label
    plan = _text(raw["plan"], f"{where}.{raw['name']}.plan") if raw.get("plan") else None
    return Line(str(raw["name"]), label, heading, plan)


def _field(raw: Any, where: str, choices: dict) -> Field:
    if not isinstance(raw, dict) or not _NAME.match(str(raw.get("name", ""))):
        raise LedgerSpecError(
            f"{where}: a column without a valid name ({raw!r})",
            "name it in lower-case letters, digits and underscores",
        )
    name = str(raw["name"])
    where = f"{where}.{name}"
    _keys(raw, {"name", "type", "label", "required", "choices", "personal", "aliases"}, where)
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        raise LedgerSpecError(
            f"{where}: unknown type {kind!r}", f"use one of {', '.join(FIELD_TYPES)}"
        )
    if kind == "choice" and raw.get("choices") not in choices:
        raise LedgerSpecError(
            f"{where}: choice list {raw.get('choices')!r} does not exist",
            f"use one of {', '.join(sorted(choices))}",
        )
    return Field(
        name=name,
        type=kind,
        label=_text(raw.get("label"), where),
        required=bool(raw.get("required", False)),
        choices=raw.get("choices"),
        personal=bool(raw.get("personal", False)),
        aliases=_strings(raw.get("aliases"), where),
    )


def _measure(raw: Any, where: str) -> Measure:
    if not isinstance(raw, dict) or not _NAME.match(str(raw.get("name", ""))):
        raise LedgerSpecError(f"{where}: a measure without a valid name", "name each measure")
    where = f"{where}.{raw['name']}"
    _keys(raw, {"name", "unit", "label", "money", "aliases"}, where)
    money = bool(raw.get("money", False))
    if not money and raw.get("unit") is None:
        raise LedgerSpecError(f"{where}: a count needs its unit", "write unit: {zh: 家, en: firms}")
    return Measure(
        name=str(raw["name"]),
        label=_text(raw.get("label"), where),
        unit=None if money else _text(raw.get("unit"), where),
        money=money,
        aliases=_strings(raw.get("aliases"), where),
    )


def _kind(raw: Any, where: str, measures: set[str], lines: set[str]) -> Kind:
    if not isinstance(raw, dict) or not _NAME.match(str(raw.get("value", ""))):
        raise LedgerSpecError(f"{where}: a kind without a valid value", "give each kind a value")
    where = f"{where}.{raw['value']}"
    _keys(
        raw,
        {"value", "zh", "en", "aliases", "line", "measures", "units", "clauses", "approximate"},
        where,
    )
    if raw.get("line") not in lines:
        raise LedgerSpecError(
            f"{where}: unknown line {raw.get('line')!r}", f"use one of {', '.join(sorted(lines))}"
        )
    own = _strings(raw.get("measures"), where)
    unknown = [m for m in own if m not in measures] or [
        m
        for m in (*(raw.get("units") or {}), *_strings(raw.get("approximate"), where))
        if m not in own
    ]
    if not own or unknown:
        raise LedgerSpecError(
            f"{where}: measure {unknown[0] if unknown else '(none)'!r} is not one of its measures",
            f"list the kind's measures from: {', '.join(sorted(measures))}",
        )
    clauses = tuple(_text(c, f"{where}.clauses") for c in raw.get("clauses") or ())
    for clause in clauses:
        for lang in ("zh", "en"):
            for name in re.findall(r"\{(\w+)\}", clause.get(lang)):
                if name not in own:
                    raise LedgerSpecError(
                        f"{where}: clause names {{{name}}}, which is not a measure of the kind",
                        f"use only {', '.join('{' + m + '}' for m in own)}",
                    )
    return Kind(
        value=str(raw["value"]),
        label=_text(raw, where),
        line=str(raw["line"]),
        measures=own,
        clauses=clauses,
        units={m: _text(u, f"{where}.units") for m, u in (raw.get("units") or {}).items()},
        approximate=frozenset(_strings(raw.get("approximate"), where)),
        aliases=_strings(raw.get("aliases"), where),
    )


# --- the loader's view: one form per ledger ----------------------------------------


def _question(name: str, qtype: str, label: Text, aliases, required=False, personal=False):
    own = _Label(label.zh, label.en)
    return Question(
        name=name,
        type=qtype,
        label=own,
        short=own,
        required=required,
        minimum=0 if qtype == "number" else None,
        integer=qtype == "number",
        personal=personal,
        aliases=tuple(aliases),
    )


def money_aliases(labels) -> list[str]:
    """Header texts of an amount with its unit: 金额（万元）, amount (CNY 10k) …"""
    units = (
        "元",
        "万元",
        "亿元",
        "千元",
        "yuan",
        "CNY",
        "RMB",
        "10k yuan",
        "10,000 yuan",
        "CNY 10k",
        "CNY 10,000",
        "100m yuan",
        "CNY 100m",
        "100 million yuan",
    )
    return [f"{label}({unit})" for label in labels for unit in units]


@cache
def _instrument(spec: LedgerSpec) -> Instrument:
    forms = {}
    for name in LEDGERS:
        questions = []
        for f in spec.fields[name]:
            qtype = {"date": "date", "count": "number"}.get(f.type, "text")
            questions.append(_question(f.name, qtype, f.label, f.aliases, f.required, f.personal))
        if name == "services":
            for m in spec.measures:
                labels = (m.name, m.label.zh, m.label.en, *m.aliases)
                extra = (
                    money_aliases(labels)
                    if m.money
                    else [f"{label}({w})" for label in labels for w in (*COUNT_WORDS, m.unit.en)]
                )
                questions.append(
                    _question(
                        m.name, "text" if m.money else "number", m.label, (*m.aliases, *extra)
                    )
                )
        label = spec.labels[name]
        forms[name] = Form(name, _Label(label.zh, label.en), tuple(questions))
    return Instrument(
        id=spec.id,
        version=spec.version,
        title=_Label(spec.title.zh, spec.title.en),
        forms=forms,
        missing_labels=DEFAULT_MISSING,
        source=spec.source,
    )
