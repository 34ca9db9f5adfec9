"""Periods as a reader expects them: ``2025年4月至9月`` / ``April–September 2025``.

The findings label their fieldwork period with these; the writing stage prints dates
through the same functions (``analysis.writing.numfmt`` re-exports them).
"""

from __future__ import annotations

from datetime import date

_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def month(value: date | str, lang: str = "zh") -> str:
    """A month: ``2023年5月`` / ``May 2023``."""
    d = date.fromisoformat(str(value)[:10]) if not isinstance(value, date) else value
    return f"{d.year}年{d.month}月" if lang == "zh" else f"{_MONTHS_EN[d.month - 1]} {d.year}"


def months(first: date | str, last: date | str, lang: str = "zh") -> str:
    """A period of months: ``2025年4月至9月`` / ``April–September 2025``."""
    a, b = (
        date.fromisoformat(str(x)[:10]) if not isinstance(x, date) else x for x in (first, last)
    )
    if (a.year, a.month) == (b.year, b.month):
        return month(a, lang)
    if lang == "en":
        if a.year == b.year:
            return f"{_MONTHS_EN[a.month - 1]}–{_MONTHS_EN[b.month - 1]} {a.year}"
        return f"{_MONTHS_EN[a.month - 1]} {a.year} – {_MONTHS_EN[b.month - 1]} {b.year}"
    if a.year == b.year:
        return f"{a.year}年{a.month}月至{b.month}月"
    return f"{a.year}年{a.month}月至{b.year}年{b.month}月"


def day(value: date | str, lang: str = "zh") -> str:
    """A date: ``2023年5月31日`` / ``31 May 2023``."""
    d = date.fromisoformat(str(value)[:10]) if not isinstance(value, date) else value
    if lang == "zh":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"
