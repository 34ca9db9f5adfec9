"""The job queue, in the desk's SQLite database.

A job is queued by the web server and claimed by one runner with a lease: the runner
must renew it (a heartbeat) more often than :data:`LEASE` seconds. A claim also draws a
random token; the job's worker writes progress and its outcome only while the token is
still the job's, so a worker that outlived its runner cannot overwrite a later attempt.
A job whose lease ran out (its runner died) is put back in the queue, at most
:data:`MAX_ATTEMPTS` times in all, then marked failed with the reason. When the desk
starts, no runner is alive yet: every job still marked running is recovered at once.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from analysis.desk import db

LEASE = 15.0
MAX_ATTEMPTS = 2
FINISHED = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Claim:
    job_id: int
    token: str


def submit(
    path,
    *,
    kind: str,
    dataset_id: int,
    params: dict[str, Any],
    user_id: int | None,
    by: str | None = None,
    extras: dict[str, str] | None = None,
) -> int:
    """Queue a job; returns its number."""
    with db.transaction(path) as conn:
        cur = conn.execute(
            "INSERT INTO jobs (kind, by, dataset_id, params, extras, user_id, status, created) "
            "VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
            (
                kind,
                by,
                dataset_id,
                json.dumps(params, ensure_ascii=False, sort_keys=True),
                json.dumps(extras or {}, sort_keys=True),
                user_id,
                time.time(),
            ),
        )
        return cur.lastrowid


def claim(path, runner: str, now: float | None = None) -> Claim | None:
    """Take the oldest queued job, after putting back those whose runner died."""
    now = time.time() if now is None else now
    with db.transaction(path) as conn:
        _expire(conn, now, "its runner stopped answering")
        row = conn.execute(
            "SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        token = secrets.token_hex(16)
        conn.execute(
            "UPDATE jobs SET status = 'running', runner = ?, token = ?, lease_until = ?, "
            "attempts = attempts + 1, started = ?, progress = '{}' WHERE id = ?",
            (runner, token, now + LEASE, now, row["id"]),
        )
        return Claim(row["id"], token)


def heartbeat(path, claim: Claim, now: float | None = None) -> str | None:
    """Renew the lease. Returns ``"run"``, ``"cancel"`` (a user asked to cancel) or
    None when the job is no longer this claim's."""
    now = time.time() if now is None else now
    with db.transaction(path) as conn:
        row = conn.execute(
            "SELECT cancel FROM jobs WHERE id = ? AND token = ? AND status = 'running'",
            (claim.job_id, claim.token),
        ).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE jobs SET lease_until = ? WHERE id = ?", (now + LEASE, claim.job_id))
    return "cancel" if row["cancel"] else "run"


def report(path, claim: Claim, progress: dict[str, Any]) -> None:
    with db.transaction(path) as conn:
        conn.execute(
            "UPDATE jobs SET progress = ? WHERE id = ? AND token = ? AND status = 'running'",
            (json.dumps(progress, ensure_ascii=False), claim.job_id, claim.token),
        )


def finish(
    path,
    claim: Claim,
    status: str,
    *,
    error: str | None = None,
    fix: str | None = None,
    folder: str | None = None,
    progress: dict | None = None,
) -> bool:
    """Record a job's outcome; False if the claim had lapsed (nothing written)."""
    assert status in FINISHED
    with db.transaction(path) as conn:
        sets = "status = ?, finished = ?, error = ?, fix = ?, folder = ?, lease_until = NULL"
        args: list[Any] = [status, time.time(), error, fix, folder]
        if progress is not None:
            sets += ", progress = ?"
            args.append(json.dumps(progress, ensure_ascii=False))
        cur = conn.execute(
            f"UPDATE jobs SET {sets} WHERE id = ? AND token = ? AND status = 'running'",
            (*args, claim.job_id, claim.token),
        )
        return cur.rowcount == 1


def cancel(path, job_id: int) -> str | None:
    """Cancel a queued job at once, or ask the runner of a running one to stop it.
    Returns the job's status after the request, None for an unknown job."""
    with db.transaction(path) as conn:
        row = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            return None
        if row["status"] == "queued":
            conn.execute(
                "UPDATE jobs SET status = 'cancelled', finished = ? WHERE id = ?",
                (time.time(), job_id),
            )
            return "cancelled"
        if row["status"] == "running":
            conn.execute("UPDATE jobs SET cancel = 1 WHERE id = ?", (job_id,))
        return row["status"]


def recover(path, reason: str = "the desk restarted while it ran") -> list[int]:
    """At start, before any runner: every job marked running lost its runner."""
    with db.transaction(path) as conn:
        return _expire(conn, float("inf"), reason)


def _expire(conn, now: float, reason: str) -> list[int]:
    rows = conn.execute(
        "SELECT id, attempts, cancel FROM jobs WHERE status = 'running' AND lease_until < ?",
        (now,),
    ).fetchall()
    for row in rows:
        if row["cancel"]:
            status, note = "cancelled", f"cancelled; {reason}"
        elif row["attempts"] < MAX_ATTEMPTS:
            status, note = "queued", f"put back in the queue: {reason}"
        else:
            status, note = "failed", f"stopped {row['attempts']} times: {reason}"
        conn.execute(
            "UPDATE jobs SET status = ?, note = ?, token = NULL, runner = NULL, "
            "lease_until = NULL, finished = ?, error = ?, fix = ? WHERE id = ?",
            (
                status,
                note,
                None if status == "queued" else time.time(),
                note if status == "failed" else None,
                "start the job again; if it keeps stopping, tell the desk's administrator"
                if status == "failed"
                else None,
                row["id"],
            ),
        )
    return [row["id"] for row in rows]


def get(path, job_id: int) -> dict | None:
    with db.closing(path) as conn:
        row = conn.execute(_SELECT + " WHERE j.id = ?", (job_id,)).fetchone()
    return _job(row)


def history(path, limit: int = 200, dataset_id: int | None = None) -> list[dict]:
    where, args = "", []
    if dataset_id is not None:
        where, args = " WHERE j.dataset_id = ?", [dataset_id]
    with db.closing(path) as conn:
        rows = conn.execute(
            _SELECT + where + " ORDER BY j.id DESC LIMIT ?", (*args, limit)
        ).fetchall()
    return [_job(r) for r in rows]


def position(path, job_id: int) -> int:
    """1 for the next job to start; 0 when the job is not waiting."""
    with db.closing(path) as conn:
        row = conn.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or row["status"] != "queued":
            return 0
        return conn.execute(
            "SELECT count(*) FROM jobs WHERE status = 'queued' AND id <= ?", (job_id,)
        ).fetchone()[0]


_SELECT = (
    "SELECT j.*, d.name AS dataset, d.deleted AS dataset_deleted, u.name AS user "
    "FROM jobs j JOIN datasets d ON d.id = j.dataset_id LEFT JOIN users u ON u.id = j.user_id"
)


def _job(row) -> dict | None:
    if row is None:
        return None
    job = dict(row)
    for key in ("params", "extras", "progress"):
        job[key] = json.loads(job[key] or "{}")
    end = job["finished"] if job["finished"] else None
    job["seconds"] = end - job["started"] if end and job["started"] else None
    return job
