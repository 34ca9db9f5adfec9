from __future__ import annotations

import pytest

from analysis import cli
from analysis.ingest.draft import draft_instrument
from analysis.ingest.instrument import load_instrument
from analysis.ingest.validate import validate
from conftest import ROOT, WJX

CITY = ROOT / "examples" / "city"


def test_a_draft_of_the_provincial_export_is_the_bundled_instrument(tmp_path):
    d = draft_instrument(WJX / "province_text.xlsx")
    assert not d.guessed and not d.unmatched  # every column is a bundled question
    path = tmp_path / "drafted.yaml"
    path.write_text(d.text, encoding="utf-8")
    inst = load_instrument(path)
    assert [q.name for q in inst.items()] == [q.name for q in load_instrument().items()]
    assert validate([WJX / "province_text.xlsx"], instrument=inst).ok


def test_a_draft_of_a_city_export_gets_its_regions_scale_and_wordings(tmp_path):
    d = draft_instrument(CITY / "visits.xlsx")
    path = tmp_path / "drafted.yaml"
    path.write_text(d.text, encoding="utf-8")
    inst = load_instrument(path)
    assert [c.label.zh for c in inst.question("region").choices] == sorted(
        ["城东区", "城中区", "城西区", "城北区", "湟中区", "大通县", "湟源县"]
    )
    assert [(c.value, c.label.zh) for c in inst.question("r_finance").choices] == [
        (4, "很满意"), (3, "满意"), (2, "不满意"), (1, "很不满意")
    ]  # fmt: skip
    assert "融资便利" in inst.question("r_finance").aliases
    assert d.guessed["1、企业所在区县："] == "region"
    assert "r_innovation" in d.dropped and "5、(办事便利程度)" in d.unmatched
    assert "TODO check: column '1、企业所在区县：' guessed as this question" in d.text
    assert "TODO options: '应收账款回款难' of difficulties matches no option" in d.text
    report = validate([CITY / "visits.xlsx"], instrument=inst)
    # what is left for the office: the unmatched rows are named, loudly
    assert {p.column for p in report.unread_questions} >= {"5、(办事便利程度)", "5、(政策兑现)"}


def test_instrument_init_writes_a_new_file_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "问卷.yaml"
    assert cli.main(["instrument", "init", str(CITY / "visits.xlsx"), "-o", str(out)]) == 0
    assert "guessed" in capsys.readouterr().out and out.is_file()
    before = out.read_bytes()
    assert cli.main(["instrument", "init", str(CITY / "visits.xlsx"), "-o", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == before


@pytest.mark.parametrize("name", ["city_minimal.yaml"])
def test_the_fixture_instruments_load(name):
    inst = load_instrument(WJX / name)
    assert not inst.has("urgent_needs") and not inst.has("p_tax")
