"""The period a results report covers: a year, a half-year, a quarter, or from–to.

==========================  ==========================  ==========================
written                     zh                          en
==========================  ==========================  ==========================
``2025``                    2025年                      2025
``2025H1``, ``2025上半年``  2025年上半年                first half of 2025
``2025Q3``                  2025年第三季度              third quarter of 2025
``2025-03-01..2025-08-31``  2025年3月1日至8月31日       1 March – 31 August 2025
==========================  ==========================  ==========================

(``~`` and ``至`` also separate from and to; months ``2025-03..2025-08`` run
from the first day of the first to the last day of the second.) A period is split into
parts for the tables by time: quarters for a year, months otherwise.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import pandas as pd

from analysis.errors import ParameterError
from analysis.findings.model import Text
from analysis.writing.numfmt import day

_CN = "一二三四"
_ORD_EN = ("first", "second", "third", "fourth")
_YEAR = re.compile(r"^(\d{4})(?:年(?:度)?)?$")
_HALF = re.compile(r"^(\d{4})\s*(?:年)?\s*(?:h([12])|(上|下)半年)$", re.I)
_QUARTER = re.compile(r"^(\d{4})\s*(?:年)?\s*(?:q([1-4])|第?([一二三四1-4])季度)$", re.I)
_RANGE = re.compile(r"^(.+?)\s*(?:\.\.|~|～|至|—|–)\s*(.+)$")
_DAY = re.compile(r"^(\d{4})[-./年](\d{1,2})(?:[-./月](\d{1,2})日?)?月?$")


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included."""

    start: date
    end: date
    key: str  # for folder names: 2025, 2025H1, 2025Q3, 2025-03-01_2025-08-31
    label: Text

    def contains(self, dates: pd.Series) -> pd.Series:
        """Which dates fall in the period (missing dates do not)."""
        d = pd.to_datetime(dates)
        return (d >= pd.Timestamp(self.start)) & (d <= pd.Timestamp(self.end))

    def parts(self) -> list[Period]:
        """Quarters of a whole year, months of anything shorter (clipped to the period)."""
        whole_year = (self.start.month, self.start.day, self.end.month, self.end.day) == (
            1,
            1,
            12,
            31,
        ) and self.start.year == self.end.year
        out = []
        if whole_year:
            for q in range(1, 5):
                out.append(parse_period(f"{self.start.year}Q{q}"))
            return out
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            first = max(date(y, m, 1), self.start)
            last = min(date(y, m, calendar.monthrange(y, m)[1]), self.end)
            out.append(
                Period(first, last, f"{y}-{m:02d}", Text(zh=f"{y}年{m}月", en=f"{y}-{m:02d}"))
            )
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def parse_period(text: str | int) -> Period:
    """A period from how people write it (see the module's table).

    Raises
    ------
    ParameterError
        The text is not a period, or ends before it starts.

    Examples
    --------
    >>> parse_period("2025H1").label.zh
    '2025年上半年'
    >>> parse_period("2025-03-01..2025-08-31").key
    '2025-03-01_2025-08-31'
    """
    s = unicodedata.normalize("NFKC", str(text)).strip().replace(" ", "")
    if m := _YEAR.match(s):
        y = int(m.group(1))
        return Period(date(y, 1, 1), date(y, 12, 31), str(y), Text(zh=f"{y}年", en=str(y)))
    if m := _HALF.match(s):
        y = int(m.group(1))
        h = int(m.group(2)) if m.group(2) else (1 if m.group(3) == "上" else 2)
        start, end = (date(y, 1, 1), date(y, 6, 30)) if h == 1 else (date(y, 7, 1), date(y, 12, 31))
        zh = f"{y}年{'上' if h == 1 else '下'}半年"
        return Period(start, end, f"{y}H{h}", Text(zh=zh, en=f"{_ORD_EN[h - 1]} half of {y}"))
    if m := _QUARTER.match(s):
        y = int(m.group(1))
        q = m.group(2) or m.group(3)
        q = _CN.index(q) + 1 if q in _CN else int(q)
        start = date(y, 3 * q - 2, 1)
        end = date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
        zh = f"{y}年第{_CN[q - 1]}季度"
        return Period(start, end, f"{y}Q{q}", Text(zh=zh, en=f"{_ORD_EN[q - 1]} quarter of {y}"))
    if m := _RANGE.match(s):
        start, end = _day(m.group(1), first=True, text=s), _day(m.group(2), first=False, text=s)
        if end < start:
            raise ParameterError(
                f"period={text!r} ends before it starts", "write the earlier date first"
            )
        zh = f"{day(start, 'zh')}至{day(end, 'zh')}"
        if start.year == end.year:
            zh = f"{day(start, 'zh')}至{end.month}月{end.day}日"
        en = f"{day(start, 'en')} – {day(end, 'en')}"
        key = f"{start.isoformat()}_{end.isoformat()}"
        return Period(start, end, key, Text(zh=zh, en=en))
    raise ParameterError(
        f"period={text!r} is not a period",
        "write a year (2025), a half-year (2025H1, 2025上半年), a quarter (2025Q3) or "
        "from..to dates (2025-03-01..2025-08-31)",
    )


def _day(part: str, first: bool, text: str) -> date:
    m = _DAY.match(part)
    try:
        if not m:
            raise ValueError(part)
        y, mo = int(m.group(1)), int(m.group(2))
        if m.group(3):
            return date(y, mo, int(m.group(3)))
        return date(y, mo, 1 if first else calendar.monthrange(y, mo)[1])
    except ValueError:
        raise ParameterError(
            f"period={text!r}: {part!r} is not a date",
            "write dates as 2025-03-01 (or months as 2025-03)",
        ) from None
