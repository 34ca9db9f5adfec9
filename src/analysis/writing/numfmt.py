"""Numbers as a Chinese (or English) reader expects them.

=================  ======================  ===========================
value              zh                      en
=================  ======================  ===========================
share 0.4234       42.3%                   42.3%
amount 8.4e8 元    8.4亿元                  CNY 840 million
amount 1.734e7 元  1,734万元                CNY 17.3 million
count 2994         2,994                   2,994
population 110717  约11.1万                 about 111,000
rank 1             第一位 (一)              first
range              39.1%～45.5%             39.1%–45.5%
change +0.052      提高5.2个百分点          up 5.2 percentage points
score 76.43        76.4分                   76.4
date 2023-05       2023年5月                May 2023
=================  ======================  ===========================

Every number a draft prints goes through these functions, so the number audit
(:func:`numbers_in`) can find each printed number among the formatted findings.
"""

from __future__ import annotations

import math
import re

# Dates print through the same functions as the findings' fieldwork label.
from analysis.findings.periods import day as day
from analysis.findings.periods import month as month
from analysis.findings.periods import months as months


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# One range mark per language: GB/T 15834-2011 marks a range of numbers with the
# wave dash (浪纹线) in Chinese; English uses the en dash.
RANGE = {"zh": "～", "en": "–"}


def span(low: str, high: str, lang: str = "zh") -> str:
    """Two printed bounds as a range: ``39.1%～45.5%`` / ``39.1%–45.5%``."""
    return f"{low}{RANGE.get(lang, RANGE['zh'])}{high}"


def approx(value: float | None, lang: str = "zh") -> str:
    """A population, rounded as a reader says it: ``约11.1万`` / ``about 111,000``.

    >>> approx(110717), approx(110717, "en"), approx(8342)
    ('约11.1万', 'about 111,000', '约8,300')
    """
    if _missing(value):
        return "—"
    if lang == "en":
        digits = max(len(str(round(value))) - 3, 0)
        return f"about {round(value, -digits):,.0f}"
    if value >= 1e4:
        return f"约{_trim(value / 1e4)}万"
    digits = max(len(str(round(value))) - 2, 0)
    return f"约{round(value, -digits):,.0f}"


_EN_ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)


def ordinal(n: int, lang: str = "zh") -> str:
    """A rank in words: ``一`` (for 第一位) / ``first``; ``11th`` past ten in English."""
    n = int(n)
    if lang == "en":
        if 1 <= n <= len(_EN_ORDINALS):
            return _EN_ORDINALS[n - 1]
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"
    return cn_ordinal(n)


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage: ``pct(0.4234) == "42.3%"``."""
    if _missing(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def count(value: float | None, lang: str = "zh") -> str:
    """A whole number with thousands separators: ``count(2994) == "2,994"``."""
    if _missing(value):
        return "—"
    return f"{round(value):,}"


def score(value: float | None, lang: str = "zh", digits: int = 1) -> str:
    """An index score (0–100): ``score(76.43) == "76.4分"``; in English ``76.4``."""
    if _missing(value):
        return "—"
    return f"{value:.{digits}f}" + ("分" if lang == "zh" else "")


def number(value: float | None, digits: int = 1) -> str:
    """A plain decimal with separators: ``number(1234.56) == "1,234.6"``."""
    if _missing(value):
        return "—"
    return f"{value:,.{digits}f}"


def amount(yuan: float | None, lang: str = "zh") -> str:
    """Money in yuan, in the unit a reader expects.

    >>> amount(8.4e8), amount(1.734e7), amount(8500)
    ('8.4亿元', '1,734万元', '8,500元')
    >>> amount(8.4e8, "en")
    'CNY 840 million'
    """
    if _missing(yuan):
        return "—"
    if lang == "en":
        for size, word in ((1e9, "billion"), (1e6, "million")):
            if abs(yuan) >= size:
                return f"CNY {yuan / size:.3g} {word}"  # three significant figures
        return f"CNY {yuan:,.0f}"
    if abs(yuan) >= 1e8:
        return f"{_trim(yuan / 1e8)}亿元"
    if abs(yuan) >= 1e4:
        return f"{yuan / 1e4:,.0f}万元"
    return f"{yuan:,.0f}元"


def _trim(x: float) -> str:
    text = f"{x:,.1f}"
    return text[:-2] if text.endswith(".0") else text


def points(change: float | None, lang: str = "zh", digits: int = 1) -> str:
    """A change of a share, in percentage points, with its direction in words.

    >>> points(0.052), points(-0.031), points(0.052, "en")
    ('提高5.2个百分点', '下降3.1个百分点', 'up 5.2 percentage points')
    """
    if _missing(change):
        return "—"
    size = f"{abs(change) * 100:.{digits}f}"
    if lang == "en":
        direction = "up" if change > 0 else "down" if change < 0 else "unchanged,"
        return f"{direction} {size} percentage points"
    word = "提高" if change > 0 else "下降" if change < 0 else "持平，变动"
    return f"{word}{size}个百分点"


def gap(difference: float | None, lang: str = "zh", digits: int = 1) -> str:
    """The size of a difference between two shares, without a direction:
    ``gap(-0.31) == "31.0个百分点"``; the sentence says which side is higher."""
    if _missing(difference):
        return "—"
    size = f"{abs(difference) * 100:.{digits}f}"
    return f"{size} percentage points" if lang == "en" else f"{size}个百分点"


def score_change(change: float | None, lang: str = "zh", digits: int = 1) -> str:
    """A change of an index score: ``提高4.2分`` / ``up 4.2 points``."""
    if _missing(change):
        return "—"
    size = f"{abs(change):.{digits}f}"
    if lang == "en":
        return f"{'up' if change > 0 else 'down' if change < 0 else 'unchanged,'} {size} points"
    return f"{'提高' if change > 0 else '下降' if change < 0 else '变动'}{size}分"


def interval(
    low: float | None,
    high: float | None,
    kind: str = "pct",
    lang: str = "zh",
    confidence: float = 0.95,
) -> str:
    """A confidence interval as a parenthetical: ``（95%置信区间：39.1%–45.5%）``."""
    if _missing(low) or _missing(high):
        return ""
    fmt = {"pct": pct, "score": lambda v: f"{v:.1f}", "number": number}[kind]
    level = f"{confidence * 100:g}%"
    if lang == "en":
        return f" ({level} CI {span(fmt(low), fmt(high), lang)})"
    return f"（{level}置信区间：{span(fmt(low), fmt(high), lang)}）"


def p_value(p: float | None) -> str:
    """``p<0.001``, ``p=0.012``, ``p=0.34``."""
    if _missing(p):
        return "—"
    if p < 0.001:
        return "p<0.001"
    return f"p={p:.3f}" if p < 0.01 else f"p={p:.2f}"


_CN_NUMERALS = "零一二三四五六七八九十"


def cn_ordinal(n: int) -> str:
    """Chinese numerals for headings: 1 → 一, 12 → 十二, 21 → 二十一 (up to 99)."""
    if not 0 < n < 100:
        raise ValueError("headings are numbered 1–99")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_NUMERALS[ones]
    head = "" if tens == 1 else _CN_NUMERALS[tens]
    return head + "十" + (_CN_NUMERALS[ones] if ones else "")


# A number as printed: digits with separators and decimals, optionally signed, with the
# units the formatters above append. Heading numerals and list numbers are structure.
_NUMBER = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:%|个百分点|万元|亿元|元|分|万)?")


def numbers_in(text: str) -> list[str]:
    """Every printed number in ``text`` (with its unit), for the number audit.

    >>> numbers_in("占42.3%，较上年提高5.2个百分点，达8.4亿元")
    ['42.3%', '5.2个百分点', '8.4亿元']
    """
    return _NUMBER.findall(text)


def amount_exact(yuan: float | None, lang: str = "zh") -> str:
    """Money exactly, in the largest unit that needs no rounding (ledger totals).

    >>> amount_exact(1.25e9), amount_exact(21_345_600), amount_exact(8_500.5)
    ('12.5亿元', '2,134.56万元', '8,500.5元')
    >>> amount_exact(21_345_600, "en")
    'CNY 21,345,600'
    """
    if _missing(yuan):
        return "—"
    cents = round(yuan * 100)
    if lang == "en":
        for size, word in ((10**11, "billion"), (10**8, "million")):
            if abs(cents) >= size and cents % (size // 1000) == 0:
                return f"CNY {_plain(cents / size, 3)} {word}"
        return f"CNY {_plain(cents / 100, 2, True)}"
    if abs(cents) >= 10**10 and cents % 10**6 == 0:  # whole 万, at most 4 decimals of 亿
        return f"{_plain(cents / 10**10, 4, True)}亿元"
    if abs(cents) >= 10**6 and cents % 10**4 == 0:  # whole 100元: at most 2 decimals of 万
        return f"{_plain(cents / 10**6, 2, True)}万元"
    return f"{_plain(cents / 100, 2, True)}元"


def _plain(x: float, digits: int, separators: bool = True) -> str:
    """A number with up to ``digits`` decimals and no trailing zeros."""
    text = f"{x:,.{digits}f}" if separators else f"{x:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
