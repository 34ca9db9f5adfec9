"""Run the notebooks with papermill and export a brief: ``qifang run`` and ``qifang batch``.

A run checks its parameters against the contract and the data before any kernel
starts, executes ``notebooks/1-survey-analysis.ipynb`` (which writes ``findings.json``),
then the brief and drafts notebooks, exports the brief to HTML and PDF, and writes
``manifest.json``. Everything is written to a temporary folder that replaces
``briefs/<run>/`` only when all of it succeeded: a failed run never replaces the last
good brief. A failed run's executed notebooks are kept in ``briefs/<run>.failed/``.

The output folder is checked and locked by :mod:`analysis.pipeline.outdir`; the process's
working directory and environment are never changed (kernels get theirs when started).
An interrupt (Ctrl-C) stops the kernels at once; a cell that runs longer than
``cell_timeout`` seconds stops the run with a message naming it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import KernelDiedError, OutputFolderError, ParameterError, RunError, clip
from analysis.ingest.params import ROOT, Params, against_data, check
from analysis.pipeline import _kernel, _signals, outdir
from analysis.pipeline.kernels import Fresh
from analysis.pipeline.manifest import write_manifest

NOTEBOOKS = ROOT / "notebooks"
BRIEFS = ROOT / "briefs"
ANALYSIS = "1-survey-analysis.ipynb"
WRITING = ("2-policy-brief.ipynb", "3-proposal-drafts.ipynb")
BRIEF_NOTEBOOK = "2-policy-brief.ipynb"
CELL_TIMEOUT = 1800  # seconds one cell may run (a national survey's analysis takes minutes)
@dataclass(frozen=True)
class Step:
    """Where a run is, for a progress display: ``stage`` is ``check``, ``notebook``
    (with the notebook, the 1-based cell about to run and the cell count), ``export``
    or ``done``."""

    stage: str
    notebook: str = ""
    cell: int = 0
    cells: int = 0


@dataclass(frozen=True)
class RunResult:
    """A finished run: its folder, the checked parameters and where the time went."""

    folder: Path
    params: Params
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return sorted(p for p in self.folder.rglob("*") if p.is_file())


def slug(p: Params) -> str:
    """A folder name for a parameter set, e.g. ``2025-haidong`` or ``2025-all-C-micro-en``."""
    parts = [str(p.wave), p.region or "all"]
    parts += [x for x in (p.industry, p.size) if x]
    if p.lang != "zh":
        parts.append(p.lang)
    return "-".join(parts)


def default_name(p: Params, root: Path) -> str:
    """The run's folder name when none is given: :func:`slug`, prefixed in the shared
    ``briefs/`` folder with the visits file's name when the data is not the bundled
    sample (``走访-2025-all``), so a run on your data never replaces the sample's brief."""
    return "-".join([*data_prefix(p, root), slug(p)])


def data_prefix(p: Params, root: Path) -> list[str]:
    """``[]`` for the bundled sample or outside ``briefs/`` (the desk gives each job its
    own folder), else the visits file's name made safe for a folder."""
    import re

    sample = (ROOT / Params.visits).resolve()
    if Path(p.visits).resolve() == sample or Path(root).resolve() != BRIEFS.resolve():
        return []
    stem = re.sub(r"[^\w]+", "_", Path(p.visits).stem).strip("_")[:40]
    return [stem or "data"]


def prepare(raw: dict | None = None, log: Callable[[str], None] | None = None) -> Params:
    """Check parameters against the contract and the data, and the rules and coding
    files, before any kernel starts: their errors reach the user as themselves."""
    return prepare_with_data(raw, log)[0]


def prepare_with_data(raw: dict | None = None, log: Callable[[str], None] | None = None):
    """:func:`prepare`, also returning the shared tables (:class:`analysis.survey.cache.Shared`:
    the instrument, the loaded visits, the cache entry), with which a batch checks each
    of its briefs' parameters without loading the data again.

    The visits, the requests ledger and the frame go through the same check as
    ``qifang validate`` (:func:`analysis.ingest.validate.check_inputs`): an error in
    any of them stops here, before a notebook runs; the warnings that matter (columns
    that look like questions but were not read) are passed to ``log``.
    """
    from analysis.ingest.office import department_codes, load_office
    from analysis.measures.text import load_coding
    from analysis.survey.cache import shared
    from analysis.writing.suggest import load_rules

    p = check(raw)
    tables = shared(p)  # and so the notebooks load the cached tables
    inst, visits = tables.instrument, tables.visits
    for line in tables.notices if log is not None else ():
        log(line)
    p = against_data(p, visits, inst)
    load_rules(p.rules or None, inst)
    load_coding(p.coding or None, instrument=inst)
    load_office(p.office or None, department_codes(inst), unit=p.unit)
    return p, tables


def run(
    raw: dict | Params | None = None,
    *,
    out_root: str | Path | None = None,
    name: str | None = None,
    notebooks: str | Path | None = None,
    log: Callable[[str], None] | None = print,
    cell_timeout: float | None = None,
    kernels=None,
    progress: Callable[[Step], None] | None = None,
) -> RunResult:
    """Run the pipeline once and write ``<out_root>/<name>/``.

    Parameters
    ----------
    raw : run parameters (see :class:`analysis.ingest.params.Params`); text values from the
        command line are converted and checked. A ``Params`` is taken as already
        checked by :func:`prepare` (as a batch does, once for all its briefs).
    out_root : where run folders go; default ``briefs/``. A relative path is taken from
        the current working directory, once, before anything runs.
    name : the run folder's name, one safe folder name (see
        :func:`analysis.pipeline.outdir.safe_name`); default from the parameters, e.g.
        ``2025-haidong``. An existing folder of that name is replaced only if it is a
        Qifang run.
    notebooks : the folder holding the three notebooks; default ``notebooks/``.
    log : called with one line per stage; None for silence.
    cell_timeout : seconds a notebook cell may run before the run stops; default
        ``CELL_TIMEOUT`` (1800).
    kernels : where the notebooks' kernels come from (:mod:`analysis.pipeline.kernels`):
        default a fresh kernel per notebook, stopped after it; a batch worker passes
        ``Warm`` kernels, kept from brief to brief.
    progress : called with a :class:`Step` before each cell of each notebook and at
        each stage (from the runner's threads: keep it short and thread-safe).

    Returns
    -------
    RunResult

    Raises
    ------
    OutputFolderError
        Before anything runs, for an unsafe name, an output folder that is a file or a
        system folder, a folder that is not a Qifang run, or one another run is writing.
    ParameterError
        Before anything runs, for a bad parameter.
    ValidationError, InputFileError
        Before anything runs, for bad input files.
    RunError
        A notebook failed or a cell ran too long; the message names the notebook, the
        cell and the error.
    KeyboardInterrupt
        Interrupted: the kernels are stopped at once and the last good brief is kept.

    Examples
    --------
    >>> result = run({"region": "海东市"})  # doctest: +SKIP
    >>> result.folder.name
    '2025-haidong'
    """
    say = log or (lambda _msg: None)
    tell = progress or (lambda _step: None)
    started = time.perf_counter()
    since = time.time()
    timings: dict[str, float] = {}
    root = outdir.output_root(out_root, BRIEFS)
    if name is not None:
        outdir.check_target(root, outdir.safe_name(name))
    cell_timeout = CELL_TIMEOUT if cell_timeout is None else cell_timeout
    if isinstance(cell_timeout, bool) or not (
        isinstance(cell_timeout, int | float) and 0 < cell_timeout < float("inf")
    ):
        raise ParameterError(
            f"cell timeout {clip(cell_timeout)} is not a positive number of seconds",
            "give e.g. --cell-timeout 1800",
        )
    nb_dir = (Path(notebooks) if notebooks is not None else NOTEBOOKS).resolve()
    started_kernels: dict = {}
    ended = threading.Event()
    for logger in ("papermill", "asyncio"):
        logging.getLogger(logger).addFilter(_said_by_us)
    with (
        _kernel.socket_folder() as sockets,
        _signals.stopping(lambda: _kill_kernels(started_kernels)),
    ):
        source = kernels if kernels is not None else Fresh(sockets, _start_kernel, _stop_kernel)
        # Kernels start (and the exporters import) on the other core while the parameters
        # are checked and papermill imports: start-up leaves the critical path. (Notebooks
        # that take turns in one kernel take it when their turn comes.)
        for nb in (ANALYSIS,) if source.one_kernel else (ANALYSIS, *WRITING):
            started_kernels[nb] = _background(_take_kernel, source, nb_dir, nb, ended)
        _background(_import_exporters)
        try:
            tell(Step("check"))
            p = raw if isinstance(raw, Params) else prepare(raw, log=say)
            timings["check"] = time.perf_counter() - started
            if name is None:
                name = default_name(p, root)
                try:
                    outdir.safe_name(name)
                except OutputFolderError as exc:
                    raise OutputFolderError(
                        f"the run's folder name made from the parameters: {exc.message}",
                        "give a name with --name",
                    ) from None
            with outdir.claim(root, name, since) as out:
                say(f"qifang run {name}: parameters checked ({timings['check']:.1f} s)")
                try:
                    _notebooks(
                        nb_dir, out, p, timings, say, started_kernels, source, cell_timeout,
                        ended, tell,
                    )
                    notes = out.work / "drafts" / "check.txt"  # short drafts, for the editor
                    for line in notes.read_text("utf-8").splitlines() if notes.is_file() else ():
                        say(f"note: {line}")
                    tell(Step("export"))
                    _export(out.work, timings, say)
                    timings["total"] = time.perf_counter() - started
                    write_manifest(out.work, p, nb_dir, timings, (ANALYSIS, *WRITING))
                except BaseException:
                    _kill_kernels(started_kernels)
                    out.keep_failed()
                    raise
                final = out.publish()
                tell(Step("done"))
        finally:
            # Kernels no notebook took (a run that stopped early) go back to their source;
            # those still starting do so themselves when they are up (``ended``). Kernels
            # killed on the way out are cleaned up here, whatever their notebook's thread does.
            ended.set()
            wait_for(started_kernels.values(), timeout=15)
            for nb, k in started_kernels.items():
                if not k.done() or k.exception() is not None:
                    continue
                km = k.result()
                if not getattr(km, "qifang_taken", False):
                    source.done(km, nb, ok=True)
                elif km.has_kernel and not _kernel.running(km):
                    _stop_kernel(km)
    say(f"done in {timings['total']:.1f} s: {final}")
    return RunResult(final, p, timings)


def _notebooks(
    nb_dir: Path, out, p: Params, timings, say, kernels, source, cell_timeout, ended, tell=None
) -> None:
    """The analysis notebook, then the brief and drafts notebooks side by side. These
    read only findings.json, so they start as soon as it is written, while the
    analysis notebook goes on with its tables and charts for researchers. (With one
    kernel for all, as in a batch worker, they run one after the other.) The two
    notebooks that show the charts share them: each is drawn once, in a store in the
    run's folder that lives as long as the notebooks run
    (:mod:`analysis.writing._chartstore`)."""
    import shutil

    from analysis.writing._chartstore import FOLDER

    work = out.work
    findings = work / "findings.json"
    charts = work / FOLDER
    charts.mkdir()
    jobs = []

    def start(nb: str):
        if nb not in kernels:  # its turn in the one kernel, given back by the last notebook
            kernels[nb] = _background(_take_kernel, source, nb_dir, nb, ended)
        km = kernels[nb].result()
        km.qifang_taken = True  # its notebook gives it back, whatever happens
        km.qifang_back = False
        job = _background(
            _execute,
            nb_dir / nb,
            work,
            p,
            timings,
            say,
            out.failed,
            km,
            cell_timeout,
            source,
            tell,
        )
        jobs.append(job)
        return job

    try:
        analysis = start(ANALYSIS)
        while not findings.exists():  # written atomically (Findings.save)
            if analysis.done() and not findings.exists():
                analysis.result()  # raises the notebook's error, if it failed
                raise RunError(
                    f"{ANALYSIS} ran without writing findings.json",
                    "restore the notebook's cell that saves the findings",
                )
            time.sleep(0.05)
        for nb in WRITING:
            if source.one_kernel:
                jobs[-1].result()  # the notebook before gives the kernel back when it ends
            start(nb)
        for job in jobs:
            job.result()
    except BaseException as exc:
        # Stop every kernel now (an interrupt, or one notebook failed): the threads
        # running the others then end within a moment instead of finishing their cells;
        # after a notebook failed, they are given that moment to save what they ran.
        _kill_kernels(kernels)
        if not isinstance(exc, KeyboardInterrupt):
            wait_for(jobs, timeout=3)
        raise
    finally:
        shutil.rmtree(charts, ignore_errors=True)  # never an output


def _background(fn, *args) -> Future:
    """``fn(*args)`` in a daemon thread: one stuck in an import or a dead kernel's
    socket never keeps an interrupted process from exiting."""
    future: Future = Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to whoever waits for the result
            future.set_exception(exc)

    threading.Thread(target=work, name=f"qifang-{fn.__name__}", daemon=True).start()
    return future


def _kernel_env() -> dict[str, str]:
    # Kernels get these: a headless matplotlib backend, and a fixed hash seed so set and
    # dict orders (and so every output byte) repeat from run to run. The runner's own
    # environment is left as it is.
    return {**os.environ, "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg"), "PYTHONHASHSEED": "0"}


def _take_kernel(source, cwd: Path, notebook: str, ended: threading.Event):
    """A kernel for ``notebook`` from ``source``, given back at once if the run has
    ended while it started."""
    km = source.start(cwd, notebook)
    if ended.is_set():
        source.done(km, notebook, ok=False)
    return km


def _start_kernel(cwd: Path, sockets: Path):
    """A python3 kernel, started ahead of the notebook that will use it, in ``cwd``
    (the notebooks' folder, as in JupyterLab)."""
    import asyncio
    import importlib

    module, _, name = _kernel_manager_class().rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    km = cls(kernel_name="python3", **({"socket_dir": str(sockets)} if os.name == "posix" else {}))
    # No IPython history: a batch's kernels would queue on one SQLite file in the
    # home folder, which would also keep every cell every run executed.
    asyncio.run(
        km.start_kernel(
            cwd=str(cwd), env=_kernel_env(), extra_arguments=["--HistoryManager.enabled=False"]
        )
    )
    return km


def _stop_kernel(km) -> None:
    import asyncio

    asyncio.run(km.shutdown_kernel(now=True))


def _kill_kernels(kernels: dict) -> None:
    for k in list(kernels.values()):
        # A kernel its notebook already gave back runs nothing of this run: a batch's
        # pool keeps it for the next brief (a fresh one is stopped already).
        if k.done() and k.exception() is None and not getattr(k.result(), "qifang_back", False):
            _kernel.kill_now(k.result())


def _import_exporters() -> None:
    import nbconvert.exporters  # noqa: F401
    import weasyprint  # noqa: F401


def _execute(
    notebook: Path,
    work: Path,
    p: Params,
    timings: dict,
    say,
    failed: Path,
    km=None,
    cell_timeout: float = CELL_TIMEOUT,
    kernels=None,
    tell=None,
) -> None:
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if not notebook.is_file():
        raise RunError(f"notebook not found: {notebook}", "restore it from the repository")
    params = {**p.to_dict(), "out_dir": str(work)}
    hooks = {}
    if tell is not None:
        import nbformat

        cells = len(nbformat.read(notebook, as_version=4).cells) + 1  # + injected parameters

        def on_cell_start(cell, cell_index):
            tell(Step("notebook", notebook.name, cell_index + 1, cells))

        hooks["on_cell_start"] = on_cell_start
    start = time.perf_counter()
    kept = f"the executed notebook is kept for debugging in {failed / notebook.name}"
    ok = False  # the kernel is fine after its notebook: it ran or a cell raised an error
    try:
        pm.execute_notebook(
            str(notebook),
            str(work / notebook.name),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            execution_timeout=cell_timeout,
            # written once at the end (or at the failing cell), not after every cell:
            # ~0.4 s of JSON per notebook, on the runner's one core
            request_save_on_cell_execute=False,
            kernel_manager_class=_kernel_manager_class(),
            km=km,
            **hooks,
        )
        ok = True
    except PapermillExecutionError as exc:
        # an error a cell raised: the kernel answered and is cleared before any reuse
        ok = exc.ename != "CellExecutionError"  # nbclient's own: the kernel itself failed
        raise RunError(
            f"notebook {notebook.name} failed in cell {exc.cell_index + 1} "
            f"(`{_first_line(exc.source)}`): {_error_text(exc)}",
            f"{kept}; the last good brief is unchanged",
        ) from None
    except CellTimeoutError as exc:
        number, source = _timed_out_cell(notebook, str(exc))
        raise RunError(
            f"notebook {notebook.name}: cell {number} (`{source}`) ran longer than "
            f"{cell_timeout:g} s and was stopped",
            "if the data are large, give more time (qifang run --cell-timeout SECONDS); "
            "the last good brief is unchanged",
        ) from None
    except DeadKernelError:
        raise KernelDiedError(
            f"notebook {notebook.name}: its Python kernel died (out of memory, or stopped "
            "from outside)",
            "check the memory free for a run of this size, then run again; the last good "
            "brief is unchanged",
        ) from None
    finally:
        if km is not None:  # nbclient leaves running a kernel it was given
            (kernels or Fresh(None, _start_kernel, _stop_kernel)).done(km, notebook.name, ok)
            km.qifang_back = True
    timings[notebook.stem] = time.perf_counter() - start
    say(f"  {notebook.name}: {timings[notebook.stem]:.1f} s")


def _said_by_us(record) -> bool:
    """Drop nbclient's (and its event loop's) log lines about a dead or timed-out kernel:
    the RunError (or the interrupt) that follows says it, with what to do."""
    return not str(record.msg).startswith(
        (
            "Kernel died",
            "Timeout waiting",
            "Interrupting",
            "Task was destroyed",
            "Task exception was never retrieved",
            "Error occurred while starting new kernel client",
        )
    )


def _first_line(source: str) -> str:
    return clip(" ".join(source.strip().splitlines()[:1]), 80)


def _error_text(exc) -> str:
    """The error a cell raised, as ``Name: message``; for an error without a message,
    where it was raised (the last frame of its traceback)."""
    import re

    evalue = clip(str(exc.evalue or "").strip(), 2000)
    if evalue:
        return f"{exc.ename}: {evalue}"
    if exc.ename == "CellExecutionError":  # no error output: the kernel itself failed
        return "the cell stopped without an error message (its kernel failed or was stopped)"
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    where = ""
    for line in exc.traceback or []:
        line = ansi.sub("", line)
        for m in re.finditer(r'File "?([^",\n]+)"?, line (\d+)|(Cell In\[\d+\]), line (\d+)', line):
            where = f" at {Path(m[1]).name}:{m[2]}" if m[1] else f" at line {m[4]} of the cell"
    return f"{exc.ename} (without a message){where}"


def _timed_out_cell(notebook: Path, message: str) -> tuple[int, str]:
    """The number (as in the executed notebook, which has the injected parameters cell)
    and first line of the cell nbclient's timeout message previews."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    params_at = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    for i, cell in enumerate(nb.cells):
        first = cell.source.strip().splitlines()[:1]
        if cell.cell_type == "code" and first and first[0] in message:
            shift = 1 if params_at is not None and i > params_at else 0
            return i + 1 + shift, _first_line(cell.source)
    return 0, "?"


def _kernel_manager_class():
    """Kernels talk over Unix sockets where available: parallel runs then cannot clash
    on TCP ports (a known race when many kernels start at once)."""
    if os.name != "posix":
        return "jupyter_client.manager.AsyncKernelManager"
    return "analysis.pipeline._kernel.IPCKernelManager"


def _export(work: Path, timings: dict, say) -> None:
    import nbformat

    from analysis.findings.model import Findings
    from analysis.pipeline.export import html_to_pdf, notebook_to_html, tables_xlsx

    start = time.perf_counter()
    nb = nbformat.read(work / BRIEF_NOTEBOOK, as_version=4)
    findings = Findings.load(work / "findings.json")
    lang = nb.metadata.get("papermill", {}).get("parameters", {}).get("lang", "zh")
    nb.metadata["title"] = findings.title.get(lang)
    nbformat.write(nb, work / BRIEF_NOTEBOOK)
    html = notebook_to_html(nb)
    (work / "brief.html").write_text(html, encoding="utf-8")
    timings["export_html"] = time.perf_counter() - start
    start = time.perf_counter()
    (work / "brief.pdf").write_bytes(html_to_pdf(html))
    timings["export_pdf"] = time.perf_counter() - start
    tables_xlsx(findings, work / "tables.xlsx", lang)
    say(f"  brief.html {timings['export_html']:.1f} s, brief.pdf {timings['export_pdf']:.1f} s")
