"""What a Dask worker does for one brief of a batch (see :mod:`analysis.pipeline.batch`).

A worker may not share the client's disk. The client sends one *bundle* per batch:
the input files, the three notebooks and the cache entry of the shared tables, as
bytes. A worker writes it once into its own scratch folder (and the entry into its
own cache), runs each brief it is given as an ordinary :func:`~analysis.pipeline.run.run`
in a temporary folder, with one kernel kept warm from brief to brief, and returns the
brief's files as bytes; the client puts them in place.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from dataclasses import fields, replace
from pathlib import Path

from analysis.ingest.params import PATHS, Params

INPUTS = PATHS  # the parameters that are files, sent to the workers as bytes

# A local cluster's processes mostly wait for kernels, and what Dask does meanwhile is
# kept rare: no statistical profiler (it samples a thread that only waits, ~0.3 s of CPU
# per brief); the event loop's responsiveness checked every second (not every 20 ms),
# the dashboard's resource samples every 2 s (not 0.5 s), the memory limit every second
# (not 0.1 s). An idle cluster of two workers took 3.2 s of CPU per 30 s, now 0.5 s
# (measured). A cluster given with --scheduler is configured by whoever starts it.
LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}

_pools: dict[str, object] = {}  # batch id -> Warm kernels of this process
_lock = threading.Lock()


def brief(
    params: dict, bundle: dict, name: str, batch_id: str, cell_timeout: float | None
) -> dict:
    """Run one brief on this worker; a Dask task.

    Returns ``{"status": "ok" | "failed", "name", "files": {relative path: bytes},
    "error", "worker"}``. A brief that fails in a notebook (or on bad input) comes
    back as ``failed`` with the failed run's notebooks, and is not retried: it would
    fail the same way (a cell over its time limit too). Anything else (a kernel that
    died, a full disk) raises, and Dask retries the task.
    """
    from analysis.errors import KernelDiedError, QifangError
    from analysis.pipeline.run import run

    folder = _materialize(bundle)
    local = {k: str(folder / "inputs" / k / v["name"]) for k, v in bundle["inputs"].items()}
    p = replace(Params(**{f.name: params[f.name] for f in fields(Params)}), **local)
    out = Path(tempfile.mkdtemp(prefix="run-", dir=folder))
    pool = _pool(batch_id)
    started, reused = pool.started, pool.reused
    report = {"name": name, "worker": _address(), "error": "", "files": {}}
    stop = threading.Event()
    threading.Thread(target=_watch, args=(*_task(), pool, stop), daemon=True).start()
    try:
        try:
            result = run(
                p,
                out_root=out,
                name=name,
                notebooks=folder / "notebooks",
                log=None,
                kernels=pool,
                cell_timeout=cell_timeout,
            )
            report.update(status="ok", files=_files(result.folder))
        except KernelDiedError:
            raise  # not the brief's fault: Dask runs it again (retries)
        except QifangError as exc:
            failed = out / f"{name}.failed"
            files = _files(failed) if failed.is_dir() else {}
            report.update(status="failed", error=str(exc), files=files, failed_at=str(failed))
        report["kernels"] = {"started": pool.started - started, "reused": pool.reused - reused}
        return report
    finally:
        stop.set()
        shutil.rmtree(out, ignore_errors=True)


def _task() -> tuple:
    """This worker and the key of the task running in this thread (None, None outside
    a worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
        return worker, worker.get_current_task()
    except (ImportError, ValueError):
        return None, None


def _watch(worker, key, pool, stop: threading.Event) -> None:
    """Stop the brief at once when its task is cancelled (Ctrl-C on the client, or the
    desk's cancel button): Dask cannot interrupt a running task, but its kernels can be
    killed, and the run then ends."""
    if key is None:
        return
    while not stop.wait(0.5):
        ts = worker.state.tasks.get(key)
        if ts is None or ts.state in ("cancelled", "released", "forgotten"):
            pool.kill_busy()
            return


def close(batch_id: str | None = None) -> int:
    """Stop the warm kernels of a batch (all batches: None) in this process; run on
    every worker when a batch ends. Returns how many pools were closed."""
    with _lock:
        ids = [b for b in _pools if batch_id is None or b == batch_id]
        pools = [_pools.pop(b) for b in ids]
    # Dask runs this in the worker's event loop, where the kernels' asyncio shutdown
    # cannot run: stop them from a thread of their own.
    stopper = threading.Thread(target=lambda: [pool.close() for pool in pools])
    stopper.start()
    stopper.join()
    return len(pools)


def _pool(batch_id: str):
    from analysis.pipeline.kernels import Warm
    from analysis.pipeline.run import _start_kernel, _stop_kernel

    with _lock:
        stale = [b for b in _pools if b != batch_id]  # a batch whose client went away
        old = [_pools.pop(b) for b in stale]
        pool = _pools.get(batch_id)
        if pool is None:
            pool = _pools[batch_id] = Warm(_start_kernel, _stop_kernel)
    for p in old:
        p.close()
    return pool


def _scratch() -> Path:
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError):  # not in a worker: this machine's temp folder
        return Path(tempfile.gettempdir())


def _address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return ""


def _materialize(bundle: dict) -> Path:
    """The bundle's files in this worker's scratch folder, written once per batch."""
    from analysis.survey import cache

    base = _scratch() / "qifang"
    folder = base / bundle["id"]
    if (folder / "notebooks").is_dir():
        return folder
    tmp = base / f".{bundle['id']}.tmp-{uuid.uuid4().hex[:8]}"
    for field, item in bundle["inputs"].items():
        if field not in INPUTS or Path(item["name"]).name != item["name"]:
            raise ValueError(f"not an input of a run: {field}={item['name']!r}")
        target = tmp / "inputs" / field / item["name"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item["data"])
    (tmp / "notebooks").mkdir(parents=True)
    for nb, data in bundle["notebooks"].items():
        (tmp / "notebooks" / Path(nb).name).write_bytes(data)
    if bundle.get("cache"):
        cache.install(bundle["cache"]["key"], bundle["cache"]["files"])
    try:
        tmp.rename(folder)
    except OSError:  # another task of the batch on this worker was first
        if not (folder / "notebooks").is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    return {
        f.relative_to(folder).as_posix(): f.read_bytes()
        for f in sorted(folder.rglob("*"))
        if f.is_file()
    }


def has_bokeh() -> bool:
    """Whether the Dask dashboard can be served here (run on the scheduler)."""
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def dask_setup(worker) -> None:
    """Preloaded into the workers of a batch's local cluster. They share the terminal
    of the batch: Ctrl-C there reaches them too. They ignore it, and the batch's own
    process, which gets it as well, cancels the briefs and stops the cluster."""
    import signal

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
