"""Test helpers: a desk started as staff start it (``qifang serve``) on a free 127.0.0.1 port with a
temporary data folder, and an HTTP client that logs in and fills forms as a browser
does."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from analysis.desk import users
from analysis.desk.config import open_desk

ADMIN = ("chief", "admin password 1")
STAFF = ("clerk", "staff password 1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Desk:
    """A running ``qifang serve``; ``kill()`` and ``start()`` stop and start it again
    on the same data folder."""

    def __init__(self, data: Path, notebooks: Path | None, runners: int, max_upload: int):
        self.data, self.notebooks, self.runners, self.max_upload = (
            data,
            notebooks,
            runners,
            max_upload,
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        desk = open_desk(data)
        if users.count(desk.db) == 0:
            users.add(desk.db, *ADMIN[:1], "admin", ADMIN[1])
            users.add(desk.db, *STAFF[:1], "staff", STAFF[1])
        self.db = desk.db

    def start(self) -> Desk:
        args = [
            sys.executable,
            "-m",
            "analysis.cli",
            "serve",
            "--data",
            str(self.data),
            "--port",
            str(self.port),
            "--runners",
            str(self.runners),
            "--max-upload",
            str(self.max_upload),
        ]
        if self.notebooks is not None:
            args += ["--notebooks", str(self.notebooks)]
        self.log = open(self.data / f"serve-{time.time_ns()}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the desk stopped: {self.logs()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).text == "ok":
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the desk did not start: {self.logs()}")

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.data.glob("serve-*.log")))

    def kill(self) -> None:
        """SIGKILL the server process only, as a crash would (its runners notice)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()

    def client(self, who=STAFF) -> Client:
        c = Client(self.url)
        if who is not None:
            c.login(*who)
        return c


class Client(httpx.Client):
    def __init__(self, url: str):
        super().__init__(base_url=url, follow_redirects=True, timeout=60)

    def token(self, path: str) -> str:
        html = self.get(path).text
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)

    def login(self, name: str, password: str) -> httpx.Response:
        return self.post(
            "/login", data={"csrf": self.token("/login"), "name": name, "password": password}
        )

    def upload(self, name: str, files: dict[str, Path | tuple[str, bytes]]) -> httpx.Response:
        parts = {}
        for slot, f in files.items():
            parts[slot] = f if isinstance(f, tuple) else (f.name, f.read_bytes())
        return self.post(
            "/datasets", data={"csrf": self.token("/datasets"), "name": name}, files=parts
        )

    def start_brief(self, dataset: int, batch_by: str = "", **params) -> httpx.Response:
        data = {"csrf": self.token(f"/datasets/{dataset}"), "batch_by": batch_by, **params}
        return self.post(
            f"/datasets/{dataset}/jobs",
            data=data,
            files={"rules": ("", b"", "application/octet-stream")},
        )

    def wait(self, job: int, until=("done", "failed", "cancelled"), timeout=240) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status(job)
            if status in until:
                return status
            time.sleep(0.3)
        raise AssertionError(f"job {job} still {status} after {timeout} s")

    def status(self, job: int) -> str:
        html = self.get(f"/jobs/{job}/status").text
        return re.search(r'class="st (\w+)"', html).group(1)


def job_id(response: httpx.Response) -> int:
    match = re.search(r"/jobs/(\d+)$", str(response.url))
    assert match, f"no job started: {response.status_code} {response.text[:2000]}"
    return int(match.group(1))


def dataset_id(response: httpx.Response) -> int:
    match = re.search(r"/datasets/(\d+)$", str(response.url))
    assert match, f"no dataset: {response.status_code} {response.text[:2000]}"
    return int(match.group(1))
