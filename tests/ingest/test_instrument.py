from __future__ import annotations

import pytest

from analysis.errors import InstrumentError
from analysis.ingest.instrument import TYPES, load_instrument
from conftest import INSTRUMENTS, ROOT


def test_bundled_instrument_covers_the_questionnaire(instrument):
    visits = instrument.visits
    for name in (
        "visit_id",
        "wave",
        "visit_date",
        "visiting_unit",
        "region",
        "county",
        "industry",
        "size",
        "ownership",
        "employees",
        "revenue_band",
        "founded",
        "chamber_member",
        "overall_satisfaction",
        "difficulties",
        "invest_plan",
        "hiring_plan",
        "urgent_needs",
        "suggestions",
    ):
        assert name in visits
    assert len(instrument.question("region").choices) == 8
    assert [c.label.zh for c in instrument.question("size").choices] == [
        "大型",
        "中型",
        "小型",
        "微型",
    ]
    assert len(instrument.question("industry").choices) == 20  # GB/T 4754 sections A–T
    assert 10 <= len(instrument.question("difficulties").choices) <= 13
    assert len([q for q in visits.fields if q.name.startswith("p_")]) == 6


def test_fifteen_items_in_five_dimensions(instrument):
    items = instrument.items()
    assert len(items) == 15
    assert {d.name for d in instrument.dimensions} == {q.dimension for q in items}
    assert [d.label.zh for d in instrument.dimensions] == [
        "要素环境",
        "政务环境",
        "市场环境",
        "法治环境",
        "创新环境",
    ]
    assert all(len(instrument.items(d.name)) == 3 for d in instrument.dimensions)


def test_every_label_has_zh_and_en(instrument):
    for form in instrument.forms.values():
        for q in form.fields:
            assert q.type in TYPES
            assert q.label.zh and q.label.en, q.name
            for c in q.choices:
                assert c.label.zh and c.label.en, (q.name, c.value)


def test_contact_fields_are_personal(instrument):
    assert {"firm_name", "contact_person", "phone"} <= set(instrument.personal)


def test_multi_select_occupies_one_column_per_option(instrument):
    q = instrument.question("difficulties")
    assert q.columns[0] == "difficulties__financing"
    assert len(q.columns) == len(q.choices)


def test_xlsform_reads_into_the_same_model():
    inst = load_instrument(INSTRUMENTS / "xlsform_basic.xlsx")
    assert inst.id == "mini"
    assert inst.question("region").type == "single"
    assert inst.question("region").choice("haidong").label.zh == "海东市"
    assert inst.question("r_service").type == "likert"  # integer choice names = rating
    assert inst.question("r_service").dimension == "government"
    assert inst.question("difficulties").type == "multi"
    assert inst.question("employees").integer
    assert inst.question("phone").personal
    assert inst.question("region").required
    assert "profile" not in inst.visits  # groups are structure, not questions
    # the ledger and the frame come from the bundled instrument
    assert "status" in inst.requests and "firms" in inst.frame


def test_xlsform_with_unknown_choice_list():
    with pytest.raises(
        InstrumentError, match=r"row 2: choice list 'colour' is not in the choices sheet"
    ):
        load_instrument(INSTRUMENTS / "xlsform_unknown_list.xlsx")


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ("duplicate_names.yaml", r"the name 'region' is used by questions 5 and 6"),
        ("unknown_type.yaml", r"question 'r_finance': unknown type 'likret'"),
        ("label_without_english.yaml", r"question 'visiting_unit': a label needs both zh and en"),
    ],
)
def test_malformed_instrument_names_the_problem(fixture, message):
    with pytest.raises(InstrumentError, match=message):
        load_instrument(INSTRUMENTS / fixture)


def test_missing_instrument_file(tmp_path):
    with pytest.raises(InstrumentError, match="instrument file not found"):
        load_instrument(tmp_path / "nope.yaml")


def test_instrument_is_the_documented_file(instrument):
    assert instrument.source == str(ROOT / "data" / "instrument" / "enterprise-visit.yaml")


def test_choice_aliases_scope_words_and_scale(tmp_path):
    inst = load_instrument()
    assert "海西州" in inst.question("region").choice("haixi").names
    assert inst.words.area.zh == "全省" and inst.scale() == (1, 5)
    city = load_instrument(ROOT / "examples" / "city" / "instrument.yaml")
    assert (city.words.area.zh, city.words.whole.en) == ("全市", "the city")
    assert city.scale() == (1, 4) and city.question("region").short.zh == "区县"


def test_the_issuing_office_is_the_profile_s_not_the_questionnaire_s(tmp_path):
    text = (ROOT / "examples" / "city" / "instrument.yaml").read_text(encoding="utf-8")
    path = tmp_path / "old.yaml"
    path.write_text(
        text.replace(
            "  whole: {zh: 全市, en: the city}\n",
            "  whole: {zh: 全市, en: the city}\n  office: {zh: 市工商联, en: City FIC}\n",
        ),
        encoding="utf-8",
    )
    with pytest.raises(InstrumentError, match=r"not office.*office profile: office=FILE"):
        load_instrument(path)


def test_a_label_cut_at_a_comma_is_refused(tmp_path):
    text = (ROOT / "data" / "instrument" / "enterprise-visit.yaml").read_text(encoding="utf-8")
    path = tmp_path / "cut.yaml"
    path.write_text(text.replace('en: "Aware, not benefited"', "en: Aware, not benefited"))
    with pytest.raises(InstrumentError, match=r"unknown key\(s\) 'not benefited' — put a label"):
        load_instrument(path)
