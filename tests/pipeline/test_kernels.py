"""Warm kernels of a batch worker (analysis.pipeline.kernels)."""

from __future__ import annotations

import json

import pytest

from analysis.errors import RunError
from analysis.pipeline.kernels import Warm
from analysis.pipeline.run import _start_kernel, _stop_kernel, run
from notebook_factory import write_notebooks


def test_a_brief_failing_in_a_cell_leaves_its_kernel_warm_for_the_next(tmp_path):
    # the drafts notebook fails last, once the others have given the kernel back
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
        # one kernel, taken by the three notebooks in turn, kept after the failed one
        assert (pool.started, pool.reused, pool.idle) == (1, 2, 1)
        run(
            {"region": "西宁"},
            out_root=tmp_path / "out",
            notebooks=notebooks,
            log=None,
            kernels=pool,
        )
        assert (pool.started, pool.reused) == (1, 5)
        assert (tmp_path / "out" / "2025-xining" / "brief.html").is_file()
    finally:
        pool.close()
    assert pool.idle == 0


def test_a_notebook_sees_nothing_of_the_one_before_it_in_the_kernel(tmp_path):
    """The notebooks of a batch worker's briefs take turns in one kernel: names, pandas'
    display options and figures of one are gone for the next; its modules stay."""
    leave = (
        "import pandas as pd, matplotlib.pyplot as plt, gc\n"
        "pd.set_option('display.precision', 1)\n"
        "plt.figure()\n"
        "left_by_analysis = region\n"
        "import tabnanny"
    )
    look = (
        "import sys, matplotlib.pyplot as plt\n"
        "import pandas as pd\n"
        "seen = {'name': 'left_by_analysis' in globals(), "
        "'precision': pd.get_option('display.precision'), 'figures': plt.get_fignums(), "
        "'module': 'tabnanny' in sys.modules, 'frozen': __import__('gc').get_freeze_count() > 0}\n"
        "import json, pathlib\n"
        "pathlib.Path(out_dir, 'seen.json').write_text(json.dumps(seen))"
    )
    notebooks = write_notebooks(
        tmp_path / "nb",
        extra={"1-survey-analysis.ipynb": [leave], "2-policy-brief.ipynb": ["## seen", look]},
    )
    pool = Warm(_start_kernel, _stop_kernel)
    try:
        result = run(
            {"region": "海东"},
            out_root=tmp_path / "out",
            notebooks=notebooks,
            log=None,
            kernels=pool,
        )
        assert pool.started == 1
    finally:
        pool.close()
    seen = json.loads((result.folder / "seen.json").read_text())
    assert seen == {"name": False, "precision": 6, "figures": [], "module": True, "frozen": True}
