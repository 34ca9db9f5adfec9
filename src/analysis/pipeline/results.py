"""``qifang results``: the office's results for a period, by the same runner as a brief.

The parameters and all three ledgers are checked before any kernel starts (every
problem with file, row, column and value); then ``notebooks/4-office-results.ipynb``
runs with papermill, writing ``results.json`` and the drafts; its outputs are exported
as ``brief.html`` and ``brief.pdf`` by the brief's exporter; ``tables.xlsx`` and
``manifest.json`` follow. As for a run, everything is written to a temporary folder that
replaces ``briefs/results-<period>/`` only when all of it succeeded.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from analysis.pipeline.run import (
    BRIEFS,
    NOTEBOOKS,
    RunResult,
    _execute,
    _import_exporters,
    _kernel_env,
    _manifest,
    _start_kernel,
    _stop_kernel,
    _swap,
)
from analysis.tracking.build import Office, open_ledgers
from analysis.tracking.params import ResultsParams, folder_name

NOTEBOOK = "4-office-results.ipynb"
INPUTS = (
    "submissions",
    "events",
    "services",
    "ledgers",
    "visits",
    "requests",
    "frame",
    "instrument",
    "rules",
    "coding",
)


def prepare(raw: dict | ResultsParams | None = None) -> Office:
    """Check the parameters and the ledgers before anything runs."""
    return open_ledgers(raw)


def results(
    raw: dict | ResultsParams | None = None,
    *,
    out_root: str | Path | None = None,
    name: str | None = None,
    notebooks: str | Path | None = None,
    log: Callable[[str], None] | None = print,
) -> RunResult:
    """Write ``<out_root>/results-<period>/``: the results brief (HTML, PDF),
    ``results.json``, ``tables.xlsx``, the drafts and the manifest.

    Parameters
    ----------
    raw : parameters (see :class:`analysis.tracking.params.ResultsParams`); text values
        from the command line are converted and checked.
    out_root : where the folder goes; default ``briefs/``.
    name : the folder's name; default ``results-<period>`` (``results-2025``).
    notebooks : the folder holding ``4-office-results.ipynb``; default ``notebooks/``.
    log : called with one line per stage; None for silence.

    Returns
    -------
    RunResult

    Raises
    ------
    ParameterError, ValidationError, InputFileError
        Before anything runs: a bad parameter or period, a ledger that breaks a rule.
    RunError
        The notebook failed; the message names the cell and the error.

    Examples
    --------
    >>> results({"period": "2025"}).folder.name  # doctest: +SKIP
    'results-2025'
    """
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}
    nb_dir = Path(notebooks) if notebooks is not None else NOTEBOOKS
    _kernel_env()
    warm = ThreadPoolExecutor(max_workers=2)
    kernel = warm.submit(_start_kernel, nb_dir)
    warm.submit(_import_exporters)
    try:
        office = prepare(raw)
        p = office.params
        timings["check"] = time.perf_counter() - started
        out_root = Path(out_root) if out_root is not None else BRIEFS
        name = name or folder_name(p)
        out_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=out_root))
        failed = out_root / f"{name}.failed"
        say(f"qifang results {name}: parameters and ledgers checked ({timings['check']:.1f} s)")
        try:
            _execute(nb_dir / NOTEBOOK, work, p, timings, say, failed, kernel.result())
            _export(work, p, timings, say)
            timings["total"] = time.perf_counter() - started
            _manifest(work, p, nb_dir, timings, INPUTS, (NOTEBOOK,))
        except BaseException:
            shutil.rmtree(failed, ignore_errors=True)
            work.rename(failed)
            raise
    finally:
        if kernel.exception() is None and kernel.result().has_kernel:
            _stop_kernel(kernel.result())
        warm.shutdown(wait=False)
    final = out_root / name
    _swap(work, final)
    say(f"done in {timings['total']:.1f} s: {final}")
    return RunResult(final, p, timings)


def _export(work: Path, p: ResultsParams, timings: dict, say) -> None:
    import nbformat

    from analysis.pipeline.export import html_to_pdf, notebook_to_html, write_workbook
    from analysis.tracking.model import Results
    from analysis.tracking.tables import tables

    start = time.perf_counter()
    nb = nbformat.read(work / NOTEBOOK, as_version=4)
    results = Results.load(work / "results.json")
    nb.metadata["title"] = results.title.get(p.lang)
    nbformat.write(nb, work / NOTEBOOK)
    html = notebook_to_html(nb)
    (work / "brief.html").write_text(html, encoding="utf-8")
    timings["export_html"] = time.perf_counter() - start
    start = time.perf_counter()
    (work / "brief.pdf").write_bytes(html_to_pdf(html))
    timings["export_pdf"] = time.perf_counter() - start
    write_workbook(tables(results, p.lang), work / "tables.xlsx")
    say(f"  brief.html {timings['export_html']:.1f} s, brief.pdf {timings['export_pdf']:.1f} s")
