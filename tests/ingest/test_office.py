from __future__ import annotations

from pathlib import Path

import pytest

from analysis.ingest.instrument import load_instrument
from analysis.ingest.office import (
    DEFAULT_OFFICE,
    ProfileError,
    Text,
    department_codes,
    load_office,
)

SICHUAN = Path(__file__).parents[1] / "data" / "office" / "sichuan.yaml"
CODES = department_codes(load_instrument())


def test_the_sample_profile_names_real_qinghai_departments():
    office = load_office(None, CODES)
    assert office.unit.zh == "青海省工商业联合会"
    names = {code: office.department(code).zh for code in CODES}
    assert names["finance"] == "省财政厅"
    assert names["ndrc"] == "省发展改革委"
    assert names["fin_reg"] == "人民银行青海省分行、金融监管总局青海监管局"
    full = [b.full for b in office.bodies("fin_reg")]
    assert full == ["中国人民银行青海省分行", "国家金融监督管理总局青海监管局"]
    assert office.bodies("ndrc")[0].full == "青海省发展和改革委员会"
    assert office.document("sme_payment").zh == "《保障中小企业款项支付条例》"
    assert office.document("inspection_opinion").zh.startswith("《国务院办公厅关于严格规范")
    assert office.issue("social") and office.issue("summary")


def test_a_department_per_region_is_named_for_the_brief_s_region():
    office = load_office(None, CODES)
    assert office.department("local_gov").zh == "各市州人民政府"
    haidong = Text(zh="海东市", en="Haidong")
    assert office.department("local_gov", haidong).zh == "海东市人民政府"
    assert office.department("local_gov", haidong).en == "People's Government of Haidong"


def test_another_province_renames_every_department():
    qinghai, sichuan = load_office(None, CODES), load_office(SICHUAN, CODES)
    for code in CODES:
        for lang in ("zh", "en"):
            assert qinghai.department(code).get(lang) != sichuan.department(code).get(lang)


def test_the_unit_parameter_names_the_issuing_unit():
    office = load_office(None, CODES, unit="海东市工商联")
    assert office.unit.zh == "海东市工商联" and office.unit_short == "海东市工商联"


def test_a_department_of_the_questionnaire_without_a_name_is_refused(tmp_path):
    text = DEFAULT_OFFICE.read_text(encoding="utf-8").replace(
        "  justice:   {zh: 省司法厅", "  justice_x: {zh: 省司法厅"
    )
    path = tmp_path / "office.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=r"office\.yaml: no name for department\(s\) justice"):
        load_office(path, CODES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("unit: [1, 2\n", "not valid YAML"),
        ("- a\n- b\n", "expected 'key: value' lines"),
        ("unit: {zh: 甲, en: A}\nfoo: 1\n", "unknown key"),
        ("unit: {zh: 甲}\n", "missing"),
        ("base: &a {zh: 甲, en: A}\nunit: *a\n", "anchors and aliases"),
    ],
)
def test_a_broken_profile_says_what_to_fix(tmp_path, text, message):
    path = tmp_path / "office.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=message):
        load_office(path, CODES)


def test_a_profile_without_the_series_numbers_is_refused(tmp_path):
    text = DEFAULT_OFFICE.read_text(encoding="utf-8").replace(
        "issues: {social: 12, summary: 7, info: 5}", "issues: {social: 12, info: 5}"
    )
    path = tmp_path / "office.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match="no 期号 for summary"):
        load_office(path, CODES)


def test_the_glossary_names_bodies_in_english_and_must_be_text(tmp_path):
    office = load_office(DEFAULT_OFFICE, CODES)
    assert office.english("全国工商联") == "the All-China Federation of Industry and Commerce"
    assert office.english("某商会") == "某商会"  # not in the glossary: as written
    text = DEFAULT_OFFICE.read_text(encoding="utf-8") + "  某商会: [1, 2]\n"
    path = tmp_path / "office.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match=r"glossary\.某商会"):
        load_office(path, CODES)


def test_a_bad_date_is_refused(tmp_path):
    text = DEFAULT_OFFICE.read_text(encoding="utf-8").replace('date: ""', "date: 2026/1/10")
    path = tmp_path / "office.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match="is not YYYY-MM-DD"):
        load_office(path, CODES)


def test_a_region_placeholder_is_filled_as_text_never_formatted():
    office = load_office(None, CODES)
    trap = Text(zh="{0.__class__}", en="{region.__class__}")
    assert office.department("local_gov", trap).zh == "{0.__class__}人民政府"
