"""One brief per value of a parameter, on a Dask cluster: ``qifang batch --by region``.

One code path from a laptop to a cluster. Without a scheduler the batch starts a
``LocalCluster`` on this machine (worker processes, one thread each, bound to
127.0.0.1); with ``--scheduler tcp://HOST:8786`` (or ``QIFANG_SCHEDULER``) it sends the
same tasks to that cluster's workers. Nothing else differs.

- The shared part is done once, here: parameters are checked against the data, and the
  loaded tables are put in the cache (:mod:`analysis.survey.cache`).
- The inputs, the notebooks and that cache entry go to the workers once, as one bundle
  (workers need not share this machine's disk).
- Each brief is one task with a readable key (``brief-2025-海东市-…``), ``retries=2``
  and a ``KERNEL=1`` resource, so a worker makes one brief at a time. Its notebooks
  take turns in one kernel, a subprocess of the worker kept warm from brief to brief
  (:class:`analysis.pipeline.kernels.Warm`); every cell has a time limit.
- A worker that dies takes its brief with it; the scheduler runs it again on another
  worker. A brief that fails in a notebook is reported with the notebook, the cell and
  the error, and the others go on.
- Each brief's files come back here and are swapped into the batch folder atomically
  (or written to an fsspec URL given as ``out``), then ``index.html`` links them all.

:func:`batch` runs a batch and returns when it is done (the command line: a progress
bar, Ctrl-C cancels); :func:`start_batch` starts one in the background and returns a
:class:`Batch` to follow or cancel it (the desk).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import logging
import os
import queue
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import ClusterError, ParameterError, QifangError
from analysis.ingest.params import PATHS, Params, against_data, check
from analysis.pipeline import _outputs, outdir
from analysis.pipeline.run import (
    ANALYSIS,
    NOTEBOOKS,
    WRITING,
    data_prefix,
    prepare_with_data,
    slug,
)

BY = ("region", "industry", "size")
RETRIES = 2
WAIT_FOR_WORKERS = 60  # seconds a batch waits for the first worker of a cluster


@dataclass(frozen=True)
class Progress:
    """Where a batch is: briefs finished (made or failed) of ``total``; ``brief`` is
    the one that just finished (empty before the first), ``ok`` whether it was made."""

    done: int
    failed: int
    total: int
    brief: str = ""
    ok: bool = True


@dataclass(frozen=True)
class BatchResult:
    """A finished (or cancelled) batch.

    ``done`` maps each brief's label (``海东市``, ``海东市 · 微型``) to its folder;
    ``failed`` maps a failed brief's label to its error, which names the notebook,
    the cell and the error.
    """

    folder: Path | str  # a local folder, or under the URL given as out_root
    done: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    cache_key: str = ""
    dashboard: str | None = None
    cancelled: bool = False
    kernels: dict[str, int] = field(default_factory=dict)  # started / reused, all briefs

    @property
    def index(self) -> Path | str:
        if isinstance(self.folder, Path):
            return self.folder / "index.html"
        return f"{self.folder}/index.html"


class Batch:
    """A batch running in the background (:func:`start_batch`).

    ``progress`` is the latest :class:`Progress`; ``cancel()`` stops it (queued briefs
    are dropped, running ones stopped with their cluster); ``result()`` waits for the
    :class:`BatchResult` or raises what stopped the batch before it started (a bad
    parameter, a cluster that cannot be reached).
    """

    def __init__(self, run: Callable[[threading.Event], BatchResult]):
        self._cancel = threading.Event()
        self._result: BatchResult | None = None
        self._error: BaseException | None = None
        self.progress = Progress(0, 0, 0)
        self._thread = threading.Thread(target=self._main, args=(run,), daemon=True)
        self._thread.start()

    def _main(self, run) -> None:
        try:
            self._result = run(self._cancel)
        except BaseException as exc:  # handed to result()
            self._error = exc

    def cancel(self) -> None:
        self._cancel.set()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self, timeout: float | None = None) -> BatchResult:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError("the batch is still running")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def start_batch(
    by: str | list[str],
    raw: dict | None = None,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    **options,
) -> Batch:
    """Start a batch in a background thread; the arguments are those of :func:`batch`.

    ``on_progress`` is called (from that thread) with a :class:`Progress` when the
    batch starts and after each brief.

    Examples
    --------
    >>> job = start_batch("region", {"wave": 2025}, workers=2)  # doctest: +SKIP
    >>> job.progress.done, job.progress.total  # doctest: +SKIP
    (3, 8)
    >>> job.cancel()  # doctest: +SKIP
    """
    holder: list[Batch] = []

    def report(p: Progress) -> None:
        if holder:
            holder[0].progress = p
        if on_progress is not None:
            on_progress(p)

    def run(cancel: threading.Event) -> BatchResult:
        return _run(by, raw, cancel=cancel, on_progress=report, bar=False, **options)

    job = Batch.__new__(Batch)
    holder.append(job)
    Batch.__init__(job, run)
    return job


def batch(
    by: str | list[str],
    raw: dict | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    out_root: str | Path | None = None,
    name: str | None = None,
    only: list[str] | None = None,
    notebooks: str | Path | None = None,
    cell_timeout: float | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
) -> BatchResult:
    """Make one brief per value of ``by`` found in the data, on a Dask cluster.

    Parameters
    ----------
    by : ``region``, ``industry`` or ``size``, or a list of them: one brief per
        combination found in the data (``["region", "size"]``: each size class of
        each region).
    raw : the other run parameters, shared by every brief.
    workers : workers of the local cluster (default 2); not with ``scheduler``.
    scheduler : a Dask scheduler's address (``tcp://host:8786``); default
        ``$QIFANG_SCHEDULER``, else a local cluster.
    out_root : where the batch folder goes: a folder (default ``briefs/``), or an
        fsspec URL (``s3://bucket/briefs``, ``file:///shared/briefs``).
    name : the batch folder's name; default ``<wave>-by-<by>``. An existing folder is
        written into only if it is a batch folder
        (:func:`analysis.pipeline.outdir.check_batch_folder`).
    only : make only these values of ``by`` (names or codes, as a parameter takes).
    notebooks : the folder of the three notebooks; default ``notebooks/``.
    cell_timeout : seconds a cell may run before its brief fails; default that of
        :func:`~analysis.pipeline.run.run`.
    progress : show a progress bar over finished briefs.
    log : called with a line when the batch starts (the cluster, its dashboard).

    Returns
    -------
    BatchResult

    Raises
    ------
    ParameterError
        A bad ``by``, ``only``, ``workers`` or shared parameter, before any brief runs.
    OutputFolderError
        An unsafe name, or a folder that is not a batch folder, before any brief runs.
    ClusterError
        The scheduler cannot be reached, or none of its workers can run a brief.
    KeyboardInterrupt
        Ctrl-C: queued briefs are cancelled, the local cluster and its kernels stopped.
    """
    return _run(
        by,
        raw,
        workers=workers,
        scheduler=scheduler,
        out_root=out_root,
        name=name,
        only=only,
        notebooks=notebooks,
        cell_timeout=cell_timeout,
        bar=progress,
        log=log,
    )


@dataclass(frozen=True)
class _Job:
    label: str  # 海东市, or 海东市 · 微型
    key: str  # the Dask task's key
    name: str  # the run folder's name
    params: Params


def _run(
    by,
    raw,
    *,
    workers=None,
    scheduler=None,
    out_root=None,
    name=None,
    only=None,
    notebooks=None,
    cell_timeout=None,
    bar=False,
    log=None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> BatchResult:
    say = log or (lambda _msg: None)
    dims = [by] if isinstance(by, str) else list(by)
    bad = [d for d in dims if d not in BY] or (["(none)"] if not dims else [])
    if bad or len(set(dims)) != len(dims):
        raise ParameterError(
            f"--by {','.join(dims) or bad[0]!r} is not supported",
            f"use one or more of: {', '.join(BY)} (e.g. --by region,size)",
        )
    scheduler = scheduler or os.environ.get("QIFANG_SCHEDULER") or None
    if scheduler and workers is not None:
        raise ParameterError(
            f"--workers {workers} is for the local cluster, but a scheduler is given",
            "a cluster has the workers started for it: leave --workers out",
        )
    workers = 2 if workers is None else workers
    if workers < 1:
        raise ParameterError(f"--workers {workers} must be at least 1", "use e.g. --workers 2")
    target = _outputs.Target(out_root)  # checked before anything runs
    if name is not None:
        target.open(name)
    raw = dict(raw or {})
    for d in dims:
        if raw.get(d) not in (None, ""):
            raise ParameterError(
                f"{d}= is set, but the batch makes one brief per {d}",
                f"leave {d} out of the parameters (or use --only)",
            )
    base, tables = prepare_with_data(raw, log=say)
    batch_id = uuid.uuid4().hex
    jobs = _jobs(dims, raw, base, tables, only, batch_id)
    nb_dir = Path(notebooks) if notebooks is not None else NOTEBOOKS
    bundle = _bundle(base, tables, nb_dir, batch_id)
    if name is None:
        # in briefs/, a batch on your data is named after it, as a run is
        prefix = data_prefix(base, target.root) if target.fs is None else []
        target.open("-".join([*prefix, f"{base.wave}-by-{'-'.join(dims)}"]))
    started = time.perf_counter()
    done: dict[str, str] = {}
    failed: dict[str, str] = {}
    rows: dict[str, str] = {}
    kernels = {"started": 0, "reused": 0}
    total = len(jobs)
    report = on_progress or (lambda _p: None)
    cancel = cancel if cancel is not None else threading.Event()
    futures: dict = {}
    with _signals_cancel(cancel) as interrupted:
        client, cluster, dashboard = _connect(scheduler, workers, say)
        report(Progress(0, 0, total))
        progress_bar = _bar(total, bar)
        try:
            data = client.scatter(bundle, broadcast=True, hash=False)
            for job in jobs:
                future = client.submit(
                    _brief_task,
                    job.params.to_dict(),
                    data,
                    job.name,
                    bundle["batch"],
                    cell_timeout,
                    key=job.key,
                    retries=RETRIES,
                    resources={"KERNEL": 1},
                    pure=False,
                )
                futures[future] = job
            finished: queue.SimpleQueue = queue.SimpleQueue()
            for f in futures:
                f.add_done_callback(finished.put)
            while futures and not cancel.is_set():
                try:
                    future = finished.get(timeout=0.2)
                except queue.Empty:
                    continue
                job = futures.pop(future)
                ok = _collect(future, job, target, base, done, failed, rows, kernels)
                del future
                progress_bar.update(1)
                if failed:
                    progress_bar.set_postfix_str(f"{len(failed)} failed")
                report(Progress(len(done) + len(failed), len(failed), total, job.label, ok))
        finally:
            if futures:  # cancelled, or stopped by an error: queued briefs never start
                client.cancel(list(futures), force=True)
            progress_bar.close()
            _close(client, cluster, bundle["batch"])
            if done or failed:
                target.index(_outputs.index_page(dims, tables.instrument, base, jobs, rows))
    if interrupted:
        _raise_again(interrupted[0])
    return BatchResult(
        target.location,
        done,
        failed,
        time.perf_counter() - started,
        tables.key,
        dashboard,
        bool(futures),
        kernels,
    )


@contextlib.contextmanager
def _signals_cancel(cancel: threading.Event):
    """While the cluster runs, Ctrl-C and SIGTERM cancel the batch instead of raising
    wherever the main thread happens to be (inside Dask's own code, a KeyboardInterrupt
    can be swallowed). Yields the signals received; the caller raises them again once
    the cluster is stopped."""
    got: list = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return

    def handler(signum, frame):
        got.append((signum, before.get(signum)))
        cancel.set()

    before = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield got
    finally:
        for s, h in before.items():
            signal.signal(s, h)


def _raise_again(received) -> None:
    signum, previous = received
    if callable(previous):
        previous(signum, None)  # Ctrl-C: KeyboardInterrupt; the command line's SIGTERM
    raise KeyboardInterrupt


def _brief_task(params, bundle, name, batch_id, cell_timeout):
    from analysis.pipeline._worker import brief

    return brief(params, bundle, name, batch_id, cell_timeout)


def _jobs(dims: list[str], raw: dict, base: Params, tables, only, batch_id: str) -> list[_Job]:
    """One job per combination of ``dims`` present in the wave, in the instrument's order."""
    inst, visits = tables.instrument, tables.visits
    in_wave = visits[visits["wave"] == base.wave]
    choices = {}
    for d in dims:
        present = set(in_wave[d].dropna().astype(str))
        choices[d] = [c for c in inst.question(d).choices if str(c.value) in present]
    if only:
        choices = _only(choices, only, inst)
    seen = set(in_wave[dims].dropna().astype(str).itertuples(index=False, name=None))
    jobs = []
    for combo in itertools.product(*(choices[d] for d in dims)):
        if tuple(str(c.value) for c in combo) not in seen:
            continue  # no firm visited in that combination
        values = {d: str(c.value) for d, c in zip(dims, combo, strict=True)}
        p = against_data(check({**raw, **values}), visits, inst)
        label = " · ".join(c.label.zh for c in combo)
        key = f"brief-{p.wave}-{'-'.join(c.label.zh for c in combo)}-{batch_id[:8]}"
        jobs.append(_Job(label, key, outdir.safe_name(slug(p), "a brief's folder name"), p))
    return jobs


def _only(choices: dict, only: list[str], inst) -> dict:
    from analysis.ingest.load import normalize

    wanted = {normalize(v): v for v in only}
    out, matched = {}, set()
    for d, cs in choices.items():
        keep = []
        for c in cs:
            names = {str(c.value), c.label.zh, c.label.en, c.short.zh, c.short.en, c.code or ""}
            hits = {normalize(n) for n in names if n} & set(wanted)
            if hits:
                keep.append(c)
                matched |= hits
        out[d] = keep or cs
    unknown = [v for k, v in wanted.items() if k not in matched]
    if unknown:
        listed = "; ".join(
            f"{d}: " + "、".join(c.label.zh for c in cs) for d, cs in choices.items()
        )
        raise ParameterError(
            f"--only {unknown[0]!r} is not a value of --by {','.join(choices)} in the data",
            f"values in the data: {listed}",
        )
    return out


def _bundle(base: Params, tables, nb_dir: Path, batch_id: str) -> dict:
    """Everything a worker needs that is not installed with the package, as bytes."""
    from analysis.survey.cache import entry_files

    inputs = {}
    for name in PATHS:
        path = getattr(base, name)
        if path:
            inputs[name] = {"name": Path(path).name, "data": Path(path).read_bytes()}
    books = {}
    for nb in (ANALYSIS, *WRITING):
        path = nb_dir / nb
        if not path.is_file():
            raise ParameterError(f"notebook not found: {path}", "restore it from the repository")
        books[nb] = path.read_bytes()
    entry = None
    if tables.folder is not None:
        entry = {"key": tables.key, "files": entry_files(tables.folder)}
    h = hashlib.sha256()
    for group in (inputs, books):
        for k in sorted(group):
            item = group[k]
            data = item["data"] if isinstance(item, dict) else item
            h.update(k.encode() + hashlib.sha256(data).digest())
    h.update(tables.key.encode())
    return {
        "id": h.hexdigest()[:32],
        "batch": batch_id,
        "inputs": inputs,
        "notebooks": books,
        "cache": entry,
    }


def _collect(future, job: _Job, target, base, done, failed, rows, kernels) -> bool:
    """Put a finished brief in place; False when it failed."""
    if future.status == "cancelled":
        failed[job.label] = "cancelled"
        return False
    if future.status == "error":
        exc = future.exception()
        failed[job.label] = f"{type(exc).__name__}: {exc}"
        return False
    result = future.result()
    for k, n in result.get("kernels", {}).items():
        kernels[k] = kernels.get(k, 0) + n
    if result["status"] != "ok":
        # the failed run's notebooks are kept here, not in the worker's scratch folder
        try:
            kept = target.failed(job.name, result["files"])
        except QifangError:
            kept = "(not kept)"
        error = result["error"].replace(result.get("failed_at") or "\0", kept)
        failed[job.label] = error
        rows[job.label] = _outputs.failed_row(job.label, error)
        return False
    files = _outputs.restore_paths(result["files"], base)
    try:
        done[job.label] = target.put(job.name, files)
    except QifangError as exc:  # e.g. someone else's folder of that name: the others go on
        failed[job.label] = str(exc)
        rows[job.label] = _outputs.failed_row(job.label, str(exc))
        return False
    rows[job.label] = _outputs.index_row(job.label, job.name, files["findings.json"])
    return True


def _connect(scheduler: str | None, workers: int, say):
    """A client of the given scheduler, or of a new local cluster; and its dashboard."""
    import dask
    from distributed import Client, LocalCluster

    from analysis.pipeline._worker import LOCAL_CONFIG, has_bokeh

    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ClusterError(
                f"cannot reach the Dask scheduler at {scheduler} ({exc})",
                "start it with `dask scheduler` and check the address and port (8786)",
            ) from None
        _check_workers(client, scheduler)
        where = f"cluster at {scheduler}"
    else:
        with dask.config.set(LOCAL_CONFIG):
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                # any free port, on this machine only (its HTTP server runs in any case)
                dashboard_address="127.0.0.1:0",
                resources={"KERNEL": 1},
                preload=["analysis.pipeline._worker"],  # Ctrl-C is for this process only
                # what goes wrong is reported per brief; Dask's messages about workers a
                # Ctrl-C or a killed kernel takes down are noise on the terminal
                silence_logs=logging.CRITICAL,
            )
        client = Client(cluster)
        where = f"local cluster, {workers} worker{'s' if workers > 1 else ''}"
    link = None
    # The scheduler serves the dashboard's address in any case; the dashboard itself
    # only where bokeh is installed (pip install 'qifang[dashboard]').
    if "dashboard" in client.scheduler_info().get("services", {}) and client.run_on_scheduler(
        has_bokeh
    ):
        link = client.dashboard_link
    say(f"qifang batch on a {where}" + (f"; dashboard: {link}" if link else ""))
    return client, cluster, link


def _check_workers(client, scheduler: str) -> None:
    try:
        client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS)
    except TimeoutError:
        client.close()
        raise ClusterError(
            f"the Dask scheduler at {scheduler} has no workers",
            "start workers with `dask worker "
            f"{scheduler} --nthreads 1 --resources KERNEL=1`",
        ) from None
    info = client.scheduler_info()["workers"]
    if not any(w.get("resources", {}).get("KERNEL", 0) >= 1 for w in info.values()):
        client.close()
        raise ClusterError(
            f"no worker of the cluster at {scheduler} has the KERNEL resource",
            f"start workers with `dask worker {scheduler} --nthreads 1 --resources KERNEL=1`",
        )


def _close(client, cluster, batch_id: str) -> None:
    from analysis.pipeline import _worker

    # Stop the warm kernels on every worker (a worker that is gone has none left: they
    # watch their parent and exit with it).
    with contextlib.suppress(Exception):
        client.run(_worker.close, batch_id)
    client.close()
    if cluster is not None:
        cluster.close()


def _bar(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="briefs", unit="brief", disable=not enabled, leave=True)

