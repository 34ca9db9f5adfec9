"""The brief's headline figures computed by hand from a raw 问卷星 export, with plain
pandas and nothing of Qifang: what a careful analyst would do in a spreadsheet.

Each firm's weight is its stratum's registered firms over its visited firms (the
frame); a dimension's score is the weighted mean, over firms that rated at least half
of its items, of the mean of their ratings rescaled to 0–100; the index is the mean of
the dimensions; a difficulty's share is the weighted share of the firms that answered
the question. Used by tests/test_exports.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SKIP = {"(跳过)", "(空)"}
PROVINCE_ITEMS = {  # the rating matrix's row titles in the provincial questionnaire
    "融资服务": "factor",
    "用工保障": "factor",
    "用地用能": "factor",
    "审批效率": "government",
    "政务服务便利度": "government",
    "惠企政策落实": "government",
    "市场准入": "market",
    "公平竞争": "market",
    "商业信用": "market",
    "执法规范性": "legal",
    "权益保护": "legal",
    "司法公正": "legal",
    "科技创新支持": "innovation",
    "知识产权保护": "innovation",
    "数字化转型支持": "innovation",
}
CITY_ITEMS = {
    "融资便利": "factor",
    "用工保障": "factor",
    "用地用能": "factor",
    "审批时效": "government",
    "办事便利程度": "government",
    "政策兑现": "government",
    "市场准入": "market",
    "公平竞争": "market",
    "诚信履约": "market",
    "执法规范": "legal",
    "权益保护": "legal",
    "司法效率": "legal",
}
SIZES = ["大型", "中型", "小型", "微型"]  # as the questionnaires list them


@dataclass(frozen=True)
class Layout:
    """How one export is laid out, as its questionnaire was written."""

    items: dict[str, str]  # row title -> dimension
    scale: list[str]  # rating options as listed, highest score first
    regions: list[str]  # region options as listed
    region_question: str  # the region question's title
    frame_region: str  # the frame's region column
    numbers: bool  # 按选项序号


PROVINCE = Layout(
    PROVINCE_ITEMS,
    ["非常满意", "比较满意", "一般", "不太满意", "非常不满意"],
    ["西宁市", "海东市", "海北州", "黄南州", "海南州", "果洛州", "玉树州", "海西州"],
    "您企业所在的市州",
    "市州",
    False,
)
CITY = Layout(
    CITY_ITEMS,
    ["很满意", "满意", "不满意", "很不满意"],
    ["城东区", "城中区", "城西区", "城北区", "湟中区", "大通县", "湟源县"],
    "企业所在区县",
    "区县",
    False,
)


def read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gbk")
    book = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    return book["答卷数据"] if "答卷数据" in book else next(iter(book.values()))


def _column(df: pd.DataFrame, title: str) -> pd.Series:
    """The column of a question or a matrix row: ``N、title：``, ``N、(title)`` or
    ``N、stem—title``."""
    pattern = re.compile(
        rf"^\d+、(?:{re.escape(title)}：|\({re.escape(title)}\)|.*—{re.escape(title)})$"
    )
    (name,) = [c for c in df.columns if pattern.match(c)]
    return df[name]


def _choice(values: pd.Series, options: list[str], numbers: bool) -> pd.Series:
    if numbers:
        return values.map(lambda x: options[int(x) - 1] if x.isdigit() else None)
    return values.where(~values.isin(SKIP), None)


def figures(export: Path, frame: Path, layout: Layout) -> pd.DataFrame:
    """Per firm: region, size, weight, each dimension's 0–100 score (NaN when fewer than
    half of its items were rated), and whether financing was cited (NaN: skipped)."""
    df = read(export)
    k = len(layout.scale)
    score = {label: k - i for i, label in enumerate(layout.scale)}
    out = pd.DataFrame(
        {
            "region": _choice(_column(df, layout.region_question), layout.regions, layout.numbers),
            "size": _choice(
                _column(df, next(t for t in _titles(df) if "规模" in t)), SIZES, layout.numbers
            ),
        }
    )
    ratings = {}
    for title in layout.items:
        col = _column(df, title)
        if layout.numbers:
            r = col.map(lambda x: k + 1 - int(x) if x.isdigit() else np.nan)
        else:
            r = col.map(lambda x: score.get(x, np.nan))
        ratings[title] = (r.astype(float) - 1) / (k - 1) * 100
    for dim in dict.fromkeys(layout.items.values()):
        block = pd.DataFrame({t: ratings[t] for t, d in layout.items.items() if d == dim})
        enough = block.notna().sum(axis=1) >= block.shape[1] / 2
        out[dim] = block.mean(axis=1).where(enough)
    out["financing"] = _financing(df, layout)
    f = pd.read_csv(frame, dtype={"登记在册企业数": float})
    firms = {
        (r, s): n
        for r, s, n in zip(f[layout.frame_region], f["企业规模"], f["登记在册企业数"], strict=True)
    }
    visited = out.groupby(["region", "size"]).size()
    out["weight"] = [
        firms[(r, s)] / visited[(r, s)] for r, s in zip(out["region"], out["size"], strict=True)
    ]
    return out


def _titles(df: pd.DataFrame) -> list[str]:
    return [re.sub(r"^\d+、|：$", "", c) for c in df.columns]


def _financing(df: pd.DataFrame, layout: Layout) -> pd.Series:
    option = [c for c in df.columns if re.match(r"^\d+、\((融资难融资贵|融资难、融资贵)\)$", c)]
    if option:  # one 0/1 column per option
        col = df[option[0]]
        return col.map(lambda x: np.nan if x in SKIP else float(x.startswith("1")))
    (joined,) = [c for c in df.columns if "主要困难" in c]
    return df[joined].map(
        lambda x: (
            np.nan
            if x in SKIP
            else float(bool({"融资难融资贵", "融资难、融资贵"} & set(x.split("┋"))))
        )
    )


def index(firms: pd.DataFrame, region: str | None = None) -> dict[str, float]:
    """The dimensions, the index and the financing share of the firms of a region (or all)."""
    d = firms if region is None else firms[firms["region"] == region]
    dims = [c for c in ("factor", "government", "market", "legal", "innovation") if c in d]
    out = {}
    for dim in dims:
        ok = d[dim].notna()
        out[dim] = float(np.average(d.loc[ok, dim], weights=d.loc[ok, "weight"]))
    out["overall"] = float(np.mean([out[x] for x in dims]))
    ok = d["financing"].notna()
    out["financing"] = float(np.average(d.loc[ok, "financing"], weights=d.loc[ok, "weight"]))
    out["n"] = len(d)
    return out
