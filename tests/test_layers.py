"""The package's shape: stages in the order of the flow, no import circles, small modules.

The stage order is import-linter's layers contract in ``pyproject.toml``; the import
graph comes from grimp (which import-linter builds on), and circles are found by the
standard library's topological sort.
"""

from __future__ import annotations

import graphlib
from pathlib import Path

import grimp
import pytest
from importlinter import cli as importlinter_cli

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "analysis"
STAGES = (
    "ingest",
    "survey",
    "measures",
    "findings",
    "writing",
    "tracking",
    "pipeline",
    "sample",
    "desk",
)
TOP_LEVEL = {"__init__.py", "cli.py", "errors.py"}


def test_stages_import_only_earlier_stages():
    code = importlinter_cli.lint_imports(
        config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True
    )
    assert code == 0, "an earlier stage imports a later one: run `lint-imports` to see where"


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("analysis", cache_dir=None)
    order = graphlib.TopologicalSorter(
        {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    )
    try:
        order.prepare()
    except graphlib.CycleError as err:
        pytest.fail(f"import circle: {' -> '.join(err.args[1])}")


def test_layout_top_level_is_cli_errors_and_the_stages():
    modules = {p.name for p in PACKAGE.glob("*.py")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert modules == TOP_LEVEL
    assert packages == set(STAGES)


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_says_what_it_takes_and_gives(stage):
    doc = (PACKAGE / stage / "__init__.py").read_text(encoding="utf-8")
    assert doc.startswith('"""') and "Takes" in doc and "gives" in doc


def test_no_module_is_over_600_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert not long, f"split these modules: {long}"
