"""A run's notebooks draw each chart once (analysis.writing._chartstore)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from analysis.writing import _chartstore, charts
from analysis.writing._chartstore import ChartStore
from analysis.writing.brief import Brief
from findings_fixture import sample_findings

NAMES = ("dimensions", "regions", "difficulties", "financing_by_size", "policies", "drivers")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    sample_findings(region="海东市").save(folder / "findings.json")
    return folder


def _counting(monkeypatch) -> list[str]:
    """Count the charts drawn (every chart ends in charts._render)."""
    drawn: list[str] = []
    real = charts._render

    def render(fig, alt, caption):
        drawn.append(alt)
        return real(fig, alt, caption)

    monkeypatch.setattr(charts, "_render", render)
    return drawn


def test_a_second_notebook_of_the_run_reads_the_charts_the_first_drew(
    run_folder, tmp_path, monkeypatch
):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "findings.json").write_bytes((run_folder / "findings.json").read_bytes())
    (folder / _chartstore.FOLDER).mkdir()
    alone = Brief.from_folder(run_folder)  # no store: drawn here, the reference bytes
    expected = {name: alone.chart(name) for name in NAMES}
    drawn = _counting(monkeypatch)
    first, second = Brief.from_folder(folder), Brief.from_folder(folder)
    got1 = {name: first.chart(name) for name in NAMES}
    n_first = len(drawn)
    got2 = {name: second.chart(name) for name in NAMES}
    assert n_first == sum(c is not None for c in expected.values()) > 0
    assert len(drawn) == n_first  # the second brief drew nothing
    assert got1 == got2 == expected  # same PNG bytes, alt text and caption; None stays None
    # the English brief is not the Chinese one
    assert Brief.from_folder(folder, lang="en").chart("dimensions") != got1["dimensions"]


def test_without_the_runs_store_every_chart_is_drawn_and_nothing_written(run_folder, monkeypatch):
    before = sorted(p.name for p in run_folder.iterdir())
    drawn = _counting(monkeypatch)
    brief = Brief.from_folder(run_folder)
    assert brief.chart("dimensions").png.startswith(b"\x89PNG")
    assert brief.chart("dimensions").png.startswith(b"\x89PNG")
    assert len(drawn) == 2
    assert sorted(p.name for p in run_folder.iterdir()) == before


def test_other_findings_are_other_charts(tmp_path, run_folder):
    store = tmp_path / _chartstore.FOLDER
    store.mkdir()
    data = (run_folder / "findings.json").read_bytes()
    keys = {
        _chartstore.key(data, "dimensions", "zh"),
        _chartstore.key(data + b" ", "dimensions", "zh"),
        _chartstore.key(data, "dimensions", "en"),
        _chartstore.key(data, "regions", "zh"),
    }
    assert len(keys) == 4


def _chart(tag: str) -> charts.Chart:
    return charts.Chart(b"\x89PNG" + tag.encode(), f"alt {tag}", "注：")


def test_two_notebooks_asking_at_once_draw_it_once(tmp_path):
    store = ChartStore(tmp_path)
    calls: list[int] = []

    def draw():
        calls.append(1)
        time.sleep(0.5)  # the other one asks while this one draws
        return _chart("a")

    results = [None, None]

    def ask(i):
        results[i] = store.get("k", draw)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert results[0] == results[1] == _chart("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json", "k.png"]  # no claim left


def test_no_chart_is_kept_as_none(tmp_path):
    store = ChartStore(tmp_path)
    assert store.get("k", lambda: None) is None
    assert store.get("k", lambda: pytest.fail("drawn again")) is None


def test_a_claim_of_a_process_that_died_does_not_keep_the_chart_waiting(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / "k.claim").write_text(dead.stdout.strip())
    store = ChartStore(tmp_path, wait=60)
    start = time.monotonic()
    assert store.get("k", lambda: _chart("b")) == _chart("b")
    assert time.monotonic() - start < 5


def test_a_draw_that_fails_frees_its_claim_for_the_other_notebook(tmp_path):
    store = ChartStore(tmp_path)

    def broken():
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        store.get("k", broken)
    assert not (tmp_path / "k.claim").exists()
    assert store.get("k", lambda: _chart("c")) == _chart("c")


def test_a_chart_claimed_by_a_live_notebook_that_never_writes_it_is_drawn_after_the_wait(
    tmp_path,
):
    (tmp_path / "k.claim").write_text(str(os.getpid()))  # alive, but never writes
    store = ChartStore(tmp_path, wait=0.3)
    assert store.get("k", lambda: _chart("d")) == _chart("d")


def test_a_store_removed_while_a_notebook_runs_only_means_drawing(tmp_path):
    store = ChartStore(tmp_path / "gone")
    assert store.get("k", lambda: _chart("e")) == _chart("e")
