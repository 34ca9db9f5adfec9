"""Tiny notebooks for testing the runner without the real analysis."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis.ingest.params import Params

PARAMETERS = "\n".join(f"{name} = {value!r}" for name, value in Params().to_dict().items())
PARAMETERS += '\nout_dir = "briefs/lab"'


def _notebook(*cells: str) -> nbformat.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
    nb.cells += [
        new_markdown_cell(c[3:], metadata={"tags": ["remove"]})
        if c.startswith("## ")
        else new_code_cell(c)
        for c in cells
    ]
    return nb


def write_notebooks(
    folder: Path, fail_in: str | None = None, extra: dict[str, list[str]] | None = None
) -> Path:
    """Three notebooks with the pipeline's names; ``fail_in`` names one that raises;
    ``extra`` maps a notebook's name to cells added at its end (e.g. one that hangs)."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    from findings_fixture import sample_findings

    source = folder / "findings.json"  # real findings, made once: the runner reads them
    if not source.exists():
        sample_findings().save(source)
    analysis = [
        "## A note for researchers, not for the brief",
        # copy, then rename: the runner starts the other notebooks when the file appears
        f"import os, shutil\nshutil.copy({str(source)!r}, out_dir + '/.findings.tmp')\n"
        "os.replace(out_dir + '/.findings.tmp', out_dir + '/findings.json')",
    ]
    brief = [
        "from IPython.display import HTML, display\n"
        "display(HTML('<h1>测试简报</h1><p>海东市政务服务满意度提高。</p>'))",
        "print('debug output that must not reach the brief')",
    ]
    drafts = ["import pathlib\npathlib.Path(out_dir, 'drafts').mkdir(exist_ok=True)"]
    for name, cells in (
        ("1-survey-analysis.ipynb", analysis),
        ("2-policy-brief.ipynb", brief),
        ("3-proposal-drafts.ipynb", drafts),
    ):
        if name == fail_in:
            cells = [*cells[:1], "x = 1\nraise ValueError('planted failure')"]
        cells = [*cells, *(extra or {}).get(name, [])]
        nbformat.write(_notebook(*cells), folder / name)
    return folder
