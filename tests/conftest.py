"""Shared fixtures. Test data lives in tests/data/ (see tests/data/make_fixtures.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
EXPORTS = DATA / "exports"
INSTRUMENTS = DATA / "instruments"
WJX = DATA / "wjx"  # 问卷星 exports, made by tests/data/make_wjx.py
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """The tests fill a cache of shared tables of their own, never the user's; runs and
    kernels started by the tests inherit it."""
    before = os.environ.get("QIFANG_CACHE")
    folder = tmp_path_factory.mktemp("qifang-cache")
    os.environ["QIFANG_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("QIFANG_CACHE", None)
    else:
        os.environ["QIFANG_CACHE"] = before


@pytest.fixture(scope="session")
def instrument():
    from analysis.ingest.instrument import load_instrument

    return load_instrument()


@pytest.fixture(scope="session")
def sample_visits():
    from analysis.ingest.load import load

    return load(SAMPLE / "visits.csv").data
