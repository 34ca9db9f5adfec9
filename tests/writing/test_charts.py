from __future__ import annotations

import pandas as pd
import pytest

from analysis.errors import FontNotFoundError
from analysis.writing import charts

SHARES = pd.DataFrame(
    {
        "label": ["融资难融资贵", "市场需求不足", "账款拖欠"],
        "estimate": [0.52, 0.38, 0.2],
        "ci_low": [0.47, 0.33, 0.15],
        "ci_high": [0.57, 0.43, 0.25],
        "suppressed": [False, False, True],
    }
)


def test_a_cjk_font_is_found():
    assert charts.cjk_font() in charts.CJK_FAMILIES


def test_chart_is_png_with_alt_text_and_repeats_byte_for_byte():
    a = charts.ranked_bars(SHARES, title="主要困难")
    b = charts.ranked_bars(SHARES, title="主要困难")
    assert a.png.startswith(b"\x89PNG") and a.png == b.png
    assert a.alt == "主要困难：融资难融资贵 52.0%；市场需求不足 38.0%"  # suppressed value absent
    assert '<img src="data:image/png;base64,' in a.to_html()


def test_chinese_labels_do_not_fall_back_to_a_latin_font(recwarn):
    charts.ranked_bars(SHARES, title="主要困难")
    assert not [w for w in recwarn if "missing from font" in str(w.message)]


def test_missing_font_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(charts, "CJK_FAMILIES", ("No Such Font SC",))
    monkeypatch.setattr(charts, "_FONT_FILES", ())
    monkeypatch.setattr(charts, "_font_dirs", lambda: [])
    charts.cjk_font.cache_clear()
    try:
        with pytest.raises(FontNotFoundError, match="apt-get install fonts-noto-cjk"):
            charts.cjk_font()
    finally:
        charts.cjk_font.cache_clear()


def test_stale_font_cache_is_repaired(monkeypatch):
    from matplotlib import font_manager

    entries = [f for f in font_manager.fontManager.ttflist if f.name not in charts.CJK_FAMILIES]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)  # as if cached before install
    charts.cjk_font.cache_clear()
    try:
        assert charts.cjk_font() in charts.CJK_FAMILIES
    finally:
        charts.cjk_font.cache_clear()


def test_labels_are_plain_text_not_mathtext(monkeypatch):
    """A label with dollar signs is drawn as written; one that is broken mathtext
    ($\\frac{1}{$) no longer stops the run."""
    import matplotlib.text

    figures = []
    render = charts._render

    def keep(fig, alt, caption):
        chart = render(fig, alt, caption)  # draws the figure, tick labels and all
        figures.append(fig)
        return chart

    monkeypatch.setattr(charts, "_render", keep)
    df = SHARES.assign(label=["$5 to $9", "$\\frac{1}{$", "50%–$60"])
    chart = charts.ranked_bars(df, title="收入 $5 to $9 的企业", xlabel="$x$")
    assert chart.png.startswith(b"\x89PNG")
    assert "$5 to $9 52.0%" in chart.alt
    texts = [t for t in figures[0].findobj(matplotlib.text.Text) if t.get_text()]
    assert any(t.get_text() == "$\\frac{1}{$" for t in texts)
    assert texts and not any(t.get_parse_math() for t in texts)
