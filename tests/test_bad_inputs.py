"""The bad-input corpus: every malformed input gives its typed error and a non-zero exit
without a traceback; raw files are never changed; the last good brief stays intact.

Files: tests/data/exports/, tests/data/bad/, tests/data/instruments/ (made by
tests/data/make_fixtures.py), plus a few built here (a 10 MB cell, a region without
responses in the wave).
"""

from __future__ import annotations

import hashlib
import shutil

import pandas as pd
import pytest

from analysis import cli
from analysis.errors import (
    CodingError,
    InputFileError,
    InstrumentError,
    ParameterError,
    RuleError,
    ValidationError,
)
from analysis.ingest.instrument import load_instrument
from analysis.ingest.load import load
from analysis.ingest.params import read_params_file
from analysis.ingest.validate import validate
from analysis.pipeline.run import prepare
from conftest import DATA, EXPORTS, INSTRUMENTS, SAMPLE, WJX

BAD = DATA / "bad"

# (file, form, error, message): loading the file with its form gives this error.
FILES = [
    (
        EXPORTS / "truncated.csv",
        "visits",
        ValidationError,
        "row has 8 cells where the header has 55",
    ),
    (EXPORTS / "mixed_encoding.csv", "visits", InputFileError, r"line 3: .* not UTF-8"),
    (
        BAD / "utf16_without_bom.csv",
        "visits",
        InputFileError,
        "UTF-16 text without a byte-order mark",
    ),
    (EXPORTS / "binary.csv", "visits", InputFileError, "binary file"),
    (EXPORTS / "empty.csv", "visits", InputFileError, "the file is empty"),
    (BAD / "header_only.csv", "visits", ValidationError, "a header but no data rows"),
    (EXPORTS / "not_a_survey.csv", "visits", ValidationError, "does not look like an export"),
    (BAD / "another_questionnaire.csv", "visits", ValidationError, "does not look like an export"),
    (EXPORTS / "duplicate_ids.csv", "visits", ValidationError, "duplicate visit_id: also on row 3"),
    (
        BAD / "required_columns_empty.csv",
        "visits",
        ValidationError,
        r"required '市州' \(region\) is empty",
    ),
    (BAD / "formula_injection.csv", "visits", ValidationError, "spreadsheet formula"),
    (EXPORTS / "values_outside_choices.csv", "visits", ValidationError, "'拉萨市' — not a choice"),
    (BAD / "numbers_out_of_range.csv", "visits", ValidationError, "below the minimum 0"),
    (BAD / "rating_label_unknown.csv", "visits", ValidationError, "'很好' — not a rating"),
    (
        BAD / "wave_not_a_number.csv",
        "visits",
        ValidationError,
        "'二〇二五' — '调查年度' .* must be a number",
    ),
    (BAD / "multiselect_not_zero_one.csv", "visits", ValidationError, "must be 1 or 0"),
    (
        EXPORTS / "impossible_dates.csv",
        "visits",
        ValidationError,
        "'2025-02-30' is not a real date",
    ),
    (EXPORTS / "missing_required_column.csv", "visits", ValidationError, "required column"),
    (EXPORTS / "old_format.xls", "visits", InputFileError, "old Excel .xls workbook"),
    (BAD / "corrupt.xlsx", "visits", InputFileError, "cannot be opened as an Excel workbook"),
    (
        BAD / "sheets_none_match.xlsx",
        "visits",
        InputFileError,
        "no visible sheet looks like a survey export",
    ),
    (
        BAD / "uncalculated_formula.xlsx",
        "visits",
        ValidationError,
        "formula without a calculated value",
    ),
    (
        EXPORTS / "requests_resolved_without_date.csv",
        "requests",
        ValidationError,
        "resolution date is empty",
    ),
    (
        BAD / "requests_unknown_status.csv",
        "requests",
        ValidationError,
        "'已解决了吧' — not a choice",
    ),
    (BAD / "frame_duplicate_stratum.csv", "frame", ValidationError, "is also on row 2"),
    (
        BAD / "frame_without_counts.csv",
        "frame",
        ValidationError,
        r"required column '登记在册企业数' \(firms\)",
    ),
]
# (paths, message): files that are each fine, but not together.
PAIRS = [
    (
        [WJX / "province_text.xlsx", WJX / "province_requests_by_number.csv"],
        "none of the 190 requests points at a visit",
    ),
    (
        [EXPORTS / "frame_smaller_than_sample.csv", EXPORTS / "utf8_variable_names.csv"],
        "fewer registered firms than the 5 visited",
    ),
]
# (parameters, error, message): a run stops before any notebook starts.
RUNS = [
    ({"rules": str(BAD / "rules_bad_expression.yaml")}, RuleError, "not a valid expression"),
    (
        {"rules": str(BAD / "rules_unknown_fact.yaml")},
        RuleError,
        r"unknown finding 'difficulty.finance.share' \(did you mean",
    ),
    ({"rules": str(BAD / "rules_not_yaml.yaml")}, RuleError, "not valid YAML"),
    ({"coding": str(BAD / "coding_bad.yaml")}, CodingError, "coding_bad.yaml"),
    (
        {"instrument": str(INSTRUMENTS / "duplicate_names.yaml")},
        InstrumentError,
        "the name 'region' is used by questions 5 and 6",
    ),
    (
        {"instrument": str(INSTRUMENTS / "unknown_type.yaml")},
        InstrumentError,
        "unknown type 'likret'",
    ),
    (
        {"instrument": str(INSTRUMENTS / "xlsform_unknown_list.xlsx")},
        InstrumentError,
        "choice list 'colour' is not in the choices sheet",
    ),
    ({"visits": str(EXPORTS / "duplicate_ids.csv")}, ValidationError, "duplicate visit_id"),
]
PARAM_FILES = [
    (BAD / "params_wrong_type.yaml", "wave='二〇二五' is not a whole number"),
    (BAD / "params_unknown_name.yaml", r"unknown parameter 'regoin' \(did you mean 'region'\?\)"),
    (BAD / "params_not_a_mapping.yaml", "expected 'name: value' lines"),
    (BAD / "params_region_not_surveyed.yaml", "region='拉萨市' is not in the data of wave 2025"),
]


def _digest(folder) -> dict:
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module", autouse=True)
def raw_files_never_change():
    before = {**_digest(EXPORTS), **_digest(BAD), **_digest(INSTRUMENTS), **_digest(SAMPLE)}
    yield
    after = {**_digest(EXPORTS), **_digest(BAD), **_digest(INSTRUMENTS), **_digest(SAMPLE)}
    assert after == before


def test_the_corpus_holds_at_least_thirty_malformed_inputs():
    assert len(FILES) + len(PAIRS) + len(RUNS) + len(PARAM_FILES) + 2 >= 30


@pytest.mark.parametrize(
    ("path", "form", "error", "message"), FILES, ids=lambda x: getattr(x, "name", None)
)
def test_typed_error(path, form, error, message):
    with pytest.raises(error, match=message):
        load(path, form)


@pytest.mark.parametrize(
    ("path", "form", "error", "message"), FILES, ids=lambda x: getattr(x, "name", None)
)
def test_cli_exit_without_traceback(path, form, error, message, capsys):
    assert cli.main(["validate", str(path)]) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err and "ERROR:" in out.out


@pytest.mark.parametrize(("paths", "message"), PAIRS)
def test_files_that_do_not_fit_together(paths, message, capsys):
    assert any(message in str(p) for p in validate(paths).errors)
    assert cli.main(["validate", *map(str, paths)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_ten_megabyte_cell(tmp_path, capsys):
    df = pd.read_csv(EXPORTS / "utf8_variable_names.csv", dtype=str, keep_default_na=False).head(3)
    df.loc[1, "urgent_needs"] = "融资难" * 1_200_000  # 3.6 million characters, about 10 MB
    path = tmp_path / "ten_megabyte_cell.csv"
    df.to_csv(path, index=False)
    assert path.stat().st_size > 10_000_000
    with pytest.raises(
        ValidationError, match=r"an answer of 3,600,000 characters \(the limit is 5,000\)"
    ):
        load(path)
    assert cli.main(["validate", str(path)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_region_without_responses_in_the_wave(tmp_path):
    visits = pd.read_csv(SAMPLE / "visits.csv", dtype=str, keep_default_na=False)
    visits = visits[~((visits.region == "guoluo") & (visits.wave == "2025"))]
    path = tmp_path / "visits.csv"
    visits.to_csv(path, index=False)
    with pytest.raises(ParameterError, match="region='果洛' is not in the data of wave 2025"):
        prepare({"visits": str(path), "region": "果洛"})


@pytest.fixture()
def previous_brief(tmp_path):
    """A last good brief that a failed run must leave exactly as it was."""
    folder = tmp_path / "2025-all"
    folder.mkdir()
    (folder / "brief.html").write_text("<p>the last good brief</p>", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("raw", "error", "message"),
    RUNS,
    ids=[next(iter(r[0].values())).rsplit("/", 1)[-1] for r in RUNS],
)
def test_a_run_stops_before_anything_runs(raw, error, message, previous_brief, capsys):
    with pytest.raises(error, match=message):
        prepare(raw)
    args = ["run", "--out", str(previous_brief.parent), *(f"{k}={v}" for k, v in raw.items())]
    assert cli.main(args) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "error:" in out.err
    assert [p.name for p in previous_brief.parent.iterdir()] == ["2025-all"]
    assert (previous_brief / "brief.html").read_text(
        encoding="utf-8"
    ) == "<p>the last good brief</p>"


@pytest.mark.parametrize(("path", "message"), PARAM_FILES, ids=lambda x: getattr(x, "name", None))
def test_bad_params_files(path, message, previous_brief, capsys):
    with pytest.raises(ParameterError, match=message):
        prepare(read_params_file(path))
    assert cli.main(["run", "-f", str(path), "--out", str(previous_brief.parent)]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert [p.name for p in previous_brief.parent.iterdir()] == ["2025-all"]


def test_instrument_with_duplicate_names_on_validate(capsys):
    with pytest.raises(InstrumentError):
        load_instrument(INSTRUMENTS / "duplicate_names.yaml")
    args = [
        "validate",
        str(SAMPLE / "visits.csv"),
        "--instrument",
        str(INSTRUMENTS / "duplicate_names.yaml"),
    ]
    assert cli.main(args) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_the_sample_copy_is_not_touched_by_validation(tmp_path):
    copy = tmp_path / "visits.csv"
    shutil.copy(SAMPLE / "visits.csv", copy)
    before = copy.read_bytes()
    validate([copy])
    assert copy.read_bytes() == before
