from __future__ import annotations

from datetime import date

import pytest

from analysis.errors import ParameterError
from analysis.tracking.periods import parse_period


@pytest.mark.parametrize(
    ("text", "start", "end", "key", "zh"),
    [
        ("2025", "2025-01-01", "2025-12-31", "2025", "2025年"),
        (2025, "2025-01-01", "2025-12-31", "2025", "2025年"),
        ("2025年", "2025-01-01", "2025-12-31", "2025", "2025年"),
        ("2025H1", "2025-01-01", "2025-06-30", "2025H1", "2025年上半年"),
        ("2025下半年", "2025-07-01", "2025-12-31", "2025H2", "2025年下半年"),
        ("2024Q1", "2024-01-01", "2024-03-31", "2024Q1", "2024年第一季度"),
        ("2025年第三季度", "2025-07-01", "2025-09-30", "2025Q3", "2025年第三季度"),
        (
            "2025-03-01..2025-08-31",
            "2025-03-01",
            "2025-08-31",
            "2025-03-01_2025-08-31",
            "2025年3月1日至8月31日",
        ),
        (
            "2024-11-15至2025-02-10",
            "2024-11-15",
            "2025-02-10",
            "2024-11-15_2025-02-10",
            "2024年11月15日至2025年2月10日",
        ),
        (
            "2024-02..2024-02",
            "2024-02-01",
            "2024-02-29",
            "2024-02-01_2024-02-29",
            "2024年2月1日至2月29日",
        ),
    ],
)
def test_periods(text, start, end, key, zh):
    p = parse_period(text)
    assert (p.start, p.end) == (date.fromisoformat(start), date.fromisoformat(end))
    assert (p.key, p.label.zh) == (key, zh)


@pytest.mark.parametrize(
    "text", ["2025H3", "last year", "2025-13-01..2025-12-31", "2025-06-01..2025-01-01", "25"]
)
def test_not_a_period(text):
    with pytest.raises(ParameterError, match="period"):
        parse_period(text)


def test_parts():
    assert [p.key for p in parse_period("2025").parts()] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    months = parse_period("2025-03-10..2025-05-05").parts()
    assert [p.key for p in months] == ["2025-03", "2025-04", "2025-05"]
    assert (months[0].start, months[-1].end) == (date(2025, 3, 10), date(2025, 5, 5))
