"""Small cells are blanked, flagged and never carry a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignError
from analysis.survey.disclosure import suppress


def test_rows_below_min_cell_lose_every_figure_but_keep_their_count():
    table = pd.DataFrame(
        {
            "region": ["a", "b", "c"],
            "estimate": [0.4, 0.7, 0.2],
            "se": [0.05, 0.2, 0.03],
            "ci_low": [0.3, 0.3, 0.15],
            "ci_high": [0.5, 0.95, 0.26],
            "df": [100, 5, 60],
            "n": [120, 9, 10],
        }
    )
    out = suppress(table)
    assert out.suppressed.tolist() == [False, True, False]
    assert out.loc[1, ["estimate", "se", "ci_low", "ci_high"]].isna().all()
    assert out.loc[1, "n"] == 9 and out.loc[1, "df"] == 5 and out.loc[1, "region"] == "b"
    pd.testing.assert_frame_equal(out.drop(index=1, columns="suppressed"), table.drop(index=1))
    assert table.estimate.notna().all()  # the input is not modified


def test_a_comparison_is_suppressed_when_either_side_is_small():
    table = pd.DataFrame(
        {
            "estimate": [0.1, 0.2, 0.3],
            "p_value": [0.01, 0.2, 0.03],
            "significant": [True, False, True],
            "n_a": [50, 4, 50],
            "n_b": [50, 50, 7],
        }
    )
    out = suppress(table, min_cell=8)
    assert out.suppressed.tolist() == [False, True, True]
    assert out.p_value.isna().tolist() == [False, True, True]
    assert out.significant.isna().tolist() == [False, True, True]
    assert out.significant.dtype == "boolean"


def test_min_cell_is_configurable_and_zero_turns_it_off():
    table = pd.DataFrame({"estimate": [0.5, np.nan], "n": [3, 0]})
    assert suppress(table, min_cell=3).suppressed.tolist() == [False, True]
    assert suppress(table, min_cell=0).suppressed.tolist() == [False, False]


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_min_cell_must_be_a_whole_number(bad):
    with pytest.raises(DesignError, match="is not a number of firms"):
        suppress(pd.DataFrame({"estimate": [1.0], "n": [20]}), min_cell=bad)


def test_a_table_without_counts_cannot_be_checked():
    with pytest.raises(DesignError, match="no respondent count column"):
        suppress(pd.DataFrame({"estimate": [1.0]}))
