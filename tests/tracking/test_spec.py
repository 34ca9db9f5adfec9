from __future__ import annotations

import pytest

from analysis.tracking.spec import LedgerSpecError, load_spec

SPEC = """
lines:
  - {name: service, zh: 服务企业, en: Services}
choices:
  submission_kind:
    - {value: social, zh: 社情民意信息, en: report}
  event:
    - {value: adopted, zh: 采用, en: adopted}
    - {value: instructed, zh: 批示, en: instructed}
  level:
    - {value: provincial, zh: 省级, en: provincial}
  leader:
    - {value: principal, zh: 主要领导, en: principal}
ledgers:
  submissions:
    label: {zh: 报送台账, en: Submissions}
    fields:
      - {name: submission_id, type: id, required: true, label: {zh: 编号, en: ID}}
      - {name: kind, type: choice, choices: submission_kind, label: {zh: 类别, en: Kind}}
      - {name: submitted, type: date, label: {zh: 日期, en: Date}}
  events:
    label: {zh: 事件, en: Events}
    fields:
      - {name: submission_id, type: text, label: {zh: 编号, en: ID}}
      - {name: event, type: choice, choices: event, label: {zh: 事件, en: Event}}
      - {name: date, type: date, label: {zh: 日期, en: Date}}
  services:
    label: {zh: 服务, en: Services}
    fields:
      - {name: kind, type: choice, choices: service_kind, label: {zh: 类别, en: Kind}}
      - {name: date, type: date, label: {zh: 日期, en: Date}}
    measures:
      - {name: firms, unit: {zh: 家, en: firms}, label: {zh: 企业数, en: Firms}}
      - {name: amount, money: true, label: {zh: 金额, en: Amount}}
    kinds:
      - value: finance
        zh: 融资对接
        en: finance
        line: service
        measures: [firms, amount]
        clauses:
          - {zh: "为{firms}发放贷款{amount}", en: "{amount} to {firms}"}
"""


def write(tmp_path, text):
    path = tmp_path / "ledgers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_description():
    spec = load_spec()
    assert [line.label.zh for line in spec.lines] == [
        "参政议政",
        "服务企业",
        "社会责任",
        "法律服务",
    ]
    assert {k.value for k in spec.kinds} == {
        "finance",
        "jobs",
        "visits",
        "training",
        "donation",
        "villages",
        "legal",
        "supervision",
    }
    assert spec.unit("finance", "firms").zh == "户" and spec.unit("jobs", "firms").zh == "家"
    assert spec.kind("supervision").approximate == {"items"}
    # the loader's view: one form per ledger, headers with units as aliases
    firms = spec.instrument.forms["services"]["firms"]
    assert (
        "企业数(家)" in firms.aliases
        and "金额(万元)" in spec.instrument.forms["services"]["amount"].aliases
    )


def test_a_minimal_description_of_another_office(tmp_path):
    spec = load_spec(write(tmp_path, SPEC))
    assert spec.kind("finance").clauses[0].zh == "为{firms}发放贷款{amount}"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("line: service", "line: politics"), "unknown line 'politics'"),
        (("measures: [firms, amount]", "measures: [firms, posts]"), "measure 'posts'"),
        (("为{firms}发放贷款{amount}", "为{firms}发放{villages}"), "clause names {villages}"),
        (
            (
                "type: date, label: {zh: 日期, en: Date}}\n  events",
                "type: day, label: {zh: 日期, en: Date}}\n  events",
            ),
            "unknown type 'day'",
        ),
        (("lines:", "colour: red\nlines:"), "unknown key 'colour'"),
        (
            ("  submissions:\n    label", "  submission:\n    label"),
            "'submissions' is not described",
        ),
        (("choices:\n", "choices:\n  x: &a [1]\n  y: *a\n"), "aliases"),
    ],
)
def test_a_broken_description_names_the_problem(tmp_path, change, message):
    old, new = change
    assert old in SPEC
    with pytest.raises(LedgerSpecError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_spec(write(tmp_path, SPEC.replace(old, new, 1)))


def test_not_yaml_and_not_there(tmp_path):
    with pytest.raises(LedgerSpecError, match="not valid YAML"):
        load_spec(write(tmp_path, "lines: [\n"))
    with pytest.raises(LedgerSpecError, match="not found"):
        load_spec(tmp_path / "nope.yaml")
