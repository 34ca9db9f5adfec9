from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from analysis.ingest.instrument import load_instrument
from analysis.ingest.iorw import sha256
from analysis.ingest.load import load
from analysis.ingest.params import check
from analysis.survey import cache
from conftest import ROOT, SAMPLE

INSTRUMENT = ROOT / "data" / "instrument" / "enterprise-visit.yaml"


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """Copies of the sample's inputs (they get edited) and an empty cache of their own."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("visits.csv", "frame.csv", "requests.csv"):
        shutil.copy(SAMPLE / name, folder / name)
    shutil.copy(INSTRUMENT, folder / "instrument.yaml")
    monkeypatch.setenv("QIFANG_CACHE", str(tmp_path / "cache"))
    return folder


def params(folder, **extra):
    return check(
        {
            "visits": str(folder / "visits.csv"),
            "frame": str(folder / "frame.csv"),
            "requests": str(folder / "requests.csv"),
            "instrument": str(folder / "instrument.yaml"),
            **extra,
        }
    )


def test_a_second_run_reads_the_tables_it_would_load(inputs):
    first = cache.shared(params(inputs))
    assert not first.hit and first.folder == cache.root() / first.key
    assert {f.name for f in first.folder.iterdir()} == {
        "visits.parquet",
        "frame.parquet",
        "requests.parquet",
        "meta.json",
    }
    again = cache.shared(params(inputs, region="海东"))  # another brief, same inputs
    assert again.hit and again.key == first.key
    inst = load_instrument(inputs / "instrument.yaml")
    for name, table in (("visits", again.visits), ("frame", again.frame)):
        pd.testing.assert_frame_equal(table, load(inputs / f"{name}.csv", name, inst).data)
    loaded = load(inputs / "requests.csv", "requests", inst).data
    pd.testing.assert_frame_equal(again.requests, loaded)
    meta = json.loads((first.folder / "meta.json").read_text(encoding="utf-8"))
    assert meta["key"] == first.key and len(first.key) == 64
    assert meta["inputs"]["visits"]["sha256"] == sha256(inputs / "visits.csv")
    assert meta["tables"]["visits"]["rows"] == 2994


def test_findings_from_the_cache_are_byte_for_byte_those_from_the_raw_export(
    inputs, tmp_path, monkeypatch
):
    from analysis.findings.build import build_findings, open_survey

    monkeypatch.setenv("QIFANG_CACHE", "off")
    raw = open_survey(params(inputs, region="海东"))
    assert raw.cache_key and not list(tmp_path.glob("cache*"))
    build_findings(raw).save(tmp_path / "raw.json")
    monkeypatch.setenv("QIFANG_CACHE", str(tmp_path / "cache"))
    open_survey(params(inputs))  # fills the cache
    cached = open_survey(params(inputs, region="海东"))
    assert cached.cache_key == raw.cache_key
    build_findings(cached).save(tmp_path / "cached.json")
    assert (tmp_path / "raw.json").read_bytes() == (tmp_path / "cached.json").read_bytes()


def _edit(path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) >= 1 and len(old) == len(new)
    path.write_bytes(data.replace(old, new, 1))


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        # one byte each: a visit date, a frame count, a request's status date, a label
        ("visits.csv", b"2024,2024-04-01,", b"2024,2024-04-02,"),
        ("frame.csv", b'2024,"xining","large",236', b'2024,"xining","large",237'),
        ("requests.csv", b"2024-05-31", b"2024-05-30"),
        ("instrument.yaml", "海东市".encode(), "海东巿".encode()),
    ],
)
def test_changing_one_byte_of_an_input_recomputes(inputs, file, old, new):
    before = cache.shared(params(inputs))
    _edit(inputs / file, old, new)
    after = cache.shared(params(inputs))
    assert not after.hit and after.key != before.key
    assert sorted(e.key for e in cache.entries()) == sorted([before.key, after.key])
    if file == "visits.csv":
        dates = after.visits["visit_date"].iloc[0], before.visits["visit_date"].iloc[0]
        assert dates == (pd.Timestamp("2024-04-02"), pd.Timestamp("2024-04-01"))
    if file == "frame.csv":
        assert after.frame["firms"].iloc[0] == before.frame["firms"].iloc[0] + 1
    if file == "instrument.yaml":
        assert after.instrument.question("region").choice("haidong").label.zh == "海东巿"
    assert cache.shared(params(inputs)).hit  # the new entry is used from then on


def test_another_version_of_the_code_recomputes(inputs, monkeypatch):
    before = cache.shared(params(inputs))
    assert cache.code_version()["qifang"] != "9.9.9"
    real = cache._version
    monkeypatch.setattr(cache, "_version", lambda n: "9.9.9" if n == "qifang" else real(n))
    after = cache.shared(params(inputs))
    assert not after.hit and after.key != before.key


def test_a_damaged_entry_is_rebuilt_not_read(inputs):
    first = cache.shared(params(inputs))
    (first.folder / "visits.parquet").write_bytes(b"PAR1 not really")
    again = cache.shared(params(inputs))
    assert not again.hit and again.folder == first.folder
    pd.testing.assert_frame_equal(again.visits, first.visits)
    assert cache.shared(params(inputs)).hit


def test_off_or_unwritable_the_tables_are_still_computed(inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("QIFANG_CACHE", "off")
    off = cache.shared(params(inputs))
    assert not off.hit and off.folder is None and len(off.visits) == 2994
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("QIFANG_CACHE", str(blocker / "cache"))
    stuck = cache.shared(params(inputs))
    assert not stuck.hit and stuck.folder is None and len(stuck.visits) == 2994


_FILLER = textwrap.dedent(
    """
    import json, os, sys, time
    import pyarrow.parquet as pq
    from analysis.ingest.params import check
    from analysis.survey import cache

    real = pq.write_table

    def slow(*args, **kwargs):  # every writer is still writing when the others start
        real(*args, **kwargs)
        time.sleep(0.4)

    pq.write_table = slow
    go = sys.argv[1]
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    s = cache.shared(check(json.loads(sys.argv[2])))
    print(json.dumps({"hit": s.hit, "key": s.key, "rows": len(s.visits),
                      "folder": str(s.folder)}), flush=True)
    """
)


def test_runs_filling_the_same_entry_at_once_do_not_corrupt_it(inputs, tmp_path):
    names = {"visits": "visits.csv", "frame": "frame.csv", "requests": "requests.csv"}
    raw = {k: str(inputs / f) for k, f in {**names, "instrument": "instrument.yaml"}.items()}
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _FILLER, str(go), json.dumps(raw)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    go.touch()  # all start at once
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    keys = {r["key"] for r in results}
    assert len(keys) == 1 and all(r["rows"] == 2994 for r in results)
    assert sum(not r["hit"] for r in results) >= 2  # at least two wrote at the same time
    base = cache.root()
    assert sorted(p.name for p in base.iterdir()) == [keys.pop()]  # no leftovers
    again = cache.shared(params(inputs))
    assert again.hit
    inst = load_instrument(inputs / "instrument.yaml")
    pd.testing.assert_frame_equal(again.visits, load(inputs / "visits.csv", "visits", inst).data)


def test_clear_empties_the_cache_and_the_command_says_how_much(inputs, capsys):
    from analysis.cli import main

    cache.shared(params(inputs))
    (cache.root() / f".tmp-1-{'0' * 12}").mkdir()  # a write that was interrupted
    assert main(["cache", "list"]) == 0
    listed = capsys.readouterr().out
    assert "1 entry" in listed and "visits.csv" in listed
    assert main(["cache", "clear"]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert not any(cache.root().iterdir())
    assert not cache.shared(params(inputs)).hit


def test_an_export_without_a_wave_column_is_read_as_the_wave_given(tmp_path, monkeypatch):
    """问卷星 writes no wave column: the visits take the wave given, or the year of their
    dates. The same file named as another wave must not come back from the entry."""
    monkeypatch.setenv("QIFANG_CACHE", str(tmp_path / "cache"))
    wjx = ROOT / "tests" / "data" / "wjx"
    frame = pd.read_csv(wjx / "province_frame.csv")
    both = pd.concat([frame, frame.assign(年度=2024)])  # a frame for either wave
    both.to_csv(tmp_path / "frame.csv", index=False)
    raw = {
        "visits": str(wjx / "province_text.xlsx"),
        "frame": str(tmp_path / "frame.csv"),
        "requests": "",
    }
    by_dates = cache.shared(check(raw))
    assert set(by_dates.visits["wave"]) == {2025} and by_dates.wave_filled == 2025
    named = cache.shared(check({**raw, "wave": 2025}))  # the same wave: the entry serves
    assert named.hit and named.key == by_dates.key
    other = cache.shared(check({**raw, "wave": 2024}))
    assert not other.hit and other.folder is None and set(other.visits["wave"]) == {2024}
    # an entry whose visits were given a wave by the parameter does not serve a run that
    # leaves the wave to the dates
    shutil.rmtree(cache.root())
    assert not cache.shared(check({**raw, "wave": 2024})).hit  # stored as wave 2024
    by_dates_again = cache.shared(check(raw))
    assert not by_dates_again.hit and set(by_dates_again.visits["wave"]) == {2025}
    # the sample has its wave column: any wave parameter reads the same entry
    sample = {k: str(SAMPLE / f"{k}.csv") for k in ("visits", "frame", "requests")}
    first = cache.shared(check(sample))
    assert first.wave_filled is None
    assert cache.shared(check({**sample, "wave": 2024})).hit
