"""The one house style for charts, with Chinese labels in a real CJK font.

Charts only format: every function takes a DataFrame of figures already computed
(estimate, ci_low, ci_high, …) and returns a :class:`Chart` — PNG bytes, alt text and
a caption — that displays itself in a notebook and embeds itself in an HTML brief.

Fonts: matplotlib caches its font list on first import, so a CJK font installed later
is invisible to it and Chinese labels turn into boxes. :func:`cjk_font` looks in
matplotlib's list first, then in the system's font folders (Linux, Windows, macOS),
adds what it finds to the running font manager, and raises
:class:`~analysis.errors.FontNotFoundError` with the install command if there is none.
"""

from __future__ import annotations

import base64
import html
import io
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import FontNotFoundError

# Families with full Simplified Chinese coverage, best first.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "SimHei",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK JP",
    "Source Han Sans CN",
    "Sarasa Gothic SC",
)
_FONT_FILES = (  # where the families above live when matplotlib's cache predates them
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/msyhbd.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)

WIDTH_IN = 6.3  # 16 cm: the text width of an A4 page with official-document margins
DPI = 200
PALETTE = {
    "main": "#1f4e79",  # deep blue: the figure itself
    "alert": "#b03a2e",  # red: a problem, a priority, a significant fall
    "good": "#2e7d5b",  # green: a significant improvement
    "muted": "#9aa5b1",  # grey: context, not significant, earlier wave
    "light": "#dfe6ee",
    "text": "#263238",
}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes plus the words a reader (or a screen reader) needs."""

    png: bytes
    alt: str
    caption: str = ""

    def to_html(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        caption = f"<figcaption>{html.escape(self.caption)}</figcaption>" if self.caption else ""
        return (
            f'<figure class="chart"><img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(self.alt)}" />{caption}</figure>'
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __repr__(self) -> str:  # the notebook's text/plain fallback: short, not the bytes
        return f"<chart: {self.alt[:60]}>"

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.png)


def _install_hint() -> str:
    if sys.platform.startswith("linux"):
        return (
            "install a Chinese font: `sudo apt-get install fonts-noto-cjk` (Debian/Ubuntu) "
            "or `sudo dnf install google-noto-sans-cjk-fonts` (Fedora), then run again"
        )
    if sys.platform == "darwin":
        return (
            "macOS ships PingFang SC; if it is missing, install Noto Sans CJK SC from Google Fonts"
        )
    return "Windows ships Microsoft YaHei; if it is missing, install Noto Sans CJK SC"


@cache
def cjk_font() -> str:
    """The family name of an installed font with Chinese glyphs.

    Raises
    ------
    FontNotFoundError
        No CJK font on this machine; the message gives the install command.
    """
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    # matplotlib's cache may predate the font: add the files themselves.
    candidates = [Path(p) for p in _FONT_FILES]
    for folder in _font_dirs():
        candidates += sorted(folder.glob("**/*CJK*.tt[cf]")) + sorted(folder.glob("**/*CJK*.otf"))
    for path in candidates:
        if path.is_file():
            try:
                font_manager.fontManager.addfont(str(path))
            except (OSError, RuntimeError, ValueError):
                continue
    names = known()
    for family in CJK_FAMILIES:
        if family in names:
            return family
    raise FontNotFoundError(
        "no font with Chinese glyphs is installed, so charts would show boxes", _install_hint()
    )


def _font_dirs() -> list[Path]:
    dirs = [
        Path("/usr/share/fonts"),
        Path("/usr/local/share/fonts"),
        Path.home() / ".fonts",
        Path.home() / ".local/share/fonts",
        Path("/Library/Fonts"),
        Path.home() / "Library/Fonts",
    ]
    if os.environ.get("WINDIR"):
        dirs.append(Path(os.environ["WINDIR"]) / "Fonts")
    return [d for d in dirs if d.is_dir()]


def _style() -> dict:
    family = cjk_font()
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "font.size": 8.5,
        "axes.titlesize": 9.5,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": 8.5,
        "axes.edgecolor": PALETTE["muted"],
        "axes.labelcolor": PALETTE["text"],
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": PALETTE["light"],
        "grid.linewidth": 0.6,
        "xtick.color": PALETTE["text"],
        "ytick.color": PALETTE["text"],
        "axes.unicode_minus": False,  # CJK fonts draw the ASCII hyphen, not U+2212
        "svg.hashsalt": "qifang",
        "figure.dpi": 100,
    }


def _figure(height_in: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with matplotlib.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(WIDTH_IN, height_in), layout="constrained")
    return fig, ax


def _render(fig, alt: str, caption: str) -> Chart:
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    with matplotlib.rc_context(_style()):
        # No "Software" entry: the same figures give the same bytes on every run.
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return Chart(buf.getvalue(), alt, caption)


def _fmt(value: float, percent: bool, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%" if percent else f"{value:.{digits}f}"


def ranked_bars(
    df: pd.DataFrame,
    label: str = "label",
    title: str = "",
    caption: str = "",
    percent: bool = True,
    highlight: set[str] | None = None,
    xlabel: str = "",
    sort: bool = True,
    suppressed_text: str = "样本过少，不予公布",
) -> Chart:
    """Horizontal bars, largest first, with confidence-interval whiskers and values.

    Parameters
    ----------
    df : columns ``label``, ``estimate``, ``ci_low``, ``ci_high``; an optional boolean
        ``suppressed`` column marks cells withheld for too few respondents.
    highlight : labels drawn in the alert colour.

    Examples
    --------
    >>> df = pd.DataFrame({"label": ["融资", "用工"], "estimate": [.5, .3],
    ...                    "ci_low": [.45, .25], "ci_high": [.55, .35]})
    >>> ranked_bars(df, title="主要困难").png[:4]
    b'\\x89PNG'
    """
    import matplotlib

    d = df.copy()
    if "suppressed" not in d:
        d["suppressed"] = False
    d = d.sort_values("estimate", ascending=True, na_position="first") if sort else d.iloc[::-1]
    fig, ax = _figure(0.32 * len(d) + 0.7)
    with matplotlib.rc_context(_style()):
        y = np.arange(len(d))
        colours = [
            PALETTE["alert"] if highlight and lab in highlight else PALETTE["main"]
            for lab in d[label]
        ]
        shown = ~d["suppressed"].to_numpy(bool) & d["estimate"].notna().to_numpy()
        est = d["estimate"].to_numpy(float)
        ax.barh(y[shown], est[shown], color=np.array(colours)[shown], height=0.62, zorder=2)
        err = np.vstack([est - d["ci_low"].to_numpy(float), d["ci_high"].to_numpy(float) - est])
        ax.errorbar(
            est[shown],
            y[shown],
            xerr=err[:, shown],
            fmt="none",
            ecolor=PALETTE["text"],
            elinewidth=0.8,
            capsize=2,
            zorder=3,
        )
        top = np.nanmax(d["ci_high"].to_numpy(float)[shown]) if shown.any() else 1.0
        for yi, row, ok in zip(y, d.itertuples(index=False), shown, strict=True):
            text = _fmt(row.estimate, percent) if ok else suppressed_text
            x = row.ci_high if ok else 0
            ax.text(
                x + top * 0.015,
                yi,
                text,
                va="center",
                fontsize=7.5,
                color=PALETTE["text"] if ok else PALETTE["muted"],
            )
        ax.set_yticks(y, d[label])
        ax.set_xlim(0, top * 1.18)
        ax.grid(axis="y", visible=False)
        if percent:
            ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
    alt = (
        title
        + "："
        + "；".join(
            f"{r[label]} {_fmt(r['estimate'], percent)}"
            for _, r in d.iloc[::-1].iterrows()
            if not r["suppressed"] and pd.notna(r["estimate"])
        )
    )
    return _render(fig, alt, caption)


def dots(
    df: pd.DataFrame,
    reference: float | None,
    title: str = "",
    caption: str = "",
    reference_label: str = "",
    colours: dict[str, str] | None = None,
    legend: dict[str, str] | None = None,
) -> Chart:
    """Estimates with intervals as dots, largest first, against a reference line (the
    province average). ``df`` has label, estimate, ci_low, ci_high and ``group``, which
    picks the colour (e.g. above / below / not_different)."""
    import matplotlib

    d = df.dropna(subset=["estimate"]).sort_values("estimate")
    colours = colours or {}
    fig, ax = _figure(0.3 * len(d) + 0.9)
    with matplotlib.rc_context(_style()):
        y = np.arange(len(d))
        for group, rows in d.assign(y=y).groupby("group", sort=False):
            colour = colours.get(group, PALETTE["main"])
            ax.errorbar(
                rows["estimate"],
                rows["y"],
                xerr=[rows["estimate"] - rows["ci_low"], rows["ci_high"] - rows["estimate"]],
                fmt="o",
                color=colour,
                ecolor=colour,
                elinewidth=1.2,
                capsize=2.5,
                markersize=5,
                zorder=3,
                label=(legend or {}).get(group, group),
            )
        if reference is not None:
            ax.axvline(reference, color=PALETTE["muted"], linestyle="--", linewidth=1, zorder=1)
            ax.text(
                reference,
                len(d) - 0.4,
                f" {reference_label}",
                color=PALETTE["text"],
                fontsize=7.5,
                va="bottom",
            )
        for yi, row in zip(y, d.itertuples(index=False), strict=True):
            ax.text(row.ci_high, yi, f"  {row.estimate:.1f}", va="center", fontsize=7.5)
        ax.set_yticks(y, d["label"])
        ax.set_ylim(-0.7, len(d) + 0.2)
        lo, hi = d["ci_low"].min(), d["ci_high"].max()
        ax.set_xlim(lo - (hi - lo) * 0.08, hi + (hi - lo) * 0.15)
        ax.grid(axis="y", visible=False)
        if legend:
            ax.legend(loc="lower right", fontsize=7, frameon=False)
        if title:
            ax.set_title(title)
    alt = title + "：" + "；".join(f"{r.label} {r.estimate:.1f}" for r in d.iloc[::-1].itertuples())
    return _render(fig, alt, caption)


def stacked(
    df: pd.DataFrame,
    parts: list[tuple[str, str, str]],
    title: str = "",
    caption: str = "",
) -> Chart:
    """Horizontal 100% bars: ``parts`` is (column, legend label, colour) from left to
    right; ``df`` has ``label`` and the part columns as shares summing to about 1."""
    import matplotlib

    d = df.iloc[::-1]
    fig, ax = _figure(0.34 * len(d) + 1.0)
    with matplotlib.rc_context(_style()):
        y = np.arange(len(d))
        left = np.zeros(len(d))
        for column, name, colour in parts:
            values = d[column].fillna(0).to_numpy(float)
            ax.barh(y, values, left=left, color=colour, height=0.6, label=name, zorder=2)
            for yi, x0, v in zip(y, left, values, strict=True):
                if v >= 0.07:
                    ax.text(
                        x0 + v / 2,
                        yi,
                        f"{v * 100:.0f}%",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if colour != PALETTE["light"] else PALETTE["text"],
                    )
            left += values
        ax.set_yticks(y, d["label"])
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.grid(axis="y", visible=False)
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=len(parts),
            fontsize=7.5,
            frameon=False,
        )
        if title:
            ax.set_title(title)
    alt = (
        title
        + "："
        + "；".join(
            f"{r['label']} "
            + "，".join(f"{n} {r[c] * 100:.0f}%" for c, n, _ in parts if pd.notna(r[c]))
            for _, r in df.iterrows()
        )
    )
    return _render(fig, alt, caption)


def quadrant(
    df: pd.DataFrame,
    x_cut: float,
    y_cut: float,
    labels: dict[str, str],
    title: str = "",
    caption: str = "",
    xlabel: str = "",
    ylabel: str = "",
) -> Chart:
    """Importance–performance chart: ``df`` has label, importance (x), performance (y)
    and quadrant; the cuts draw the quadrants; ``labels`` names them."""
    import matplotlib

    fig, ax = _figure(3.6)
    colour = {
        "priority": PALETTE["alert"],
        "strength": PALETTE["main"],
        "maintain": PALETTE["muted"],
        "secondary": PALETTE["muted"],
    }
    with matplotlib.rc_context(_style()):
        ax.axvline(x_cut, color=PALETTE["muted"], linestyle="--", linewidth=0.9)
        ax.axhline(y_cut, color=PALETTE["muted"], linestyle="--", linewidth=0.9)
        ax.scatter(
            df["importance"],
            df["performance"],
            s=28,
            c=[colour.get(q, PALETTE["main"]) for q in df["quadrant"]],
            zorder=3,
        )
        for r in df.itertuples(index=False):
            if r.importance < x_cut:
                continue  # the cluster of minor items stays unlabelled: it would be a smudge
            ax.annotate(
                r.label,
                (r.importance, r.performance),
                xytext=(4, 3),
                textcoords="offset points",
                fontsize=7.5,
                color=colour.get(r.quadrant, PALETTE["text"]),
            )
        xmax = max(df["importance"].max() * 1.25, x_cut * 2)
        ax.set_xlim(0, xmax)
        lo, hi = df["performance"].min(), df["performance"].max()
        ax.set_ylim(lo - (hi - lo) * 0.15, hi + (hi - lo) * 0.15)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        corners = {
            "priority": (0.98, 0.03, "right", "bottom"),
            "strength": (0.98, 0.97, "right", "top"),
            "maintain": (0.02, 0.97, "left", "top"),
            "secondary": (0.02, 0.03, "left", "bottom"),
        }
        for key, (x, y, ha, va) in corners.items():
            ax.text(
                x,
                y,
                labels.get(key, key),
                transform=ax.transAxes,
                ha=ha,
                va=va,
                fontsize=7.5,
                color=colour[key],
                fontweight="bold",
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
    priority = [r.label for r in df.itertuples() if r.quadrant == "priority"]
    alt = (
        title
        + "："
        + (labels.get("priority", "priority") + "：" + "、".join(priority) if priority else "")
    )
    return _render(fig, alt, caption)


def count_bars(
    df: pd.DataFrame,
    series: list[tuple[str, str, str]],
    title: str = "",
    caption: str = "",
    unit: str = "",
    digits: int = 0,
) -> Chart:
    """Counts as horizontal bars, one group per row of ``df`` in its order (top first),
    one bar per series: ``series`` is (column, legend label, colour). Values are printed
    at the bars' ends with ``digits`` decimals and ``unit``; no intervals (counts from a
    ledger are not estimates).

    Examples
    --------
    >>> df = pd.DataFrame({"label": ["社情民意信息", "调研报告"], "sent": [20, 3],
    ...                    "adopted": [11, 2]})
    >>> count_bars(df, [("sent", "报送", PALETTE["muted"]),
    ...                 ("adopted", "采用", PALETTE["main"])]).png[:4]
    b'\\x89PNG'
    """
    import matplotlib

    d = df.iloc[::-1].reset_index(drop=True)
    k = len(series)
    height = 0.8 / k
    fig, ax = _figure((0.22 + 0.16 * k) * len(d) + 0.8)
    with matplotlib.rc_context(_style()):
        y = np.arange(len(d))
        top = max(float(d[c].max()) for c, _, _ in series) if len(d) else 1.0
        top = top or 1.0
        for i, (column, name, colour) in enumerate(series):
            offset = (k - 1 - i - (k - 1) / 2) * height
            values = d[column].to_numpy(float)
            ax.barh(y + offset, values, height=height * 0.92, color=colour, label=name, zorder=2)
            for yi, v in zip(y, values, strict=True):
                ax.text(
                    v + top * 0.012,
                    yi + offset,
                    f"{v:,.{digits}f}{unit}",
                    va="center",
                    fontsize=7,
                    color=PALETTE["text"],
                )
        ax.set_yticks(y, d["label"])
        ax.set_xlim(0, top * 1.2)
        ax.grid(axis="y", visible=False)
        if k > 1:
            ax.legend(loc="lower right", fontsize=7.5, frameon=False)
        if title:
            ax.set_title(title)
    alt = (
        title
        + "："
        + "；".join(
            f"{r['label']} " + "，".join(f"{n} {r[c]:,.{digits}f}{unit}" for c, n, _ in series)
            for _, r in df.iterrows()
        )
    )
    return _render(fig, alt, caption)
