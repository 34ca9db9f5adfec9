from __future__ import annotations

import json

import jsonschema
import pytest

from analysis.tracking.model import SCHEMA_PATH, Results, json_schema


def test_committed_schema_is_the_model():
    committed = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(json_schema())), (
        "src/analysis/tracking/results.schema.json is stale: regenerate it (README, Development)"
    )


def test_results_refuse_another_schema_version(tmp_path):
    from analysis.errors import QifangError

    path = tmp_path / "results.json"
    path.write_text(json.dumps({"schema_version": "0.9"}), encoding="utf-8")
    with pytest.raises(QifangError, match=r"results schema '0\.9'"):
        Results.load(path)


def test_sample_results_round_trip_and_validate(sample_results, tmp_path):
    path = sample_results.save(tmp_path / "results.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    assert Results.load(path) == Results.model_validate(data)
    assert path.read_text(encoding="utf-8") == sample_results.to_json()
