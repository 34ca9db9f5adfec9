"""What one cell of an export means: missing or not, which choice, which number,
which date — or why it cannot be read (a message and a fix).

Every function here works on one distinct value of a column; :mod:`analysis.ingest.load`
maps the results back to the rows in one vectorised step.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import pandas as pd

from analysis.ingest.instrument import Question

_SPLIT = re.compile(r"[┋|;；,，、\n]+")
TRUE = {"1", "1.0", "是", "√", "✓", "✔", "true", "yes", "y", "选中", "checked"}
FALSE = {"0", "0.0", "否", "false", "no", "n", "未选中", "unchecked"}
_DATE = re.compile(
    r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)
_NUMBER = re.compile(r"^\s*([-+]?[\d,]*\.?\d+)\s*(?:[\u4e00-\u9fff%％]+)?\s*$")
# A cell a spreadsheet would run as a formula: =…, or +cmd|… / @SUM(… / -HYPERLINK(…
FORMULA = re.compile(r"^\s*(=|[+\-@]\s*[A-Za-z_][\w.]*\s*[(|!])")
MAX_TEXT = 5000  # characters in one free-text answer


def normalize(text: object) -> str:
    """Normalise a header or a cell for matching: full-width to half-width, no spaces,
    case-folded."""
    s = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    return re.sub(r"\s+", "", s)


class Missing:
    """Whether a cell means "no answer": blank, or one of the instrument's missing labels
    (compared after normalisation, so （跳过） and (跳过) are the same)."""

    def __init__(self, labels: tuple[str, ...]):
        self.raw = {m.strip() for m in labels} | {""}
        self.normal = {normalize(m) for m in labels}
        self.longest = max((len(m) for m in self.raw), default=0)

    def __call__(self, text: str) -> bool:
        t = text.strip()
        # only short cells can be a missing label: long answers skip normalisation
        return t in self.raw or (len(t) <= self.longest + 2 and normalize(t) in self.normal)


_FILL_IN = re.compile(r"〖([^〗]*)〗")


def fill_in(text: str) -> tuple[str, str | None]:
    """A choice with the text a firm wrote beside it, as 问卷星 exports it:
    ``其他〖集体企业〗`` → (``其他``, ``集体企业``); ``6〖集体企业〗`` → (``6``, …)."""
    if "〖" not in text:
        return text, None
    extra = "；".join(t.strip() for t in _FILL_IN.findall(text) if t.strip())
    return _FILL_IN.sub("", text), extra or None


def choice_lookup(q: Question, positions: bool = False) -> dict[str, object]:
    """Every text that names a choice of ``q``, normalised, to its value.

    Option numbers (1 = the first option) name the choices of unordered questions.
    For a rating, a number is its score unless ``positions`` is set: then the export
    writes every choice as its option number (问卷星's 按选项序号), and a rating's
    number is its place in the questionnaire's list of options, not its score.
    """
    table: dict[str, object] = {}
    numeric_values = all(isinstance(v, int) for v in q.values)
    if positions:
        for pos, c in enumerate(q.choices, 1):
            table[str(pos)] = c.value
    for pos, c in enumerate(q.choices, 1):
        for key in c.names:
            if positions and key == str(c.value):
                continue  # a number is an option number here, never a score
            table.setdefault(normalize(key), c.value)
        if not numeric_values:
            table.setdefault(str(pos), c.value)  # option numbers as some tools export
    return table


def _choices_hint(q: Question, limit: int = 8) -> str:
    labels = [c.label.zh for c in q.choices[:limit]]
    more = " …" if len(q.choices) > limit else ""
    codes = ", ".join(str(v) for v in q.values[:limit])
    return f"use one of: {'、'.join(labels)}{more} (or the codes {codes}{more})"


def _lookup(text: str, table: dict[str, object]) -> object:
    key = normalize(text)
    if key in table:
        return table[key]
    stripped = re.sub(r"^[A-Za-z0-9]{1,2}[.、:：\s]\s*", "", key)  # "C.制造业", "3、一般"
    if stripped in table:
        return table[stripped]
    stripped = re.sub(r"分$", "", key)  # "4分"
    return table.get(stripped)


def parse(q: Question, text: str, table: dict) -> tuple[object, tuple[str, str] | None]:
    """One distinct cell value to its coded value, or a (message, fix) saying why not."""
    if q.type == "single":
        value = _lookup(text, table)
        if value is None:
            return None, (f"not a choice of '{q.short.zh}' ({q.name})", _choices_hint(q))
        return value, None
    if q.type == "likert":
        value = _lookup(text, table)
        if value is None:
            m = _NUMBER.match(text)
            number = float(m.group(1).replace(",", "")) if m else None
            if number is not None and number.is_integer():
                # "4.0": a score, or under option numbers the option's place
                value = table.get(str(int(number)))
        if value is None:
            lo, hi = min(q.values), max(q.values)
            return None, (
                f"not a rating of '{q.short.zh}' ({q.name})",
                f"use a number from {lo} to {hi} or a label such as {q.choices[0].label.zh}",
            )
        return value, None
    if q.type == "multi":
        return _parse_joined(q, text, table)
    if q.type == "number":
        m = _NUMBER.match(text)
        if not m:
            return None, (f"'{q.short.zh}' ({q.name}) must be a number", "write a plain number")
        value = float(m.group(1).replace(",", ""))
        if q.integer and not value.is_integer():
            return None, (f"'{q.short.zh}' ({q.name}) must be a whole number", "round it")
        if q.minimum is not None and value < q.minimum:
            return None, (
                f"'{q.short.zh}' ({q.name}) is below the minimum {q.minimum:g}",
                "correct the value",
            )
        if q.maximum is not None and value > q.maximum:
            return None, (
                f"'{q.short.zh}' ({q.name}) is above the maximum {q.maximum:g}",
                "correct the value",
            )
        return value, None
    if q.type == "date":
        return _parse_date(q, text)
    text = text.strip()
    if FORMULA.match(text):
        return None, (
            "looks like a spreadsheet formula (formula injection)",
            "remove the formula from the export, or put an apostrophe before it",
        )
    if len(text) > MAX_TEXT:
        return None, (
            f"an answer of {len(text):,} characters (the limit is {MAX_TEXT:,})",
            "check the export: a cell this long is not a survey answer",
        )
    return text, None


def _parse_joined(q: Question, text: str, table: dict) -> tuple[object, tuple[str, str] | None]:
    """Options joined in one cell. Labels are matched whole first, because some contain
    a separator themselves (招工难、用工成本高)."""
    rest = unicodedata.normalize("NFKC", text)
    found: set = set()
    labels = sorted(
        {
            (lab, c.value)
            for c in q.choices
            for lab in (c.label.zh, c.label.en, c.short.zh, *c.aliases)
        },
        key=lambda t: -len(t[0]),
    )
    for label, value in labels:
        lab = unicodedata.normalize("NFKC", label)
        if len(lab) > 1 and lab in rest:
            found.add(value)
            rest = rest.replace(lab, "┋")
    unknown = []
    for token in _SPLIT.split(rest):
        token = token.strip()
        if not token:
            continue
        value = _lookup(token, table)
        if value is None:
            unknown.append(token)
        else:
            found.add(value)
    if unknown:
        return None, (
            f"{', '.join(repr(t) for t in unknown)} is not an option of '{q.short.zh}' ({q.name})",
            _choices_hint(q),
        )
    return frozenset(found), None


def _parse_date(q: Question, text: str) -> tuple[object, tuple[str, str] | None]:
    m = _DATE.match(unicodedata.normalize("NFKC", text))
    serial = _NUMBER.match(text)
    if m:
        try:
            value = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None, (f"'{text.strip()}' is not a real date", "correct the day or the month")
    elif serial and 20000 <= float(serial.group(1)) <= 80000:
        value = date(1899, 12, 30) + pd.Timedelta(days=int(float(serial.group(1))))  # Excel serial
    else:
        return None, (
            f"'{q.short.zh}' ({q.name}) is not a date",
            "write dates as 2024-05-31 or 2024年5月31日",
        )
    if value > date.today():
        return None, ("date is in the future", "correct the year")
    if value.year < 1900:
        return None, ("date is before 1900", "correct the year")
    return value.isoformat(), None
