"""The results as tables for staff (``tables.xlsx``): every figure of the brief, and the
ledger rows each headline figure counts.

Formats only: every value comes from :class:`~analysis.tracking.model.Results`; money is
in yuan, exactly. :func:`analysis.pipeline.export.write_workbook` writes the sheets.
"""

from __future__ import annotations

from analysis.tracking.model import Figure, Results


def _rows(figure: Figure) -> str:
    return "; ".join(f"{r.ledger}: {', '.join(map(str, r.rows))}" for r in figure.refs)


def tables(results: Results, lang: str = "zh") -> dict[str, tuple[list, list[list]]]:
    """Sheets of (header, rows), named in ``lang``."""
    zh = lang != "en"
    r, a = results, results.adoption

    def t(text) -> str:
        return text.get(lang) if text is not None else ""

    def h(zh_names: str, en_names: str) -> list[str]:
        return (zh_names if zh else en_names).split("|")

    sheets: dict[str, tuple[list, list[list]]] = {}
    sheets["报送" if zh else "Submissions"] = (
        h("类别|报送|被采用|单位", "kind|sent|adopted|unit"),
        [[t(k.label), k.submitted.value, k.adopted.value, k.unit.zh] for k in r.by_kind]
        + [["合计" if zh else "total", r.submitted.value, a.items.value, ""]],
    )
    sheets["采用渠道" if zh else "Channels"] = (
        h("渠道|层级|采用篇数|采用次数", "channel|level|items|adoptions"),
        [[c.body, t(c.level_label), c.items.value, c.instances.value] for c in a.by_channel]
        + [
            [
                f"{t(x.label)}{'合计' if zh else ' total'}",
                t(x.label),
                x.items.value,
                x.instances.value,
            ]
            for x in a.by_level
        ],
    )
    sheets["刊物和批示" if zh else "Publications"] = (
        h("项目|篇数", "what|items"),
        [[p.name, p.items.value] for p in a.publications]
        + [
            [f"{t(i.label)}{'批示' if zh else ' instruction'}", i.items.value]
            for i in a.instructions
        ]
        + [
            ["获批示合计" if zh else "instructed, all", a.instructed.value],
            ["批示次数" if zh else "instructions", a.instructed_instances.value],
        ],
    )
    p = r.proposals
    sheets["提案" if zh else "Proposals"] = (
        h("项目|件数", "what|items"),
        [
            ["提交" if zh else "submitted", p.submitted.value],
            ["立案" if zh else "filed", p.filed.value],
            ["答复" if zh else "replied", p.replied.value],
            ["办结" if zh else "closed", p.closed.value],
        ]
        + [[t(x.label), x.items.value] for x in (*p.replies, *p.satisfaction)]
        + [[f"{'承办单位' if zh else 'handled by'}：{name}", n] for name, n in p.handlers],
    )
    sheets["主题" if zh else "Topics"] = (
        h("主题|报送|被采用", "topic|sent|adopted"),
        [[x.label, x.submitted.value, x.adopted.value] for x in r.topics],
    )
    service_rows, region_rows, part_rows = [], [], []
    lines = {line.name: t(line.label) for line in r.lines}
    for s in r.services:
        for m in s.measures:
            unit = ("元" if zh else "CNY") if m.money else t(m.unit)
            note = ""
            if m.deduplicated is not None:
                note = (
                    ("按企业标识去重" if zh else "deduplicated by firm key")
                    if m.deduplicated
                    else ("按活动累计，无法去重" if zh else "added per activity, not deduplicated")
                )
            service_rows.append(
                [
                    lines.get(s.line, s.line),
                    t(s.label),
                    t(m.label),
                    m.value.value,
                    unit,
                    note,
                    m.instances,
                ]
            )
        for group, out in ((s.by_region, region_rows), (s.by_part, part_rows)):
            for b in group:
                for m in s.measures:
                    out.append([t(s.label), t(b.label), t(m.label), b.values.get(m.name)])
    sheets["服务" if zh else "Services"] = (
        h(
            "条线|类别|指标|合计|单位|说明|家次",
            "line|kind|measure|total|unit|note|firm-activities",
        ),
        service_rows,
    )
    sheets["服务分地区" if zh else "By region"] = (
        h("类别|地区|指标|合计", "kind|region|measure|total"),
        region_rows,
    )
    sheets["服务分时段" if zh else "By time"] = (
        h("类别|时段|指标|合计", "kind|part|measure|total"),
        part_rows,
    )
    loop_rows = []
    for topic in r.loop:
        for s in topic.submissions:
            loop_rows.append(
                [
                    t(topic.topic),
                    s.submission_id,
                    t(s.kind_label),
                    s.title,
                    s.submitted.isoformat(),
                    t(s.outcome),
                ]
                + [None] * 8
            )
        for i in topic.indicators:
            loop_rows.append(
                [
                    t(topic.topic),
                    "",
                    "",
                    t(i.label),
                    "",
                    t(i.scope),
                    i.wave,
                    i.next_wave,
                    i.before,
                    i.after,
                    i.change,
                    i.ci_low,
                    i.ci_high,
                    i.p_adjusted,
                ]
            )
    sheets["建议落实" if zh else "Loop"] = (
        h(
            "主题|报送编号|类别|标题或指标|报送日期|结果或范围|依据年度|下一轮|原值|新值|变化|置信区间下限|置信区间上限|校正后p值",
            "topic|submission|kind|title or indicator|sent|outcome or scope|wave|next wave|"
            "before|after|change|ci_low|ci_high|p_adjusted",
        ),
        loop_rows,
    )
    trace = [
        ["报送合计" if zh else "items sent", r.submitted.value, _rows(r.submitted)],
        ["被采用篇数" if zh else "items adopted", a.items.value, _rows(a.items)],
        ["采用次数" if zh else "adoptions", a.instances.value, _rows(a.instances)],
        ["获批示篇数" if zh else "items instructed", a.instructed.value, _rows(a.instructed)],
    ]
    trace += [
        [f"{c.body}{'采用篇数' if zh else ' items'}", c.items.value, _rows(c.items)]
        for c in a.by_channel
    ]
    trace += [
        [f"{t(s.label)}：{t(m.label)}", m.value.value, _rows(m.value)]
        for s in r.services
        for m in s.measures
    ]
    sheets["台账行" if zh else "Ledger rows"] = (
        h("数字|值|台账行", "figure|value|ledger rows"),
        trace,
    )
    return sheets
