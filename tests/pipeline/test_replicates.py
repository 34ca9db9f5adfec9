"""``qifang replicates``: the visits with replicate weights, as another program reads them.

The file is read back the way R or Stata would (plain CSV, the constants of the sidecar)
and the standard errors computed from it by the replicate formula, written out here, not
by Qifang's code; they must equal Qifang's replicate SEs and come close to the Taylor SEs
of the same design (an independent check of the weights themselves).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ParameterError
from analysis.findings.build import open_survey
from analysis.ingest.params import ROOT
from analysis.pipeline.replicates import export_replicates


def _sidecar(path):
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(": ")
        out[key] = value
    return out


def _se_from_file(table, meta, y, rows):
    """The replicate SE of a weighted mean, from the exported columns only."""
    reps = [c for c in table.columns if c.startswith("repw_")]
    scale = float(meta["scale"])
    rscales = np.array([float(x) for x in meta["rscales"].split()])
    yv = table.loc[rows, y].to_numpy(float)
    ok = ~np.isnan(yv)

    def mean(w):
        w = w[rows][ok]
        return float((w * yv[ok]).sum() / w.sum())

    est = mean(table["weight"].to_numpy(float))
    thetas = np.array([mean(table[c].to_numpy(float)) for c in reps])
    centre = est if meta["mse"] == "TRUE" else thetas.mean()
    return est, float(np.sqrt(scale * (rscales * (thetas - centre) ** 2).sum()))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "visits-replicates.csv"
    export_replicates({}, out, "bootstrap", 200, seed=3)
    return out


def test_the_file_reproduces_the_standard_errors(exported):
    table = pd.read_csv(exported, encoding="utf-8-sig")
    meta = _sidecar(exported.with_suffix(".replicates.txt"))
    assert meta["kind"] == "bootstrap" and len(meta["rscales"].split()) == 200
    design = open_survey({}).design
    rep = design.replicate("bootstrap", 200, seed=3)
    for y in ("r_finance", "overall_satisfaction"):
        rows = table["wave"] == 2025
        est, se = _se_from_file(table, meta, y, rows)
        ours = rep.mean(y, by="wave").set_index("wave").loc[2025]
        assert est == pytest.approx(ours["estimate"], rel=1e-9)
        assert se == pytest.approx(ours["se"], rel=1e-9)
        taylor = design.mean(y, by="wave").set_index("wave").loc[2025, "se"]
        assert se == pytest.approx(taylor, rel=0.25)  # 200 replicates: within Monte Carlo error


def test_no_personal_field_or_free_text_is_written(exported):
    table = pd.read_csv(exported, encoding="utf-8-sig", nrows=5)
    for column in ("firm_name", "contact_person", "phone", "urgent_needs", "suggestions"):
        assert column not in table.columns
    assert {"visit_id", "wave", "region", "size", "weight", "repw_1", "repw_200"} <= set(
        table.columns
    )


def test_bad_requests_stop_before_anything_is_written(tmp_path):
    with pytest.raises(ParameterError, match=r"not a \.csv or \.xlsx"):
        export_replicates({}, tmp_path / "w.parquet")
    with pytest.raises(ParameterError, match="one of the inputs"):
        export_replicates({}, ROOT / "data/sample/visits.csv")
    with pytest.raises(ParameterError, match="does not exist"):
        export_replicates({}, tmp_path / "no" / "w.csv")
    with pytest.raises(ParameterError, match="too few"):
        export_replicates({}, tmp_path / "w.csv", "bootstrap", 1)
    assert not list(tmp_path.iterdir())


def test_the_command_writes_xlsx_with_its_constants(tmp_path):
    out = tmp_path / "w.xlsx"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "replicates",
            "region=海东市",
            "--kind",
            "JKn",
            "--replicates",
            "150",
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    book = pd.read_excel(out, sheet_name=None)
    assert len(book["replicates"]) == 150 and book["replicates"]["kind"].iloc[0] == "JKn"
    assert len(book["data"]) == len(open_survey({}).visits)  # the whole design, not one region
    assert [p.name for p in tmp_path.iterdir()] == ["w.xlsx"]
