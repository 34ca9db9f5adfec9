"""``qifang serve``: the web server, its runner processes and the first admin account.

One desk owns one data folder: a lock file keeps a second desk off it. When it starts,
no runner is alive yet, so every job still marked running lost its runner and is put
back in the queue (or failed, after :data:`analysis.desk.jobs.MAX_ATTEMPTS` tries).
Runners that stop are started again.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

from analysis.desk import datasets, jobs, users
from analysis.desk.config import Desk, open_desk
from analysis.errors import QifangError

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"
SAMPLE_NAME = "样例数据（合成）Sample (synthetic)"


def serve(
    data: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    runners: int = 1,
    max_upload_mb: int = 200,
    notebooks: str | Path | None = None,
    sample: bool = False,
    secure_cookies: bool = False,
    say=print,
) -> None:
    """Serve the desk until interrupted.

    Parameters
    ----------
    data : the desk's data folder.
    host, port : where to listen; 127.0.0.1 unless the office puts it behind a proxy.
    runners : jobs run at once (each in its own runner process).
    max_upload_mb : the largest file accepted.
    notebooks : the notebooks jobs run (default the project's).
    sample : add the bundled sample as a dataset, and an admin account (its password
        printed once) if there is none.
    """
    import uvicorn

    from analysis.desk.app import create_app

    if runners < 1:
        raise QifangError(f"--runners {runners} must be at least 1", "use e.g. --runners 1")
    desk = open_desk(
        data,
        max_upload=max_upload_mb * 2**20,
        notebooks=Path(notebooks).resolve() if notebooks else None,
    )
    lock = _lock(desk)
    recovered = jobs.recover(desk.db)
    if recovered:
        say(f"jobs whose runner had stopped: {', '.join(map(str, recovered))} (requeued or failed)")
    if sample:
        first_admin(desk, say)
        sample_dataset(desk, say)
    elif users.count(desk.db) == 0:
        say(f"no user yet: add one with  qifang user add NAME --role admin --data {desk.data}")
    pool = Runners(desk, runners, lock)
    pool.start()
    say(f"Qifang desk on http://{host}:{port}/  (data: {desk.data}; {runners} runner(s))")
    if host not in ("127.0.0.1", "localhost", "::1"):
        say(
            f"Listening on {host}: put the desk behind the office's HTTPS reverse proxy "
            "(README: The office desk) rather than exposing it directly"
        )
    try:
        uvicorn.run(
            create_app(desk, secure_cookies=secure_cookies),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=True,
            server_header=False,
        )
    finally:
        pool.stop()
        os.close(lock)


def _lock(desk: Desk) -> int:
    fd = os.open(desk.data / "desk.lock", os.O_RDWR | os.O_CREAT, 0o600)
    for _ in range(50):  # a desk that was just stopped may take a moment to let go
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            time.sleep(0.2)
    os.close(fd)
    raise QifangError(
        f"another desk is serving {desk.data}",
        "stop it first, or give this one another --data folder",
    )


class Runners:
    """The runner processes, started again when one stops."""

    def __init__(self, desk: Desk, n: int, lock: int) -> None:
        self.desk, self.n, self.lock = desk, n, lock
        self.procs: list[subprocess.Popen] = []
        self._stop = threading.Event()

    def _spawn(self) -> subprocess.Popen:
        args = [
            sys.executable,
            "-m",
            "analysis.desk.runner",
            str(self.desk.data),
            "--batch-workers",
            str(self.desk.batch_workers),
            "--parent",
            str(os.getpid()),
        ]
        if self.desk.notebooks is not None:
            args += ["--notebooks", str(self.desk.notebooks)]
        # The runners hold the data folder's lock with the desk: a new desk waits until
        # the old one's runners are gone before it recovers their jobs.
        return subprocess.Popen(args, pass_fds=(self.lock,))

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.n)]
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self._stop.wait(2.0):
            for i, p in enumerate(self.procs):
                if p.poll() is not None and not self._stop.is_set():
                    self.procs[i] = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def first_admin(desk: Desk, say=print) -> None:
    """An ``admin`` account with a random password, printed once, if there is no user."""
    if users.count(desk.db):
        say(
            f"Accounts exist already; to reset one: qifang user add admin --role admin "
            f"--data {desk.data}"
        )
        return
    password = secrets.token_urlsafe(12)
    users.add(desk.db, "admin", "admin", password)
    say(f"First administrator account — user: admin  password: {password}")
    say("  (shown once; change it on the desk's Users page, or with qifang user add)")


def sample_dataset(desk: Desk, say=print) -> None:
    """The bundled sample as a dataset, unless it is there already."""
    if any(d["name"] == SAMPLE_NAME for d in datasets.listing(desk)):
        return
    stored, paths = {}, {}
    for slot in datasets.SLOTS:
        path = SAMPLE / f"{slot}.csv"
        with open(path, "rb") as f:
            sha, ext = datasets.store(desk, f, path.name)
        stored[slot] = sha
        paths[slot] = str(desk.upload_path(sha, ext))
    report = datasets.inspect_files(paths)
    datasets.create(desk, SAMPLE_NAME, stored, report, None)
    say(
        f"The sample is dataset “{SAMPLE_NAME}”: {report['errors']} errors, "
        f"{report['warnings']} warnings"
    )
