"""Uploads stored once, read-only, by SHA-256; validation as qifang validate does it."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from analysis.desk import datasets
from analysis.desk.config import open_desk
from analysis.errors import QifangError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
EXPORTS = ROOT / "tests" / "data" / "exports"


@pytest.fixture
def desk(tmp_path):
    return open_desk(tmp_path / "desk", max_upload=1000)


def test_an_upload_is_stored_once_read_only_under_its_hash(desk):
    data = b"wave,region\n2025,xining\n"
    sha, ext = datasets.store(desk, io.BytesIO(data), "../../走访 2025.csv")
    assert sha == hashlib.sha256(data).hexdigest() and ext == "csv"
    again, _ = datasets.store(desk, io.BytesIO(data), "copy.CSV")
    assert again == sha
    files = list(desk.uploads.iterdir())
    assert [f.name for f in files] == [f"{sha}.csv"]
    assert files[0].stat().st_mode & 0o777 == 0o444


def test_uploads_over_the_limit_of_another_type_or_empty_are_refused(desk):
    with pytest.raises(datasets.UploadTooLarge, match="larger than"):
        datasets.store(desk, io.BytesIO(b"x" * 1001), "big.csv")
    with pytest.raises(QifangError, match="only CSV or XLSX"):
        datasets.store(desk, io.BytesIO(b"x"), "old.xls")
    with pytest.raises(QifangError, match="is empty"):
        datasets.store(desk, io.BytesIO(b""), "empty.csv")
    assert not list(desk.uploads.iterdir())  # nothing half-written left behind


def test_a_name_is_a_label_with_limits():
    assert datasets.check_label("  ../../etc/passwd ") == "../../etc/passwd"
    for bad in ("", "x" * 101, "a\nb", "a\u202eb"):
        with pytest.raises(QifangError):
            datasets.check_label(bad)


def test_validation_is_qifang_validates_with_the_forms_values():
    from analysis.ingest.validate import validate

    paths = {s: str(SAMPLE / f"{s}.csv") for s in ("visits", "requests", "frame")}
    report = datasets.inspect_files(paths)
    cli = validate(list(paths.values()))
    assert report["errors"] == len(cli.errors) == 0
    assert report["warnings"] == len(cli.warnings)
    assert report["choices"]["wave"] == ["2024", "2025"]
    assert ["haidong", "海东市", "Haidong"] in report["choices"]["region"]


def test_a_file_in_the_wrong_field_and_a_bad_export_are_errors():
    from analysis.ingest.validate import validate

    swapped = {"visits": str(SAMPLE / "frame.csv"), "frame": str(SAMPLE / "visits.csv")}
    report = datasets.inspect_files(swapped)
    assert report["errors"] >= 2
    assert any("reads as a frame file, not visits" in p["message"] for p in report["problems"])
    bad = {
        "visits": str(EXPORTS / "values_outside_choices.csv"),
        "frame": str(SAMPLE / "frame.csv"),
    }
    report = datasets.inspect_files(bad)
    cli = validate(list(bad.values()))
    assert [p["message"] for p in report["problems"] if p["severity"] == "error"] == [
        p.message for p in cli.errors
    ]


def test_an_xlsx_export_is_stored_as_xlsx_and_read_from_its_sheet(tmp_path):
    desk = open_desk(tmp_path / "xlsx")
    path = EXPORTS / "title_row_merged.xlsx"
    with open(path, "rb") as f:
        sha, ext = datasets.store(desk, f, path.name)
    assert ext == "xlsx"
    stored = str(desk.upload_path(sha, ext))
    report = datasets.inspect_files({"visits": stored, "frame": str(SAMPLE / "frame.csv")})
    assert report["files"]["visits"]["read_as"].startswith("sheet ")
    assert report["files"]["visits"]["rows"] > 0
