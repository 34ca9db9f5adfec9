from __future__ import annotations

import pytest

from analysis.writing import numfmt


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda: numfmt.pct(0.4234), "42.3%"),
        (lambda: numfmt.pct(None), "—"),
        (lambda: numfmt.amount(8.4e8), "8.4亿元"),
        (lambda: numfmt.amount(1.2e9), "12亿元"),
        (lambda: numfmt.amount(1.734e7), "1,734万元"),
        (lambda: numfmt.amount(8500), "8,500元"),
        (lambda: numfmt.amount(8.4e8, "en"), "CNY 840 million"),
        (lambda: numfmt.amount(1.734e7, "en"), "CNY 17.3 million"),
        (lambda: numfmt.count(2994), "2,994"),
        (lambda: numfmt.score(76.43), "76.4分"),
        (lambda: numfmt.score(76.43, "en"), "76.4"),
        (lambda: numfmt.points(0.052), "提高5.2个百分点"),
        (lambda: numfmt.points(-0.031), "下降3.1个百分点"),
        (lambda: numfmt.points(0.052, "en"), "up 5.2 percentage points"),
        (lambda: numfmt.score_change(-2.04), "下降2.0分"),
        (lambda: numfmt.month("2023-05-31"), "2023年5月"),
        (lambda: numfmt.month("2023-05-31", "en"), "May 2023"),
        (lambda: numfmt.day("2023-05-31"), "2023年5月31日"),
        (lambda: numfmt.months("2025-04-01", "2025-09-30"), "2025年4月至9月"),
        (lambda: numfmt.months("2025-04-01", "2025-09-30", "en"), "April–September 2025"),
        (lambda: numfmt.months("2024-11-01", "2025-02-01"), "2024年11月至2025年2月"),
        (lambda: numfmt.months("2025-05-02", "2025-05-30"), "2025年5月"),
        (lambda: numfmt.interval(0.391, 0.455), "（95%置信区间：39.1%～45.5%）"),
        (lambda: numfmt.approx(110717), "约11.1万"),
        (lambda: numfmt.approx(110717, "en"), "about 111,000"),
        (lambda: numfmt.approx(8342), "约8,300"),
        (lambda: numfmt.ordinal(1), "一"),
        (lambda: numfmt.ordinal(2, "en"), "second"),
        (lambda: numfmt.ordinal(11, "en"), "11th"),
        (lambda: numfmt.ordinal(22, "en"), "22nd"),
        (lambda: numfmt.interval(0.391, 0.455, lang="en", confidence=0.9), " (90% CI 39.1%–45.5%)"),
        (lambda: numfmt.p_value(0.0004), "p<0.001"),
        (lambda: numfmt.p_value(0.0043), "p=0.004"),
        (lambda: numfmt.p_value(0.0123), "p=0.01"),
        (lambda: numfmt.p_value(0.34), "p=0.34"),
        (lambda: numfmt.cn_ordinal(1), "一"),
        (lambda: numfmt.cn_ordinal(10), "十"),
        (lambda: numfmt.cn_ordinal(12), "十二"),
        (lambda: numfmt.cn_ordinal(21), "二十一"),
    ],
)
def test_formats(call, expected):
    assert call() == expected


def test_numbers_in_text_keep_their_units():
    text = "受访企业2,994家，其中42.3%反映融资难，较上年提高5.2个百分点；指数76.4分，涉及8.4亿元。"
    assert numfmt.numbers_in(text) == ["2,994", "42.3%", "5.2个百分点", "76.4分", "8.4亿元"]
