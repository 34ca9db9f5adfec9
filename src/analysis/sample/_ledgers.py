"""The sample office's three ledgers, with planted figures the tests check.

Written by ``qifang sample`` beside the survey, as an office keeps them: Chinese
headers, dates written three ways, the services ledger as Excel saves a CSV on a
Chinese Windows (GBK, a title row above the header, amounts in 万元). Nothing here is
random: every figure is planted on purpose and documented in ``PLANTED`` (and in
``data/sample/README.md``). The firm keys are invented.
"""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from analysis.ingest.iorw import write_csv

KINDS = {"P": "政协提案", "S": "社情民意信息", "D": "大会发言", "R": "调研报告", "Z": "专报"}
TO = {
    "P": "省政协",
    "S": "全国工商联、省政协、省委统战部",
    "D": "省政协",
    "R": "省委、省政府",
    "Z": "省委办公厅",
}

# id, submitted, topic, title, run, suggestions
_ITEMS = [
    ("S2024-10", "2024-10-15", "用工", "关于缓解民营企业“招工难”的建议", "", ""),
    (
        "S2024-11",
        "2024-11-28",
        "账款拖欠",
        "关于缓解民营企业账款拖欠问题的建议",
        "2024-all",
        "arrears",
    ),
    (
        "S2024-12",
        "2024-12-10",
        "政务服务",
        "关于提升涉企政务服务便利度的建议",
        "2024-all",
        "government_services",
    ),
    ("R2024-03", "2024-12-20", "营商环境", "2024年全省民营企业营商环境调研报告", "2024-all", ""),
    (
        "P2025-01",
        "2025-01-15",
        "融资",
        "关于多措并举破解小微企业融资难题的提案",
        "2024-all",
        "financing",
    ),
    (
        "P2025-02",
        "2025-01-15",
        "账款拖欠",
        "关于建立防范拖欠企业账款长效机制的提案",
        "2024-all",
        "arrears",
    ),
    ("P2025-03", "2025-01-15", "涉企检查", "关于规范涉企行政检查的提案", "2024-all", "inspection"),
    (
        "P2025-04",
        "2025-01-15",
        "政务服务",
        "关于推动海东市政务服务“高效办成一件事”的提案",
        "2024-haidong",
        "government_services",
    ),
    ("P2025-05", "2025-01-15", "用工", "关于加强民营企业用工保障的提案", "2024-all", "labour"),
    ("D2025-01", "2025-01-16", "民营经济发展", "关于促进民营经济高质量发展的大会发言", "", ""),
    ("D2025-02", "2025-01-16", "融资", "关于优化小微企业金融服务的大会发言", "", ""),
    ("S2025-01", "2025-02-20", "融资", "小微企业首贷难续贷难问题亟待破解", "2024-all", "financing"),
    (
        "S2025-02",
        "2025-03-05",
        "账款拖欠",
        "民营企业应收账款回收周期拉长值得关注",
        "2024-all",
        "arrears",
    ),
    (
        "S2025-03",
        "2025-03-18",
        "涉企检查",
        "涉企检查多头重复问题仍较突出",
        "2024-all",
        "inspection",
    ),
    ("S2025-04", "2025-04-02", "融资", "政府性融资担保覆盖面有待扩大", "2024-all", "financing"),
    (
        "S2025-05",
        "2025-06-03",
        "政务服务",
        "海东市政务服务改进经验值得推广",
        "2024-haidong",
        "government_services",
    ),
    ("S2025-06", "2025-06-16", "用工", "民营企业技能人才短缺问题亟须重视", "", ""),
    ("S2025-07", "2025-07-01", "税费", "小微企业税费优惠政策落实中的堵点", "", ""),
    ("S2025-08", "2025-07-15", "融资", "普惠金融产品与企业需求错配问题", "", ""),
    ("S2025-09", "2025-09-10", "创新", "民营企业研发投入激励政策有待优化", "", ""),
    ("S2025-10", "2025-09-22", "融资", "信用贷款投放仍偏重抵押担保", "2024-all", "financing"),
    ("S2025-11", "2025-10-09", "账款拖欠", "清欠工作中的新情况新问题", "", ""),
    ("S2025-12", "2025-10-20", "用工", "季节性用工保障问题应予关注", "", ""),
    ("S2025-13", "2025-10-28", "政务服务", "涉企审批“体外循环”问题值得关注", "", ""),
    ("S2025-14", "2025-11-04", "物流", "民营物流企业成本居高不下", "", ""),
    ("S2025-15", "2025-11-12", "用地用能", "中小企业用地用能保障有待加强", "", ""),
    ("S2025-16", "2025-11-19", "税费", "涉企收费清理仍需持续发力", "", ""),
    ("S2025-17", "2025-11-26", "融资", "小微企业续贷政策落实情况调查", "", ""),
    ("S2025-18", "2025-12-01", "创新", "中小企业数字化转型面临的困难", "", ""),
    ("S2025-19", "2025-12-03", "乡村振兴", "“百企兴百村”行动中的几个问题", "", ""),
    ("S2025-20", "2025-12-05", "融资", "融资难问题在新一轮调查中仍较突出", "2025-all", "financing"),
    ("R2025-01", "2025-05-10", "民营经济发展", "全省民营经济发展情况调研报告", "", ""),
    ("R2025-02", "2025-08-05", "乡村振兴", "民营企业参与乡村振兴情况调研报告", "", ""),
    ("R2025-03", "2025-12-15", "营商环境", "2025年全省民营企业营商环境调研报告", "2025-all", ""),
    ("Z2025-01", "2025-05-20", "政务服务", "关于推行涉企事项“免申即享”的专报", "", ""),
    ("Z2025-02", "2025-08-20", "账款拖欠", "关于政府投资项目拖欠民营企业账款的专报", "", ""),
    ("Z2025-03", "2025-09-15", "涉企检查", "关于推行“综合查一次”的专报", "", ""),
    ("Z2025-04", "2025-10-15", "融资", "关于设立小微企业应急转贷资金的专报", "", ""),
]

# id, days after submission, event, body, level, publication, leader
_EVENTS = [
    ("S2024-10", 36, "采用", "省政协", "省级", "", ""),
    ("S2024-11", 63, "采用", "省委统战部", "省级", "", ""),
    ("S2024-12", 43, "采用", "省委统战部", "省级", "统战信息", ""),
    ("S2025-01", 12, "采用", "全国工商联", "国家级", "", ""),
    ("S2025-01", 20, "采用", "省政协", "省级", "", ""),
    ("S2025-01", 25, "采用", "省委办公厅", "省级", "每日情况", ""),
    ("S2025-01", 30, "批示", "省委", "省级", "", "主要领导"),
    ("S2025-01", 34, "批示", "省政府", "省级", "", "其他领导"),
    ("S2025-02", 8, "采用", "全国工商联", "国家级", "", ""),
    ("S2025-02", 15, "采用", "省政协", "省级", "", ""),
    ("S2025-02", 22, "采用", "省委统战部", "省级", "", ""),
    ("S2025-03", 14, "采用", "全国工商联", "国家级", "", ""),
    ("S2025-03", 19, "采用", "省政协", "省级", "", ""),
    ("S2025-04", 15, "转送采用", "全国工商联", "国家级", "", ""),
    ("R2025-01", 18, "采用", "全国工商联", "国家级", "", ""),
    ("Z2025-01", 20, "采用", "全国工商联", "国家级", "", ""),
    ("S2025-05", 21, "采用", "省政协", "省级", "", ""),
    ("S2025-05", 27, "采用", "省委办公厅", "省级", "每日情况", ""),
    ("S2025-05", 35, "批示", "省政府", "省级", "", "其他领导"),
    ("S2025-06", 21, "采用", "省政协", "省级", "", ""),
    ("S2025-06", 26, "采用", "省委统战部", "省级", "", ""),
    ("S2025-07", 25, "采用", "省政协", "省级", "", ""),
    ("S2025-07", 40, "批示", "海东市委", "市级", "", "主要领导"),
    ("S2025-08", 28, "采用", "省政协", "省级", "", ""),
    ("R2025-02", 33, "采用", "省政协", "省级", "", ""),
    ("Z2025-02", 40, "采用", "省政协", "省级", "", ""),
    ("S2025-09", 52, "采用", "省委办公厅", "省级", "每日情况", ""),
    ("S2025-20", 41, "采用", "省政协", "省级", "", ""),  # on 2026-01-15: after 2025
]

# proposal, reply category, satisfaction, handling departments, days to reply
_REPLIES = [
    ("P2025-01", "A类", "满意", "人民银行青海省分行、金融监管总局青海监管局", 156),
    ("P2025-02", "B类", "满意", "省工业和信息化厅", 174),
    ("P2025-03", "A类", "满意", "省市场监管局", 166),
    ("P2025-04", "B类", "基本满意", "海东市人民政府", 209),
]

REGIONS = ("西宁市", "海东", "海西", "西宁", "海北", "海南", "黄南", "玉树", "果洛", "省本级")

PLANTED = {
    "period": "2025",
    "submitted": {"proposal": 5, "social": 20, "speech": 2, "report": 3, "special": 4, "all": 34},
    "adopted_items": 15,
    "adoption_instances": 22,
    "adopted_by_kind": {"social": 11, "report": 2, "special": 2},
    "carried_over": 2,
    "submitted_adopted": 13,
    "channels": {"全国工商联": 6, "省政协": 9, "省委办公厅": 3, "省委统战部": 4},
    "levels": {
        "national": {"items": 6, "instances": 6},
        "provincial": {"items": 12, "instances": 16},
    },
    "item_in_three_channels": "S2025-01",
    "publications": {"《每日情况》": 3, "《统战信息》": 1},
    "instructed": {"items": 3, "instances": 4, "provincial_items": 2, "city_items": 1},
    "median_days_to_adoption": 21,
    "proposals": {
        "filed": 4,
        "replied": 4,
        "closed": 4,
        "A": 2,
        "B": 2,
        "satisfied": 3,
        "basically": 1,
    },
    "topics": {"融资": [9, 3], "账款拖欠": [4, 3], "政务服务": [4, 3], "涉企检查": [3, 1]},
    "services": {
        "finance": {
            "firms": 1200,
            "amount_yuan": 1_250_000_000,
            "sessions": 12,
            "deduplicated": False,
        },
        "jobs": {
            "firms": 96,
            "firm_instances": 130,
            "posts": 800,
            "people": 315,
            "deduplicated": True,
        },
        "visits": {"firms": 1508},
        "training": {"sessions": 24, "people": 3560},
        "donation": {"firms": 540, "amount_yuan": 21_345_600},
        "villages": {"firms": 150, "villages": 180, "amount_yuan": 320_000_000},
        "legal": {"stations": 9, "sessions": 36, "firms": 420},
        "supervision": {"items": 43},
    },
    "half_year_2025H1": {"submitted": 15, "finance_amount_yuan": 655_000_000},
    "work_summary_wording": {"supervision": "40余件", "donation": "2,134万余元"},
}


def _day(text: str, days: int = 0) -> date:
    return date.fromisoformat(text) + timedelta(days=days)


def _written(d: date, style: int) -> str:
    """A date as offices write it: 2025-03-05, 2025/3/5 or 2025年3月5日."""
    return (d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日")[
        style % 3
    ]


def submissions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "报送编号": [i[0] for i in _ITEMS],
            "报送类别": [KINDS[i[0][0]] for i in _ITEMS],
            "标题": [i[3] for i in _ITEMS],
            "报送日期": [i[1] for i in _ITEMS],
            "报送对象": [TO[i[0][0]] for i in _ITEMS],
            "主题": [i[2] for i in _ITEMS],
            "依据调查": [i[4] for i in _ITEMS],
            "对应建议": [i[5] for i in _ITEMS],
        }
    )


def events() -> pd.DataFrame:
    sent = {i[0]: i[1] for i in _ITEMS}
    rows = []
    for k, (ident, days, event, body, level, pub, leader) in enumerate(_EVENTS):
        rows.append(
            [
                ident,
                event,
                body,
                level,
                pub,
                leader,
                _written(_day(sent[ident], days), k),
                "",
                "",
                "",
                "",
            ]
        )
    for k, (ident, reply, satisfied, handler, days) in enumerate(_REPLIES):
        rows.append(
            [
                ident,
                "立案",
                "省政协提案委员会",
                "省级",
                "",
                "",
                _written(_day(sent[ident], 26), k),
                handler,
                "",
                "",
                "",
            ]
        )
        rows.append(
            [
                ident,
                "答复",
                "",
                "",
                "",
                "",
                _written(_day(sent[ident], days), k + 1),
                handler,
                reply,
                satisfied,
                "",
            ]
        )
        rows.append(
            [
                ident,
                "办结",
                "",
                "",
                "",
                "",
                _written(_day(sent[ident], days + 12), k + 2),
                handler,
                "",
                "",
                "",
            ]
        )
    columns = [
        "报送编号",
        "事件",
        "采用单位",
        "层级",
        "刊物",
        "批示领导",
        "日期",
        "承办单位",
        "答复类别",
        "满意度",
        "备注",
    ]
    return pd.DataFrame(rows, columns=columns)


def _firm(n: int) -> str:
    """An invented 18-character unified social credit code."""
    tail = hashlib.sha256(f"qifang-firm-{n}".encode()).hexdigest().upper()[:8]
    return f"91630100MA{tail}"


SERVICE_COLUMNS = [
    "序号",
    "服务类别",
    "日期",
    "地区",
    "活动名称",
    "企业标识",
    "企业数（家）",
    "金额（万元）",
    "岗位数（个）",
    "人数（人）",
    "村数（个）",
    "场次",
    "工作站数（个）",
    "事项数（件）",
]


def services() -> list[list[str]]:
    rows: list[dict] = []

    def add(kind, when, region, activity, **figures):
        rows.append(
            {"服务类别": kind, "日期": when, "地区": region, "活动名称": activity, **figures}
        )

    finance_firms = [150, 120, 80, 100, 90, 110, 60, 130, 70, 100, 90, 100]
    finance_amount = [15000, 12000, 8000, 10500, 9000, 11000, 6500, 13000, 7000, 11000, 9500, 12500]
    for k, (firms, amount) in enumerate(zip(finance_firms, finance_amount, strict=True)):
        add(
            "融资对接",
            date(2025, 1 + k, 12 + k % 10),
            REGIONS[k % 8],
            f"政银企融资对接会（第{k + 1}场）",
            **{"企业数（家）": firms, "金额（万元）": amount, "场次": 1},
        )
    add(
        "融资对接",
        date(2024, 12, 18),
        "西宁市",
        "政银企融资对接会（2024年第12场）",
        **{"企业数（家）": 95, "金额（万元）": 9000, "场次": 1},
    )
    add(
        "融资对接",
        date(2026, 1, 16),
        "西宁市",
        "政银企融资对接会（2026年第1场）",
        **{"企业数（家）": 88, "金额（万元）": 8200, "场次": 1},
    )
    fairs = [
        (date(2025, 3, 15), "西宁市"),
        (date(2025, 6, 20), "海东"),
        (date(2025, 9, 25), "海西"),
    ]
    for k in range(130):
        firm = k if k < 96 else k - 96
        when, region = fairs[k % 3]
        add(
            "招聘用工",
            when,
            region,
            "民营企业招聘会",
            **{
                "企业标识": _firm(firm),
                "岗位数（个）": 7 if k < 20 else 6,
                "人数（人）": 3 if k < 55 else 2,
            },
        )
    visit_firms = [120, 95, 88, 110, 102, 76, 99, 105, 83, 91, 87, 94, 112, 79, 85, 82]
    for k, firms in enumerate(visit_firms):
        add(
            "走访服务",
            date(2025, 3 + k % 8, 5 + k),
            REGIONS[(k + 3) % 8],
            "“大走访”服务企业",
            **{"企业数（家）": firms},
        )
    for k in range(24):
        add(
            "培训宣讲",
            date(2025, 1 + k // 2, 8 + k % 2 * 10),
            REGIONS[k % 10],
            "惠企政策宣讲",
            **{"场次": 1, "人数（人）": 150 if k < 20 else 140},
        )
    donation_firms = [120, 85, 140, 60, 95, 40]
    donation_amount = ["512.30", "386.50", "600", "210.76", "295", "130"]
    for k, (firms, amount) in enumerate(zip(donation_firms, donation_amount, strict=True)):
        add(
            "捐赠",
            date(2025, 2 + 2 * k, 10),
            "省本级",
            "光彩事业捐款捐物",
            **{"企业数（家）": firms, "金额（万元）": amount},
        )
    for k in range(170):
        firm = 1000 + (k if k < 150 else k - 150)
        add(
            "百企兴百村",
            date(2025, 4 + k % 6, 1 + k % 28),
            REGIONS[k % 8],
            "村企结对帮扶",
            **{
                "企业标识": _firm(firm),
                "村数（个）": 2 if k < 10 else 1,
                "金额（万元）": 180 if k < 150 else 250,
            },
        )
    for k in range(9):
        add(
            "法律服务",
            date(2025, 3 + k, 18),
            REGIONS[k % 8],
            "民营企业法律服务工作站揭牌",
            **{"工作站数（个）": 1},
        )
    for k in range(12):
        add(
            "法律服务",
            date(2025, 1 + k, 25),
            REGIONS[(k + 2) % 10],
            "“法治体检”进企业",
            **{"场次": 3, "企业数（家）": 35},
        )
    for k, items in enumerate([5, 4, 3, 6, 4, 2, 5, 3, 4, 3, 4]):
        add("督办事项", date(2025, 1 + k, 28), "省本级", "涉企问题督办", **{"事项数（件）": items})
    out = []
    for k, r in enumerate(rows, 1):
        r["序号"] = k
        r["日期"] = _written(r["日期"], k)
        out.append(["" if r.get(c) is None else str(r.get(c)) for c in SERVICE_COLUMNS])
    return out


def write_ledgers(out: Path) -> list[Path]:
    """Write submissions.csv and events.csv (UTF-8) and services.csv (GBK, title row)."""
    paths = []
    for name, df in (("submissions", submissions()), ("events", events())):
        path = out / f"{name}.csv"
        write_csv(df, path)
        paths.append(path)
    path = out / "services.csv"
    with open(path, "w", encoding="gbk", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["青海省工商联2025年服务企业工作台账"] + [""] * (len(SERVICE_COLUMNS) - 1))
        w.writerow(SERVICE_COLUMNS)
        w.writerows(services())
    paths.append(path)
    return paths


def readme_section() -> str:
    planted = json.dumps(PLANTED, ensure_ascii=False, indent=2)
    return f"""
## The office's ledgers

`submissions.csv` (报送台账), `events.csv` (采用/批示/答复台账) and `services.csv`
(服务台账) are the sample office's (省工商联) ledgers, described by
`data/instrument/office-ledgers.yaml` and read by `qifang results`. They are written as
an office keeps them: Chinese headers, dates as 2025-03-05, 2025/3/5 or 2025年3月5日;
`services.csv` as Excel saves a CSV on a Chinese Windows (GBK, a title row above the
header, amounts in 万元). Firm keys are invented credit codes; they are counted, never
printed.

Planted figures for 2025 (the results brief and the 工作总结 must state them; the tests
check it):

- Sent: 政协提案5件, 社情民意信息20篇, 大会发言2篇, 调研报告3篇, 专报4篇 (34 items).
- Adopted: 15 items (22 adoptions), 2 of them sent in 2024; 13 of the 34 sent in 2025.
  By channel: 全国工商联6篇, 省政协9篇, 省委办公厅3篇, 省委统战部4篇 — the channels'
  counts add to 22, more than the 15 items: S2025-01 is adopted by three channels.
- 《每日情况》 carried 3; 3 items instructed (批示, 4 instructions), 2 by provincial leaders.
- Median 21 days from submission to first adoption.
- Proposals: 4 filed, replied (2 A类, 2 B类; 3 满意, 1 基本满意) and closed.
- Services: 融资对接 1,200户, 12.5亿元 (no firm keys: not deduplicated); 招聘用工 96
  firms (130 firm-instances, deduplicated by key), 800 jobs; 捐赠 540家, 21,345,600元
  (the 工作总结 says 2,134万余元); 百企兴百村 150家, 180个村, 3.2亿元; 法律服务工作站9个;
  督办事项43件 (the 工作总结 says 40余件).
- Rows dated in 2024 and 2026 are outside the period; an adoption on 2026-01-15 is not
  counted in 2025.

```json
{planted}
```
"""
