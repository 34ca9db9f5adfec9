from __future__ import annotations

import ast

import nbformat
import papermill as pm
import pytest

from analysis.ingest.params import Params
from analysis.tracking.params import ResultsParams
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_the_four_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "1-survey-analysis.ipynb",
        "2-policy-brief.ipynb",
        "3-proposal-drafts.ipynb",
        "4-office-results.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_carry_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_is_the_contract(path):
    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    declared = pm.inspect_notebook(str(path))
    # the brief's notebooks share the run contract; the office's results have their own
    contract = (ResultsParams() if path.name.startswith("4-") else Params()).to_dict()
    assert list(declared) == [*contract, "out_dir"]
    for name, value in contract.items():
        assert ast.literal_eval(declared[name]["default"]) == value, name
        assert declared[name]["help"], f"{name} needs a '# meaning' comment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_define_no_functions(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = ast.parse(cell.source)
            assert not [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
            ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_import_only_the_public_api_or_a_stage(path):
    import analysis

    package = ROOT / "src" / "analysis"
    stages = {f"analysis.{p.parent.name}" for p in package.glob("*/__init__.py")}
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import):
                assert not [a.name for a in node.names if a.name.startswith("analysis.")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analysis"):
                names = [a.name for a in node.names]
                if node.module == "analysis":
                    assert set(names) <= set(analysis.__all__), names
                else:
                    assert node.module in stages, node.module
                    assert not [n for n in names if n.startswith("_")], names
