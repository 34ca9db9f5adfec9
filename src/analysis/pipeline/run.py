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

import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from analysis.errors import OutputFolderError, ParameterError, RunError, clip
from analysis.ingest.iorw import sha256
from analysis.ingest.params import ROOT, Params, against_data, check
from analysis.pipeline import _kernel, outdir

NOTEBOOKS = ROOT / "notebooks"
BRIEFS = ROOT / "briefs"
ANALYSIS = "1-survey-analysis.ipynb"
WRITING = ("2-policy-brief.ipynb", "3-proposal-drafts.ipynb")
BRIEF_NOTEBOOK = "2-policy-brief.ipynb"
CELL_TIMEOUT = 1800  # seconds one cell may run (a national survey's analysis takes minutes)
PACKAGES = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "matplotlib",
    "papermill",
    "nbconvert",
    "nbclient",
    "ipykernel",
    "weasyprint",
    "jieba",
    "python-docx",
    "pyarrow",
    "openpyxl",
)


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


def prepare(raw: dict | None = None) -> Params:
    """Check parameters against the contract and the data, and the rules and coding
    files, before any kernel starts: their errors reach the user as themselves."""
    return prepare_with_data(raw)[0]


def prepare_with_data(raw: dict | None = None):
    """:func:`prepare`, also returning the instrument and the loaded visits (a batch
    checks each of its briefs' parameters against them without loading them again)."""
    from analysis.ingest.instrument import load_instrument
    from analysis.ingest.load import load
    from analysis.ingest.office import department_codes, load_office
    from analysis.measures.text import load_coding
    from analysis.writing.suggest import load_rules

    p = check(raw)
    inst = load_instrument(p.instrument)
    visits = load(p.visits, "visits", inst).data
    p = against_data(p, visits, inst)
    load_rules(p.rules or None, inst)
    load_coding(p.coding or None, instrument=inst)
    load_office(p.office or None, department_codes(inst), unit=p.unit)
    return p, inst, visits


def run(
    raw: dict | Params | None = None,
    *,
    out_root: str | Path | None = None,
    name: str | None = None,
    notebooks: str | Path | None = None,
    log: Callable[[str], None] | None = print,
    cell_timeout: float | None = None,
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
    with _kernel.socket_folder() as sockets:
        # Kernels start (and the exporters import) on the other core while the parameters
        # are checked and papermill imports: start-up leaves the critical path.
        warm = ThreadPoolExecutor(max_workers=len(WRITING) + 2)
        kernels = {nb: warm.submit(_start_kernel, nb_dir, sockets) for nb in (ANALYSIS, *WRITING)}
        warm.submit(_import_exporters)
        try:
            tell(Step("check"))
            p = raw if isinstance(raw, Params) else prepare(raw)
            timings["check"] = time.perf_counter() - started
            if name is None:
                name = slug(p)
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
                    _notebooks(nb_dir, out, p, timings, say, kernels, cell_timeout, tell)
                    tell(Step("export"))
                    _export(out.work, timings, say)
                    timings["total"] = time.perf_counter() - started
                    _manifest(out.work, p, nb_dir, timings)
                except BaseException:
                    _kill_kernels(kernels)
                    out.keep_failed()
                    raise
                final = out.publish()
                tell(Step("done"))
        finally:
            # Kernels no notebook took (a run that stopped early), including those still
            # starting: wait for them, or they would outlive the run.
            for k in kernels.values():
                if k.exception() is None and k.result().has_kernel:
                    _stop_kernel(k.result())
            warm.shutdown(wait=False)
    say(f"done in {timings['total']:.1f} s: {final}")
    return RunResult(final, p, timings)


def _notebooks(
    nb_dir: Path, out, p: Params, timings, say, kernels, cell_timeout, tell=None
) -> None:
    """The analysis notebook, then the brief and drafts notebooks side by side. These
    read only findings.json, so they start as soon as it is written, while the
    analysis notebook goes on with its tables and charts for researchers."""
    work = out.work
    findings = work / "findings.json"
    pool = ThreadPoolExecutor(max_workers=1 + len(WRITING))
    jobs = []

    def start(nb: str):
        job = pool.submit(
            _execute,
            nb_dir / nb,
            work,
            p,
            timings,
            say,
            out.failed,
            kernels[nb].result(),
            cell_timeout,
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
            start(nb)
        for job in jobs:
            job.result()
    except BaseException:
        # Stop every kernel now (an interrupt, or one notebook failed): the threads
        # running the others then end within a moment instead of finishing their cells.
        _kill_kernels(kernels)
        pool.shutdown(wait=False, cancel_futures=True)
        wait_for(jobs, timeout=10)
        raise
    pool.shutdown()


def _kernel_env() -> dict[str, str]:
    # Kernels get these: a headless matplotlib backend, and a fixed hash seed so set and
    # dict orders (and so every output byte) repeat from run to run. The runner's own
    # environment is left as it is.
    return {**os.environ, "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg"), "PYTHONHASHSEED": "0"}


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
    for k in kernels.values():
        if k.done() and k.exception() is None:
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
    tell=None,
) -> None:
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if not notebook.is_file():
        raise RunError(f"notebook not found: {notebook}", "restore it from the repository")
    logging.getLogger("papermill").addFilter(_said_by_us)
    logging.getLogger("asyncio").addFilter(_said_by_us)
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
    except PapermillExecutionError as exc:
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
        raise RunError(
            f"notebook {notebook.name}: its Python kernel died (out of memory, or stopped "
            "from outside)",
            "check the memory free for a run of this size, then run again; the last good "
            "brief is unchanged",
        ) from None
    finally:
        if km is not None and km.has_kernel:
            _stop_kernel(km)  # nbclient leaves running a kernel it was given
    timings[notebook.stem] = time.perf_counter() - start
    say(f"  {notebook.name}: {timings[notebook.stem]:.1f} s")


def _said_by_us(record) -> bool:
    """Drop nbclient's (and its event loop's) log lines about a dead or timed-out kernel:
    the RunError (or the interrupt) that follows says it, with what to do."""
    return not str(record.msg).startswith(
        ("Kernel died", "Timeout waiting", "Interrupting", "Task was destroyed")
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
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    frames = [
        m
        for line in exc.traceback or []
        for m in re.finditer(r'File "?([^",\n]+)"?, line (\d+)', ansi.sub("", line))
    ]
    where = f" raised at {Path(frames[-1][1]).name}:{frames[-1][2]}" if frames else ""
    if exc.ename == "CellExecutionError":  # no error output: the kernel itself failed
        return "the cell stopped without an error message (its kernel failed or was stopped)"
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


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "qifang": _version("qifang")}
    out.update({name: _version(name) for name in PACKAGES})
    return out


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


INPUTS = ("visits", "requests", "frame", "instrument", "rules", "coding")


def _manifest(
    work: Path,
    p,
    nb_dir: Path,
    timings: dict,
    inputs: tuple[str, ...] = INPUTS,
    run_notebooks: tuple[str, ...] = (ANALYSIS, *WRITING),
) -> None:
    """manifest.json: the parameters, the SHA-256 of every input, notebook and output,
    package versions and timings."""
    hashes = {}
    for name in inputs:
        path = getattr(p, name)
        if path:
            hashes[name] = {"path": path, "sha256": sha256(path)}
    inputs = hashes
    notebooks = {nb: {"sha256": sha256(nb_dir / nb)} for nb in run_notebooks}
    outputs = {
        str(f.relative_to(work)): {"bytes": f.stat().st_size, "sha256": sha256(f)}
        for f in sorted(work.rglob("*"))
        if f.is_file() and f.name != "manifest.json"
    }
    manifest = {
        "qifang": _version("qifang"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "parameters": p.to_dict(),
        "inputs": inputs,
        "notebooks": notebooks,
        "outputs": outputs,
        "packages": _versions(),
        "platform": f"{platform.system()} {platform.release()} ({sys.platform})",
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    (work / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
