"""``qifang results``: the office's results for a period, by the same runner as a brief.

The parameters and all three ledgers are checked before any kernel starts (every
problem with file, row, column and value); then ``notebooks/4-office-results.ipynb``
runs with papermill, writing ``results.json`` and the drafts; its outputs are exported
as ``brief.html`` and ``brief.pdf`` by the brief's exporter; ``tables.xlsx`` and
``manifest.json`` follow. As for a run, everything is written to a temporary folder that
replaces ``briefs/results-<period>/`` only when all of it succeeded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from analysis.errors import OutputFolderError
from analysis.pipeline import _kernel, outdir
from analysis.pipeline.manifest import write_manifest
from analysis.pipeline.run import (
    BRIEFS,
    CELL_TIMEOUT,
    NOTEBOOKS,
    RunResult,
    _execute,
    _import_exporters,
    _kill_kernels,
    _start_kernel,
    _stop_kernel,
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
    "office",
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
    cell_timeout: float | None = None,
) -> RunResult:
    """Write ``<out_root>/results-<period>/``: the results brief (HTML, PDF),
    ``results.json``, ``tables.xlsx``, the drafts and the manifest.

    Parameters
    ----------
    raw : parameters (see :class:`analysis.tracking.params.ResultsParams`); text values
        from the command line are converted and checked.
    out_root : where the folder goes; default ``briefs/``.
    name : the folder's name, one safe folder name; default ``results-<period>``
        (``results-2025``). An existing folder of that name is replaced only if it is
        a Qifang run.
    notebooks : the folder holding ``4-office-results.ipynb``; default ``notebooks/``.
    log : called with one line per stage; None for silence.
    cell_timeout : seconds a notebook cell may run; default 1800.

    Returns
    -------
    RunResult

    Raises
    ------
    OutputFolderError, ParameterError, ValidationError, InputFileError
        Before anything runs: an unsafe name or folder, a bad parameter or period, a
        ledger that breaks a rule (every problem with file, row, column and value).
    RunError
        The notebook failed; the message names the cell and the error.

    Examples
    --------
    >>> results({"period": "2025"}).folder.name  # doctest: +SKIP
    'results-2025'
    """
    say = log or (lambda _msg: None)
    started = time.perf_counter()
    since = time.time()
    timings: dict[str, float] = {}
    root = outdir.output_root(out_root, BRIEFS)
    if name is not None:
        outdir.check_target(root, outdir.safe_name(name))
    nb_dir = (Path(notebooks) if notebooks is not None else NOTEBOOKS).resolve()
    cell_timeout = CELL_TIMEOUT if cell_timeout is None else cell_timeout
    with _kernel.socket_folder() as sockets:
        warm = ThreadPoolExecutor(max_workers=2)
        kernels = {NOTEBOOK: warm.submit(_start_kernel, nb_dir, sockets)}
        warm.submit(_import_exporters)
        try:
            office = prepare(raw)
            p = office.params
            timings["check"] = time.perf_counter() - started
            if name is None:
                name = folder_name(p)
                try:
                    outdir.safe_name(name)
                except OutputFolderError as exc:
                    raise OutputFolderError(
                        f"the folder name made from the period: {exc.message}",
                        "give a name with --name",
                    ) from None
            with outdir.claim(root, name, since) as out:
                say(
                    f"qifang results {name}: parameters and ledgers checked "
                    f"({timings['check']:.1f} s)"
                )
                try:
                    _execute(
                        nb_dir / NOTEBOOK,
                        out.work,
                        p,
                        timings,
                        say,
                        out.failed,
                        kernels[NOTEBOOK].result(),
                        cell_timeout,
                    )
                    _export(out.work, p, timings, say)
                    timings["total"] = time.perf_counter() - started
                    write_manifest(out.work, p, nb_dir, timings, (NOTEBOOK,), INPUTS)
                except BaseException:
                    _kill_kernels(kernels)
                    out.keep_failed()
                    raise
                final = out.publish()
        finally:
            for k in kernels.values():
                if k.exception() is None and k.result().has_kernel:
                    _stop_kernel(k.result())
            warm.shutdown(wait=False)
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
