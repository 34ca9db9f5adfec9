from __future__ import annotations

import json

import jsonschema
import pytest

from analysis.errors import QifangError
from analysis.findings.model import SCHEMA_PATH, Findings, json_schema
from findings_fixture import sample_findings


def test_committed_schema_is_the_models_schema():
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == json_schema(), (
        "run: python -c 'from analysis.findings.model import …' (see README)"
    )


def test_findings_json_validates_and_round_trips(tmp_path):
    f = sample_findings()
    path = f.save(tmp_path / "findings.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    again = Findings.load(path)
    assert again.to_json() == f.to_json()
    assert data["schema_version"] == "1.1"


def test_serialisation_is_deterministic():
    f = sample_findings()
    assert f.to_json() == Findings.model_validate_json(f.model_dump_json()).to_json()


def test_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "findings.json"
    data = json.loads(sample_findings().to_json())
    data["schema_version"] = "0.9"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(QifangError, match=r"findings schema '0\.9'"):
        Findings.load(path)


def test_missing_findings_file(tmp_path):
    with pytest.raises(QifangError, match=r"run notebooks/1-survey-analysis\.ipynb"):
        Findings.load(tmp_path / "findings.json")
