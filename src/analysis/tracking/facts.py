"""Results as named facts: the vocabulary of the 工作总结 and 工作信息 templates, and what
the number audit traces each printed number to.

A fact is one counted figure under a dotted name, with the ledger rows it counts::

    submitted                         items sent in the period (篇/件)
    kind.social.submitted             社情民意信息 sent; kind.social.adopted …
    adoption.items / .instances       items adopted (篇) / adoptions (次)
    adoption.carried_over             adopted items sent before the period
    adoption.rate                     share of the period's items adopted by its end
    adoption.channel.1.items          the first channel's items (channels in order)
    adoption.level.national.items     items adopted at a level (each item once)
    adoption.publication.1.items      items carried by the first publication
    adoption.instructed               items instructed (批示); .instructed_instances
    adoption.instructed_by.provincial items instructed by provincial leaders
    adoption.days                     median days from submission to first adoption
    proposals.filed / .replied / .closed / .reply.A / .satisfaction.satisfied
    service.finance.firms             a kind's measure (count or money, in yuan)
    loop.financing.1.before / .after  a suggestion's indicator (share or score) in its
                                      run's wave and in the next one, with the change's
                                      test (``significant``); its rows are the
                                      submissions that carried the suggestion

Kinds: ``count`` (a number of items, firms …), ``money`` (yuan), ``share``, ``days``.
"""

from __future__ import annotations

from analysis.findings.facts import Fact
from analysis.findings.model import Text
from analysis.tracking.model import Figure, Ref, Results


def facts(results: Results) -> dict[str, Fact]:
    """Every figure of the results as a fact, by dotted name."""
    return {path: fact for path, (fact, _) in traced(results).items()}


def traced(results: Results) -> dict[str, tuple[Fact, list[Ref]]]:
    """Every fact with the ledger rows it counts."""
    out: dict[str, tuple[Fact, list[Ref]]] = {}
    r, a = results, results.adoption

    def put(path: str, kind: str, figure: Figure | float | None, zh: str, en: str, refs=None):
        value = figure.value if isinstance(figure, Figure) else figure
        if isinstance(figure, Figure):
            refs = figure.refs
        out[path] = (Fact(path, kind, value, Text(zh=zh, en=en)), list(refs or []))

    put("submitted", "count", r.submitted, "报送篇（件）数", "items sent")
    for k in r.by_kind:
        put(
            f"kind.{k.code}.submitted",
            "count",
            k.submitted,
            f"报送{k.label.zh}",
            f"{k.label.en} sent",
        )
        put(
            f"kind.{k.code}.adopted",
            "count",
            k.adopted,
            f"被采用{k.label.zh}",
            f"{k.label.en} adopted",
        )
    put("adoption.items", "count", a.items, "被采用篇（件）数", "items adopted")
    put("adoption.instances", "count", a.instances, "采用次数", "adoptions")
    put("adoption.carried_over", "count", a.carried_over, "上期报送本期采用", "carried over")
    put(
        "adoption.submitted_adopted",
        "count",
        a.submitted_adopted,
        "本期报送被采用",
        "sent and adopted in the period",
    )
    put("adoption.rate", "share", a.rate, "采用率", "share adopted", a.submitted_adopted.refs)
    for i, c in enumerate(a.by_channel, 1):
        put(
            f"adoption.channel.{i}.items",
            "count",
            c.items,
            f"{c.body}采用篇数",
            f"items adopted by {c.body}",
        )
        put(
            f"adoption.channel.{i}.instances",
            "count",
            c.instances,
            f"{c.body}采用次数",
            f"adoptions by {c.body}",
        )
    for lv in a.by_level:
        put(
            f"adoption.level.{lv.code}.items",
            "count",
            lv.items,
            f"{lv.label.zh}采用篇数",
            f"items adopted at {lv.label.en} level",
        )
        put(
            f"adoption.level.{lv.code}.instances",
            "count",
            lv.instances,
            f"{lv.label.zh}采用次数",
            f"adoptions at {lv.label.en} level",
        )
    for i, p in enumerate(a.publications, 1):
        put(
            f"adoption.publication.{i}.items",
            "count",
            p.items,
            f"{p.name}采编篇数",
            f"items carried by {p.name}",
        )
    put("adoption.instructed", "count", a.instructed, "获批示篇数", "items instructed")
    put(
        "adoption.instructed_instances", "count", a.instructed_instances, "批示次数", "instructions"
    )
    for lv in a.instructed_levels:
        put(
            f"adoption.instructed_by.{lv.code}",
            "count",
            lv.items,
            f"获{lv.label.zh}领导批示篇数",
            f"items instructed by {lv.label.en} leaders",
        )
    if a.days is not None:
        put(
            "adoption.days",
            "days",
            a.days.median,
            "报送到采用天数中位数",
            "median days to adoption",
            a.days.refs,
        )
    p = r.proposals
    for name, zh, en in (
        ("submitted", "提交提案", "proposals"),
        ("filed", "立案", "filed"),
        ("replied", "答复", "replied"),
        ("closed", "办结", "closed"),
    ):
        put(f"proposals.{name}", "count", getattr(p, name), zh, en)
    for t in p.replies:
        put(f"proposals.reply.{t.code}", "count", t.items, t.label.zh, t.label.en)
    for t in p.satisfaction:
        put(f"proposals.satisfaction.{t.code}", "count", t.items, t.label.zh, t.label.en)
    for s in r.services:
        put(f"service.{s.code}.rows", "count", s.rows, f"{s.label.zh}活动", f"{s.label.en} rows")
        for m in s.measures:
            put(
                f"service.{s.code}.{m.name}",
                "money" if m.money else "count",
                m.value,
                f"{s.label.zh}{m.label.zh}",
                f"{s.label.en}: {m.label.en.lower()}",
            )
    for t in r.loop:
        refs = [ref for sub in t.submissions for ref in sub.refs]
        for j, i in enumerate(t.indicators, 1):
            if i.suppressed or i.change is None:
                continue
            for side in ("before", "after"):
                out[f"loop.{t.rule}.{j}.{side}"] = (
                    Fact(
                        f"loop.{t.rule}.{j}.{side}",
                        i.kind,
                        getattr(i, side),
                        i.label,
                        significant=i.significant,
                    ),
                    refs,
                )
    return out
