"""End to end: `qifang run` on the bundled sample, as a user runs it (CLI, subprocess)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import jsonschema
import pandas as pd
import pytest

from analysis.findings.model import SCHEMA_PATH
from conftest import SAMPLE
from outputs import text_of


def qifang(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analysis.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("briefs")
    default = qifang("run", "--out", str(out))
    assert default.returncode == 0, default.stderr
    english = qifang("run", "region=海东市", "lang=en", "--out", str(out))
    assert english.returncode == 0, english.stderr
    again = qifang("run", "--out", str(out), "--name", "again")
    assert again.returncode == 0, again.stderr
    return {"zh": out / "2025-all", "en": out / "2025-haidong-en", "again": out / "again"}



def test_the_default_run_makes_every_output(runs):
    folder = runs["zh"]
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    genres = ("proposal", "social", "report", "summary")
    expected = {
        "brief.html",
        "brief.pdf",
        "findings.json",
        "suggestions.json",
        "manifest.json",
        "1-survey-analysis.ipynb",
        "2-policy-brief.ipynb",
        "3-proposal-drafts.ipynb",
    }
    expected |= {
        f"drafts/{g}.{lang}.{ext}"
        for g in genres
        for lang in ("zh", "en")
        for ext in ("docx", "html")
    }
    assert expected <= names
    assert not any(n.startswith(".charts") for n in names)  # the notebooks' shared charts


def test_brief_html_is_offline_and_holds_the_charts(runs):
    html = (runs["zh"] / "brief.html").read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert html.count("data:image/png;base64,") == 8  # every chart embedded
    assert "import " not in html and "brief.section" not in html  # no code
    assert "<title>2025年全省民营企业大调研大走访调研简报</title>" in html


def test_brief_needs_nothing_from_the_network(runs):
    """The PDF is laid out with a fetcher that serves only data: URLs (see
    export.html_to_pdf): the real brief renders with it, so it needs nothing else."""
    from analysis.pipeline.export import html_to_pdf

    html = (runs["zh"] / "brief.html").read_text(encoding="utf-8")
    assert html_to_pdf(html).startswith(b"%PDF")


def test_brief_pdf_has_chinese_text_page_numbers_and_embedded_fonts(runs):
    from pypdf import PdfReader

    reader = PdfReader(runs["zh"] / "brief.pdf")
    assert len(reader.pages) >= 5
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert "融资难融资贵是企业反映最突出的困难" in text
    assert "— 2 —" in reader.pages[1].extract_text()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile3" in descriptor or "/FontFile2" in descriptor


def test_findings_json_matches_the_schema(runs):
    data = json.loads((runs["zh"] / "findings.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_manifest_records_inputs_parameters_versions_and_timings(runs):
    manifest = json.loads((runs["en"] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["region"] == "haidong" and manifest["parameters"]["lang"] == "en"
    assert set(manifest["inputs"]) >= {"visits", "requests", "frame", "instrument"}
    assert all(len(v["sha256"]) == 64 for v in manifest["inputs"].values())
    assert manifest["packages"]["weasyprint"] != "not installed"
    assert manifest["timings_seconds"]["total"] > 0


def test_english_brief(runs):
    html = (runs["en"] / "brief.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Private-enterprise visits 2025: Haidong" in html
    assert "Government services improved markedly in Haidong" in html


def test_no_identifying_data_in_any_output(runs):
    from analysis.sample.generate import generate_sample

    visits = pd.read_csv(SAMPLE / "visits.csv", dtype=str)
    needles = set(generate_sample().truth.identifiers["value"])
    needles |= set(visits["phone"]) | set(visits["firm_name"]) | set(visits["contact_person"])
    needles = {n for n in needles if isinstance(n, str) and len(n) >= 2}
    pattern = re.compile("|".join(sorted(map(re.escape, needles), key=len, reverse=True)))
    hits = {}
    for folder in runs.values():
        for path in folder.rglob("*"):
            if path.is_file() and path.suffix in (
                ".html",
                ".pdf",
                ".docx",
                ".xlsx",
                ".json",
                ".ipynb",
            ):
                found = set(pattern.findall(text_of(path)))
                if found:
                    hits[str(path.relative_to(folder.parent))] = sorted(found)[:5]
    assert hits == {}


def test_bad_parameters_fail_before_running(tmp_path):
    result = qifang("run", "region=拉萨市", "--out", str(tmp_path))
    assert result.returncode == 1
    assert (
        "region='拉萨市' is not in the data" in result.stderr and "Traceback" not in result.stderr
    )
    assert not any(tmp_path.iterdir())


def test_the_same_inputs_give_the_same_files(runs):
    first, second = runs["zh"], runs["again"]
    for name in ("findings.json", "brief.html", "suggestions.json", "drafts/report.zh.html"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # the PDF carries no creation date: byte for byte, so in content too
    assert (first / "brief.pdf").read_bytes() == (second / "brief.pdf").read_bytes()
