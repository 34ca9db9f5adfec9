"""The job queue: claims with a lease and a token, heartbeats, recovery, cancelling."""

from __future__ import annotations

import pytest

from analysis.desk import datasets, jobs
from analysis.desk.config import open_desk


@pytest.fixture
def desk(tmp_path):
    """A data folder with one dataset; ``desk.db`` is its database."""
    import io
    from types import SimpleNamespace

    desk = open_desk(tmp_path / "desk")
    report = {"errors": 0, "warnings": 0, "problems": [], "more": 0, "files": {}, "choices": {}}
    shas = {}
    for slot in ("visits", "frame"):
        shas[slot], _ = datasets.store(desk, io.BytesIO(f"{slot}\n1\n".encode()), f"{slot}.csv")
    return SimpleNamespace(db=desk.db, dataset=datasets.create(desk, "d", shas, report, None))


def _submit(desk, **params):
    return jobs.submit(desk.db, kind="run", dataset_id=desk.dataset, params=params, user_id=None)


def test_jobs_are_claimed_oldest_first_once_each(desk):
    a, b = _submit(desk, region="haidong"), _submit(desk, region="xining")
    first, second = jobs.claim(desk.db, "r1"), jobs.claim(desk.db, "r2")
    assert (first.job_id, second.job_id) == (a, b)
    assert jobs.claim(desk.db, "r3") is None
    assert jobs.get(desk.db, a)["runner"] == "r1"


def test_a_lapsed_lease_is_requeued_then_failed_and_its_worker_can_no_longer_write(desk):
    a = _submit(desk)
    claim = jobs.claim(desk.db, "r1", now=1000.0)
    assert jobs.heartbeat(desk.db, claim, now=1005.0) == "run"
    # r1 stops answering: after the lease, the next claim puts the job back and takes it
    again = jobs.claim(desk.db, "r2", now=1005.0 + jobs.LEASE + 1)
    assert again.job_id == a and again.token != claim.token
    job = jobs.get(desk.db, a)
    assert job["attempts"] == 2 and "its runner stopped answering" in job["note"]
    # the first worker, still alive somewhere, cannot touch the new attempt
    assert jobs.heartbeat(desk.db, claim) is None
    assert not jobs.finish(desk.db, claim, "done", folder="runs/x")
    jobs.report(desk.db, claim, {"stage": "stale"})
    assert jobs.get(desk.db, a)["progress"] == {}
    # a second lapse: failed, with the reason
    assert jobs.claim(desk.db, "r3", now=1e12) is None
    job = jobs.get(desk.db, a)
    assert job["status"] == "failed" and "stopped 2 times" in job["error"]


def test_on_start_every_running_job_is_recovered(desk):
    a, b = _submit(desk), _submit(desk)
    jobs.claim(desk.db, "r1")
    assert jobs.recover(desk.db) == [a]
    job = jobs.get(desk.db, a)
    assert job["status"] == "queued" and "the desk restarted while it ran" in job["note"]
    assert jobs.position(desk.db, a) == 1 and jobs.position(desk.db, b) == 2


def test_cancel_a_queued_job_at_once_and_a_running_one_through_its_runner(desk):
    a, b = _submit(desk), _submit(desk)
    claim = jobs.claim(desk.db, "r1")
    assert jobs.cancel(desk.db, b) == "cancelled"
    assert jobs.cancel(desk.db, a) == "running"
    assert jobs.heartbeat(desk.db, claim) == "cancel"
    assert jobs.finish(desk.db, claim, "cancelled")
    assert jobs.get(desk.db, a)["status"] == "cancelled"
    assert jobs.cancel(desk.db, 999) is None


def test_the_database_is_in_wal_mode(desk):
    from analysis.desk import db

    with db.closing(desk.db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_runner_whose_desk_died_while_it_started_exits(tmp_path):
    """The desk gives its runners its pid: one started just before the desk died (a
    runner restarted during the desk's shutdown) exits instead of polling for ever."""
    import subprocess
    import sys

    open_desk(tmp_path / "desk")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    runner = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.desk.runner",
            str(tmp_path / "desk"),
            "--parent",
            str(gone.pid),
        ],
        timeout=60,
    )
    assert runner.returncode == 0
