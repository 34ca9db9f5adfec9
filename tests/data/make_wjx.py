"""Write 问卷星 (wjx) exports of a provincial and a city survey, as offices download them.

Run from the project root: ``python tests/data/make_wjx.py``. The files are committed;
this script documents how each was made and makes them again byte for byte (fixed
seeds, fixed workbook dates). Nothing here uses Qifang's reader: the files are written
the way wjx writes them, and the tests compute their expected figures from these files
with plain pandas.

How wjx writes an export (both downloads):

* metadata first: 序号, 提交答卷时间 (``2025/5/12 10:23:45``), 所用时间 (``356秒``),
  来源, 来源详情, 来自IP (``36.45.1.2(青海-西宁)``); then the questions as
  ``N、题干：``;
* a matrix question as one column per row, ``N、(行标题)``, or in the longer style
  ``N、题干—行标题``;
* 按选项文本 (option text): choices as their text, a multi-select in one cell joined
  by ``┋``, a fill-in option as ``其他〖集体企业〗``;
* 按选项序号 (option number): every choice as its place in the question's list,
  ratings too (1 = the first option listed, 非常满意), a multi-select as one 0/1
  column per option ``N、(选项)``, a fill-in as ``6〖集体企业〗`` or ``1〖…〗``;
* ``(跳过)`` for a skipped question, ``(空)`` for an empty text answer.

Province (``tests/data/wjx/province_*``): 304 firms of the 2025 wave of the seeded
synthetic sample, 8 市州 of 21–78 firms, the questionnaire listing regions by their
州 short forms; option-text XLSX with a hidden first sheet (an old 40-row copy), the
same as a GBK CSV, an option-number XLSX (and a copy whose regions were written out by
hand, so its choices mix numbers and text: it must stop), a requests ledger for each (the text
export's keyed by its 走访编号 question, the number export's by 序号), the frame;
and one export whose rating rows were reworded (it must stop).

City (``examples/city/``, the README's worked example, and ``tests/data/wjx/city_*``):
374 firms in 7 districts of 18–82 firms, a 4-point scale listed 很满意 first,
reworded questions, one open question, no ledger; option text and option number; and
a smaller questionnaire with no policy and no open question.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from analysis.ingest.instrument import load_instrument
from analysis.sample.generate import generate_sample

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
OUT = HERE / "wjx"
CITY = ROOT / "examples" / "city"
STAMP = dt.datetime(2025, 10, 8, 9, 30)  # workbook dates: fixed, so files repeat
SOURCES = ["手机提交", "微信", "链接"]

# --- how the provincial questionnaire on wjx reads -----------------------------------
REGIONS = ["西宁市", "海东市", "海北州", "黄南州", "海南州", "果洛州", "玉树州", "海西州"]
RATING_TEXT = ["非常满意", "比较满意", "一般", "不太满意", "非常不满意"]  # listed in this order
RATING_STEM = "请您对以下方面的满意度进行评价"
POLICY_STEM = "请选择以下惠企政策的了解和享受情况"
OTHER_OWNERSHIP = ["集体企业", "农民专业合作社", "个体工商户转企"]
OTHER_DIFFICULTY = ["资金链紧张", "订单不稳定", "技术升级难"]


def _meta(rng, dates: pd.Series) -> pd.DataFrame:
    """The metadata wjx writes first, in submission order."""
    n = len(dates)
    seconds = rng.integers(8 * 3600, 18 * 3600, n)
    submitted = pd.to_datetime(dates).to_numpy() + seconds.astype("timedelta64[s]")
    order = np.argsort(submitted, kind="stable")
    ip = [
        f"{a}.{b}.{c}.{d}(青海-{city})"
        for a, b, c, d, city in zip(
            rng.choice([36, 43, 61, 111, 223], n),
            rng.integers(1, 255, n),
            rng.integers(1, 255, n),
            rng.integers(1, 255, n),
            rng.choice(["西宁", "海东", "格尔木", "未知"], n),
            strict=True,
        )
    ]
    meta = pd.DataFrame(
        {
            "提交答卷时间": pd.Series(submitted).dt.strftime("%Y/%-m/%-d %H:%M:%S"),
            "所用时间": [f"{s}秒" for s in rng.integers(120, 1500, n)],
            "来源": rng.choice(SOURCES, n),
            "来源详情": "N/A",
            "来自IP": ip,
        }
    )
    return meta, order


def _text(values, lookup: dict, skipped: str = "(跳过)") -> list[str]:
    return [lookup[x] if pd.notna(x) and x in lookup else skipped for x in values]


def _number(values, order: list) -> list[str]:
    pos = {v: str(k) for k, v in enumerate(order, 1)}
    return [pos[x] if pd.notna(x) and x in pos else "(跳过)" for x in values]


def _open(values) -> list[str]:
    return [str(x) if pd.notna(x) and str(x).strip() else "(空)" for x in values]


def province(inst, v: pd.DataFrame, rng, numbers: bool, with_id: bool, reword=None):
    """One wjx export of the provincial questionnaire (``numbers``: 按选项序号)."""
    q = inst.question
    meta, order = _meta(rng, v["visit_date"])
    v = v.iloc[order].reset_index(drop=True)
    meta = meta.iloc[order].reset_index(drop=True)
    cols: dict[str, list] = {"序号": [str(i) for i in range(1, len(v) + 1)]}
    cols.update(meta.to_dict("list"))
    n = 0

    def ask(title: str) -> str:
        nonlocal n
        n += 1
        return f"{n}、{title}："

    def single(name: str, labels: list[str] | None = None) -> None:
        choices = q(name).choices
        labels = labels or [c.label.zh for c in choices]
        head = ask(q(name).label.zh)
        values = list(v[name].astype(object))
        if numbers:
            cols[head] = _number(values, [c.value for c in choices])
        else:
            cols[head] = _text(
                values, {c.value: lab for c, lab in zip(choices, labels, strict=True)}
            )

    if with_id:
        cols[ask("走访编号")] = list(v["visit_id"])
    cols[ask("走访单位")] = list(v["visiting_unit"])
    single("region", REGIONS)
    cols[ask(q("county").label.zh)] = list(v["county"])
    for name in ("industry", "size"):
        single(name)
    # ownership: 其他 with the firm's own words
    head = ask(q("ownership").label.zh)
    owners = [c.value for c in q("ownership").choices]
    labels = {c.value: c.label.zh for c in q("ownership").choices}
    other = rng.choice(OTHER_OWNERSHIP, len(v))
    cells = []
    for x, words in zip(v["ownership"].astype(object), other, strict=True):
        if pd.isna(x):
            cells.append("(跳过)")
        elif numbers:
            cells.append(str(owners.index(x) + 1) + (f"〖{words}〗" if x == "other" else ""))
        else:
            cells.append(labels[x] + (f"〖{words}〗" if x == "other" else ""))
    cols[head] = cells
    cols[ask(q("employees").label.zh)] = [
        "(跳过)" if pd.isna(x) else str(int(x)) for x in v["employees"]
    ]
    single("revenue_band")
    cols[ask(q("founded").label.zh)] = [
        "(跳过)" if pd.isna(x) else str(int(x)) for x in v["founded"]
    ]
    single("chamber_member")
    # the rating matrix: one column per row
    n += 1
    for item in inst.items():
        title = (reword or {}).get(item.short.zh, item.short.zh)
        head = f"{n}、{RATING_STEM}—{title}" if numbers else f"{n}、({title})"
        values = [None if pd.isna(x) else int(x) for x in v[item.name]]
        if numbers:
            cols[head] = _number(values, [5, 4, 3, 2, 1])
        else:
            cols[head] = _text(values, dict(zip([5, 4, 3, 2, 1], RATING_TEXT, strict=True)))
    head = ask(q("overall_satisfaction").label.zh)
    values = [None if pd.isna(x) else int(x) for x in v["overall_satisfaction"]]
    cols[head] = (
        _number(values, [5, 4, 3, 2, 1])
        if numbers
        else _text(values, dict(zip([5, 4, 3, 2, 1], RATING_TEXT, strict=True)))
    )
    # difficulties: joined with ┋ (text), or one 0/1 column per option (number)
    d = q("difficulties")
    chosen = v[[f"difficulties__{c.value}" for c in d.choices]].to_numpy()
    words = rng.choice(OTHER_DIFFICULTY, len(v))
    if numbers:
        n += 1
        for k, c in enumerate(d.choices):
            column = []
            for row, w in zip(chosen[:, k], words, strict=True):
                if np.isnan(row):
                    column.append("(跳过)")
                else:
                    column.append(
                        f"{int(row)}" + (f"〖{w}〗" if c.value == "other" and row else "")
                    )
            cols[f"{n}、({c.label.zh})"] = column
    else:
        head = ask(d.label.zh)
        cells = []
        for row, w in zip(chosen, words, strict=True):
            if np.isnan(row).all():
                cells.append("(跳过)")
                continue
            picked = [
                c.label.zh + (f"〖{w}〗" if c.value == "other" else "")
                for c, x in zip(d.choices, row, strict=True)
                if x == 1
            ]
            cells.append("┋".join(picked) if picked else "(跳过)")
        cols[head] = cells
    # the policy matrix
    n += 1
    status = [c.value for c in q("p_tax").choices]
    status_text = {c.value: c.label.zh for c in q("p_tax").choices}
    for p in [x for x in inst.visits.fields if x.name.startswith("p_")]:
        head = f"{n}、{POLICY_STEM}—{p.short.zh}" if numbers else f"{n}、({p.short.zh})"
        values = list(v[p.name].astype(object))
        cols[head] = _number(values, status) if numbers else _text(values, status_text)
    for name in ("invest_plan", "hiring_plan"):
        single(name)
    for name in ("urgent_needs", "suggestions"):
        cols[ask(q(name).label.zh)] = _open(v[name])
    for name in ("firm_name", "contact_person", "phone"):
        cols[ask(q(name).label.zh)] = _open(v[name])
    return pd.DataFrame(cols), v


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame], hidden: tuple[str, ...] = ()) -> None:
    book = openpyxl.Workbook()
    book.remove(book.active)
    book.properties.created = book.properties.modified = STAMP
    for name, df in sheets.items():
        ws = book.create_sheet(name)
        ws.append(list(df.columns))
        for row in df.itertuples(index=False):
            ws.append(list(row))
        if name in hidden:
            ws.sheet_state = "hidden"
    book.save(path)
    _fix_dates(path)


def _fix_dates(path: Path) -> None:
    """openpyxl stamps the time of saving into the workbook and its zip entries: fix
    both, so the same data gives the same bytes."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    when = STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            if name == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + when, data
                )
            z.writestr(
                zipfile.ZipInfo(name, date_time=STAMP.timetuple()[:6]), data, zipfile.ZIP_DEFLATED
            )


def ledger(inst, requests: pd.DataFrame, ids: dict) -> pd.DataFrame:
    """The office's requests ledger, with labels as staff type them."""
    rq = inst.requests
    label = {
        name: {c.value: c.label.zh for c in rq[name].choices}
        for name in ("category", "department", "status")
    }
    out = pd.DataFrame(
        {
            "诉求编号": requests["request_id"],
            "走访编号": requests["visit_id"].map(ids),
            "诉求类别": requests["category"].map(label["category"]),
            "责任部门": requests["department"].map(label["department"]),
            "办理状态": requests["status"].map(label["status"]),
            "提出日期": pd.to_datetime(requests["raised_date"]).dt.strftime("%Y-%m-%d"),
            "办结日期": pd.to_datetime(requests["resolved_date"]).dt.strftime("%Y-%m-%d"),
            "诉求内容": requests["summary"],
        }
    )
    return out


def write_province() -> None:
    inst = load_instrument()
    s = generate_sample(firms=300, seed=14)
    v = s.visits[s.visits["wave"] == 2025].reset_index(drop=True)
    old = s.visits[s.visits["wave"] == 2024].head(40).reset_index(drop=True)
    csv = dict(index=False, lineterminator="\r\n")

    text, ordered = province(inst, v, np.random.default_rng(1), numbers=False, with_id=True)
    stale, _ = province(inst, old, np.random.default_rng(2), numbers=False, with_id=True)
    write_xlsx(
        OUT / "province_text.xlsx",
        {"旧数据（勿删）": stale, "答卷数据": text},
        hidden=("旧数据（勿删）",),
    )
    text.to_csv(OUT / "province_text_gbk.csv", encoding="gbk", **csv)
    numbers, ordered_n = province(inst, v, np.random.default_rng(1), numbers=True, with_id=False)
    write_xlsx(OUT / "province_numbers.xlsx", {"Sheet1": numbers})
    # the number export with its regions written out by hand: choices now part numbers,
    # part text, so a rating's number cannot be told from a score (it must stop)
    named = numbers.copy()
    region = next(c for c in named.columns if "市州" in c)
    named[region] = [REGIONS[int(x) - 1] for x in named[region]]
    write_xlsx(OUT / "province_numbers_regions_named.xlsx", {"Sheet1": named})
    reworded = {
        "融资服务": "金融服务",
        "政务服务便利度": "办事便利程度",
        "执法规范性": "执法检查规范",
    }
    changed, _ = province(
        inst, v, np.random.default_rng(1), numbers=False, with_id=True, reword=reworded
    )
    write_xlsx(OUT / "province_reworded.xlsx", {"Sheet1": changed})

    requests = s.requests[s.requests["visit_id"].isin(set(v["visit_id"]))]
    ids = dict(zip(ordered["visit_id"], ordered["visit_id"], strict=True))
    ledger(inst, requests, ids).to_csv(OUT / "province_requests.csv", encoding="utf-8-sig", **csv)
    serial = {vid: str(i) for i, vid in enumerate(ordered_n["visit_id"], 1)}
    ledger(inst, requests, serial).to_csv(
        OUT / "province_requests_by_number.csv", encoding="utf-8-sig", **csv
    )
    frame = s.frame[s.frame["wave"] == 2025]
    sizes = {c.value: c.label.zh for c in inst.question("size").choices}
    region = dict(zip([c.value for c in inst.question("region").choices], REGIONS, strict=True))
    pd.DataFrame(
        {
            "年度": frame["wave"],
            "市州": frame["region"].map(region),
            "企业规模": frame["size"].map(sizes),
            "登记在册企业数": frame["firms"],
        }
    ).to_csv(OUT / "province_frame.csv", encoding="utf-8", **csv)


# --- the city -------------------------------------------------------------------------
DISTRICTS = {  # value: (as the questionnaire lists it, firms visited)
    "chengdong": ("城东区", 82),
    "chengzhong": ("城中区", 74),
    "chengxi": ("城西区", 66),
    "chengbei": ("城北区", 58),
    "huangzhong": ("湟中区", 48),
    "datong": ("大通县", 28),
    "huangyuan": ("湟源县", 18),
}
SIZE_SHARE = {"large": 0.07, "medium": 0.16, "small": 0.3, "micro": 0.47}
FIRMS_PER_VISIT = {"large": 2, "medium": 8, "small": 30, "micro": 90}
CITY_RATINGS = ["很满意", "满意", "不满意", "很不满意"]  # listed first to last: 4 … 1
CITY_ROWS = {  # the row titles of the city's rating matrix
    "r_finance": "融资便利",
    "r_labour": "用工保障",
    "r_land": "用地用能",
    "r_approval": "审批时效",
    "r_service": "办事便利程度",  # an alias: the questionnaire's wording this year
    "r_policy": "政策兑现",
    "r_access": "市场准入",
    "r_competition": "公平竞争",
    "r_credit": "诚信履约",
    "r_enforcement": "执法规范",
    "r_rights": "权益保护",
    "r_justice": "司法效率",
}
ITEM_LEVEL = {
    "r_finance": -0.6,
    "r_labour": -0.3,
    "r_land": -0.2,
    "r_service": 0.4,
    "r_enforcement": 0.1,
    "r_justice": 0.2,
    "r_credit": -0.4,
}
NEEDS = {
    "financing": ["希望银行加大信用贷款投放，降低担保要求", "贷款审批周期太长，希望加快放款"],
    "labour": ["技术工人招不到，希望搭建用工对接平台", "用工成本上涨，希望延续社保补贴"],
    "arrears": ["工程款被拖欠一年多，希望督促尽快支付", "应收账款回款慢，资金周转困难"],
    "costs": ["原材料涨价，希望稳定电价气价", "运输成本高，利润被压缩"],
    "demand": ["订单减少，希望政府帮助开拓市场", "希望组织产销对接会"],
    "inspection": ["检查太多，希望合并检查事项", "执法检查频繁影响生产"],
}


def city_data(seed: int = 2025) -> tuple[pd.DataFrame, pd.DataFrame]:
    """374 visits in 7 districts, and the frame, as coded values."""
    rng = np.random.default_rng(seed)
    rows, frame = [], []
    for district, (_, n) in DISTRICTS.items():
        counts = {s: max(1, round(n * share)) for s, share in SIZE_SHARE.items()}
        counts["micro"] += n - sum(counts.values())
        if district == "huangyuan":  # no large firm here: a frame row of 0, unvisited
            counts["micro"] += counts.pop("large")
        for size in SIZE_SHARE:
            k = counts.get(size, 0)
            frame.append(
                (
                    2025,
                    district,
                    size,
                    k * FIRMS_PER_VISIT[size] + int(rng.integers(0, 9)) if k else 0,
                )
            )
            rows += [(district, size)] * k
    v = pd.DataFrame(rows, columns=["region", "size"])
    m = len(v)
    u = rng.normal(0, 1, m)
    for item in CITY_ROWS:
        z = 0.3 + ITEM_LEVEL.get(item, 0.0) + 0.9 * u + rng.normal(0, 0.8, m)
        r = np.digitize(z, [-0.9, 0.1, 1.1]) + 1  # 1..4
        r = r.astype(float)
        r[rng.random(m) < 0.03] = np.nan
        v[item] = r
    zs = (v["r_service"].fillna(2.5) - 2.5) * 0.9 + (v["r_enforcement"].fillna(2.5) - 2.5) * 0.7
    v["overall_satisfaction"] = np.digitize(zs + rng.normal(0, 0.6, m), [-1.0, 0.0, 1.0]) + 1.0
    micro = (v["size"] == "micro").to_numpy()
    large = (v["size"] == "large").to_numpy()
    probs = {
        "financing": np.where(micro, 0.58, np.where(large, 0.15, 0.38)),
        "labour": 0.3,
        "costs": 0.33,
        "demand": 0.28,
        "arrears": 0.24,
        "tax": 0.12,
        "policy": 0.1,
        "inspection": 0.08,
        "land": 0.09,
        "logistics": 0.11,
        "talent": 0.2,
        "other": 0.03,
    }
    for option, p in probs.items():
        v[f"difficulties__{option}"] = (rng.random(m) < p).astype(float)
    skipped = rng.random(m) < 0.02
    # wjx asks at least one option of an answered multi-select: none chosen is skipped
    skipped |= v[[f"difficulties__{o}" for o in probs]].sum(axis=1).to_numpy() == 0
    for option in probs:
        v.loc[skipped, f"difficulties__{option}"] = np.nan
    for p in ("p_tax", "p_finance", "p_jobs"):
        v[p] = rng.choice(["unaware", "aware", "benefited"], m, p=[0.35, 0.35, 0.30])
    for plan in ("invest_plan", "hiring_plan"):
        v[plan] = rng.choice(
            ["increase", "stable", "decrease", "undecided"], m, p=[0.3, 0.45, 0.15, 0.1]
        )
    v["industry"] = rng.choice(["C", "E", "F", "G", "H", "I", "L", "O"], m)
    v["employees"] = np.where(
        large,
        rng.integers(300, 2000, m),
        np.where(micro, rng.integers(1, 10, m), rng.integers(10, 300, m)),
    )
    v["visit_date"] = pd.to_datetime("2025-04-01") + pd.to_timedelta(
        rng.integers(0, 180, m), unit="D"
    )
    surnames, given = "王李张刘陈杨赵马", "建国秀英海军丽华德明桂兰"
    v["contact_person"] = [
        surnames[a] + given[b] + given[c] for a, b, c in rng.integers(0, 8, (m, 3))
    ]
    v["firm_name"] = [
        f"西宁{w}{k}商贸有限公司"
        for w, k in zip(rng.choice(list("兴盛祥瑞恒达"), m), rng.integers(1, 99, m), strict=True)
    ]
    v["phone"] = [f"139{x:08d}" for x in rng.integers(0, 10**8, m)]
    needs = []
    for i in range(m):
        if rng.random() > 0.7:
            needs.append(None)
            continue
        ticked = [o for o in NEEDS if v.at[i, f"difficulties__{o}"] == 1] or ["demand"]
        text = NEEDS[ticked[0]][int(rng.integers(0, 2))]
        if rng.random() < 0.06:  # a planted phone number and name: must never reach a brief
            text += f"，请联系{v.at[i, 'contact_person']}{v.at[i, 'phone']}"
        needs.append(text + "。")
    v["urgent_needs"] = needs
    frame = pd.DataFrame(frame, columns=["wave", "region", "size", "firms"])
    return v, frame


def city(inst, v: pd.DataFrame, rng, numbers: bool, minimal: bool = False) -> pd.DataFrame:
    """The city's questionnaire on wjx, as exported (``minimal``: no policies, no open
    question)."""
    q = inst.question
    meta, order = _meta(rng, v["visit_date"])
    v = v.iloc[order].reset_index(drop=True)
    meta = meta.iloc[order].reset_index(drop=True)
    cols: dict[str, list] = {"序号": [str(i) for i in range(1, len(v) + 1)]}
    cols.update(meta.to_dict("list"))
    n = 0

    def ask(title: str) -> str:
        nonlocal n
        n += 1
        return f"{n}、{title}："

    def single(name: str, labels: dict, order_: list) -> None:
        head = ask(q(name).label.zh)
        values = list(v[name].astype(object))
        cols[head] = _number(values, order_) if numbers else _text(values, labels)

    single("region", {k: t for k, (t, _) in DISTRICTS.items()}, list(DISTRICTS))
    industries = [c.value for c in q("industry").choices]
    single("industry", {c.value: c.label.zh for c in q("industry").choices}, industries)
    single(
        "size",
        {c.value: c.label.zh for c in q("size").choices},
        [c.value for c in q("size").choices],
    )
    cols[ask("从业人数")] = [str(int(x)) for x in v["employees"]]
    n += 1
    for item, title in CITY_ROWS.items():
        head = f"{n}、请您对下列方面打分—{title}" if numbers else f"{n}、({title})"
        values = [None if pd.isna(x) else int(x) for x in v[item]]
        cols[head] = (
            _number(values, [4, 3, 2, 1])
            if numbers
            else _text(values, dict(zip([4, 3, 2, 1], CITY_RATINGS, strict=True)))
        )
    values = [int(x) for x in v["overall_satisfaction"]]
    head = ask(q("overall_satisfaction").label.zh)
    cols[head] = (
        _number(values, [4, 3, 2, 1])
        if numbers
        else _text(values, dict(zip([4, 3, 2, 1], CITY_RATINGS, strict=True)))
    )
    d = q("difficulties")
    labels = {c.value: (c.aliases[0] if c.aliases else c.label.zh) for c in d.choices}
    chosen = v[[f"difficulties__{c.value}" for c in d.choices]].to_numpy()
    if numbers:
        n += 1
        for k, c in enumerate(d.choices):
            cols[f"{n}、({labels[c.value]})"] = [
                "(跳过)"
                if np.isnan(x)
                else str(int(x)) + ("〖厂房租金高〗" if c.value == "other" and x else "")
                for x in chosen[:, k]
            ]
    else:
        cells = []
        for row in chosen:
            picked = [
                labels[c.value] + ("〖厂房租金高〗" if c.value == "other" else "")
                for c, x in zip(d.choices, row, strict=True)
                if x == 1
            ]
            cells.append("┋".join(picked) if picked else "(跳过)")
        cols[ask("企业当前遇到的主要困难（多选）")] = cells
    status = ["unaware", "aware", "benefited"]
    status_text = {"unaware": "不了解", "aware": "了解但未享受", "benefited": "已享受"}
    if not minimal:
        n += 1
        for p in ("p_tax", "p_finance", "p_jobs"):
            title = q(p).label.zh
            head = f"{n}、惠企政策了解和享受情况—{title}" if numbers else f"{n}、({title})"
            values = list(v[p])
            cols[head] = _number(values, status) if numbers else _text(values, status_text)
    plans = [c.value for c in q("invest_plan").choices]
    plan_text = {c.value: c.label.zh for c in q("invest_plan").choices}
    for name in ("invest_plan", "hiring_plan"):
        single(name, plan_text, plans)
    if not minimal:
        cols[ask(q("urgent_needs").label.zh)] = _open(v["urgent_needs"])
    for name in ("firm_name", "contact_person", "phone"):
        cols[ask(q(name).label.zh)] = _open(v[name])
    return pd.DataFrame(cols)


def write_city() -> None:
    CITY.mkdir(parents=True, exist_ok=True)
    inst = load_instrument(CITY / "instrument.yaml")
    v, frame = city_data()
    names = {k: t for k, (t, _) in DISTRICTS.items()}
    sizes = {c.value: c.label.zh for c in inst.question("size").choices}
    pd.DataFrame(
        {
            "年度": frame["wave"],
            "区县": frame["region"].map(names),
            "企业规模": frame["size"].map(sizes),
            "登记在册企业数": frame["firms"],
        }
    ).to_csv(CITY / "frame.csv", index=False, lineterminator="\n", encoding="utf-8")
    write_xlsx(CITY / "visits.xlsx", {"答卷数据": city(inst, v, np.random.default_rng(5), False)})
    write_xlsx(OUT / "city_numbers.xlsx", {"Sheet1": city(inst, v, np.random.default_rng(5), True)})
    small = load_instrument(OUT / "city_minimal.yaml")
    write_xlsx(
        OUT / "city_minimal.xlsx",
        {"Sheet1": city(small, v, np.random.default_rng(5), False, minimal=True)},
    )


def write_city_minimal_instrument() -> None:
    """The city's questionnaire without its policy block and its open question."""
    text = (CITY / "instrument.yaml").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    out, skip = [], False
    for line in lines:
        starts = line.lstrip().startswith(("- {name: p_", "- name: urgent_needs"))
        if starts:
            skip = True
        elif skip and line.lstrip().startswith(("- {name:", "- name:", "#")):
            skip = False
        if not skip:
            out.append(line)
    head = "# The worked example's instrument without policies and without an open question.\n"
    (OUT / "city_minimal.yaml").write_text(head + "".join(out), encoding="utf-8")


def write_misleading() -> None:
    """Inputs whose old messages misled: an HTML page saved as .xls, a params file
    typed with a full-width colon."""
    (OUT / "page_saved_as.xls").write_text(
        "<html><head><meta charset='utf-8'></head><body><table><tr><td>序号</td>"
        "<td>1、走访编号：</td></tr><tr><td>1</td><td>QF2025-000001</td></tr></table>"
        "</body></html>\n",
        encoding="utf-8",
    )
    (OUT / "params_fullwidth_colon.yaml").write_text(
        "region：海东市\nwave: 2025\n", encoding="utf-8"
    )


def main() -> None:
    OUT.mkdir(exist_ok=True)
    write_province()
    write_city_minimal_instrument()
    write_city()
    write_misleading()


if __name__ == "__main__":
    main()
