"""Warm kernels of a batch worker (analysis.pipeline.kernels)."""

from __future__ import annotations

import pytest

from analysis.errors import RunError
from analysis.pipeline.kernels import Warm
from analysis.pipeline.run import _start_kernel, _stop_kernel, run
from notebook_factory import write_notebooks


def test_a_brief_failing_in_a_cell_leaves_its_three_kernels_warm_for_the_next(tmp_path):
    # the drafts notebook fails last, once the others have given their kernels back
    fail = (
        "import time\nif region == 'haidong':\n    time.sleep(2)\n    raise ValueError('planted')"
    )
    notebooks = write_notebooks(tmp_path / "nb", extra={"3-proposal-drafts.ipynb": [fail]})
    pool = Warm(_start_kernel, _stop_kernel)
    try:
        with pytest.raises(RunError, match="planted"):
            run(
                {"region": "海东"},
                out_root=tmp_path / "out",
                notebooks=notebooks,
                log=None,
                kernels=pool,
            )
        assert (pool.started, pool.idle) == (3, 3)  # none killed, the failed one kept too
        run(
            {"region": "西宁"},
            out_root=tmp_path / "out",
            notebooks=notebooks,
            log=None,
            kernels=pool,
        )
        assert (pool.started, pool.reused) == (3, 3)
        assert (tmp_path / "out" / "2025-xining" / "brief.html").is_file()
    finally:
        pool.close()
    assert pool.idle == 0
