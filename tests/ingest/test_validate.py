from __future__ import annotations

from analysis.ingest.validate import validate
from conftest import EXPORTS, SAMPLE


def test_bundled_sample_is_valid():
    report = validate([SAMPLE / "visits.csv", SAMPLE / "requests.csv", SAMPLE / "frame.csv"])
    assert report.ok, [str(p) for p in report.errors]
    assert sorted(ld.form for ld in report.loaded) == ["frame", "requests", "visits"]


def test_requests_must_point_at_visits():
    report = validate([EXPORTS / "requests_orphan.csv", EXPORTS / "utf8_variable_names.csv"])
    errors = [str(p) for p in report.errors]
    assert errors == [
        "requests_orphan.csv:4:visit_id: 'QF2024-999999' — request points at no visit in "
        "utf8_variable_names.csv — correct the visit id, or add the visit to the visits file"
    ]


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
