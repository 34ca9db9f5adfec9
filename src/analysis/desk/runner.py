"""Runner processes: claim a job, run it in a worker process, renew the lease, stop the
worker when the job is cancelled, record the outcome.

``qifang serve --runners N`` starts N of these beside the web server (``python -m
analysis.desk.runner DATA``). Each job runs in its own worker process (``--worker``), in
a session of its own, so that cancelling it can stop the worker together with every
kernel and batch process it started, and the runner goes on to the next job. A runner
whose parent (the desk) is gone stops its worker and exits; the desk, when started
again, puts the job back in the queue.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from analysis.desk import datasets, engine, jobs
from analysis.desk.config import Desk
from analysis.errors import QifangError

POLL = 0.2  # seconds between looks at the queue
BEAT = 1.0  # seconds between heartbeats (the lease is jobs.LEASE)
GRACE = 3.0  # seconds a cancelled worker gets before it is killed


def serve_queue(desk: Desk, name: str, parent: int | None = None) -> None:
    """Take jobs until the parent process is gone."""
    while parent is None or os.getppid() == parent:
        claim = jobs.claim(desk.db, name)
        if claim is None:
            time.sleep(POLL)
            continue
        _supervise(desk, claim, parent)


def _supervise(desk: Desk, claim: jobs.Claim, parent: int | None) -> None:
    args = [
        sys.executable,
        "-m",
        "analysis.desk.runner",
        str(desk.data),
        "--worker",
        str(claim.job_id),
        claim.token,
        "--batch-workers",
        str(desk.batch_workers),
    ]
    if desk.notebooks is not None:
        args += ["--notebooks", str(desk.notebooks)]
    args += ["--parent", str(os.getpid())]
    worker = subprocess.Popen(args, start_new_session=True)
    stopped = None
    while True:
        try:
            code = worker.wait(timeout=BEAT)
            break
        except subprocess.TimeoutExpired:
            pass
        state = jobs.heartbeat(desk.db, claim)
        orphaned = parent is not None and os.getppid() != parent
        if state != "run" or orphaned:
            stopped = "orphaned" if orphaned else state
            stop_tree(worker.pid)
            code = worker.wait()
            break
    _tidy(desk.job_folder(claim.job_id))
    if stopped == "orphaned":
        sys.exit(0)  # the job keeps its lease; the desk requeues it when it starts
    job = jobs.get(desk.db, claim.job_id)
    if job is None or job["status"] != "running" or job["token"] != claim.token:
        return  # the worker recorded its outcome (or the job is no longer ours)
    if stopped == "cancel" or job["cancel"]:
        jobs.finish(desk.db, claim, "cancelled", progress=job["progress"])
    else:
        jobs.finish(
            desk.db,
            claim,
            "failed",
            error=f"the run stopped unexpectedly (exit code {code})",
            fix="start it again; if it stops again, the server may be short of memory",
            progress=job["progress"],
        )


def stop_tree(pid: int) -> None:
    """Stop a process and everything it started (kernels, batch processes)."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=GRACE)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=GRACE)


def _tidy(folder: Path) -> None:
    """A stopped run leaves its temporary folder (``.<name>.tmp-…``): remove it."""
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp-*"):
            shutil.rmtree(tmp, ignore_errors=True)


def work(desk: Desk, claim: jobs.Claim) -> None:
    """The worker: run one job and record its outcome (under the claim's token)."""
    job = jobs.get(desk.db, claim.job_id)
    if job is None:
        return
    dataset = datasets.get(desk, job["dataset_id"], deleted=True)
    last: dict = {}

    def report(progress: dict) -> None:
        last.clear()
        last.update(progress)
        jobs.report(desk.db, claim, progress)

    out_root = desk.job_folder(claim.job_id)
    out_root.mkdir(parents=True, exist_ok=True)
    try:
        if dataset is None or dataset["deleted"]:
            raise QifangError("the dataset of this job was deleted", "upload the data again")
        raw = {**job["params"], **datasets.paths(desk, dataset), **_extras(desk, job)}
        if job["kind"] == "run":
            folder = engine.run_one(raw, out_root, desk.notebooks, report)
            failed: dict = {}
        else:
            total = len(dataset["choices"].get(job["by"], []))
            folder, failed = engine.run_batch(
                job["by"],
                raw,
                out_root,
                desk.notebooks,
                report,
                total=total,
                workers=desk.batch_workers,
            )
    except QifangError as exc:
        jobs.finish(
            desk.db,
            claim,
            "failed",
            error=_plain(desk, exc.message),
            fix=_plain(desk, exc.fix),
            progress=last,
        )
        return
    except Exception as exc:  # a bug, not the user's input: said as the CLI says it
        jobs.finish(
            desk.db,
            claim,
            "failed",
            error=f"internal error: {type(exc).__name__}: {_plain(desk, str(exc))}",
            fix="This is a bug in Qifang, not in your data. Please report it with the job's "
            "parameters.",
            progress=last,
        )
        return
    note = None
    if failed:
        note = json.dumps(failed, ensure_ascii=False)
    status = (
        "done"
        if not failed or len(failed) < len(dataset["choices"].get(job["by"], []))
        else "failed"
    )
    jobs.finish(
        desk.db,
        claim,
        status,
        folder=str(folder.relative_to(desk.data)),
        error=None if status == "done" else "no brief of the batch could be made",
        fix=note and _plain(desk, note),
        progress=last,
    )


def _extras(desk: Desk, job: dict) -> dict[str, str]:
    """The uploaded rules, coding or profile files a job uses, as run parameters."""
    return {name: str(desk.upload_path(sha, "yaml")) for name, sha in job["extras"].items()}


def _plain(desk: Desk, text: str | None) -> str | None:
    """Messages name files by their place in the desk's data folder, not the server's."""
    if text is None:
        return None
    return text.replace(str(desk.data) + os.sep, "").replace(str(desk.data), "")


def _watch_parent(parent: int) -> None:
    """A worker whose runner died stops itself and what it started."""
    import psutil

    while True:
        time.sleep(BEAT)
        if os.getppid() != parent:
            for child in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            os._exit(1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis.desk.runner")
    ap.add_argument("data", type=Path)
    ap.add_argument("--worker", nargs=2, metavar=("JOB", "TOKEN"))
    ap.add_argument("--notebooks", type=Path, default=None)
    ap.add_argument("--batch-workers", type=int, default=2)
    # the process that started this one: given, not read from getppid() here, because
    # a parent that died while this one started would leave it an orphan for ever
    ap.add_argument("--parent", type=int, default=None)
    args = ap.parse_args(argv)
    desk = Desk(args.data.resolve(), notebooks=args.notebooks, batch_workers=args.batch_workers)
    parent = args.parent if args.parent is not None else os.getppid()
    if args.worker:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
        work(desk, jobs.Claim(int(args.worker[0]), args.worker[1]))
        return 0
    name = f"{socket.gethostname()}:{os.getpid()}"
    with contextlib.suppress(KeyboardInterrupt):
        serve_queue(desk, name, parent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
