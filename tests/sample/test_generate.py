from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from analysis.sample.generate import FINANCING_BY_SIZE, generate_sample, write_sample
from conftest import SAMPLE

LEDGERS = ("submissions.csv", "events.csv", "services.csv")


def test_same_seed_same_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_sample(generate_sample(firms=300, seed=3), a)
    write_sample(generate_sample(firms=300, seed=3), b)
    for name in ("visits.csv", "requests.csv", "frame.csv", "README.md", *LEDGERS):
        assert (a / name).read_bytes() == (b / name).read_bytes()


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    write_sample(generate_sample(), tmp_path)
    for name in ("visits.csv", "requests.csv", "frame.csv", "README.md", *LEDGERS):
        digest = [
            hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / name, SAMPLE / name)
        ]
        assert digest[0] == digest[1], f"data/sample/{name} is stale: run `qifang sample`"


def test_shape_of_the_sample():
    s = generate_sample()
    v = s.visits
    assert sorted(v.wave.unique()) == [2024, 2025]
    assert all(1400 <= n <= 1600 for n in v.groupby("wave").size())
    assert v.visit_id.is_unique
    assert set(v.region.unique()) == {
        "xining",
        "haidong",
        "haibei",
        "huangnan",
        "hainan",
        "guoluo",
        "yushu",
        "haixi",
    }
    frame = s.frame[s.frame.wave == 2025]
    share = frame.groupby("region").firms.sum() / frame.firms.sum()
    assert 0.40 <= share["xining"] <= 0.47  # Xining holds about 45% of registered firms
    assert set(s.requests.visit_id) <= set(v.visit_id)
    # every stratum has fewer sampled firms than registered ones
    n = v.groupby(["wave", "region", "size"], observed=True).size().rename("n").reset_index()
    merged = n.merge(s.frame, on=["wave", "region", "size"])
    assert len(merged) == len(n) and (merged.firms > merged.n).all()


def test_planted_financing_gap_by_size():
    # Probabilities planted per firm; with 500k firms per wave the sample shares must
    # sit within 0.01 of them.
    v = generate_sample(firms=500_000, seed=11).visits
    share = v.groupby("size", observed=True)["difficulties__financing"].mean()
    for size, p in FINANCING_BY_SIZE.items():
        assert abs(share[size] - p) < 0.01


def test_ratings_and_difficulties_are_coded_as_the_instrument_says(instrument):
    v = generate_sample(firms=200, seed=5).visits
    assert list(v.columns) == [c for q in instrument.visits.fields for c in q.columns]
    ratings = v[[q.name for q in instrument.items()]].stack().dropna()
    assert set(ratings.unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    multi = v[list(instrument.question("difficulties").columns)]
    answered = multi.notna().all(axis=1)
    assert (multi[answered].sum(axis=1) >= 1).all()  # every answering firm names a difficulty


def test_planted_identifiers_are_in_the_open_answers():
    s = generate_sample()
    ids = s.truth.identifiers
    assert set(ids.kind) == {"phone", "name", "firm", "id_number", "credit_code", "email"}
    text = s.visits.set_index("visit_id")
    for row in ids.itertuples():
        assert row.value in str(text.at[row.visit_id, row.field])


def test_open_answer_truth_matches_the_text():
    s = generate_sample(firms=300, seed=2)
    truth = s.truth.open_answers.set_index("visit_id")
    answered = s.visits.set_index("visit_id").urgent_needs.astype(str) != ""
    assert (truth[answered].sum(axis=1) >= 1).all()
    assert (truth[~answered].sum(axis=1) == 0).all()


def test_ledger_plants_a_slow_department_and_faster_follow_through():
    r = generate_sample(firms=20_000, seed=9).requests
    done = r[r.status == "resolved"]
    days = (pd.to_datetime(done.resolved_date) - pd.to_datetime(done.raised_date)).dt.days
    median = days.groupby(done.department.astype(str)).median()
    assert median.idxmax() == "natres"
    wave = done.request_id.str[2:6]
    by_wave = days.groupby(wave).median()
    assert by_wave["2025"] < by_wave["2024"]
    assert np.all((r.status == "resolved") == r.resolved_date.notna())


def test_a_million_firms_is_vectorised():
    # Not timed (timings belong in the benchmark): checks that the big case runs and
    # keeps its shape; a loop over rows would make this test take many minutes.
    s = generate_sample(firms=1_000_000, seed=1)
    assert 1_900_000 <= len(s.visits) <= 2_100_000
    assert s.visits.visit_id.is_unique
