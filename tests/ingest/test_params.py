from __future__ import annotations

import pytest

from analysis.errors import ParameterError
from analysis.ingest.params import Params, against_data, check, parse_assignments, read_params_file
from conftest import ROOT


def test_defaults_point_at_the_bundled_sample():
    p = check()
    assert p.visits == str(ROOT / "data" / "sample" / "visits.csv")
    assert (p.lang, p.min_cell, p.confidence, p.region) == ("zh", 10, 0.95, None)


def test_text_from_the_command_line_is_converted():
    p = check(
        parse_assignments(
            ["wave=2025", "min_cell=5", "confidence=0.9", "region=海东市", "industry=None"]
        )
    )
    assert (p.wave, p.min_cell, p.confidence, p.region, p.industry) == (
        2025,
        5,
        0.9,
        "海东市",
        None,
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"regoin": "海东"}, r"unknown parameter 'regoin' \(did you mean 'region'\?\)"),
        ({"wave": "abc"}, r"wave='abc' is not a whole number"),
        ({"wave": True}, r"wave=True is a yes/no, not one value"),
        ({"confidence": "high"}, r"confidence='high' is not a number"),
        ({"confidence": 1.5}, r"confidence=1.5 must be between 0.5 and 1"),
        ({"lang": "fr"}, r"lang='fr' is not supported"),
        ({"min_cell": 0}, r"min_cell=0 must be at least 1"),
        ({"visits": "data/raw/nope.csv"}, r"visits: file not found"),
        ({"visits": ""}, r"visits cannot be empty"),
    ],
)
def test_bad_parameters_are_refused_with_the_fix(raw, message):
    with pytest.raises(ParameterError, match=message):
        check(raw)


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(ParameterError) as info:
        check({"colour": "red"})
    assert "valid parameters: region, wave" in str(info.value)


def test_assignments_need_an_equals_sign():
    with pytest.raises(ParameterError, match="is not name=value"):
        parse_assignments(["region"])


def test_params_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("region: 海东市\nwave: 2025\n", encoding="utf-8")
    assert read_params_file(path) == {"region": "海东市", "wave": 2025}
    path.write_text("region: [海东\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="not valid YAML"):
        read_params_file(path)
    with pytest.raises(ParameterError, match="parameters file not found"):
        read_params_file(tmp_path / "none.yaml")


@pytest.mark.parametrize("given", ["海东市", "海东", "Haidong", "haidong", "630200"])
def test_region_is_normalised_to_its_code(given, instrument, sample_visits):
    p = against_data(check({"region": given}), sample_visits, instrument)
    assert p.region == "haidong"


def test_waves_default_to_latest_and_previous(instrument, sample_visits):
    p = against_data(check(), sample_visits, instrument)
    assert (p.wave, p.compare_wave) == (2025, 2024)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"region": "拉萨市"},
            r"region='拉萨市' is not in the data of wave 2025 — "
            r"region values in that wave: 西宁市、海东市",
        ),
        ({"wave": 2019}, r"wave=2019 is not in the data — waves in the data: 2024, 2025"),
        ({"compare_wave": 2025}, r"compare_wave=2025 is not another wave in the data"),
        ({"industry": "火星采矿"}, r"industry='火星采矿' is not in the data"),
        (
            {"size": "巨型"},
            r"size='巨型' is not in the data of wave 2025 — "
            r"size values in that wave: 大型、中型、小型、微型",
        ),
    ],
)
def test_values_not_in_the_data_list_the_valid_ones(raw, message, instrument, sample_visits):
    with pytest.raises(ParameterError, match=message):
        against_data(check(raw), sample_visits, instrument)


def test_every_field_has_a_comment_in_the_contract():
    source = (ROOT / "src" / "analysis" / "ingest" / "params.py").read_text(encoding="utf-8")
    for name in Params().to_dict():
        line = next(x for x in source.splitlines() if x.strip().startswith(f"{name}:"))
        assert "#" in line, f"parameter {name} needs a '# meaning' comment"


def test_the_issuing_unit_defaults_to_the_instruments_office():
    assert check({}).unit == ""
    assert check({"unit": "西宁市工商联"}).unit == "西宁市工商联"


def test_a_yaml_error_in_a_params_file_names_the_line(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("region: 海东市\nwave: [2025\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"not valid YAML \(line \d+, column \d+"):
        read_params_file(path)
