"""Count what became of the office's work in a period, as the annual review counts it.

Items (篇/件) and instances (次) are counted apart: an item is a submission, an
instance an event. ``by channel`` counts each channel's items, so one item adopted by
three channels is one adopted item and one item in each of the three channels; the
channels' counts are never added up. Services are summed by kind, region and part of
the period, with firms counted once per kind by their key where the ledger has one.
Every figure carries the ledger rows it counts (``refs``). See
:mod:`analysis.tracking.model` for the conventions.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from analysis.findings.model import Text
from analysis.tracking import model as m
from analysis.tracking.ledgers import ADOPTION, Ledgers
from analysis.tracking.periods import Period

DAY_BINS = ((15, "≤15"), (30, "16–30"), (60, "31–60"), (90, "61–90"), (None, ">90"))


def _rows(frame: pd.DataFrame) -> list[int]:
    return sorted(int(r) for r in frame["row"])


def _figure(value, **frames: pd.DataFrame) -> m.Figure:
    refs = [m.Ref(ledger=name, rows=_rows(f)) for name, f in frames.items() if len(f)]
    return m.Figure(value=float(value), refs=refs)


def _items(events: pd.DataFrame, subs: pd.DataFrame) -> m.Figure:
    """Distinct items among events, traced to the events and the items' rows."""
    ids = set(events["submission_id"])
    return _figure(len(ids), submissions=subs[subs.submission_id.isin(ids)], events=events)


def _key(text) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).strip("《》<>")


def _groups(frame: pd.DataFrame, column: str):
    """Rows grouped by a text column, compared loosely (spaces, full-width, 《》), each
    named as first written."""
    frame = frame[frame[column].notna()]
    keys = frame[column].map(_key)
    for key in dict.fromkeys(keys):
        rows = frame[keys == key]
        yield str(rows[column].iloc[0]).strip(), rows


def submissions(ledgers: Ledgers, period: Period) -> tuple[m.Figure, list[m.KindCount]]:
    s = ledgers.submissions.data
    e = ledgers.events.data
    sin = s[period.contains(s["submitted"])]
    adopt = e[period.contains(e["date"]) & e["event"].isin(ADOPTION)]
    kinds = []
    for option in ledgers.spec.choices["submission_kind"]:
        mine = sin[sin.kind == option.value]
        ids = set(s.submission_id[s.kind == option.value])
        adopted = adopt[adopt.submission_id.isin(ids)]
        unit = option.unit or Text(zh="篇", en="")
        kinds.append(
            m.KindCount(
                code=option.value,
                label=option.label,
                unit=Text(zh=unit.zh, en="items"),
                submitted=_figure(len(mine), submissions=mine),
                adopted=_items(adopted, s),
            )
        )
    return _figure(len(sin), submissions=sin), kinds


def adoption(ledgers: Ledgers, period: Period) -> m.Adoption:
    spec = ledgers.spec
    s = ledgers.submissions.data
    e = ledgers.events.data
    ein = e[period.contains(e["date"])]
    adopt = ein[ein["event"].isin(ADOPTION)]
    items = _items(adopt, s)
    ids = set(adopt.submission_id)
    before = s[s.submission_id.isin(ids) & (s.submitted < pd.Timestamp(period.start))]
    sin = s[period.contains(s["submitted"])]
    by_end = e[e["event"].isin(ADOPTION) & (e["date"] <= pd.Timestamp(period.end))]
    taken = sin[sin.submission_id.isin(set(by_end.submission_id))]

    levels = [o.value for o in spec.choices["level"]]
    channels = []
    for body, rows in _groups(adopt, "body"):
        present = rows["level"].dropna()
        level = present.mode().iloc[0] if len(present) else None
        channels.append(
            m.Channel(
                body=body,
                level=level,
                level_label=spec.option("level", level).label if level else None,
                items=_items(rows, s),
                instances=_figure(len(rows), events=rows),
            )
        )
    channels.sort(
        key=lambda c: (levels.index(c.level) if c.level in levels else 99, -c.items.value)
    )
    by_level = [
        m.LevelCount(
            code=o.value,
            label=o.label,
            items=_items(adopt[adopt.level == o.value], s),
            instances=_figure((adopt.level == o.value).sum(), events=adopt[adopt.level == o.value]),
        )
        for o in spec.choices["level"]
        if (adopt.level == o.value).any()
    ]
    publications = [
        m.Publication(name=f"《{_key(name)}》", items=_items(rows, s))
        for name, rows in _groups(ein, "publication")
    ]
    publications.sort(key=lambda p: -p.items.value)
    instr = ein[ein["event"] == "instructed"]
    instructions = []
    for level in spec.choices["level"]:
        for leader in spec.choices["leader"]:
            rows = instr[(instr.level == level.value) & (instr.leader == leader.value)]
            if len(rows):
                instructions.append(
                    m.Instruction(
                        level=level.value,
                        leader=leader.value,
                        label=Text(
                            zh=f"{level.label.zh}{leader.label.zh}",
                            en=f"{level.label.en} {leader.label.en}",
                        ),
                        items=_items(rows, s),
                    )
                )
    return m.Adoption(
        items=items,
        instances=_figure(len(adopt), events=adopt),
        carried_over=_figure(len(before), submissions=before),
        submitted_adopted=_figure(len(taken), submissions=taken),
        rate=len(taken) / len(sin) if len(sin) else None,
        by_channel=channels,
        by_level=by_level,
        publications=publications,
        instructed=_items(instr, s),
        instructed_instances=_figure(len(instr), events=instr),
        instructions=instructions,
        days=_days(ledgers, period),
    )


def _days(ledgers: Ledgers, period: Period) -> m.Days | None:
    s = ledgers.submissions.data.set_index("submission_id", drop=False)
    e = ledgers.events.data
    adopt = e[e["event"].isin(ADOPTION)]
    first = adopt.sort_values("date").groupby("submission_id", sort=False).head(1)
    first = first[period.contains(first["date"])]
    if first.empty:
        return None
    submitted = s.loc[first.submission_id, "submitted"].to_numpy()
    days = (first["date"].to_numpy() - submitted) / np.timedelta64(1, "D")
    days = days.astype(int)
    bins, low = [], -1
    for high, label in DAY_BINS:
        inside = (days > low) & ((days <= high) if high is not None else True)
        bins.append((label, int(np.sum(inside))))
        low = high if high is not None else low
    kinds = s.loc[first.submission_id, "kind"].to_numpy()
    by_kind = [
        (o.value, float(np.median(days[kinds == o.value])))
        for o in ledgers.spec.choices["submission_kind"]
        if (kinds == o.value).any()
    ]
    subs = ledgers.submissions.data
    return m.Days(
        n=len(days),
        median=float(np.median(days)),
        minimum=int(days.min()),
        maximum=int(days.max()),
        bins=bins,
        by_kind=by_kind,
        refs=_figure(
            0, submissions=subs[subs.submission_id.isin(set(first.submission_id))], events=first
        ).refs,
    )


def proposals(ledgers: Ledgers, period: Period) -> m.Proposals:
    spec = ledgers.spec
    s = ledgers.submissions.data
    e = ledgers.events.data
    props = s[s.kind == "proposal"]
    ein = e[period.contains(e["date"]) & e.submission_id.isin(set(props.submission_id))]
    sent = props[period.contains(props["submitted"])]

    def tallies(column: str, event: str) -> list[m.Tally]:
        rows = ein[ein.event == event]
        return [
            m.Tally(code=o.value, label=o.label, items=_items(rows[rows[column] == o.value], s))
            for o in spec.choices[column]
            if (rows[column] == o.value).any()
        ]

    handlers: dict[str, set] = {}
    for _, r in ein[ein["handler"].notna()].iterrows():
        for name in re.split(r"[、,，;；]+", str(r["handler"])):
            if name.strip():
                handlers.setdefault(name.strip(), set()).add(r["submission_id"])
    return m.Proposals(
        submitted=_figure(len(sent), submissions=sent),
        filed=_items(ein[ein.event == "filed"], s),
        replied=_items(ein[ein.event == "replied"], s),
        closed=_items(ein[ein.event == "closed"], s),
        replies=tallies("reply", "replied") if "reply" in ein else [],
        satisfaction=tallies("satisfaction", "replied") if "satisfaction" in ein else [],
        handlers=sorted(((h, len(v)) for h, v in handlers.items()), key=lambda t: (-t[1], t[0])),
    )


def topics(ledgers: Ledgers, period: Period) -> list[m.Topic]:
    s = ledgers.submissions.data
    e = ledgers.events.data
    adopt = e[period.contains(e["date"]) & e["event"].isin(ADOPTION)]
    sin = s[period.contains(s["submitted"])]
    taken = s[s.submission_id.isin(set(adopt.submission_id))]
    out = []
    keys_in, keys_taken = sin.topic.map(_key), taken.topic.map(_key)
    for key in dict.fromkeys([*keys_in, *keys_taken]):
        mine, won = sin[keys_in == key], taken[keys_taken == key]
        label = (mine if len(mine) else won).topic.iloc[0].strip()
        out.append(
            m.Topic(
                label=label,
                submitted=_figure(len(mine), submissions=mine),
                adopted=_figure(len(won), submissions=won),
            )
        )
    out.sort(key=lambda t: (-t.submitted.value, -t.adopted.value, t.label))
    return out


def _firm_key(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).upper()
    return key or None


def _measure_values(rows: pd.DataFrame, spec, kind, with_refs: bool = True) -> list[m.Measure]:
    out = []
    for name in kind.measures:
        measure = spec.measure(name)
        unit = spec.unit(kind.value, name)
        column = rows[name] if name in rows else pd.Series(np.nan, index=rows.index)
        used = rows[column.notna()]
        extra = {}
        if name == "firms":
            keys = rows["firm_id"].map(_firm_key) if "firm_id" in rows else None
            keyed = rows[keys.notna()] if keys is not None else rows.iloc[:0]
            unkeyed = used[~used.index.isin(keyed.index)]
            distinct = keys.dropna().nunique() if keys is not None else 0
            value = distinct + float(unkeyed["firms"].sum())
            extra = {
                "keyed_rows": len(keyed),
                "unkeyed_rows": len(unkeyed),
                "distinct_keys": int(distinct),
                "instances": float(len(keyed) + unkeyed["firms"].sum()),
                "deduplicated": None if value == 0 else (len(keyed) > 0 and len(unkeyed) == 0),
            }
            used = pd.concat([keyed, unkeyed])
        else:
            value = float(column.sum()) if len(used) else 0.0
        figure = _figure(value, services=used) if with_refs else m.Figure(value=value)
        out.append(
            m.Measure(
                name=name,
                label=measure.label,
                unit=unit,
                money=measure.money,
                value=figure,
                **extra,
            )
        )
    return out


def services(ledgers: Ledgers, period: Period) -> list[m.ServiceKind]:
    spec = ledgers.spec
    d = ledgers.services.data
    d = d[period.contains(d["date"])]
    out = []
    for kind in spec.kinds:
        rows = d[d.kind == kind.value]
        if rows.empty:
            continue
        by_region = []
        for region, part in _groups(rows, "region"):
            values = _measure_values(part, spec, kind, with_refs=False)
            by_region.append(
                m.Breakdown(
                    key=region,
                    label=Text(zh=region, en=str(part["region_en"].iloc[0])),
                    values={v.name: v.value.value for v in values},
                )
            )
        by_region.sort(key=lambda b: (-len(rows[rows.region == b.key]), b.key))
        by_part = []
        for sub in period.parts():
            part = rows[sub.contains(rows["date"])]
            values = _measure_values(part, spec, kind, with_refs=False)
            by_part.append(
                m.Breakdown(
                    key=sub.key, label=sub.label, values={v.name: v.value.value for v in values}
                )
            )
        out.append(
            m.ServiceKind(
                code=kind.value,
                label=kind.label,
                line=kind.line,
                rows=_figure(len(rows), services=rows),
                measures=_measure_values(rows, spec, kind),
                by_region=by_region,
                by_part=by_part,
            )
        )
    return out


def lines(ledgers: Ledgers) -> list[m.Line]:
    spec = ledgers.spec
    return [
        m.Line(
            name=line.name,
            label=line.label,
            kinds=[k.value for k in spec.kinds if k.line == line.name],
        )
        for line in spec.lines
    ]


def notes(ledgers: Ledgers, adopt: m.Adoption, kinds: list[m.ServiceKind]) -> list[Text]:
    """What a reader must know to read the figures right."""
    out = []
    if len(adopt.by_channel) > 1:
        out.append(
            Text(
                zh="一篇（件）可被多个渠道采用：各渠道的采用篇数分别计数，不能相加；"
                "被采用总篇数每篇只计一次，采用次数按渠道逐次计。",
                en="One item may be adopted by several channels: each channel's count "
                "stands alone and the counts do not add up; the adopted items count each "
                "item once, the adoptions each time.",
            )
        )
    for kind in kinds:
        firms = next((x for x in kind.measures if x.name == "firms"), None)
        if firms is None or firms.deduplicated is None or firms.deduplicated:
            continue
        if firms.keyed_rows:
            zh = (
                f"{kind.label.zh}：{firms.unkeyed_rows}行未记录企业标识，其企业数按活动累计，"
                "无法与其他行去重。"
            )
            en = (
                f"{kind.label.en}: {firms.unkeyed_rows} rows record no firm key; their firms "
                "are added per activity and cannot be deduplicated."
            )
        else:
            zh = (
                f"{kind.label.zh}：台账未记录企业标识，企业数按活动累计"
                f"（{firms.unit.zh}次），无法去重。"
            )
            en = (
                f"{kind.label.en}: the ledger records no firm key, so firms are added per "
                "activity and cannot be deduplicated."
            )
        out.append(Text(zh=zh, en=en))
    return out
