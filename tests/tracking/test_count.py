"""Counting as the annual review counts: items (篇/件) and instances (次) apart, channels
never added up, firms once per kind, any period."""

from __future__ import annotations

import pytest

from analysis.tracking import count
from analysis.tracking.ledgers import read_ledgers
from analysis.tracking.periods import parse_period
from ledger_files import ledgers


def read(paths):
    return read_ledgers(paths["submissions"], paths["events"], paths["services"])


@pytest.fixture
def three_channels(tmp_path):
    """One item adopted by three channels (and instructed twice), one by one channel,
    one never; one item sent in 2024 and adopted in 2025; one adoption in 2026."""
    subs = [
        ["A", "social", "a", "2025-02-01", "全国工商联", "融资"],
        ["B", "social", "b", "2025-03-01", "省政协", "融资"],
        ["C", "report", "c", "2025-04-01", "省委", "用工"],
        ["D", "social", "d", "2024-12-01", "省政协", "税费"],
        ["E", "social", "e", "2025-12-20", "省政协", "税费"],
    ]
    events = [
        ["A", "adopted", "全国工商联", "national", "", "", "2025-02-10"],
        ["A", "adopted", "省政协", "provincial", "", "", "2025-02-15"],
        ["A", "adopted", "省委办公厅", "provincial", "每日情况", "", "2025-02-20"],
        ["A", "instructed", "省委", "provincial", "", "principal", "2025-03-01"],
        ["A", "instructed", "省政府", "provincial", "", "other", "2025-03-05"],
        ["B", "adopted", "省政协", "provincial", "", "", "2025-03-31"],
        ["D", "forwarded", "全国工商联", "national", "", "", "2025-01-10"],
        ["E", "adopted", "省政协", "provincial", "", "", "2026-01-05"],
    ]
    return read(ledgers(tmp_path, subs, events))


def test_one_item_adopted_by_three_channels_counts_once(three_channels):
    year = parse_period("2025")
    a = count.adoption(three_channels, year)
    assert a.items.value == 3  # A, B and D: A once although three channels took it
    assert a.instances.value == 5  # A three times, B once, D once
    channels = {c.body: (c.items.value, c.instances.value) for c in a.by_channel}
    assert channels == {"全国工商联": (2, 2), "省政协": (2, 2), "省委办公厅": (1, 1)}
    assert sum(items for items, _ in channels.values()) == 5 > a.items.value
    levels = {lv.code: (lv.items.value, lv.instances.value) for lv in a.by_level}
    assert levels == {"national": (2, 2), "provincial": (2, 3)}  # A counts once per level
    assert a.carried_over.value == 1  # D, sent in 2024
    assert a.submitted_adopted.value == 2 and a.rate == pytest.approx(2 / 4)
    assert [(p.name, p.items.value) for p in a.publications] == [("《每日情况》", 1)]
    assert (a.instructed.value, a.instructed_instances.value) == (1, 2)
    assert (a.days.n, a.days.median, a.days.minimum) == (3, 30, 9)  # A 9 days, B 30, D 40
    # every figure names the rows it counts: A is row 2 of submissions, events 2-4
    first = next(c for c in a.by_channel if c.body == "省委办公厅")
    assert {r.ledger: r.rows for r in first.items.refs} == {"submissions": [2], "events": [4]}


def test_the_texts_never_add_the_channels_up(three_channels):
    from analysis.tracking.brief import ResultsBrief
    from analysis.tracking.model import PeriodInfo, Proposals, Results

    year = parse_period("2025")
    submitted, kinds = count.submissions(three_channels, year)
    adoption = count.adoption(three_channels, year)
    zero = count._figure(0)
    results = Results(
        title={"zh": "t", "en": "t"},
        unit={"zh": "u", "en": "u"},
        period=PeriodInfo(start=year.start, end=year.end, key=year.key, label=year.label),
        sources=[],
        submitted=submitted,
        by_kind=kinds,
        adoption=adoption,
        proposals=Proposals(
            submitted=zero,
            filed=zero,
            replied=zero,
            closed=zero,
            replies=[],
            satisfaction=[],
            handlers=[],
        ),
        topics=count.topics(three_channels, year),
        lines=count.lines(three_channels),
        services=[],
        loop=[],
        notes=count.notes(three_channels, adoption, []),
    )
    for lang, items in (("zh", "5篇"), ("en", "5 items")):
        brief = ResultsBrief(results, lang)
        text = "".join(brief.section(s).html for s in ("summary", "politics"))
        assert items not in text  # 2 + 2 + 1 channel items is never printed as a total
    zh = ResultsBrief(results, "zh").section("summary").html
    assert "被采用3篇" in zh or '被采用</span><span class="value">3篇' in zh
    assert "全国工商联采用2篇、省政协采用2篇、省委办公厅采用1篇" in zh


def test_a_half_year_and_dates(three_channels):
    h1 = count.adoption(three_channels, parse_period("2025H1"))
    assert h1.items.value == 3
    feb = count.adoption(three_channels, parse_period("2025-02-01..2025-02-28"))
    assert (feb.items.value, feb.instances.value) == (1, 3)
    h2 = count.adoption(three_channels, parse_period("2025H2"))
    assert h2.items.value == 0 and h2.days is None
    assert count.adoption(three_channels, parse_period("2026")).items.value == 1


def test_firms_once_per_kind_by_key_and_said_when_not(tmp_path):
    subs = [["A", "social", "a", "2025-02-01", "省政协", "融资"]]
    services = [
        ["jobs", "2025-03-01", "西宁", "91630100MA00000001", "", ""],
        ["jobs", "2025-06-01", "西宁", "91630100ma00000001 ", "", ""],  # same firm, as typed
        ["jobs", "2025-06-01", "海东", "91630100MA00000002", "", ""],
        ["finance", "2025-03-01", "西宁", "", "120", "1.5"],
        ["finance", "2025-04-01", "海东", "", "80", "0.5"],
        ["finance", "2025-05-01", "海东", "91630100MA00000001", "", "0.25"],
    ]
    led = read(ledgers(tmp_path, subs, [], services))
    kinds = {s.code: s for s in count.services(led, parse_period("2025"))}
    jobs = {m.name: m for m in kinds["jobs"].measures}["firms"]
    assert (jobs.value.value, jobs.instances, jobs.deduplicated) == (2, 3, True)
    finance = {m.name: m for m in kinds["finance"].measures}
    firms = finance["firms"]
    # one keyed firm, and 200 counted per activity: cannot be deduplicated
    assert (firms.value.value, firms.keyed_rows, firms.unkeyed_rows) == (201, 1, 2)
    assert firms.deduplicated is False
    assert finance["amount"].value.value == 22_500  # 2.25万元
    regions = {b.key: b.values["firms"] for b in kinds["jobs"].by_region}
    assert regions == {"西宁市": 1, "海东市": 1}
    notes = [
        n.zh
        for n in count.notes(led, count.adoption(led, parse_period("2025")), list(kinds.values()))
    ]
    assert any("融资对接：2行未记录企业标识" in n for n in notes)
    assert not any("招聘用工" in n for n in notes)


def test_the_sample_states_its_planted_figures():
    from analysis.sample._ledgers import PLANTED
    from conftest import SAMPLE

    led = read({n: SAMPLE / f"{n}.csv" for n in ("submissions", "events", "services")})
    year = parse_period(PLANTED["period"])
    submitted, kinds = count.submissions(led, year)
    assert {k.code: k.submitted.value for k in kinds} | {"all": submitted.value} == {
        **PLANTED["submitted"]
    }
    a = count.adoption(led, year)
    assert (a.items.value, a.instances.value) == (
        PLANTED["adopted_items"],
        PLANTED["adoption_instances"],
    )
    assert {c.body: c.items.value for c in a.by_channel} == PLANTED["channels"]
    assert a.days.median == PLANTED["median_days_to_adoption"]
    services = {
        s.code: {m.name: m.value.value for m in s.measures} for s in count.services(led, year)
    }
    for kind, figures in PLANTED["services"].items():
        for name, value in figures.items():
            if name in ("deduplicated", "firm_instances"):
                continue
            assert services[kind][name.replace("_yuan", "")] == value, (kind, name)
    h1 = parse_period("2025H1")
    assert count.submissions(led, h1)[0].value == PLANTED["half_year_2025H1"]["submitted"]
    finance_h1 = {m.name: m.value.value for m in count.services(led, h1)[0].measures}
    assert finance_h1["amount"] == PLANTED["half_year_2025H1"]["finance_amount_yuan"]
