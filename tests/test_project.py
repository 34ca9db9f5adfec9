"""The project's own files: dependencies in step, Makefile targets documented."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import ROOT

CONDA_NAMES = {"matplotlib": "matplotlib-base"}


def test_environment_yml_has_the_dependencies_of_pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {str(d) for d in env["dependencies"] if isinstance(d, str)}
    for requirement in wanted:
        name, bound = re.match(r"([\w-]+)(.*)", requirement).groups()
        assert f"{CONDA_NAMES.get(name, name)}{bound}" in conda, requirement
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip


def test_every_make_target_has_help_and_parses():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^([a-z][a-z-]*):", makefile, re.M)
    documented = re.findall(r"^([a-z][a-z-]*):.*## ", makefile, re.M)
    assert set(targets) == set(documented)
    for target in targets:
        result = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, (target, result.stderr)


def test_ci_calls_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in ci and "make test" in readme and "make brief" in readme
