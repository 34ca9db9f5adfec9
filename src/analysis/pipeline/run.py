"""Run the notebooks with papermill and export a brief: ``qifang run`` and ``qifang batch``.

A run checks its parameters against the contract and the data before any kernel
starts, executes ``notebooks/1-survey-analysis.ipynb`` (which writes ``findings.json``),
then the brief and drafts notebooks, exports the brief to HTML and PDF, and writes
``manifest.json``. Everything is written to a temporary folder that replaces
``briefs/<run>/`` only when all of it succeeded: a failed run never replaces the last
good brief. A failed run's executed notebooks are kept in ``briefs/<run>.failed/``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from analysis.errors import RunError
from analysis.ingest.iorw import sha256
from analysis.ingest.params import ROOT, Params, against_data, check

NOTEBOOKS = ROOT / "notebooks"
BRIEFS = ROOT / "briefs"
ANALYSIS = "1-survey-analysis.ipynb"
WRITING = ("2-policy-brief.ipynb", "3-proposal-drafts.ipynb")
BRIEF_NOTEBOOK = "2-policy-brief.ipynb"
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
) -> RunResult:
    """Run the pipeline once and write ``<out_root>/<name>/``.

    Parameters
    ----------
    raw : run parameters (see :class:`analysis.ingest.params.Params`); text values from the
        command line are converted and checked. A ``Params`` is taken as already
        checked by :func:`prepare` (as a batch does, once for all its briefs).
    out_root : where run folders go; default ``briefs/``.
    name : the run folder's name; default from the parameters, e.g. ``2025-haidong``.
    notebooks : the folder holding the three notebooks; default ``notebooks/``.
    log : called with one line per stage; None for silence.

    Returns
    -------
    RunResult

    Raises
    ------
    ParameterError
        Before anything runs, for a bad parameter.
    ValidationError, InputFileError
        Before anything runs, for bad input files.
    RunError
        A notebook failed; the message names the notebook, the cell and the error.

    Examples
    --------
    >>> result = run({"region": "海东市"})  # doctest: +SKIP
    >>> result.folder.name
    '2025-haidong'
    """
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    nb_dir = Path(notebooks) if notebooks is not None else NOTEBOOKS
    _kernel_env()
    # Kernels start (and the exporters import) on the other core while the parameters
    # are checked and papermill imports: start-up leaves the critical path.
    warm = ThreadPoolExecutor(max_workers=len(WRITING) + 2)
    kernels = {nb: warm.submit(_start_kernel, nb_dir) for nb in (ANALYSIS, *WRITING)}
    warm.submit(_import_exporters)
    try:
        p = raw if isinstance(raw, Params) else prepare(raw)
        timings["check"] = time.perf_counter() - started
        out_root = Path(out_root) if out_root is not None else BRIEFS
        name = name or slug(p)
        out_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=out_root))
        failed = out_root / f"{name}.failed"
        say(f"qifang run {name}: parameters checked ({timings['check']:.1f} s)")
        try:
            _notebooks(nb_dir, work, p, timings, say, failed, kernels)
            _export(work, timings, say)
            timings["total"] = time.perf_counter() - started
            _manifest(work, p, nb_dir, timings)
        except BaseException:
            shutil.rmtree(failed, ignore_errors=True)
            work.rename(failed)
            raise
    finally:
        # Kernels no notebook took (a run that stopped early), including those still
        # starting: wait for them, or they would outlive the run.
        for k in kernels.values():
            if k.exception() is None and k.result().has_kernel:
                _stop_kernel(k.result())
        warm.shutdown(wait=False)
    final = out_root / name
    _swap(work, final)
    say(f"done in {timings['total']:.1f} s: {final}")
    return RunResult(final, p, timings)


def _notebooks(nb_dir: Path, work: Path, p: Params, timings, say, failed, kernels) -> None:
    """The analysis notebook, then the brief and drafts notebooks side by side. These
    read only findings.json, so they start as soon as it is written, while the
    analysis notebook goes on with its tables and charts for researchers."""
    findings = work / "findings.json"
    with ThreadPoolExecutor(max_workers=1 + len(WRITING)) as pool:

        def start(nb: str):
            return pool.submit(
                _execute, nb_dir / nb, work, p, timings, say, failed, kernels[nb].result()
            )

        analysis = start(ANALYSIS)
        while not findings.exists():  # written atomically (Findings.save)
            if analysis.done() and not findings.exists():
                analysis.result()  # raises the notebook's error, if it failed
                raise RunError(
                    f"{ANALYSIS} ran without writing findings.json",
                    "restore the notebook's cell that saves the findings",
                )
            time.sleep(0.05)
        writing = [start(nb) for nb in WRITING]
        for job in (analysis, *writing):
            job.result()


def _kernel_env() -> None:
    # Kernels inherit these: a headless matplotlib backend, and a fixed hash seed so
    # set and dict orders (and so every output byte) repeat from run to run.
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONHASHSEED"] = "0"


def _start_kernel(cwd: Path):
    """A python3 kernel, started ahead of the notebook that will use it."""
    import asyncio
    import importlib

    module, _, name = _kernel_manager_class().rpartition(".")
    km = getattr(importlib.import_module(module), name)(kernel_name="python3")
    # No IPython history: a batch's kernels would queue on one SQLite file in the
    # home folder, which would also keep every cell every run executed.
    asyncio.run(km.start_kernel(cwd=str(cwd), extra_arguments=["--HistoryManager.enabled=False"]))
    return km


def _stop_kernel(km) -> None:
    import asyncio

    asyncio.run(km.shutdown_kernel(now=True))


def _import_exporters() -> None:
    import nbconvert.exporters  # noqa: F401
    import weasyprint  # noqa: F401


def _execute(
    notebook: Path, work: Path, p: Params, timings: dict, say, failed: Path, km=None
) -> None:
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    if not notebook.is_file():
        raise RunError(f"notebook not found: {notebook}", "restore it from the repository")
    params = {**p.to_dict(), "out_dir": str(work)}
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook),
            str(work / notebook.name),
            parameters=params,
            kernel_name="python3",
            cwd=str(notebook.parent),
            progress_bar=False,
            log_output=False,
            # written once at the end (or at the failing cell), not after every cell:
            # ~0.4 s of JSON per notebook, on the runner's one core
            request_save_on_cell_execute=False,
            kernel_manager_class=_kernel_manager_class(),
            km=km,
        )
    except PapermillExecutionError as exc:
        source = " ".join(exc.source.strip().splitlines()[:1])[:80]
        raise RunError(
            f"notebook {notebook.name} failed in cell {exc.cell_index + 1} (`{source}`): "
            f"{exc.ename}: {exc.evalue}",
            f"the executed notebook is kept for debugging in {failed / notebook.name}; "
            "the last good brief is unchanged",
        ) from None
    finally:
        if km is not None and km.has_kernel:
            _stop_kernel(km)  # nbclient leaves running a kernel it was given
    timings[notebook.stem] = time.perf_counter() - start
    say(f"  {notebook.name}: {timings[notebook.stem]:.1f} s")


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


def _manifest(work: Path, p: Params, nb_dir: Path, timings: dict) -> None:
    inputs = {}
    for name in ("visits", "requests", "frame", "instrument", "rules", "coding"):
        path = getattr(p, name)
        if path:
            inputs[name] = {"path": path, "sha256": sha256(path)}
    notebooks = {nb: {"sha256": sha256(nb_dir / nb)} for nb in (ANALYSIS, *WRITING)}
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


def _swap(work: Path, final: Path) -> None:
    """Put the finished run in place: renames only, so the old brief is replaced in one
    step and never left half-written."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        final.rename(old)
    work.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(final.with_name(f"{final.name}.failed"), ignore_errors=True)
