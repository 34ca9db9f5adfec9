from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time

import pytest

from analysis.errors import OutputFolderError
from analysis.pipeline import outdir

GOOD = ["2025-all", "2025-haidong-micro-en", "2025-海东", "run_1.v2", "A"]
BAD = [
    ("", "is empty"),
    (".", "is a path"),
    ("..", "is a path"),
    ("../x", "is a path"),
    ("/abs", "is a path"),
    ("a/b", "is a path"),
    ("a\\b", "is a path"),
    ("x" * 300, "300 characters long"),
    (".hidden", "starts with '.'"),
    ("-rf", "starts with '-'"),
    ("a b", "characters a folder name should not"),
    ("a\nb", "characters a folder name should not"),
    ("a\x00b", "characters a folder name should not"),
    ("<script>", "characters a folder name should not"),
    ("con", "is reserved"),
    ("2025-all.failed", "is reserved"),
]


@pytest.mark.parametrize("name", GOOD)
def test_safe_names_pass(name):
    assert outdir.safe_name(name) == name


@pytest.mark.parametrize(("name", "message"), BAD)
def test_unsafe_names_are_refused(name, message):
    with pytest.raises(OutputFolderError, match=message) as info:
        outdir.safe_name(name)
    assert len(str(info.value)) < 300  # a long name is not echoed whole


def test_a_relative_output_folder_is_made_absolute_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert outdir.output_root("rel_out", tmp_path / "unused") == tmp_path / "rel_out"
    assert outdir.output_root(None, tmp_path / "briefs") == tmp_path / "briefs"


def test_an_output_folder_that_is_a_file_or_a_system_folder_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        outdir.output_root(tmp_path / "a-file", tmp_path)
    with pytest.raises(OutputFolderError, match="is a file, not a folder"):
        outdir.output_root(tmp_path / "a-file" / "below", tmp_path)
    for system in ("/proc", "/proc/self", "/proc/1/x", "/sys/kernel", "/dev/null"):
        with pytest.raises(OutputFolderError, match="system folder"):
            outdir.output_root(system, tmp_path)


def _fake_run(folder, marker="run"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "brief.html").write_text(marker)
    (folder / "manifest.json").write_text(json.dumps({"qifang": "0.1.0", "outputs": {}}))


def test_only_qifang_runs_and_empty_folders_may_be_replaced(tmp_path):
    users = tmp_path / "mydata"
    users.mkdir()
    (users / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputFolderError, match="not a Qifang run"):
        outdir.check_target(tmp_path, "mydata")
    (users / "manifest.json").write_text('{"name": "my own manifest"}')
    with pytest.raises(OutputFolderError, match="not a Qifang run"):
        outdir.check_target(tmp_path, "mydata")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputFolderError, match="is a file"):
        outdir.check_target(tmp_path, "file")
    _fake_run(tmp_path / "real")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(OutputFolderError, match="is a link"):
        outdir.check_target(tmp_path, "link")
    (tmp_path / "empty").mkdir()
    assert outdir.check_target(tmp_path, "empty") == tmp_path / "empty"
    assert outdir.check_target(tmp_path, "real") == tmp_path / "real"
    assert outdir.check_target(tmp_path, "new") == tmp_path / "new"
    assert (users / "thesis.docx").read_text() == "years of work"


def test_a_second_claim_is_refused_naming_the_first(tmp_path):
    with outdir.claim(tmp_path, "2025-all") as first:
        assert first.work.is_dir() and first.work.name.startswith(f".2025-all.tmp-{os.getpid()}-")
        with (
            pytest.raises(
                OutputFolderError, match=rf"being written by another run \(pid {os.getpid()}"
            ),
            outdir.claim(tmp_path, "2025-all"),
        ):
            pass
        _fake_run(first.work, "new")
        first.publish()
    assert (tmp_path / "2025-all" / "brief.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-all"]  # no lock, no temp


def test_a_failed_claim_keeps_the_last_good_run(tmp_path):
    _fake_run(tmp_path / "2025-all", "good")
    with pytest.raises(RuntimeError), outdir.claim(tmp_path, "2025-all") as out:
        (out.work / "partial.txt").write_text("half")
        try:
            raise RuntimeError("a notebook failed")
        except RuntimeError:
            out.keep_failed()
            raise
    assert (tmp_path / "2025-all" / "brief.html").read_text() == "good"
    assert (tmp_path / "2025-all.failed" / "partial.txt").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-all", "2025-all.failed"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_leftovers_of_dead_runs_are_removed_and_live_ones_kept(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f".2025-all.tmp-{dead}-abcd1234"
    legacy = tmp_path / ".2025-all.tmp-k3j4h5g6"  # written before pids were in the names
    mine = tmp_path / f".other.tmp-{os.getpid()}-abcd1234"
    alive = tmp_path / ".third.tmp-1-abcd1234"  # pid 1 runs, and was started long ago
    for folder in (stale, legacy, mine, alive):
        folder.mkdir()
        (folder / "findings.json").write_text("{}")
    users = tmp_path / ".my-notes.tmp"  # not a leftover's name
    users.mkdir()
    removed = outdir.clean_leftovers(tmp_path, time.time() + 5)
    assert sorted(removed) == sorted([stale, legacy])
    assert mine.is_dir() and alive.is_dir() and users.is_dir()


def test_a_leftover_whose_run_holds_the_lock_is_kept(tmp_path):
    """A run on another machine sharing the folder: its pid means nothing here, but it
    holds the lock."""
    busy = tmp_path / f".busy.tmp-{_dead_pid()}-abcd1234"
    busy.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from analysis.pipeline import outdir\n"
            f"assert outdir._Lock(Path({str(tmp_path)!r}) / '.busy.lock').acquire() is None\n"
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert outdir.clean_leftovers(tmp_path, time.time() + 5) == []
    finally:
        holder.kill()
        holder.wait()
    assert outdir.clean_leftovers(tmp_path, time.time() + 5) == [busy]


def test_a_run_killed_between_the_two_renames_gets_its_brief_back(tmp_path):
    old = tmp_path / f".2025-all.old-{_dead_pid()}-abcd1234"
    _fake_run(old, "the last good brief")
    with outdir.claim(tmp_path, "2025-all"):
        pass
    assert (tmp_path / "2025-all" / "brief.html").read_text() == "the last good brief"


def _claim_and_publish(root: str, marker: str, results) -> None:
    from pathlib import Path

    try:
        with outdir.claim(Path(root), "2025-all") as out:
            _fake_run(out.work, marker)
            out.publish()
        results.put(("done", marker))
    except OutputFolderError as exc:
        results.put(("refused", str(exc)))
    except Exception as exc:  # what the old swap did in 6 of 100 tries
        results.put(("broken", repr(exc)))


def test_concurrent_swaps_never_lose_or_strand_a_brief(tmp_path):
    """Two processes write the same folder at once, 100 times: each either publishes
    or is refused; the folder always holds a whole run; nothing is left hidden."""
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    outcomes = []
    for i in range(100):
        procs = [
            ctx.Process(target=_claim_and_publish, args=(str(tmp_path), f"{i}-{j}", results))
            for j in range(2)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        pair = [results.get(timeout=10) for _ in procs]
        outcomes += pair
        done = [m for s, m in pair if s == "done"]
        assert done, pair
        assert (tmp_path / "2025-all" / "brief.html").read_text() in done
        assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-all"]
    assert not [o for o in outcomes if o[0] == "broken"]
    refused = [m for s, m in outcomes if s == "refused"]
    odd = [m for m in refused if "being written by another run (pid" not in m]
    assert not odd, odd
