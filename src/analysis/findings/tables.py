"""The brief's tables, from the findings only: what ``tables.xlsx`` and the analysis
notebook show.

Every figure comes from a :class:`~analysis.findings.model.Findings`, after primary and
complementary suppression, so these tables hide exactly what the brief and the drafts
hide; a suppressed figure reads "样本过少，不予公布" ("suppressed"), never a blank that
could pass for a missing value, nor a number.
"""

from __future__ import annotations

import pandas as pd

from analysis.findings.model import Findings, Stat


def tables(findings: Findings, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """The tables of one brief, by sheet name, in the brief's language.

    Examples
    --------
    >>> tables(Findings.load("briefs/2025-all/findings.json"))["困难"]  # doctest: +SKIP
    """
    zh = lang != "en"
    hidden = "样本过少，不予公布" if zh else "suppressed"

    def t(a: str, b: str) -> str:
        return a if zh else b

    def label(text) -> str:
        return text.get(lang)

    def stat(s: Stat) -> list:
        return [hidden, None, None, s.n] if s.suppressed else [s.estimate, s.ci_low, s.ci_high, s.n]

    def share(s: Stat):
        return hidden if s.suppressed else s.estimate

    whole = findings.scope.whole

    def versus(code):
        words = {
            "above": (f"显著高于{whole.zh}", f"above {whole.en}"),
            "below": (f"显著低于{whole.zh}", f"below {whole.en}"),
            "not_different": (f"与{whole.zh}无显著差异", "not significantly different"),
            "suppressed": (hidden, hidden),
        }.get(code)
        return t(*words) if words else code

    estimate = [t("置信区间下限", "ci_low"), t("置信区间上限", "ci_high"), t("样本企业数", "n")]
    out = {
        t("指数", "Index"): pd.DataFrame(
            [[t("营商环境指数", "index"), *stat(findings.index.overall)]]
            + [[label(d.label), *stat(d.score)] for d in findings.index.dimensions],
            columns=[t("维度", "dimension"), t("得分", "score"), *estimate],
        ),
        t("困难", "Difficulties"): pd.DataFrame(
            [[label(d.label), *stat(d.share)] for d in findings.difficulties],
            columns=[t("困难", "difficulty"), t("占比", "share"), *estimate],
        ),
        t("困难分规模", "Difficulties by size"): pd.DataFrame(
            [
                [label(d.label), label(lv.label), *stat(lv.stat)]
                for d in findings.difficulties
                for lv in d.by_size
            ],
            columns=[t("困难", "difficulty"), t("规模", "size"), t("占比", "share"), *estimate],
        ),
        t("政策", "Policies"): pd.DataFrame(
            [
                [label(p.label), share(p.aware), share(p.benefited), share(p.reach_gap)]
                for p in findings.policies
            ],
            columns=[
                t("政策", "policy"),
                t("知晓率", "aware"),
                t("享受率", "benefited"),
                t("知晓未享受比例", "reach_gap"),
            ],
        ),
        # the sheet's name stays fixed (an instrument's word could be no sheet name)
        t("地区", "Regions"): pd.DataFrame(
            [
                [label(r.label), *stat(r.score), r.rank, versus(r.vs_province)]
                for r in findings.index.regions
            ],
            columns=[
                t(findings.scope.region_word.zh, "region"),
                t("指数", "index"),
                *estimate,
                t("排名", "rank"),
                t(f"与{findings.scope.whole.zh}比较", "vs_province"),
            ],
        ),
        t("原话", "Quotes"): pd.DataFrame(
            [
                [label(c.label), q]
                for block in findings.open_answers
                if block.field == "urgent_needs"
                for c in block.categories
                for q in c.quotes
            ],
            columns=[t("类别", "category"), t("企业原话（已删除可识别信息）", "quote (redacted)")],
        ),
    }
    test = [
        t("差异", "difference"),
        *estimate[:2],
        t("校正后p值", "p_adjusted"),
        t("是否显著", "significant"),
        t("检验", "test"),
    ]

    def change(c) -> list:
        if c is None:
            return [None] * 8
        if c.suppressed:
            return [hidden, hidden, hidden, None, None, None, None, None]
        return [c.a, c.b, c.estimate, c.ci_low, c.ci_high, c.p_adjusted, c.significant, c.test]

    sides = [t("本组", "a"), t("对照组", "b")]
    out[t("困难规模差异", "Difficulty gaps")] = pd.DataFrame(
        [[label(d.label), *change(d.size_gap)] for d in findings.difficulties if d.size_gap],
        columns=[t("困难（微型−大型）", "difficulty (micro − large)"), *sides, *test],
    )
    changes = [(label(d.label), d.change) for d in findings.index.dimensions if d.change]
    changes += [(label(d.label), d.change) for d in findings.difficulties if d.change]
    changes += [
        (label(r.label) + t("·政务环境", ", government"), r.government_change)
        for r in findings.index.regions
        if r.government_change
    ]
    out[t("较上年变化", "Changes")] = pd.DataFrame(
        [[name, *change(c)] for name, c in changes],
        columns=[t("指标", "measure"), t("本年", "this wave"), t("上年", "previous"), *test],
    )
    voices = [b for b in findings.open_answers if b.field == "urgent_needs" and b.categories]
    if voices:
        out[t("急难愁盼", "Urgent needs")] = pd.DataFrame(
            [
                [label(c.label), c.count, share(c.share), "、".join(c.phrases[:5])]
                for c in voices[0].categories
            ],
            columns=[
                t("类别", "category"),
                t("回答数", "answers"),
                t("占比", "share"),
                t("常见说法", "phrases"),
            ],
        )
    if findings.drivers is not None:
        out[t("关键因素", "Key drivers")] = pd.DataFrame(
            [
                [label(d.label), d.rank, d.importance, d.performance.estimate, d.quadrant]
                for d in findings.drivers.items
            ],
            columns=[
                t("事项", "item"),
                t("重要性排名", "rank"),
                t("重要性", "importance"),
                t("表现", "performance"),
                t("象限", "quadrant"),
            ],
        )
    if findings.requests is not None:
        rows = []
        for d in findings.requests.by_department:
            if d.suppressed:
                rows.append([label(d.label), d.total, hidden, hidden, hidden, hidden])
            else:
                rows.append([label(d.label), d.total, d.resolved, d.rate, d.median_days, d.overdue])
        out[t("诉求", "Requests")] = pd.DataFrame(
            rows,
            columns=[
                t("责任部门", "department"),
                t("件数", "requests"),
                t("已办结", "resolved"),
                t("办结率", "rate"),
                t("办结天数中位数", "median_days"),
                t("超期", "overdue"),
            ],
        )
    kinds = {
        t("指数", "Index"): ["text", "score", "score", "score", "count"],
        t("困难", "Difficulties"): ["text", "share", "share", "share", "count"],
        t("困难分规模", "Difficulties by size"): ["text", "text", *["share"] * 3, "count"],
        t("政策", "Policies"): ["text", "share", "share", "share"],
        t("地区", "Regions"): ["text", "score", "score", "score", "count", "count", "text"],
        t("困难规模差异", "Difficulty gaps"): ["text", *["share"] * 5, "p", "", "text"],
        t("急难愁盼", "Urgent needs"): ["text", "count", "share", "text"],
        t("关键因素", "Key drivers"): ["text", "count", "share", "", "text"],
        t("诉求", "Requests"): ["text", "count", "count", "share", "days", "count"],
    }
    for name, table in out.items():
        # how tables.xlsx rounds and formats each column (as the brief prints it)
        table.attrs["kinds"] = kinds.get(name, [""] * len(table.columns))
    return out
