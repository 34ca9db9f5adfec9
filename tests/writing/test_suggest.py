from __future__ import annotations

import textwrap

import pytest

from analysis.errors import RuleError
from analysis.findings.facts import MissingEvidence, catalog, facts
from analysis.writing.suggest import load_rules, suggest
from findings_fixture import sample_findings

REQUIRED_TOPICS = {
    "financing",
    "labour",
    "costs",
    "arrears",
    "tax_fees",
    "policy_delivery",
    "inspection",
    "government_services",
    "legal_protection",
    "innovation",
    "market_access",
}


def write(tmp_path, body: str):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


RULE = """
rules:
  - id: {id}
    topic: {{zh: 测试, en: Test}}
    priority: {priority}
    when: {when}
    evidence: [{evidence}]
    departments: [{departments}]
    title: {{zh: 标题, en: Title}}
    problem: {{zh: "{problem}", en: Problem}}
    actions:
      - {{zh: 建议一, en: Do one}}
"""


def rule(**kw):
    base = dict(
        id="test_rule",
        priority="high",
        when="difficulty.financing.share >= 0",
        evidence="difficulty.financing.share",
        departments="fin_reg",
        problem="{{ difficulty.financing.share | v }}",
    )
    return RULE.format(**{**base, **kw})


def test_defaults_cover_the_required_topics():
    ids = {r.id for r in load_rules()}
    assert ids >= REQUIRED_TOPICS


def test_every_fact_is_in_the_catalog(instrument):
    assert set(facts(sample_findings())) <= catalog(instrument)


def test_the_planted_problems_come_first():
    fired = suggest(sample_findings())
    assert [s.rule for s in fired[:2]] == ["financing", "inspection"]
    top = fired[0]
    assert top.priority == "high" and top.departments[0] == "fin_reg"
    assert {e.path for e in top.evidence} >= {
        "difficulty.financing.share",
        "difficulty.financing.gap",
    }
    assert "61.4%" in top.problem.zh and "50.6个百分点" in top.problem.zh
    assert "61.4%" in top.problem.en
    # the same problem for leaders: no interval, no test, the difference in words
    assert "61.4%" in top.plain_problem.zh and "置信区间" not in top.plain_problem.zh
    assert "是大型企业（14.6%）的4倍多" in top.plain_problem.zh
    assert "p<" not in top.plain_problem.en and "more than 4 times" in top.plain_problem.en
    # each action names its own departments, and may cite a policy document
    assert top.actions[0].departments == ("fin_reg",)
    assert top.actions[0].cites == ("private_economy_law",)
    assert top.actions[1].departments == ("finance", "fin_reg")


def test_an_action_s_departments_and_citations_are_checked(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: financing\n    topic: {zh: 融资, en: Finance}\n    priority: high\n"
        "    when: difficulty.financing.share > 0\n    evidence: [difficulty.financing.share]\n"
        "    departments: [finance]\n    title: {zh: 甲, en: a}\n    problem: {zh: 甲, en: a}\n"
        "    actions:\n      - {zh: 甲, en: a, departments: [police]}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=r"action 1 names unknown department\(s\) police"):
        load_rules(path)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "departments: [police]}", "cites: law}"), encoding="utf-8")
    with pytest.raises(RuleError, match="'cites' must list document ids"):
        load_rules(path)


def test_no_suggestion_fires_without_its_evidence():
    # with huge cells suppressed, figures that rest on few firms are withheld, and
    # rules that need them stay silent
    f = sample_findings(min_cell=2000)
    assert f.difficulty("financing").share.suppressed
    assert "financing" not in {s.rule for s in suggest(f)}


def test_missing_fact_raises_missing_evidence():
    f = sample_findings(min_cell=2000)
    with pytest.raises(MissingEvidence):
        _ = facts(f)["difficulty.financing.share"] >= 0.3


def test_user_rules_add_override_and_disable(tmp_path):
    path = write(
        tmp_path,
        rule(id="financing", priority="low")
        + rule(id="my_rule")[8:]
        + "  - {id: demand, enabled: false}\n",
    )
    rules = {r.id: r for r in load_rules(path)}
    assert rules["financing"].priority == "low"
    assert "my_rule" in rules and "demand" not in rules
    fired = {s.rule: s for s in suggest(sample_findings(), list(rules.values()))}
    assert fired["my_rule"].problem.zh == "61.4%"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        (
            {"when": "difficulty.finance.share >= 0.3"},
            r"rule 'test_rule': unknown finding 'difficulty.finance.share' "
            r"\(did you mean 'difficulty.financing.share'\?\)",
        ),
        ({"when": "'difficulty.financing.share >= '"}, r"'when' is not a valid expression"),
        ({"when": '\'__import__("os").system("true")\''}, r"calls a function that is not allowed"),
        (
            {"evidence": "difficulty.financing.sharez"},
            r"unknown finding 'difficulty.financing.sharez'",
        ),
        ({"departments": "police"}, r"unknown department\(s\) police"),
        ({"priority": "urgent"}, r"priority 'urgent' is not one of high, medium, low"),
        (
            {"problem": "{{ difficulty.financing.share | v }"},
            r"the zh text of 'problem' is not a valid template",
        ),
        (
            {"problem": "{{ difficulty.financng.share | v }}"},
            r"unknown finding 'difficulty.financng.share'",
        ),
    ],
)
def test_rule_errors_name_the_rule_and_the_fix(tmp_path, kw, message):
    with pytest.raises(RuleError, match=message):
        load_rules(write(tmp_path, rule(**kw)))


def test_malformed_rules_files(tmp_path):
    with pytest.raises(RuleError, match="not valid YAML"):
        load_rules(write(tmp_path, "rules: [\n"))
    with pytest.raises(RuleError, match="no 'rules:' list"):
        load_rules(write(tmp_path, "title: x\n"))
    with pytest.raises(RuleError, match="missing evidence, departments"):
        load_rules(
            write(
                tmp_path,
                "rules:\n  - id: x\n    topic: {zh: 甲, en: a}\n"
                "    priority: low\n    when: n > 0\n    title: {zh: 甲, en: a}\n"
                "    problem: {zh: 甲, en: a}\n    actions: [{zh: 甲, en: a}]\n",
            )
        )
    with pytest.raises(RuleError, match="rules file not found"):
        load_rules(tmp_path / "none.yaml")


# -- key factors ----------------------------------------------------------------------


def test_only_the_planted_drivers_are_key_factors():
    # planted: r_service and r_enforcement drive satisfaction; the third item (3.9%,
    # interval 1.9-6.0%) is below an equal share and is no key factor
    f = sample_findings()
    fired = suggest(f, load_rules())
    assert set(fired.key_factors) == {"r_service", "r_enforcement"}
    third = sorted(f.drivers.items, key=lambda d: d.rank)[2]
    assert third.importance_ci_high < min(
        d.importance_ci_low for d in f.drivers.items if d.code in fired.key_factors
    )


def test_key_factor_rule_is_read_from_the_rules_file(tmp_path):
    f = sample_findings()
    strict = write(tmp_path, "key_factors:\n  when: least.lo > 0.5\n  most: 3\n")
    assert suggest(f, load_rules(strict)).key_factors == ()
    loose = write(tmp_path, "key_factors:\n  when: least > others\n  most: 1\n")
    assert suggest(f, load_rules(loose)).key_factors == ("r_service",)


def test_key_factor_texts_follow_the_rule(tmp_path):
    from analysis.writing.brief import Brief
    from analysis.writing.drafts import make_draft

    f = sample_findings()
    strict = suggest(f, load_rules(write(tmp_path, "key_factors:\n  when: least.lo > 0.5\n")))
    normal = suggest(f, load_rules())
    for fired, says in ((normal, True), (strict, False)):
        html = Brief(f, fired, "zh").section("drivers").html
        assert ("关键因素。" in html) is says
        report = make_draft("report", f, fired, "zh").markdown
        assert ("是关键因素。" in report) is says
        assert ("没有哪一项明显突出" in report) is not says
        if not says:  # no draft calls anything a key factor, not even in a plain phrase
            for genre in ("proposal", "social", "report", "summary"):
                assert "关键因素" not in make_draft(genre, f, fired, "zh").markdown, genre


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("key_factors:\n  when: least.lo >\n", "not a valid expression"),
        ("key_factors:\n  when: rank < 3\n", "unknown name 'rank'"),
        ("key_factors:\n  when: least.p < 0.05\n", "unknown attribute in 'least.p'"),
        ("key_factors:\n  when: least.lo > 0\n  most: 0\n", "not a number of items"),
        ("key_factors: [1, 2]\n", "must be a mapping"),
    ],
)
def test_bad_key_factor_rules_name_the_problem(tmp_path, body, message):
    with pytest.raises(RuleError, match=message):
        load_rules(write(tmp_path, body))


def test_rules_read_once_per_process_and_again_when_the_file_changes(tmp_path, monkeypatch):
    from analysis.ingest.instrument import load_instrument
    from analysis.writing import suggest as module

    inst = load_instrument()
    path = write(tmp_path, rule(id="financing", priority="low"))
    reads: list[str] = []
    real = module._read
    monkeypatch.setattr(module, "_read", lambda source: reads.append(source.name) or real(source))
    first = load_rules(path, inst)
    second = load_rules(path, inst)
    assert len(reads) == 2  # the defaults and the user's file, once
    assert first == second and first is not second  # a list of its own to each caller
    assert first.key_factors == second.key_factors
    second.clear()
    assert load_rules(path, inst) == first  # what a caller did to its list stays its own
    path.write_text(path.read_text(encoding="utf-8").replace("low", "high"), encoding="utf-8")
    import os

    os.utime(path, ns=(1, 1))  # another stamp, as an edit a moment later has
    changed = {r.id: r for r in load_rules(path, inst)}
    assert len(reads) == 4 and changed["financing"].priority == "high"
