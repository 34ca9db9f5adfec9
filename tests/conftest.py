"""Shared fixtures. Test data lives in tests/data/ (see tests/data/make_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
EXPORTS = DATA / "exports"
INSTRUMENTS = DATA / "instruments"
WJX = DATA / "wjx"  # 问卷星 exports, made by tests/data/make_wjx.py
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="session")
def instrument():
    from analysis.ingest.instrument import load_instrument

    return load_instrument()


@pytest.fixture(scope="session")
def sample_visits():
    from analysis.ingest.load import load

    return load(SAMPLE / "visits.csv").data
