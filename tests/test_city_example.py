"""The README's worked example (examples/city/): its three commands, run as written there
(with ``--out`` a temporary folder instead of briefs/),
make a city brief and one brief per district, worded for a city (全市, 区县, 1—4分) and
with the figures of a hand computation (tests/hand.py), the smallest district included.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

import hand
from analysis.findings.model import Findings
from conftest import ROOT
from outputs import text_of

CITY = ROOT / "examples" / "city"


def readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Worked example: a city office", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.strip().splitlines()]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("briefs")
    results = {}
    for argv in readme_commands():
        assert argv[0] == ".venv/bin/qifang"
        command = argv[1]
        extra = ["--out", str(out)] if command in ("run", "batch") else []
        results[command] = subprocess.run(
            [sys.executable, "-m", "analysis.cli", *argv[1:], *extra],
            capture_output=True,
            text=True,
            timeout=1500,
            cwd=ROOT,
        )
    return out, results


def test_the_readme_names_three_commands():
    assert [argv[1] for argv in readme_commands()] == ["validate", "run", "batch"]


def test_validate_reads_the_city_export_as_it_is(outputs):
    _, results = outputs
    done = results["validate"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "visits.xlsx: 374 rows read as visits" in done.stdout
    assert "NOT read" not in done.stdout  # every question column was read



def test_the_city_brief_speaks_of_the_city_and_its_scale(outputs):
    out, results = outputs
    assert results["run"].returncode == 0, results["run"].stderr
    folder = out / "2025-all"  # in briefs/ it is visits-2025-all: test_default_names
    html = (folder / "brief.html").read_text(encoding="utf-8")
    firms = hand.figures(CITY / "visits.xlsx", CITY / "frame.csv", hand.CITY)
    want = hand.index(firms)
    assert f"全市营商环境指数为{want['overall']:.1f}分" in html
    assert "（1—4分）" in html and "四个维度" in html
    assert "样本按调查年度、区县和企业规模分层" in html
    assert "西宁市工商业联合会" in html  # the office profile's unit (examples/city/office.yaml)
    assert "本简报不含以下内容：未提供诉求办理台账。" in html
    for word in ("全省", "市州", "1—5分", "五个维度", "省工商联"):  # the province's words
        assert word not in html, word
    f = Findings.load(folder / "findings.json")
    assert f.index.overall.estimate == pytest.approx(want["overall"], rel=1e-9)
    assert f.requests is None and f.omission("requests").kind == "design"


def test_every_district_gets_its_brief(outputs):
    out, results = outputs
    done = results["batch"]
    assert done.returncode == 0, done.stdout + done.stderr
    batch = out / "2025-by-region"
    firms = hand.figures(CITY / "visits.xlsx", CITY / "frame.csv", hand.CITY)
    index = (batch / "index.html").read_text(encoding="utf-8")
    codes = ["chengdong", "chengzhong", "chengxi", "chengbei", "huangzhong", "datong", "huangyuan"]
    for code, label in zip(codes, hand.CITY.regions, strict=True):
        folder = batch / f"2025-{code}"
        assert (folder / "brief.pdf").stat().st_size > 10_000
        f = Findings.load(folder / "findings.json")
        want = hand.index(firms, label)
        assert f.method.n_visits == want["n"]
        assert f.index.overall.estimate == pytest.approx(want["overall"], rel=1e-9)
        assert f"{want['overall']:.1f}" in index
    small = Findings.load(batch / "2025-huangyuan" / "findings.json")
    reason = small.omission("drivers").reason.zh
    assert "湟源县仅有" in reason
    assert reason in (batch / "2025-huangyuan" / "brief.html").read_text(encoding="utf-8")


def test_no_contact_detail_reaches_any_output(outputs):
    import pandas as pd

    out, _ = outputs
    raw = pd.read_excel(CITY / "visits.xlsx", dtype=str)
    phones = set(raw[next(c for c in raw.columns if "联系电话" in c)])
    people = set(raw[next(c for c in raw.columns if "联系人" in c)])
    # the PDFs hold the text of brief.html (checked here), which pypdf would take a minute to read
    seen = "".join(
        text_of(p) for p in out.rglob("*") if p.is_file() and p.suffix not in (".png", ".pdf")
    )
    assert not [x for x in phones if x in seen]
    assert not [x for x in people if re.search(re.escape(x), seen)]
