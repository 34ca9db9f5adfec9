"""What an unlucky user does to a run: Ctrl-C, a killed process, a hung cell, two runs
into one folder, a relative --out, a name that is a path or the user's own folder.

Runs here use the tiny notebooks of tests/notebook_factory.py through the real command
line in a subprocess, so signals reach the process as from a terminal.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from analysis import cli
from analysis.pipeline.run import run
from notebook_factory import write_notebooks

HANG = "import time\ntime.sleep(600)"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_notebooks(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def hanging(tmp_path_factory):
    """The analysis notebook hangs after writing findings.json (the brief and drafts
    notebooks have run by then)."""
    return write_notebooks(
        tmp_path_factory.mktemp("hanging"), extra={"1-survey-analysis.ipynb": [HANG]}
    )


@pytest.fixture()
def good_brief(tmp_path, tiny):
    """A last good brief in tmp_path/out/2025-all."""
    result = run({}, out_root=tmp_path / "out", notebooks=tiny, log=None)
    return result.folder


def _qifang(*args, cwd=None) -> subprocess.Popen:
    # a session of its own: a signal to its group is what Ctrl-C in a terminal does
    return subprocess.Popen(
        [sys.executable, "-m", "analysis.cli", *map(str, args)],
        cwd=cwd,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _kernels_of(pid: int) -> list[psutil.Process]:
    """Kernels started by the run with this pid (their connection files are in the
    run's private folder, qifang-<pid>-…)."""
    out = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "ipykernel" in cmd and f"qifang-{pid}-" in cmd:
            out.append(proc)
    return out


def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _tmp_with_findings(out: Path):
    return [p for p in out.glob(".2025-all.tmp-*") if (p / "findings.json").exists()]


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "stopped")]
)
def test_ctrl_c_or_sigterm_in_a_hung_cell_stops_at_once(good_brief, hanging, sig, code, word):
    out = good_brief.parent
    before = _snapshot(good_brief)
    proc = _qifang("run", "--notebooks", hanging, "--out", out)
    assert _wait_for(lambda: _tmp_with_findings(out))
    assert _wait_for(lambda: len(_kernels_of(proc.pid)) >= 1)
    time.sleep(1.0)  # into the hanging cell
    sent = time.monotonic()
    os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == code, err
    assert took < 5, f"took {took:.1f} s to stop"
    assert word in err and "the last good brief, if any, is unchanged" in err
    assert "Traceback" not in err and "Task was destroyed" not in err
    assert _snapshot(good_brief) == before
    assert _wait_for(lambda: not _kernels_of(proc.pid), 5)
    assert not list(out.glob(".*")), list(out.glob(".*"))  # no temp folder, no lock
    assert (out / "2025-all.failed").is_dir()
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"qifang-{proc.pid}-*"))


def test_a_cell_that_runs_too_long_is_stopped_and_named(good_brief, hanging, capsys):
    out = good_brief.parent
    before = _snapshot(good_brief)
    start = time.monotonic()
    code = cli.main(["run", "--notebooks", str(hanging), "--out", str(out), "--cell-timeout", "2"])
    err = capsys.readouterr().err
    assert code == 1
    assert time.monotonic() - start < 30
    assert (
        "notebook 1-survey-analysis.ipynb: cell 5 (`import time`) ran longer than 2 s "
        "and was stopped" in err
    )
    assert "--cell-timeout SECONDS" in err and "Task was destroyed" not in err
    assert _snapshot(good_brief) == before


@pytest.mark.parametrize("when", [0.5, 2.5, "findings"])
def test_sigkill_keeps_the_last_brief_and_the_next_run_cleans_up(good_brief, tiny, hanging, when):
    out = good_brief.parent
    before = _snapshot(good_brief)
    proc = _qifang("run", "--notebooks", hanging, "--out", out)
    if when == "findings":
        assert _wait_for(lambda: _tmp_with_findings(out))
    else:
        time.sleep(when)
    kernels = _kernels_of(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert _snapshot(good_brief) == before
    # kernels notice their parent is gone and end
    _gone, alive = psutil.wait_procs(kernels, timeout=10)
    assert not alive
    result = run({}, out_root=out, notebooks=tiny, log=None)
    assert result.folder == good_brief
    assert not list(out.glob(".*")), list(out.glob(".*"))
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"qifang-{proc.pid}-*"))


def test_two_runs_into_one_folder(tmp_path, tiny):
    slow = write_notebooks(
        tmp_path / "slow", extra={"2-policy-brief.ipynb": ["import time\ntime.sleep(6)"]}
    )
    out = tmp_path / "out"
    first = _qifang("run", "--notebooks", slow, "--out", out)
    assert _wait_for(lambda: (out / ".2025-all.lock").exists())
    second = _qifang("run", "--notebooks", tiny, "--out", out)
    _, err2 = second.communicate(timeout=60)
    out1, _err1 = first.communicate(timeout=60)
    assert second.returncode == 1
    assert f"is being written by another run (pid {first.pid}" in err2
    assert "wait until it has finished, or give another --name" in err2
    assert "done" not in err2
    assert first.returncode == 0 and "done in" in out1 and str(out / "2025-all") in out1
    manifest = json.loads((out / "2025-all" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notebooks"]["2-policy-brief.ipynb"]["sha256"] != ""
    assert "time.sleep(6)" in (out / "2025-all" / "2-policy-brief.ipynb").read_text(
        encoding="utf-8"
    )


def test_a_relative_out_is_taken_from_where_the_command_runs(tmp_path, tiny):
    proc = _qifang("run", "--notebooks", tiny, "--out", "rel_out", cwd=tmp_path)
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    folder = tmp_path / "rel_out" / "2025-all"
    assert (folder / "brief.html").is_file() and (folder / "findings.json").is_file()
    assert "done in" in stdout and str(folder) in stdout
    assert not (tiny / "rel_out").exists()


def test_run_from_python_leaves_the_working_directory_and_environment_alone(
    tmp_path, tiny, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    env = dict(os.environ)
    result = run({}, out_root="rel", notebooks=tiny, log=None)
    assert result.folder == tmp_path / "rel" / "2025-all"
    assert Path.cwd() == tmp_path
    assert dict(os.environ) == env


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "."], "is a path, not a folder name"),
        (["--name", ".."], "is a path, not a folder name"),
        (["--name", "../x"], "is a path, not a folder name"),
        (["--name", "/abs"], "is a path, not a folder name"),
        (["--name", "x" * 300], "300 characters long"),
        (["--name", "mydata"], "holds files that are not a Qifang run"),
        (["--name", "note.txt"], "is a file, not a run folder"),
        (["--out", "note.txt"], "is a file, not a folder"),
        (["--out", "/proc/self"], "is a system folder"),
        (["--out", "/proc/1/x"], "is a system folder"),
    ],
)
def test_unsafe_names_and_folders_stop_before_anything_runs(
    tmp_path, monkeypatch, capsys, args, message
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mydata").mkdir()
    (tmp_path / "mydata" / "survey.xlsx").write_bytes(b"the user's own data")
    (tmp_path / "note.txt").write_text("a note")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    start = time.monotonic()
    code = cli.main(
        ["run", "--out", str(tmp_path), *args] if "--out" not in args else ["run", *args]
    )
    err = capsys.readouterr().err
    assert code == 1 and message in err and "Traceback" not in err
    assert len(err) < 600
    assert time.monotonic() - start < 10  # before the pipeline, not after it
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "mydata" / "survey.xlsx").read_bytes() == b"the user's own data"


def test_batch_ctrl_c_cancels_the_briefs_not_yet_started(tmp_path):
    slow = write_notebooks(
        tmp_path / "slow", extra={"2-policy-brief.ipynb": ["import time\ntime.sleep(3)"]}
    )
    out = tmp_path / "out"
    proc = _qifang("batch", "--by", "region", "--workers", "2", "--notebooks", slow, "--out", out)
    folder = out / "2025-by-region"

    def briefs():
        return sorted(p.name for p in folder.glob("*") if (p / "manifest.json").exists())

    assert _wait_for(lambda: len(briefs()) >= 1, 120)
    sent = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert took < 20, f"took {took:.1f} s to stop"
    made = briefs()
    assert 1 <= len(made) <= 3  # at most the two running when interrupted finish
    time.sleep(5)
    assert briefs() == made  # and nothing starts afterwards
    assert not [
        p
        for p in psutil.process_iter(["cmdline"])
        if f"{slow}" in " ".join(p.info["cmdline"] or [])
    ]
    assert "Traceback" not in err
