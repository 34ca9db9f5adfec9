from __future__ import annotations

from analysis.ingest.validate import validate
from conftest import EXPORTS, SAMPLE, WJX


def test_bundled_sample_is_valid():
    report = validate([SAMPLE / "visits.csv", SAMPLE / "requests.csv", SAMPLE / "frame.csv"])
    assert report.ok, [str(p) for p in report.errors]
    assert sorted(ld.form for ld in report.loaded) == ["frame", "requests", "visits"]


def test_requests_without_a_visit_are_left_out_and_counted():
    report = validate([EXPORTS / "requests_orphan.csv", EXPORTS / "utf8_variable_names.csv"])
    assert report.ok
    left_out = [str(p) for p in report.warnings if "point at no visit" in p.message]
    assert left_out == [
        "requests_orphan.csv:visit_id: 1 of 4 requests point at no visit in "
        "utf8_variable_names.csv (rows 4); they are left out of the ledger section — nothing "
        "to do if those visits are not in this export; otherwise correct their visit ids"
    ]


def test_a_ledger_whose_ids_match_no_visit_stops_and_shows_both_ids():
    report = validate([WJX / "province_text.xlsx", WJX / "province_requests_by_number.csv"])
    (error,) = report.errors
    assert "none of the 190 requests points at a visit in province_text.xlsx" in error.message
    assert "('6', '7', '10' …)" in error.message  # the ledger's ids: 序号
    assert "'QF2025-000001'" in error.message and "'1、走访编号：'" in error.message


def test_frame_must_cover_the_sample():
    report = validate(
        [EXPORTS / "frame_smaller_than_sample.csv", EXPORTS / "utf8_variable_names.csv"]
    )
    errors = [str(p) for p in report.errors]
    assert any("fewer registered firms than the 5 visited" in e for e in errors)
    assert any("no count for a stratum that was visited" in e for e in errors)


def test_all_problems_of_all_files_in_one_pass():
    report = validate(
        [
            EXPORTS / "values_outside_choices.csv",
            EXPORTS / "duplicate_ids.csv",
            EXPORTS / "binary.csv",
        ]
    )
    files = {p.path.rsplit("/", 1)[-1] for p in report.errors}
    assert files == {"values_outside_choices.csv", "duplicate_ids.csv", "binary.csv"}
    assert len(report.errors) == 5
