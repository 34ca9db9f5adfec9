from __future__ import annotations

import pytest

from analysis.errors import ParameterError
from analysis.pipeline.batch import batch
from notebook_factory import write_notebooks


def test_batch_by_size_makes_every_brief_and_the_index(tmp_path):
    notebooks = write_notebooks(tmp_path / "nb")
    result = batch("size", {}, workers=2, out_root=tmp_path, notebooks=notebooks, progress=False)
    assert set(result.done) == {"large", "medium", "small", "micro"} and not result.failed
    index = result.index.read_text(encoding="utf-8")
    for value in result.done:
        assert f"2025-all-{value}/brief.html" in index
        assert (result.folder / f"2025-all-{value}" / "brief.pdf").is_file()
    assert "<script" not in index
    assert "融资难融资贵 61.4%" in index and "63.3（62.3–64.3）" in index  # headline figures


def test_one_failing_brief_does_not_stop_the_others(tmp_path):
    notebooks = write_notebooks(tmp_path / "nb", fail_in="2-policy-brief.ipynb")
    result = batch("size", {}, workers=2, out_root=tmp_path, notebooks=notebooks, progress=False)
    assert set(result.failed) == {"large", "medium", "small", "micro"}
    assert "planted failure" in result.index.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("by", "raw", "workers", "message"),
    [
        ("colour", {}, 2, "--by 'colour' is not supported"),
        ("region", {}, 0, "--workers 0 must be at least 1"),
        (
            "region",
            {"region": "海东"},
            2,
            "region= is set, but the batch makes one brief per region",
        ),
    ],
)
def test_bad_batch_arguments(tmp_path, by, raw, workers, message):
    with pytest.raises(ParameterError, match=message):
        batch(by, raw, workers=workers, out_root=tmp_path, progress=False)
