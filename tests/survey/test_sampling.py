"""The design of a brief from the frame, and the domain a brief is about."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import DesignError
from analysis.ingest.load import load
from analysis.survey import _joint
from analysis.survey.design import Design
from analysis.survey.sampling import FPC, domain_mask, frame_design

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.fixture(scope="module")
def visits() -> pd.DataFrame:
    return load(SAMPLE / "visits.csv").data


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return load(SAMPLE / "frame.csv", "frame").data


@pytest.fixture(scope="module")
def design(visits, frame) -> Design:
    return frame_design(visits, frame)


def test_weights_are_frame_firms_over_visited_firms(design, visits, frame):
    cells = visits.groupby(["wave", "region", "size"], observed=True).size().rename("n")
    expected = frame.set_index(["wave", "region", "size"]).join(cells, how="inner")
    got = (
        design.data.assign(w=design.weights.to_numpy())
        .groupby(["wave", "region", "size"], observed=True)
        .w.agg(["first", "nunique"])
    )
    assert (got["nunique"] == 1).all()
    np.testing.assert_allclose(
        got["first"].to_numpy(), (expected.firms / expected.n).loc[got.index].to_numpy()
    )
    # the weights add up to the registered firms of each wave
    totals = design.data.assign(w=design.weights).groupby("wave").w.sum()
    np.testing.assert_allclose(totals, frame.groupby("wave").firms.sum())


def test_methods_note_records_the_design_choices(design):
    note = design.methods
    assert json.loads(json.dumps(note)) == note
    assert note["strata"] == ["wave", "region", "size"] and note["strata_count"] == 64
    assert note["psu"] == "each row" and note["fpc"] == FPC
    assert note["lonely_psu"] == "adjust" and note["single_psu_strata"] == []
    assert note["frame_strata_unvisited"] == [] and note["frame_firms_unvisited"] == 0


def test_weights_matter_weighted_and_unweighted_shares_differ(design, visits):
    """Micro firms are 85% of the frame but 45% of the visits, and cite financing far
    more often: the unweighted share understates the province's."""
    weighted = design.proportion(["difficulties__financing"]).iloc[0]
    unweighted = Design(visits).proportion(["difficulties__financing"]).iloc[0]
    assert weighted.estimate - unweighted.estimate > 0.08
    assert weighted.ci_low > unweighted.ci_high
    share_micro_visits = (visits["size"] == "micro").mean()
    share_micro_firms = design.weights[visits["size"] == "micro"].sum() / design.weights.sum()
    assert share_micro_visits < 0.5 < 0.8 < share_micro_firms


def test_single_visit_stratum_is_adjusted_and_recorded(visits, frame):
    keep = ~((visits.region == "guoluo") & (visits["size"] == "large") & (visits.wave == 2025))
    keep |= visits.index == visits.index[~keep][0]
    design = frame_design(visits[keep], frame)
    assert design.methods["single_psu_strata"] == ["2025|guoluo|large"]
    with pytest.raises(DesignError, match="single PSU"):
        frame_design(visits[keep], frame, lonely_psu="fail")


def test_unvisited_frame_strata_are_reported(visits, frame):
    gone = (visits.region == "guoluo") & (visits["size"] == "large") & (visits.wave == 2025)
    note = frame_design(visits[~gone], frame).methods
    n = int(frame.query("wave == 2025 and region == 'guoluo' and size == 'large'").firms.iloc[0])
    assert note["frame_strata_unvisited"] == ["wave=2025 region=guoluo size=large"]
    assert note["frame_firms_unvisited"] == n


def test_stratum_missing_from_the_frame_is_named(visits, frame):
    cut = frame[~((frame.wave == 2024) & (frame.region == "yushu") & (frame["size"] == "small"))]
    with pytest.raises(DesignError, match=r"wave=2024 region=yushu size=small \(\d+ visits\)"):
        frame_design(visits, cut)


def test_frame_with_fewer_firms_than_visits_is_refused(visits, frame):
    small = frame.copy()
    at = small.index[(small.wave == 2025) & (small.region == "haixi") & (small["size"] == "large")]
    small.loc[at, "firms"] = 2
    message = r"wave=2025 region=haixi size=large: \d+ visits, 2 firms in the frame"
    with pytest.raises(DesignError, match=message):
        frame_design(visits, small)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: pd.concat([f, f.iloc[:1]]), r"lists wave=2024 region=xining size=large twice"),
        (lambda f: f.assign(firms=f.firms.where(f.index != 3, -1)), r"negative for wave=2024"),
        (
            lambda f: f.assign(firms=f.firms.where(f.index != 3, 0)),
            r"more visited firms than the frame holds: wave=2024",
        ),
        (lambda f: f.drop(columns="firms"), r"frame table has no column\(s\) 'firms'"),
    ],
)
def test_bad_frames_raise_design_errors(visits, frame, change, message):
    with pytest.raises(DesignError, match=message):
        frame_design(visits, change(frame))


def test_domain_mask_combines_parameters(design):
    data = design.data
    mask = domain_mask(data, region="haidong", wave=2025)
    assert mask.sum() == ((data.region == "haidong") & (data.wave == 2025)).sum()
    both = domain_mask(data, size=["micro", "small"])
    assert both.sum() == data["size"].isin(["micro", "small"]).sum()
    assert domain_mask(data) is None
    with pytest.raises(DesignError, match=r"region='xian' matches no visit.*haidong"):
        domain_mask(data, region="xian")


def test_a_domain_keeps_the_full_design(design):
    """Industry is not a stratum: estimating it as a domain keeps every stratum in the
    variance (rows outside count as zero); subsetting the data would drop them."""
    mask = domain_mask(design.data, industry="C")
    inside, by = _joint.within(design, mask, "size")
    out = _joint.strip(inside.mean("r_service", by=by))
    data = design.data.assign(C=np.where(mask, "C", "other"))
    reference = Design(data, strata=["wave", "region", "size"], fpc=FPC).mean(
        "r_service", by=["C", "size"]
    )
    reference = reference[reference.C == "C"].reset_index(drop=True)
    np.testing.assert_allclose(out.estimate, reference.estimate)
    np.testing.assert_allclose(out.se, reference.se)
    assert list(out.columns[:1]) == ["size"]


def test_domain_masks_must_be_boolean_and_aligned(design):
    with pytest.raises(DesignError, match="must be boolean"):
        _joint.mask(design, np.ones(len(design.data)))
    with pytest.raises(DesignError, match="has shape"):
        _joint.mask(design, np.ones(3, bool))
    with pytest.raises(DesignError, match="not in the data"):
        _joint.mask(design, "nowhere")
