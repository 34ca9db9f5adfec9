"""The desk's one door to the pipeline: the same ``run`` and ``batch`` as the CLI.

Jobs call :func:`run_one` and :func:`run_batch`; nothing else in the desk imports the
pipeline's internals, so when the pipeline's API changes only this module follows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Report = Callable[[dict[str, Any]], None]


def run_one(raw: dict, out_root: Path, notebooks: Path | None, report: Report) -> Path:
    """One brief, as ``qifang run``; ``report`` gets the stage and each notebook's cell."""
    from analysis.pipeline.run import run

    state: dict[str, Any] = {"stage": "check", "notebooks": {}}
    lock = threading.Lock()

    def progress(step) -> None:
        with lock:  # the notebooks run side by side, in threads
            state["stage"] = step.stage
            if step.stage == "notebook":
                state["notebooks"][step.notebook] = [step.cell, step.cells]
            elif step.stage in ("export", "done"):
                for cells in state["notebooks"].values():
                    cells[0] = cells[1]
            report({"stage": state["stage"], "notebooks": dict(state["notebooks"])})

    result = run(raw, out_root=out_root, notebooks=notebooks, log=None, progress=progress)
    return result.folder


def run_batch(
    by: str,
    raw: dict,
    out_root: Path,
    notebooks: Path | None,
    report: Report,
    *,
    total: int,
    workers: int = 2,
) -> tuple[Path, dict[str, str]]:
    """One brief per value of ``by``, as ``qifang batch``. ``report`` gets the briefs
    made so far (counted from the finished run folders) and the total.

    Returns
    -------
    (the batch folder, {value: error} for the briefs that failed)
    """
    from analysis.pipeline.batch import batch

    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):
            done = sum(1 for _ in out_root.glob("*/*/manifest.json"))
            report({"stage": "batch", "done": done, "total": total})

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        result = batch(
            by, raw, workers=workers, out_root=out_root, notebooks=notebooks, progress=False
        )
    finally:
        stop.set()
        watcher.join()
    report(
        {"stage": "done", "done": len(result.done), "total": len(result.done) + len(result.failed)}
    )
    return result.folder, dict(result.failed)


def check_params(raw: dict) -> None:
    """The contract's own check (names, types, ranges, files) before a job is queued."""
    from analysis.ingest.params import check

    check(raw)
