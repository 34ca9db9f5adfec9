from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def sample_results():
    """The sample office's results for 2025 (builds the next wave's findings: ~10 s)."""
    from analysis.tracking.build import build_results, open_ledgers

    return build_results(open_ledgers({"period": "2025"}))
