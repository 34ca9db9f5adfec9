from __future__ import annotations

import subprocess
import sys

import pytest

from analysis import cli
from conftest import EXPORTS, SAMPLE


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_validate_the_sample_exits_zero():
    result = run(
        "validate",
        str(SAMPLE / "visits.csv"),
        str(SAMPLE / "requests.csv"),
        str(SAMPLE / "frame.csv"),
    )
    assert result.returncode == 0, result.stderr
    assert "OK: no errors" in result.stdout


@pytest.mark.parametrize(
    "fixture",
    [
        "duplicate_ids.csv",
        "binary.csv",
        "empty.csv",
        "old_format.xls",
        "not_a_survey.csv",
        "truncated.csv",
    ],
)
def test_bad_input_gives_non_zero_exit_and_no_traceback(fixture):
    result = run("validate", str(EXPORTS / fixture))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "ERROR:" in result.stdout


def test_missing_path_is_an_error_not_a_crash(tmp_path):
    result = run("validate", str(tmp_path / "nope.csv"))
    assert result.returncode == 1 and "file not found" in result.stdout


def test_sample_writes_the_files(tmp_path):
    result = run("sample", "--out", str(tmp_path), "--firms", "100", "--seed", "4")
    assert result.returncode == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {
        "visits.csv",
        "requests.csv",
        "frame.csv",
        "submissions.csv",
        "events.csv",
        "services.csv",
        "README.md",
    }


def test_sample_rejects_too_few_firms(capsys):
    assert cli.main(["sample", "--firms", "3"]) == 1
    assert "too small" in capsys.readouterr().err


def test_cli_calls_validate_with_the_parsed_arguments(monkeypatch, tmp_path):
    seen = {}

    def fake_validate(paths, instrument=None, sheet=None):
        from analysis.ingest.validate import Report

        seen.update(paths=paths, sheet=sheet)
        return Report((), ())

    monkeypatch.setattr("analysis.ingest.validate.validate", fake_validate)
    assert cli.main(["validate", "a.xlsx", "b.csv", "--sheet", "答卷"]) == 0
    assert [p.name for p in seen["paths"]] == ["a.xlsx", "b.csv"] and seen["sheet"] == "答卷"


def test_unexpected_exception_is_reported_as_a_bug(monkeypatch, capsys):
    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr("analysis.ingest.validate.validate", boom)
    monkeypatch.delenv("QIFANG_DEBUG", raising=False)
    assert cli.main(["validate", "x.csv"]) == 3
    assert "bug in Qifang" in capsys.readouterr().err


def test_cli_calls_results_with_the_parsed_arguments(monkeypatch, tmp_path):
    seen = {}

    def fake_results(raw, out_root=None, name=None, notebooks=None, cell_timeout=None):
        seen.update(raw=raw, out_root=out_root, name=name)

    monkeypatch.setattr("analysis.pipeline.results.results", fake_results)
    argv = ["results", "--period", "2025H1", "submissions=报送台账.xlsx", "services=s.csv",
            "--out", str(tmp_path), "--name", "half"]
    assert cli.main(argv) == 0
    assert seen == {
        "raw": {"submissions": "报送台账.xlsx", "services": "s.csv", "period": "2025H1"},
        "out_root": tmp_path,
        "name": "half",
    }
    assert cli.main(["results", "period=2025"]) == 0 and seen["raw"] == {"period": "2025"}


def test_results_period_given_twice_must_agree(capsys):
    assert cli.main(["results", "--period", "2025", "period=2024"]) == 1
    assert "disagree" in capsys.readouterr().err
