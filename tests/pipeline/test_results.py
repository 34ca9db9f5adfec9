"""End to end: `qifang results` on the sample office's ledgers, as a user runs it."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pytest
from openpyxl import load_workbook

from analysis.tracking.model import SCHEMA_PATH
from ledger_files import copy_sample, edit


def qifang(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("briefs")
    result = qifang("results", "--period", "2025", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out / "results-2025"


def test_results_writes_every_output(made):
    names = {p.relative_to(made).as_posix() for p in made.rglob("*") if p.is_file()}
    assert {
        "brief.html",
        "brief.pdf",
        "results.json",
        "tables.xlsx",
        "manifest.json",
        "4-office-results.ipynb",
    } <= names
    data = json.loads((made / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    manifest = json.loads((made / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["inputs"]) >= {"submissions", "events", "services", "ledgers", "visits"}
    assert manifest["parameters"]["period"] == "2025"
    assert load_workbook(made / "tables.xlsx").sheetnames[0] == "报送"


def test_results_write_the_work_summary_and_work_info_listed_in_the_manifest(made):
    drafts = {
        f"drafts/{g}.{lang}.{ext}"
        for g in ("work-summary", "work-info")
        for lang in ("zh", "en")
        for ext in ("docx", "html")
    }
    manifest = json.loads((made / "manifest.json").read_text(encoding="utf-8"))
    assert drafts | {"drafts/trace.json"} <= set(manifest["outputs"])
    assert "office" in manifest["inputs"]
    html = (made / "drafts" / "work-summary.zh.html").read_text(encoding="utf-8")
    words = re.sub(r"<[^>]+>", "", html)
    assert "青海省工商业联合会2025年工作总结" in words and "督办涉企事项40余件" in words
    trace = json.loads((made / "drafts" / "trace.json").read_text(encoding="utf-8"))
    assert set(trace) == {d.split("/")[1].rsplit(".", 1)[0] for d in drafts}
    # every printed number of the 工作总结 names the facts and ledger rows it can be
    numbers = [x for x in trace["work-summary.zh"] if "number" in x]
    assert numbers and all(x["facts"] for x in numbers)
    assert all(x["rows"] for x in numbers if not x["facts"][0].startswith(("date", "issues")))


def test_the_results_brief_is_offline_with_charts_and_figures(made):
    html = (made / "brief.html").read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count("data:image/png;base64,") == 8
    assert "brief.section" not in html and "import " not in html
    words = re.sub(r"<[^>]+>", "", html)
    assert "本期被采用15篇（件）、22次" in words and "因此" not in words
    from pypdf import PdfReader

    pdf = "".join(p.extract_text() for p in PdfReader(made / "brief.pdf").pages)
    assert "全国工商联采用6篇" in pdf.replace("\n", "") and "12.5亿元" in pdf


def test_a_bad_ledger_stops_before_anything_runs_and_keeps_the_last_results(made, tmp_path):
    before = (made / "results.json").read_bytes()
    paths = copy_sample(tmp_path / "ledgers")
    edit(paths, "services", 4, "金额（万元）", "-12000")
    result = qifang("results", "--out", str(made.parent), *(f"{k}={v}" for k, v in paths.items()))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "services.csv:4:金额（万元）: '-12000' — a negative amount" in result.stderr
    assert (made / "results.json").read_bytes() == before
    assert not (made.parent / "results-2025.failed").exists()  # stopped before any kernel


@pytest.mark.parametrize("name", ["../x", ".", "a/b"])
def test_an_unsafe_name_stops_before_anything_runs(tmp_path, name):
    result = qifang("results", "--out", str(tmp_path), "--name", name)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "folder name" in result.stderr or "is a path" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_results_never_replace_a_users_folder(tmp_path):
    mine = tmp_path / "results-2025"
    mine.mkdir()
    (mine / "my notes.txt").write_text("mine", encoding="utf-8")
    result = qifang("results", "--out", str(tmp_path))
    assert result.returncode == 1 and "not a Qifang run" in result.stderr
    assert (mine / "my notes.txt").read_text(encoding="utf-8") == "mine"
