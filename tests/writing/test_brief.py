from __future__ import annotations

import pytest

from analysis.writing.brief import SECTIONS, Brief
from analysis.writing.suggest import suggest
from findings_fixture import sample_findings


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_section_and_chart_renders(lang):
    f = sample_findings()
    brief = Brief(f, suggest(f), lang)
    for name in SECTIONS:
        assert brief.section(name).html
    for name in (
        "dimensions",
        "regions",
        "difficulties",
        "financing_by_size",
        "policies",
        "drivers",
        "requests",
    ):
        chart = brief.chart(name)
        assert chart is not None and chart.png.startswith(b"\x89PNG")


def test_free_text_is_escaped():
    f = sample_findings()
    block = f.open_answers[0]
    evil = block.categories[0].model_copy(update={"quotes": ["<script>alert('x')</script>"]})
    f2 = f.model_copy(
        update={
            "open_answers": [
                block.model_copy(update={"categories": [evil, *block.categories[1:]]}),
                *f.open_answers[1:],
            ]
        }
    )
    html = Brief(f2, suggest(f2), "zh").section("voices").html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_summary_names_the_planted_findings():
    f = sample_findings()
    html = Brief(f, suggest(f), "zh").section("summary").html
    assert "融资难融资贵是企业反映最突出的困难" in html
    assert "海东市政务环境明显改善" in html
    assert "海西" not in html  # flat: not reported as an improvement
