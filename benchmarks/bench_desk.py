"""(h) The desk: a rerun of an already validated dataset with a new region, from the
click to the job starting and to the brief being done, against `qifang run` of the same
brief. Run by bench.py (`make bench`); not a test.

The desk is started as staff start it (`qifang serve --sample`, one runner) on a free
127.0.0.1 port; the "click" is the POST of the brief form; the job has started when its
status page shows it running with its first progress; it is done when the status says
so (polled every 20 ms until it starts, then every 100 ms). Each region is timed
`repeat` times, the CLI and the desk in turn; the best of each counts, as in (a).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REGIONS = ("haidong", "haixi", "yushu")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def desk_rerun(repeat: int = 2) -> dict:
    import httpx

    from analysis.desk import users
    from analysis.desk.config import open_desk

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "desk"
        desk = open_desk(data)
        users.add(desk.db, "bench", "staff", "bench password")
        port = _port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [str(BIN / "qifang"), "serve", "--data", str(data), "--port", str(port), "--sample"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            c = httpx.Client(base_url=url, follow_redirects=True, timeout=120)
            for _ in range(300):
                try:
                    if c.get("/healthz").text == "ok":
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)

            def token(path):
                return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)

            c.post(
                "/login",
                data={"csrf": token("/login"), "name": "bench", "password": "bench password"},
            )
            dataset = 1

            def desk_once(region: str) -> tuple[float, float]:
                data = {"csrf": token(f"/datasets/{dataset}"), "region": region, "batch_by": ""}
                t0 = time.perf_counter()
                r = c.post(
                    f"/datasets/{dataset}/jobs",
                    data=data,
                    files={"rules": ("", b"", "application/octet-stream")},
                )
                job = int(re.search(r"/jobs/(\d+)$", str(r.url)).group(1))
                started = None
                while True:
                    html = c.get(f"/jobs/{job}/status").text
                    status = re.search(r'class="st (\w+)"', html).group(1)
                    if started is None and status in ("running", "done"):
                        started = time.perf_counter() - t0
                    if status in ("done", "failed", "cancelled"):
                        if status != "done":
                            raise SystemExit(f"desk job {job} {status}")
                        return started, time.perf_counter() - t0
                    time.sleep(0.02 if started is None else 0.1)

            def cli_once(region: str) -> float:
                out = Path(tmp) / "cli"
                start = time.perf_counter()
                subprocess.run(
                    [str(BIN / "qifang"), "run", f"region={region}", "--out", str(out)],
                    check=True,
                    capture_output=True,
                    cwd=ROOT,
                )
                return time.perf_counter() - start

            desk_once("xining")  # warm: the first job of a fresh desk
            cli_once("xining")
            rows = []
            for region in REGIONS:
                cli, starts, dones = [], [], []
                for _ in range(repeat):
                    cli.append(cli_once(region))
                    started, done = desk_once(region)
                    starts.append(started)
                    dones.append(done)
                rows.append(
                    {
                        "region": region,
                        "cli_s": min(cli),
                        "desk_start_s": max(starts),
                        "desk_done_s": min(dones),
                    }
                )
        finally:
            server.terminate()
            server.wait(timeout=30)
    worst_start = max(r["desk_start_s"] for r in rows)
    worst_extra = max(r["desk_done_s"] - r["cli_s"] for r in rows)
    return {
        "rows": rows,
        "worst_start_s": worst_start,
        "worst_extra_s": worst_extra,
        "met": worst_start <= 1.0 and worst_extra <= 1.0,
    }


def print_rows(d: dict) -> None:
    for r in d["rows"]:
        print(
            f"{'(h) desk rerun, region=' + r['region'] + ': start / done':<44}"
            f"{r['desk_start_s']:>5.2f} / {r['desk_done_s']:>4.1f} s  "
            f"(qifang run {r['cli_s']:.1f} s)"
        )
    print(
        f"{'(h) desk: slowest start, most over the CLI':<44}{d['worst_start_s']:>5.2f} / "
        f"{d['worst_extra_s']:>+4.1f} s  <= 1 s, <= +1 s  {'met' if d['met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    result = desk_rerun()
    print_rows(result)
