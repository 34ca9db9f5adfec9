"""The batch engine on a local Dask cluster, with tiny notebooks (the real notebooks on a
real cluster: tests/test_batch_cluster.py)."""

from __future__ import annotations

import json
import time

import psutil
import pytest

from analysis.errors import QifangError
from analysis.pipeline.batch import Progress, batch, start_batch
from notebook_factory import write_notebooks


def kernels() -> list[psutil.Process]:
    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(
                child.cmdline()
            ):
                out.append(child)
        except psutil.NoSuchProcess:
            continue
    return out


def test_briefs_by_size_on_two_workers_one_failing_in_a_notebook(tmp_path):
    """Four briefs on a local cluster of two workers: one fails in a notebook and is
    reported with the notebook, the cell and the error, once (not retried); the others
    are made; the index links them; kernels are kept warm between briefs."""
    attempts = tmp_path / "attempts"
    fail = (
        "if size == 'micro':\n"
        f"    open({str(attempts)!r}, 'a').write('x')\n"
        "    raise ValueError('planted failure')"
    )
    notebooks = write_notebooks(tmp_path / "nb", extra={"2-policy-brief.ipynb": [fail]})
    seen: list[Progress] = []
    job = start_batch(
        "size",
        {},
        workers=2,
        out_root=tmp_path / "out",
        notebooks=notebooks,
        on_progress=seen.append,
    )
    result = job.result(timeout=600)
    assert set(result.done) == {"大型", "中型", "小型"} and set(result.failed) == {"微型"}
    error = result.failed["微型"]
    assert "notebook 2-policy-brief.ipynb failed in cell" in error and "planted failure" in error
    kept = tmp_path / "out" / "2025-by-size" / "2025-all-micro.failed"
    assert str(kept / "2-policy-brief.ipynb") in error  # here, not in a worker's scratch
    assert (kept / "2-policy-brief.ipynb").is_file()
    assert attempts.read_text() == "x"  # a notebook's error is not retried
    assert seen[0] == Progress(0, 0, 4) and seen[-1].done == 4 and seen[-1].failed == 1
    assert job.progress == seen[-1] and job.done()
    index = result.index.read_text(encoding="utf-8")
    for value in ("large", "medium", "small"):
        assert f"2025-all-{value}/brief.html" in index
        assert (tmp_path / "out" / "2025-by-size" / f"2025-all-{value}" / "brief.pdf").is_file()
    assert "planted failure" in index and "<script" not in index
    assert "融资难融资贵 61.4%" in index and "63.3（62.3–64.3）" in index  # headline figures
    # every notebook that ran had a kernel from the pool (the failed brief's drafts
    # notebook, after its brief notebook, never ran): one kernel per worker (two workers,
    # four briefs), taken in turn by the notebooks of its briefs, the failed one's too
    assert result.kernels["started"] + result.kernels["reused"] == 11
    assert result.kernels["started"] <= 2
    manifest = json.loads(
        (tmp_path / "out/2025-by-size/2025-all-large/manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["inputs"]["visits"]["path"].endswith("data/sample/visits.csv")
    assert manifest["cache"]["key"] == result.cache_key
    for _ in range(30):  # the local cluster and every kernel are gone
        assert not kernels()
        time.sleep(0.1)


def test_a_dead_kernel_is_retried_twice_a_slow_cell_times_out_to_an_fsspec_url(tmp_path):
    deaths = tmp_path / "deaths"
    cell = (
        "import os, time\n"
        "if size == 'large':\n"
        f"    open({str(deaths)!r}, 'a').write('x')\n"
        "    os._exit(1)\n"
        "if size == 'medium':\n"
        "    time.sleep(120)"
    )
    notebooks = write_notebooks(tmp_path / "nb", extra={"3-proposal-drafts.ipynb": [cell]})
    url = (tmp_path / "shared").as_uri()  # file:///…: a shared folder, as s3://… would be
    result = batch(
        "size",
        {},
        workers=2,
        only=["large", "medium", "small"],
        out_root=url,
        name="sizes",
        notebooks=notebooks,
        cell_timeout=2,
        progress=False,
        log=None,
    )
    assert set(result.done) == {"小型"} and set(result.failed) == {"大型", "中型"}
    assert deaths.read_text() == "xxx"  # tried, then retried twice
    assert result.failed["大型"].startswith(
        "KernelDiedError: notebook 3-proposal-drafts.ipynb: its Python kernel died"
    )
    timeout = result.failed["中型"]
    assert timeout.startswith(
        "notebook 3-proposal-drafts.ipynb: cell 4 (`import os, time`) ran longer than 2 s"
    )
    assert result.folder == f"{url}/sizes"
    folder = tmp_path / "shared" / "sizes"
    assert {p.name for p in (folder / "2025-all-small").iterdir()} >= {
        "brief.html",
        "brief.pdf",
        "findings.json",
        "manifest.json",
    }
    assert (folder / "2025-all-medium.failed" / "1-survey-analysis.ipynb").is_file()
    assert "2025-all-small/brief.html" in (folder / "index.html").read_text(encoding="utf-8")


def test_cancelling_drops_queued_briefs_and_stops_the_kernels(tmp_path):
    cell = "import time\ntime.sleep(3)"
    notebooks = write_notebooks(tmp_path / "nb", extra={"3-proposal-drafts.ipynb": [cell]})
    job = start_batch("region", {}, workers=1, out_root=tmp_path / "out", notebooks=notebooks)
    while job.progress.done < 1 and not job.done():
        time.sleep(0.1)
    job.cancel()
    result = job.result(timeout=120)
    assert result.cancelled and 1 <= len(result.done) < 8
    assert (tmp_path / "out" / "2025-by-region" / "index.html").is_file()
    for _ in range(30):
        assert not kernels()
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("by", "options", "message"),
    [
        ("colour", {}, "--by 'colour' is not supported"),
        (["region", "region"], {}, "--by 'region,region' is not supported"),
        ("region", {"workers": 0}, "--workers 0 must be at least 1"),
        (
            "region",
            {"workers": 2, "scheduler": "tcp://127.0.0.1:1"},
            "--workers 2 is for the local cluster",
        ),
        ("region", {"raw": {"region": "海东"}}, "region= is set"),
        ("region", {"only": ["拉萨"]}, "--only '拉萨' is not a value of --by region"),
        ("size", {"name": "../elsewhere"}, "is a path, not a folder name"),
    ],
)
def test_bad_batch_arguments_stop_before_any_brief(tmp_path, by, options, message):
    raw = options.pop("raw", {})
    with pytest.raises(QifangError, match=message):
        batch(by, raw, out_root=tmp_path, progress=False, log=None, **options)
    assert not any(tmp_path.iterdir())


def test_a_local_cluster_keeps_what_dask_does_while_waiting_rare():
    from analysis.pipeline.batch import _close, _connect

    def rates(server) -> dict:
        """What a Dask server was made with: its periodic callbacks (ms) and memory check."""
        calls = server.periodic_callbacks
        memory = getattr(server, "memory_manager", None)
        return {
            "tick": calls["tick"].callback_time,
            "monitor": calls["monitor"].callback_time,
            "profile": "profile" in calls,
            "memory": getattr(memory, "memory_monitor_interval", None),
        }

    said: list[str] = []
    client, cluster, _ = _connect(None, 1, said.append)
    try:
        (worker,) = client.run(lambda dask_worker: rates(dask_worker)).values()
        scheduler = client.run_on_scheduler(lambda dask_scheduler: rates(dask_scheduler))
        (nanny,) = [rates(n) for n in cluster.workers.values()]
    finally:
        _close(client, cluster, "none")
    assert worker == {"tick": 1000, "monitor": 2000, "profile": False, "memory": 1.0}
    assert scheduler == {"tick": 1000, "monitor": 2000, "profile": False, "memory": None}
    assert nanny == {"tick": 1000, "monitor": 2000, "profile": False, "memory": 1.0}
    assert said[0].startswith("qifang batch on a local cluster, 1 worker")
