"""Batches of the real notebooks: on a local cluster, and on a real Dask cluster on this
machine (a scheduler and two workers started as `dask scheduler` / `dask worker`
processes, talking over TCP on 127.0.0.1), one of whose workers is killed in the middle
of a brief. Both must give the same findings.json, byte for byte, as the analysis run
in a plain process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from analysis.pipeline.batch import batch, start_batch
from findings_fixture import sample_findings

REGIONS = {"xining": "西宁市", "haidong": "海东市", "haibei": "海北藏族自治州"}
DASK = Path(sys.executable).parent / "dask"


@pytest.fixture(scope="module")
def local_batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    return batch(
        "region", {}, workers=2, only=list(REGIONS), out_root=out, progress=False, log=None
    )


def test_a_local_cluster_of_two_workers_makes_three_briefs(local_batch):
    assert set(local_batch.done) == set(REGIONS.values()) and not local_batch.failed
    for code, label in REGIONS.items():
        folder = Path(local_batch.done[label])
        assert folder.name == f"2025-{code}"
        assert {"brief.html", "brief.pdf", "manifest.json"} <= {p.name for p in folder.iterdir()}
        # the same bytes as the analysis run in a plain process: warm kernels, the
        # cache and the workers change nothing
        expected = sample_findings(region=code).to_json().encode("utf-8")
        assert (folder / "findings.json").read_bytes() == expected
    assert local_batch.kernels["started"] <= 2  # one kernel per worker, for every notebook


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes on 127.0.0.1; each worker has a
    scratch folder and a cache of its own, as on machines that share no disk."""
    from distributed import Client

    base = tmp_path_factory.mktemp("cluster")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = open(base / "cluster.log", "w")  # noqa: SIM115 (closed below)
    procs = [
        subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--dashboard-address", "127.0.0.1:0"],
            stdout=logs,
            stderr=subprocess.STDOUT,
        )
    ]
    caches = [base / f"cache-{i}" for i in range(2)]
    try:
        _wait_for_port(port, procs[0])
        for i in range(2):
            procs.append(
                subprocess.Popen(
                    [str(DASK), "worker", address, "--nthreads", "1", "--resources",
                     "KERNEL=1", "--host", "127.0.0.1", "--no-dashboard", "--name", f"w{i}",
                     "--local-directory", str(base / f"scratch-{i}")],
                    stdout=logs,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "QIFANG_CACHE": str(caches[i])},
                )
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        yield address, caches
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()


def _kernels_of(pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for c in children:
        try:
            if "ipykernel" in " ".join(c.cmdline()):
                out.append(c)
        except psutil.NoSuchProcess:
            continue
    return out


def test_a_worker_killed_mid_brief_on_a_real_cluster_loses_no_brief(
    cluster, local_batch, tmp_path, monkeypatch
):
    from distributed import Client

    address, caches = cluster
    monkeypatch.setenv("QIFANG_SCHEDULER", address)  # as `qifang batch` reads it
    lines: list[str] = []
    job = start_batch("region", {}, only=list(REGIONS), out_root=tmp_path, log=lines.append)
    with Client(address, timeout="30s") as client:
        pids = client.run(os.getpid)
        victim = key = None
        deadline = time.monotonic() + 300
        while victim is None:
            assert time.monotonic() < deadline and not job.done(), "no brief got started"
            for worker, keys in client.processing().items():
                running = _kernels_of(pids.get(worker, -1))
                # in the middle of a brief: the worker's kernel started and working a while
                if keys and len(running) == 1 and time.time() - running[0].create_time() > 3:
                    victim, key, orphans = worker, keys[0], running
                    break
            time.sleep(0.2)
        assert key.startswith("brief-2025-") and any(v in key for v in REGIONS.values())
        killed_at = time.time()
        os.kill(pids[victim], signal.SIGKILL)
    result = job.result(timeout=900)
    assert set(result.done) == set(REGIONS.values()) and not result.failed, result.failed
    # the killed brief was made again, after the kill, elsewhere or by the restarted worker
    rerun = next(label for label in REGIONS.values() if label in key)
    created = (Path(result.done[rerun]) / "manifest.json").stat().st_mtime
    assert created > killed_at
    # the kernels of the killed worker were its own subprocesses: they went with it
    time.sleep(3)
    assert not [k for k in orphans if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
    for label, folder in result.done.items():
        mine = (Path(folder) / "findings.json").read_bytes()
        assert mine == (Path(local_batch.done[label]) / "findings.json").read_bytes()
    # the shared tables travelled with the batch into the workers' own caches
    assert any((c / result.cache_key / "meta.json").is_file() for c in caches)
    # after the validation's notes (as `qifang run` prints them), the cluster it runs on
    said = [x for x in lines if x.startswith(f"qifang batch on a cluster at {address}")]
    assert len(said) == 1 and "dashboard: http://127.0.0.1:" in said[0]
