"""The package's public names: lazy, complete, and nothing heavy at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import analysis


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, analysis; "
        "print(','.join(m for m in ('pandas', 'numpy', 'statsmodels', 'scipy') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("name", [n for n in analysis.__all__ if n != "__version__"])
def test_every_public_name_resolves_to_its_module(name):
    value = getattr(analysis, name)
    assert value.__module__ == analysis._EXPORTS[name]
    assert value.__doc__ and "Examples" in value.__doc__


def test_unknown_names_raise_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'estimate'"):
        analysis.estimate  # noqa: B018
