"""One brief per value of a parameter, in parallel: ``qifang batch --by region``.

Each brief is an ordinary run (its own folder, its own atomic swap) inside the batch
folder; a failed brief does not stop the others. ``index.html`` links every brief with
its headline figures. Runs go to separate processes; their kernels talk over Unix
sockets (see :mod:`analysis.pipeline._kernel`), so parallel kernels never clash on ports.

Only as many briefs as there are workers are handed out at a time: an interrupt
(Ctrl-C) stops the running briefs (each keeps its last good brief) and starts no other.
"""

from __future__ import annotations

import html
import multiprocessing
import os
import signal
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from analysis.errors import ParameterError, QifangError
from analysis.ingest.params import Params, against_data, check
from analysis.pipeline import outdir
from analysis.pipeline.run import BRIEFS, prepare_with_data, run
from analysis.writing.render import brief_css

BY = ("region", "industry", "size")


@dataclass(frozen=True)
class BatchResult:
    folder: Path
    done: dict[str, Path] = field(default_factory=dict)  # value -> run folder
    failed: dict[str, str] = field(default_factory=dict)  # value -> error message
    seconds: float = 0.0

    @property
    def index(self) -> Path:
        return self.folder / "index.html"


def _one(p: Params, folder: str, notebooks: str | None, cell_timeout) -> tuple[str, str]:
    try:
        result = run(p, out_root=folder, notebooks=notebooks, log=None, cell_timeout=cell_timeout)
        return "ok", str(result.folder)
    except QifangError as exc:
        return "error", str(exc)


def batch(
    by: str,
    raw: dict | None = None,
    *,
    workers: int = 2,
    out_root: str | Path | None = None,
    name: str | None = None,
    notebooks: str | Path | None = None,
    progress: bool = True,
    cell_timeout: float | None = None,
) -> BatchResult:
    """Run one brief per value of ``by`` found in the data, ``workers`` at a time.

    Parameters
    ----------
    by : ``region``, ``industry`` or ``size``.
    raw : the other run parameters, shared by every brief.
    workers : runs at once (each starts its own kernels).
    out_root, name : the batch folder is ``<out_root>/<name>``; default
        ``briefs/<wave>-by-<by>``. An existing folder is written into only if it is a
        batch folder (see :func:`analysis.pipeline.outdir.check_batch_folder`).
    cell_timeout : seconds a notebook cell may run (see :func:`run`).

    Returns
    -------
    BatchResult
        Which briefs were made and which failed, and the index page.

    Raises
    ------
    ParameterError
        A bad ``by``, ``workers`` or shared parameter, before anything runs.
    OutputFolderError
        An unsafe name, or a folder that is not a batch folder, before anything runs.
    KeyboardInterrupt
        Interrupted: running briefs stop, no other starts.
    """
    if by not in BY:
        raise ParameterError(f"--by {by!r} is not supported", f"use one of: {', '.join(BY)}")
    if workers < 1:
        raise ParameterError(f"--workers {workers} must be at least 1", "use e.g. --workers 2")
    root = outdir.output_root(out_root, BRIEFS)
    if name is not None:
        outdir.check_batch_folder(root / outdir.safe_name(name))
    raw = dict(raw or {})
    if raw.get(by) not in (None, ""):
        raise ParameterError(
            f"{by}= is set, but the batch makes one brief per {by}",
            f"leave {by} out of the parameters",
        )
    base, inst, visits = prepare_with_data(raw)
    present = set(visits.loc[visits["wave"] == base.wave, by].dropna().astype(str))
    values = [str(c.value) for c in inst.question(by).choices if str(c.value) in present]
    # Checked here, once: the runs need not load the data again to check themselves.
    jobs = {value: against_data(check({**raw, by: value}), visits, inst) for value in values}
    del visits
    folder = outdir.check_batch_folder(root / outdir.safe_name(name or f"{base.wave}-by-{by}"))
    folder.mkdir(parents=True, exist_ok=True)

    start = time.perf_counter()
    done: dict[str, Path] = {}
    failed: dict[str, str] = {}
    bar = _progress(len(jobs), progress)
    ctx = multiprocessing.get_context("spawn")  # the same on Linux, macOS and Windows
    os.environ["PYTHONHASHSEED"] = "0"
    nb = notebooks and str(Path(notebooks).resolve())
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    queue = list(jobs.items())
    running: dict = {}
    try:
        while queue or running:
            while queue and len(running) < workers:  # hand out no more than can run
                value, params = queue.pop(0)
                running[pool.submit(_one, params, str(folder), nb, cell_timeout)] = value
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                value = running.pop(future)
                status, detail = future.result()
                if status == "ok":
                    done[value] = Path(detail)
                else:
                    failed[value] = detail
                bar.update(1)
                bar.set_postfix_str(f"{len(failed)} failed" if failed else "")
    except BaseException:
        _stop_workers(ctx, pool)
        raise
    finally:
        bar.close()
    pool.shutdown()
    result = BatchResult(folder, done, failed, time.perf_counter() - start)
    _write_index(result, by, inst, base)
    return result


def _stop_workers(ctx, pool: ProcessPoolExecutor) -> None:
    """Interrupt the running briefs (each stops its kernels and keeps its last good
    brief), then end the workers."""
    workers = ctx.active_children()
    for proc in workers:
        try:
            os.kill(proc.pid, signal.SIGINT)
        except (OSError, AttributeError):
            proc.terminate()
    for proc in workers:
        proc.join(timeout=15)
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="briefs", unit="brief", disable=not enabled, leave=True)


def _write_index(result: BatchResult, by: str, inst, base) -> None:
    from analysis.findings.model import Findings

    q = inst.question(by)
    rows = []
    for c in q.choices:
        value = str(c.value)
        if value in result.done:
            folder = result.done[value]
            rows.append(
                _index_row(c.label.zh, folder.name, Findings.load(folder / "findings.json"))
            )
        elif value in result.failed:
            rows.append(
                f"<tr><td>{html.escape(c.label.zh)}</td><td colspan='4' class='down'>"
                f"未生成 failed: {html.escape(result.failed[value])}</td></tr>"
            )
    level = f"{base.confidence * 100:g}%"
    title = f"{base.wave}年分{q.short.zh}简报 · Briefs by {q.short.en.lower()}, {base.wave}"
    page = (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'/>"
        f"<meta name='generator' content='{outdir.BATCH_MARK}'/>"
        f"<title>{html.escape(title)}</title><style>{brief_css()}</style></head><body>"
        f"<main class='brief'><h1>{html.escape(title)}</h1>"
        "<table><thead><tr><th>" + html.escape(q.short.zh) + "</th>"
        "<th class='num'>走访企业数</th><th class='num'>营商环境指数</th>"
        "<th>最突出困难</th><th>简报</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        f"<p class='source'>指数为0–100分，括号内为{level}置信区间；走访企业数为本轮走访的企业数。"
        f"Index 0–100 with its {level} confidence interval; firms visited in this wave.</p>"
        "</main></body></html>"
    )
    tmp = result.index.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(result.index)


def _index_row(label: str, folder: str, findings) -> str:
    from analysis.writing import numfmt

    head = findings.headline
    idx = head.index
    index = (
        f"{numfmt.score(idx.estimate, 'en')}（{numfmt.score(idx.ci_low, 'en')}–"
        f"{numfmt.score(idx.ci_high, 'en')}）"
        if idx.estimate is not None and not idx.suppressed
        else "—"
    )
    top = head.top_difficulty
    top_text = (
        f"{html.escape(top.label.zh)} {numfmt.pct(top.stat.estimate)}"
        if top is not None and top.stat.estimate is not None
        else "—"
    )
    return (
        f"<tr><td>{html.escape(label)}</td><td class='num'>{numfmt.count(head.n)}</td>"
        f"<td class='num'>{index}</td><td>{top_text}</td>"
        f"<td><a href='{html.escape(folder)}/brief.html'>HTML</a> · "
        f"<a href='{html.escape(folder)}/brief.pdf'>PDF</a></td></tr>"
    )
