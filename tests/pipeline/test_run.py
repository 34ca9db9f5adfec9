from __future__ import annotations

import json
import time

import pytest

from analysis.errors import ParameterError, RunError
from analysis.ingest.params import check
from analysis.pipeline.run import run, slug
from notebook_factory import write_notebooks


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_notebooks(tmp_path_factory.mktemp("notebooks"))


def test_a_run_writes_brief_findings_notebooks_and_manifest(tmp_path, tiny):
    result = run({"region": "海东"}, out_root=tmp_path, notebooks=tiny, log=None)
    assert result.folder == tmp_path / "2025-haidong"
    names = {f.name for f in result.files}
    assert {
        "brief.html",
        "brief.pdf",
        "findings.json",
        "manifest.json",
        "1-survey-analysis.ipynb",
        "2-policy-brief.ipynb",
        "3-proposal-drafts.ipynb",
    } <= names
    manifest = json.loads((result.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["region"] == "haidong"
    assert len(manifest["inputs"]["visits"]["sha256"]) == 64
    assert manifest["packages"]["papermill"] != "not installed"
    assert {"check", "1-survey-analysis", "2-policy-brief", "export_pdf", "total"} <= set(
        manifest["timings_seconds"]
    )
    assert not list(tmp_path.glob(".*"))  # no temporary folder left behind


def test_bad_parameters_stop_before_any_notebook_and_leave_no_kernel(tmp_path, tiny, monkeypatch):
    import psutil  # an ipykernel dependency

    from analysis.pipeline import run as runner

    start = runner._start_kernel

    def slow_start(cwd, sockets, ended):  # still starting when the parameters are found bad
        time.sleep(1.5)
        return start(cwd, sockets, ended)

    monkeypatch.setattr(runner, "_start_kernel", slow_start)
    with pytest.raises(ParameterError, match="region='拉萨' is not in the data"):
        run({"region": "拉萨"}, out_root=tmp_path, notebooks=tiny, log=None)
    assert not any(tmp_path.iterdir())

    # the kernels started ahead of the notebooks are stopped before run() returns, even
    # those still starting then: none appears in the seconds after
    def kernels():
        return [
            child
            for child in psutil.Process().children(recursive=True)
            if child.status() != psutil.STATUS_ZOMBIE and "ipykernel" in " ".join(child.cmdline())
        ]

    for _ in range(30):
        assert not kernels()
        time.sleep(0.1)


def test_a_failed_run_keeps_the_last_good_brief(tmp_path, tiny):
    good = run({}, out_root=tmp_path, notebooks=tiny, log=None)
    before = (good.folder / "brief.html").read_bytes()
    broken = write_notebooks(tmp_path / "broken", fail_in="1-survey-analysis.ipynb")
    with pytest.raises(RunError) as info:
        run({}, out_root=tmp_path / "", notebooks=broken, log=None)
    message = str(info.value)
    assert "notebook 1-survey-analysis.ipynb failed in cell" in message
    assert "ValueError: planted failure" in message
    assert "Traceback" not in message
    assert (good.folder / "brief.html").read_bytes() == before
    kept = tmp_path / f"{good.folder.name}.failed" / "1-survey-analysis.ipynb"
    assert kept.is_file() and "planted failure" in kept.read_text(encoding="utf-8")


def test_a_new_run_replaces_the_old_one_and_clears_the_failure(tmp_path, tiny):
    first = run({}, out_root=tmp_path, notebooks=tiny, log=None)
    (first.folder / "stale.txt").write_text("from the previous run")
    (tmp_path / f"{first.folder.name}.failed").mkdir()
    second = run({}, out_root=tmp_path, notebooks=tiny, log=None)
    assert second.folder == first.folder and not (second.folder / "stale.txt").exists()
    assert not (tmp_path / f"{first.folder.name}.failed").exists()


def test_slug_names_the_parameter_set():
    p = check({"wave": 2025, "region": "haidong", "size": "micro", "lang": "en"})
    assert slug(p) == "2025-haidong-micro-en"


def test_progress_reports_every_cell_of_every_notebook_then_export_and_done(tmp_path, tiny):
    from analysis.pipeline.run import Step

    steps: list[Step] = []
    run({}, out_root=tmp_path, notebooks=tiny, log=None, progress=steps.append)
    assert steps[0] == Step("check")
    assert steps[-2:] == [Step("export"), Step("done")]
    for nb in ("1-survey-analysis.ipynb", "2-policy-brief.ipynb", "3-proposal-drafts.ipynb"):
        cells = [s for s in steps if s.notebook == nb]
        total = cells[0].cells  # the notebook's cells and papermill's injected parameters
        assert [s.cell for s in cells] == list(range(1, total + 1))


DRAW_TWO_CHARTS = (
    "import json, os\n"
    "from analysis import Brief\n"
    "from analysis.writing import charts\n"
    "drawn, real = [], charts._render\n"
    "charts._render = lambda fig, alt, caption: drawn.append(alt) or real(fig, alt, caption)\n"
    "brief = Brief.from_folder(out_dir)\n"
    "pngs = [brief.chart(name).png for name in ('dimensions', 'difficulties')]\n"
    "charts._render = real\n"
    "store = os.path.isdir(os.path.join(out_dir, '.charts'))\n"
    "with open(os.path.join(out_dir, f'drawn-{os.getpid()}.json'), 'w') as f:\n"
    "    json.dump({'drawn': len(drawn), 'store': store, 'sizes': [len(p) for p in pngs]}, f)"
)


def test_the_analysis_and_brief_notebooks_of_a_run_draw_each_chart_once(tmp_path):
    notebooks = write_notebooks(
        tmp_path / "nb",
        extra={
            "1-survey-analysis.ipynb": [DRAW_TWO_CHARTS],
            "2-policy-brief.ipynb": [DRAW_TWO_CHARTS],
        },
    )
    result = run({}, out_root=tmp_path / "out", notebooks=notebooks, log=None)
    seen = [json.loads(f.read_text()) for f in result.folder.glob("drawn-*.json")]
    assert len(seen) == 2  # one per notebook (two kernels)
    assert all(s["store"] for s in seen)
    assert sum(s["drawn"] for s in seen) == 2  # two charts, each drawn by one notebook
    assert seen[0]["sizes"] == seen[1]["sizes"]
    assert not (result.folder / ".charts").exists()
