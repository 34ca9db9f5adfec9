from __future__ import annotations

from analysis.tracking.facts import facts, traced


def test_every_figure_is_a_fact_with_its_rows(sample_results):
    flat = facts(sample_results)
    assert flat["submitted"].value == 34 and flat["kind.proposal.submitted"].value == 5
    assert flat["adoption.items"].value == 15 and flat["adoption.instances"].value == 22
    assert flat["adoption.channel.1.items"].label.zh == "全国工商联采用篇数"
    assert flat["adoption.instructed_by.provincial"].value == 2  # S2025-01 twice, S2025-05
    assert flat["service.donation.amount"].kind == "money"
    assert flat["service.donation.amount"].value == 21_345_600
    assert flat["service.supervision.items"].value == 43
    _fact, refs = traced(sample_results)["adoption.instructed_by.provincial"]
    rows = {r.ledger: r.rows for r in refs}
    assert len(rows["submissions"]) == 2 and len(rows["events"]) == 3
    # every fact but the rate and the median names ledger rows
    assert all(refs for path, (f, refs) in traced(sample_results).items() if f.value)
