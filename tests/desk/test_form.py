"""The brief form is generated from the parameter contract."""

from __future__ import annotations

from dataclasses import fields

import pytest

from analysis.desk import form
from analysis.errors import ParameterError
from analysis.ingest.params import Params

CHOICES = {"wave": ["2024", "2025"], "region": [["haidong", "海东市", "Haidong"]]}


def test_every_parameter_but_the_datasets_files_is_a_field_with_its_default_and_help():
    contract = form.contract()
    names = [f.name for f in contract]
    assert names == [f.name for f in fields(Params) if f.name not in form.DATASET_FILES]
    by_name = {f.name: f for f in contract}
    assert by_name["min_cell"].default == 10 and by_name["min_cell"].widget == "number"
    assert by_name["confidence"].step == "any"
    assert by_name["region"].widget == "select"
    assert by_name["rules"].widget == "file" and by_name["coding"].widget == "file"
    assert by_name["office"].widget == "file"  # an office profile is uploaded, like rules
    assert by_name["unit"].widget == "text"
    # help is the contract's own comment, word for word
    assert by_name["overdue_days"].help == "a request open longer than this is overdue"
    assert all(f.help for f in contract)


def test_a_parameter_added_to_the_contract_appears_in_the_form(monkeypatch):
    from dataclasses import field, make_dataclass

    extended = make_dataclass(
        "Params", [("threshold", int, field(default=3))], bases=(Params,), frozen=True
    )
    monkeypatch.setattr(form, "Params", extended)
    monkeypatch.setattr(form, "_comments", lambda cls: {"threshold": "a new knob"})
    added = {f.name: f for f in form.contract()}["threshold"]
    assert (added.widget, added.default, added.help) == ("number", 3, "a new knob")
    assert added.label("zh") == "threshold"  # no translation yet: its name


def test_drop_downs_offer_the_datasets_values_and_refuse_others():
    region = {f.name: f for f in form.contract()}["region"]
    assert region.options(CHOICES, "zh") == [("", "全部"), ("haidong", "海东市")]
    assert region.options(CHOICES, "en") == [("", "all"), ("haidong", "Haidong")]
    raw = form.parse({"region": "haidong", "lang": "en", "min_cell": "5"}, form.contract(), CHOICES)
    assert raw == {"region": "haidong", "lang": "en", "min_cell": "5"}
    with pytest.raises(ParameterError, match="not one of the offered values"):
        form.parse({"region": "../../etc"}, form.contract(), CHOICES)


def test_a_past_runs_parameters_fill_the_form_for_a_rerun():
    values = form.initial(form.contract(), {"region": "haidong", "lang": "en"})
    assert values["region"] == "haidong" and values["lang"] == "en"
    assert values["min_cell"] == "10" and values["wave"] == ""


def test_an_uploaded_office_profile_is_checked_before_the_job_is_queued(tmp_path):
    from analysis.desk.app import _check_job
    from analysis.ingest.office import ProfileError
    from analysis.ingest.params import ROOT

    bad = tmp_path / "office.yaml"
    bad.write_text("unit: {zh: 某市工商联, en: X}\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="missing"):
        _check_job({"office": str(bad)}, {"office": "sha"})
    good = ROOT / "examples" / "city" / "office.yaml"
    _check_job({"office": str(good)}, {"office": "sha"})  # names every department: accepted
