"""A seeded synthetic enterprise-visit survey with planted effects.

``generate_sample`` builds, fully vectorised (no loop over rows), the three files an
office holds after two waves of "大调研大走访" in Qinghai:

``visits.csv``
    one row per visited firm, both waves, the questionnaire of
    ``data/instrument/enterprise-visit.yaml`` (variable names as headers, choice codes
    as values, one 0/1 column per difficulty option);
``requests.csv``
    the requests ledger, one row per request a firm raised, followed to
    ``LEDGER_AS_OF``;
``frame.csv``
    registered firms per wave x region x size class (the sampling frame).

The sample is stratified by wave x region x size class with disproportionate
allocation (large and medium firms and small regions are over-sampled), so the design
weights N_h / n_h differ by two orders of magnitude and unweighted shares are biased:
the analysis must weight.

Planted effects (the analysis must recover them; tests check it)
----------------------------------------------------------------
1. Financing difficulty by size class: the probability that a firm cites
   ``financing`` is 0.62 for micro, 0.45 small, 0.28 medium and 0.12 large firms.
2. Key drivers: overall satisfaction is driven mostly by two items,
   ``r_service`` (政务服务便利度, weight 0.45) and ``r_enforcement`` (执法规范性, 0.40);
   every other item carries at most 0.05/13 directly.
3. Government services: in 海东市 (haidong) the three government-dimension ratings
   rise by 0.7 points on the 1–5 scale from wave 2024 to 2025 (about +17 index
   points); in 海西州 (haixi) they do not change; elsewhere they drift by +0.05.
4. Open answers: 75% of firms state urgent needs that name one or two of the
   difficulties they ticked, in realistic phrases; 6% of the urgent-needs answers and
   3% of suggestions contain a planted phone number, the contact person's name, the
   firm's own name, an ID number, a unified social credit code or an e-mail address —
   none of which may ever reach a brief.
5. Requests ledger: the natural-resources department (natres) is slowest (median 75
   days to resolve); requests raised in 2025 are resolved 25% faster than in 2024;
   8% (2024) and 5% (2025) of requests are never handled.
6. Firms in both waves: half the 2025 visits of each region x size revisit a 2024 firm
   (the same ``firm_id``), paired by the firm effect of their ratings.

``SampleTruth`` returns the planted values, including the true categories of every
open answer and the planted identifying strings, so tests can measure recovery.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.ingest.instrument import Instrument, load_instrument
from analysis.ingest.iorw import write_csv
from analysis.sample import _ledgers as ledger_rows
from analysis.sample import _sample_text as words
from analysis.sample._ledgers import readme_section, write_ledgers
from analysis.sample._sample_text import PII_SHARE, phrases

WAVES = (2024, 2025)
PANEL_SHARE = 0.5  # of each second-wave stratum's visits: firms visited in the first
LEDGER_AS_OF = "2025-12-31"
DEFAULT_FIRMS = 1500
DEFAULT_SEED = 20251
DEFAULT_OUT = Path(__file__).resolve().parents[3] / "data" / "sample"

# Share of registered firms by region (Xining about 45%, as in reality).
REGION_SHARE = {
    "xining": 0.45,
    "haidong": 0.15,
    "haixi": 0.14,
    "hainan": 0.08,
    "haibei": 0.05,
    "huangnan": 0.05,
    "yushu": 0.05,
    "guoluo": 0.03,
}
SIZE_SHARE = {"large": 0.005, "medium": 0.025, "small": 0.12, "micro": 0.85}
SIZE_ALLOCATION = {"large": 0.08, "medium": 0.17, "small": 0.30, "micro": 0.45}
FRAME_FIRMS_2024 = 98_000
FRAME_GROWTH = 1.05

FINANCING_BY_SIZE = {"micro": 0.62, "small": 0.45, "medium": 0.28, "large": 0.12}
DRIVERS = {"r_service": 0.45, "r_enforcement": 0.40}
IMPROVING_REGION, FLAT_REGION = "haidong", "haixi"
GOV_CHANGE = {IMPROVING_REGION: 0.70, FLAT_REGION: 0.0}
GOV_DRIFT = 0.05
SLOWEST_DEPARTMENT = "natres"

_ITEM_MEAN = {
    "r_finance": 3.2,
    "r_labour": 3.4,
    "r_land": 3.5,
    "r_approval": 3.7,
    "r_service": 3.6,
    "r_policy": 3.4,
    "r_access": 3.9,
    "r_competition": 3.7,
    "r_credit": 3.3,
    "r_enforcement": 3.5,
    "r_rights": 3.8,
    "r_justice": 3.8,
    "r_innovation": 3.4,
    "r_ip": 3.7,
    "r_digital": 3.5,
}
_REGION_EFFECT = {
    "xining": 0.10,
    "haidong": 0.0,
    "haibei": -0.05,
    "huangnan": -0.10,
    "hainan": -0.05,
    "guoluo": -0.15,
    "yushu": -0.20,
    "haixi": 0.05,
}
_DIFFICULTY_BASE = {
    "labour": 0.35,
    "costs": 0.40,
    "demand": 0.38,
    "arrears": 0.22,
    "tax": 0.25,
    "policy": 0.18,
    "inspection": 0.14,
    "land": 0.10,
    "logistics": 0.20,
    "talent": 0.26,
    "other": 0.04,
}
# A difficulty lowers the rating of the item it concerns.
_DIFFICULTY_ITEM = {
    "financing": ("r_finance", -0.6),
    "arrears": ("r_credit", -0.5),
    "inspection": ("r_enforcement", -0.5),
    "labour": ("r_labour", -0.4),
}
_INDUSTRY_P = {
    "F": 0.28,
    "C": 0.14,
    "E": 0.08,
    "H": 0.08,
    "L": 0.08,
    "A": 0.07,
    "G": 0.05,
    "O": 0.05,
    "I": 0.04,
    "M": 0.04,
    "K": 0.03,
    "B": 0.02,
    "R": 0.02,
    "D": 0.01,
    "N": 0.01,
}
_POLICY_P = {  # P(unaware), P(aware, not benefited); the rest benefited
    "p_tax": (0.15, 0.30),
    "p_finance": (0.30, 0.40),
    "p_jobs": (0.35, 0.30),
    "p_innovation": (0.45, 0.30),
    "p_arrears": (0.40, 0.35),
    "p_digital": (0.55, 0.25),
}
_DEPARTMENT = {
    "financing": "fin_reg",
    "labour": "hrss",
    "costs": "ndrc",
    "demand": "commerce",
    "arrears": "miit",
    "tax": "tax",
    "policy": "ndrc",
    "inspection": "samr",
    "land": "natres",
    "logistics": "transport",
    "talent": "science",
    "approval": "local_gov",
    "other": "local_gov",
}
_MEDIAN_DAYS = {
    "fin_reg": 35,
    "hrss": 20,
    "ndrc": 40,
    "commerce": 30,
    "miit": 45,
    "tax": 12,
    "samr": 15,
    "natres": 75,
    "transport": 30,
    "science": 28,
    "local_gov": 25,
}
_NEVER_HANDLED = {2024: 0.08, 2025: 0.05}
_FASTER_2025 = 0.75


@dataclass(frozen=True)
class SampleTruth:
    """What the generator planted, for tests that check the analysis recovers it.

    ``open_answers``: one row per visit, a 0/1 column per difficulty category that the
    urgent-needs answer was written about. ``identifiers``: every identifying string
    planted in an open answer (columns visit_id, field, kind, value). ``effects``: the
    planted parameters as a plain dict.
    """

    open_answers: pd.DataFrame
    identifiers: pd.DataFrame
    effects: dict


@dataclass(frozen=True)
class Sample:
    visits: pd.DataFrame
    requests: pd.DataFrame
    frame: pd.DataFrame
    truth: SampleTruth


def generate_sample(
    firms: int = DEFAULT_FIRMS, seed: int = DEFAULT_SEED, instrument: Instrument | None = None
) -> Sample:
    """Generate the synthetic survey.

    Parameters
    ----------
    firms : firms visited per wave (about; allocation rounds per stratum).
    seed : random seed; the same seed gives the same files, byte for byte.
    instrument : the questionnaire; default the bundled one.

    Returns
    -------
    Sample
        ``visits``, ``requests`` and ``frame`` DataFrames in file layout, and the truth.

    Examples
    --------
    >>> s = generate_sample(firms=200, seed=1)
    >>> sorted(s.visits.wave.unique())
    [2024, 2025]
    """
    if firms < 50:
        raise ValueError("firms must be at least 50 per wave")
    inst = instrument or load_instrument()
    rng = np.random.default_rng(seed)
    frame = _frame(firms)
    strata = _allocate(frame, firms)
    n = int(strata["n"].sum())

    # Work on integer codes and object arrays: strings are made once, at the end.
    idx = np.repeat(np.arange(len(strata)), strata["n"].to_numpy())
    day = rng.integers(0, 183, n)  # visits run from April to September
    perm = rng.permutation(n)  # shuffle, then a stable sort by wave and day
    key = (strata["wave"].to_numpy()[idx] * 1000 + day)[perm]
    order = perm[np.argsort(key, kind="stable")]
    idx, day = idx[order], day[order]
    wave = strata["wave"].to_numpy()[idx]
    regions, sizes = list(REGION_SHARE), list(SIZE_SHARE)
    r = pd.Categorical(strata["region"], categories=regions).codes[idx]
    z = pd.Categorical(strata["size"], categories=sizes).codes[idx]
    later = wave == WAVES[1]

    v: dict[str, object] = {}
    seq = np.where(later, np.arange(n) - np.count_nonzero(~later), np.arange(n)) + 1
    v["visit_id"] = np.char.add(
        np.char.add("QF", wave.astype("U4")), np.char.add("-", np.char.zfill(seq.astype("U7"), 6))
    )
    v["wave"] = wave
    v["visit_date"] = np.datetime64("2024-04-01") + day + np.where(later, 365, 0)
    region_zh = np.array([inst.question("region").choice(x).label.zh + "工商联" for x in regions])
    units = np.array(["省工商联", *region_zh])
    v["visiting_unit"] = _cat(np.where(rng.random(n) < 0.2, 0, r + 1), units)
    v["region"] = _cat(r, regions)
    counties = phrases()["counties"]
    all_counties = [c for x in regions for c in counties[x]]
    first = np.cumsum([0] + [len(counties[x]) for x in regions])[:-1]
    width = np.array([len(counties[x]) for x in regions])
    v["county"] = _cat(first[r] + (rng.random(n) * width[r]).astype(int), all_counties)

    industries = list(_INDUSTRY_P)
    industry = rng.choice(len(industries), size=n, p=np.array(list(_INDUSTRY_P.values())))
    industry[(r == regions.index("haixi")) & (rng.random(n) < 0.12)] = industries.index("B")
    v["industry"] = _cat(industry, industries)
    v["size"] = _cat(z, sizes)
    owners = {
        "llc": 0.72,
        "joint_stock": 0.06,
        "sole": 0.10,
        "partnership": 0.05,
        "foreign": 0.02,
        "other": 0.05,
    }
    v["ownership"] = _cat(rng.choice(len(owners), size=n, p=list(owners.values())), list(owners))
    lo = np.array([1000, 300, 20, 1])[z]  # large, medium, small, micro head-count bounds
    hi = np.array([8000, 999, 299, 19])[z]
    v["employees"] = np.floor(
        np.exp(np.log(lo) + rng.random(n) ** 1.6 * (np.log(hi + 1) - np.log(lo)))
    ).astype(int)
    bands = ["lt1m", "1m_10m", "10m_50m", "50m_200m", "200m_1b", "ge1b"]
    band_low = np.array([4, 2, 1, 0])[z]  # large 200m_1b, medium 10m_50m, small 1m_10m, micro lt1m
    v["revenue_band"] = _cat(band_low + (rng.random(n) < 0.35), bands)
    v["founded"] = np.clip(wave - np.floor(rng.exponential(11, n)).astype(int), 1985, wave)
    member_p = np.array([0.85, 0.65, 0.45, 0.25])[z]
    v["chamber_member"] = _cat((rng.random(n) >= member_p).astype(int), ["yes", "no"])

    # Difficulties first: they shape the ratings of the items they concern.
    fin_p = np.array([FINANCING_BY_SIZE[x] for x in sizes])[z]
    diff = {"financing": rng.random(n) < fin_p}
    big = z <= sizes.index("medium")
    for option, base in _DIFFICULTY_BASE.items():
        p = np.full(n, base)
        if option == "arrears":
            p[industry == industries.index("E")] = 0.45
        if option == "land":
            p[np.isin(industry, [industries.index("B"), industries.index("C")])] = 0.25
        if option == "logistics":
            p[np.isin(r, [regions.index(x) for x in ("haixi", "yushu", "guoluo")])] = 0.35
        if option == "talent":
            p[big] = 0.40
        diff[option] = rng.random(n) < p
    # Every firm names at least one difficulty (an empty multi-select reads as skipped);
    # the fallback never touches financing, so its planted rates stay exact.
    none = ~np.any(list(diff.values()), axis=0)
    fallback = np.array(["costs", "demand", "labour"])[rng.integers(0, 3, n)]
    for option in ("costs", "demand", "labour"):
        diff[option] |= none & (fallback == option)

    attitude = rng.normal(0, 0.55, n)
    reg_eff = np.array([_REGION_EFFECT[x] for x in regions])[r]
    gov_change = np.array([GOV_CHANGE.get(x, GOV_DRIFT) for x in regions])[r]
    ratings = {}
    for item, mu in _ITEM_MEAN.items():
        latent = mu + attitude + reg_eff + rng.normal(0, 0.75, n)
        if inst.question(item).dimension == "government":
            latent += np.where(later, gov_change / 2, -gov_change / 2)
        for option, (target, effect) in _DIFFICULTY_ITEM.items():
            if target == item:
                latent += effect * diff[option]
        ratings[item] = np.clip(np.rint(latent), 1, 5)
    others = np.mean([x for k, x in ratings.items() if k not in DRIVERS], axis=0)
    overall = 0.45 + sum(w * ratings[k] for k, w in DRIVERS.items()) + 0.05 * others
    ratings["overall_satisfaction"] = np.clip(np.rint(overall + rng.normal(0, 0.42, n)), 1, 5)
    for item, values in ratings.items():
        v[item] = np.where(rng.random(n) < 0.03, np.nan, values)  # 3% skipped

    diff_skipped = rng.random(n) < 0.02
    for option in inst.question("difficulties").values:
        v[f"difficulties__{option}"] = np.where(diff_skipped, np.nan, diff[option].astype(float))

    micro = z == sizes.index("micro")
    status = ["unaware", "aware", "benefited"]
    for policy, (p_unaware, p_aware) in _POLICY_P.items():
        u = rng.random(n)
        cut1 = p_unaware + np.where(micro, 0.10, 0.0)  # micro firms know less …
        reach = np.where(micro & (policy == "p_finance"), 0.15, 0.0)  # … and get less credit
        v[policy] = _cat((u >= cut1).astype(int) + (u >= cut1 + p_aware + reach), status)

    sat = np.nan_to_num(ratings["overall_satisfaction"], nan=3)
    plans = ["increase", "stable", "decrease", "undecided"]
    for plan in ("invest_plan", "hiring_plan"):
        u = rng.random(n) + (sat - 3) * 0.08
        v[plan] = _cat(np.select([u > 0.78, u > 0.30, u > 0.12], [0, 1, 3], 2), plans)

    people = words.people(rng, n, r, regions)
    urgent, truth_cats = words.urgent_needs(rng, n, diff, inst)
    suggestions = words.suggestions(rng, n, diff, inst)
    urgent, ids_u = words.plant_identifiers(rng, urgent, people, "urgent_needs")
    suggestions, ids_s = words.plant_identifiers(rng, suggestions, people, "suggestions")
    v["urgent_needs"] = urgent
    v["suggestions"] = suggestions
    v.update(people)
    v["firm_id"] = _firm_ids(np.random.default_rng([seed, 6]), wave, r * 4 + z, attitude)

    visits = pd.DataFrame({c: v[c] for c in _visit_columns(inst)})
    truth_cats.insert(0, "visit_id", v["visit_id"])
    identifiers = pd.concat([ids_u, ids_s], ignore_index=True)
    identifiers.insert(0, "visit_id", v["visit_id"][identifiers.pop("row").to_numpy()])
    requests = _requests(rng, visits, diff)
    truth = SampleTruth(truth_cats, identifiers, _effects())
    return Sample(visits, requests, frame, truth)


def _firm_ids(rng, wave, stratum, attitude) -> np.ndarray:
    """Planted effect 6: in each region x size, half the second wave's visits revisit a
    first-wave firm, paired by their attitude (the firm effect of every rating), so a
    firm's answers agree across waves. Its own stream of random numbers: every other
    column is as without it."""
    firm = np.where(wave == WAVES[0], np.cumsum(wave == WAVES[0]) - 1, -1)
    for h in np.unique(stratum):
        a = np.flatnonzero((stratum == h) & (wave == WAVES[0]))
        b = np.flatnonzero((stratum == h) & (wave == WAVES[1]))
        k = min(round(PANEL_SHARE * len(b)), len(a))
        pa, pb = rng.choice(a, k, replace=False), rng.choice(b, k, replace=False)
        firm[pb[np.argsort(attitude[pb])]] = firm[pa[np.argsort(attitude[pa])]]
    new = firm < 0
    firm[new] = firm.max() + 1 + np.arange(new.sum())
    return np.char.add("F", np.char.zfill(firm.astype("U7"), 6))


def _cat(codes: np.ndarray, categories) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int16), categories=list(categories))


def _visit_columns(inst: Instrument):
    for q in inst.visits.fields:
        yield from q.columns


def _effects() -> dict:
    return {
        "financing_by_size": FINANCING_BY_SIZE,
        "drivers": DRIVERS,
        "improving_region": IMPROVING_REGION,
        "flat_region": FLAT_REGION,
        "government_change": {
            IMPROVING_REGION: GOV_CHANGE[IMPROVING_REGION],
            FLAT_REGION: GOV_CHANGE[FLAT_REGION],
            "others": GOV_DRIFT,
        },
        "identifier_share": PII_SHARE,
        "slowest_department": SLOWEST_DEPARTMENT,
        "median_days": _MEDIAN_DAYS,
        "never_handled": _NEVER_HANDLED,
        "faster_2025": _FASTER_2025,
        "ledger_as_of": LEDGER_AS_OF,
        "panel_share": PANEL_SHARE,
    }


def _frame(firms: int) -> pd.DataFrame:
    """Registered firms per wave x region x size. For very large samples the frame is
    scaled up so every stratum holds more firms than are sampled from it."""
    total = max(FRAME_FIRMS_2024, 70 * firms)
    rows = []
    for k, wave in enumerate(WAVES):
        for region, r_share in REGION_SHARE.items():
            for size, s_share in SIZE_SHARE.items():
                tilt = 2.0 if (region == "haixi" and size in ("large", "medium")) else 1.0
                count = round(total * FRAME_GROWTH**k * r_share * s_share * tilt)
                rows.append((wave, region, size, max(count, 6)))
    return pd.DataFrame(rows, columns=["wave", "region", "size", "firms"])


def _allocate(frame: pd.DataFrame, firms: int) -> pd.DataFrame:
    reg = pd.Series(REGION_SHARE) ** 0.5
    reg = reg / reg.sum()
    want = (
        (firms * frame["region"].map(reg) * frame["size"].map(SIZE_ALLOCATION)).round().astype(int)
    )
    out = frame.copy()
    out["n"] = np.minimum(np.maximum(want, 3), (frame["firms"] * 0.8).astype(int))
    return out


def _requests(rng, visits: pd.DataFrame, diff: dict) -> pd.DataFrame:
    n = len(visits)
    options = list(diff)
    ticked = np.column_stack([diff[o] for o in options])
    count = np.minimum(rng.poisson(0.20 + 0.15 * ticked.sum(axis=1)), 4)
    firm = np.repeat(np.arange(n), count)
    m = len(firm)
    keys = np.where(ticked[firm], rng.random((m, len(options))), -1)
    best = np.argmax(keys, axis=1)
    categories = [*options, "approval"]
    category = np.where(keys[np.arange(m), best] >= 0, best, options.index("other"))
    category = np.where(rng.random(m) < 0.12, len(options), category)
    departments = [*list(_MEDIAN_DAYS), "justice"]
    department = np.array([departments.index(_DEPARTMENT[c]) for c in categories])[category]
    inspection = category == options.index("inspection")
    department = np.where(
        inspection & (rng.random(m) < 0.3), departments.index("justice"), department
    )
    median_days = {**_MEDIAN_DAYS, "justice": 20}
    wave = visits["wave"].to_numpy()[firm]
    raised = visits["visit_date"].to_numpy().astype("datetime64[D]")[firm] + rng.integers(0, 8, m)
    median = np.array([median_days[d] for d in departments], dtype=float)[department]
    median = np.where(wave == WAVES[1], median * _FASTER_2025, median)
    days = np.maximum(1, np.rint(median * np.exp(rng.normal(0, 0.6, m)))).astype(int)
    never = rng.random(m) < np.where(
        wave == WAVES[1], _NEVER_HANDLED[WAVES[1]], _NEVER_HANDLED[WAVES[0]]
    )
    done = raised + days
    resolved = ~never & (done <= np.datetime64(LEDGER_AS_OF))
    later = wave == WAVES[1]
    seq = np.where(later, np.arange(m) - np.count_nonzero(~later), np.arange(m)) + 1
    flat, offsets, counts = words.flat_phrases(
        {**phrases()["urgent_needs"], "approval": ["项目审批手续办理慢，希望协调加快"]}, categories
    )
    summary = words.compose(
        ([0] * m, ["企业反映："]),
        (offsets[category] + (rng.random(m) * counts[category]).astype(int), flat),
    )
    return pd.DataFrame(
        {
            "request_id": np.char.add(
                np.char.add("RQ", wave.astype("U4")),
                np.char.add("-", np.char.zfill(seq.astype("U7"), 6)),
            ),
            "visit_id": visits["visit_id"].to_numpy()[firm],
            "category": _cat(category, categories),
            "department": _cat(department, departments),
            "status": _cat(
                np.where(resolved, 0, np.where(never, 2, 1)), ["resolved", "in_progress", "open"]
            ),
            "raised_date": raised,
            "resolved_date": np.where(resolved, done, np.datetime64("NaT")),
            "summary": summary,
        }
    )


def write_sample(sample: Sample, out: str | Path = DEFAULT_OUT) -> list[Path]:
    """Write visits.csv, requests.csv, frame.csv (UTF-8), the office's ledgers
    (submissions.csv, events.csv, services.csv) and README.md into ``out``.

    Returns the paths written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in (
        ("visits", sample.visits),
        ("requests", sample.requests),
        ("frame", sample.frame),
    ):
        path = out / f"{name}.csv"
        write_csv(df, path)
        paths.append(path)
    paths += write_ledgers(out)
    readme = out / "README.md"
    readme.write_text(_readme(sample), encoding="utf-8")
    paths.append(readme)
    return paths


def _readme(sample: Sample) -> str:
    v = sample.visits
    waves = ", ".join(f"{w}: {c:,}" for w, c in v.groupby("wave").size().items())
    effects = json.dumps(sample.truth.effects, ensure_ascii=False, indent=2)
    return f"""# Bundled sample (synthetic)

Made by `qifang sample` (`analysis.sample.generate.generate_sample`); regenerate it with
`qifang sample --out data/sample`. **Every firm, person, phone number and ID here is
invented.** The files follow `data/instrument/enterprise-visit.yaml`.

| file | rows | what |
|---|---|---|
| `visits.csv` | {len(v):,} ({waves}) | one row per visited firm |
| `requests.csv` | {len(sample.requests):,} | requests ledger, followed to {LEDGER_AS_OF} |
| `frame.csv` | {len(sample.frame):,} | registered firms per wave x region x size class |
| `submissions.csv` | {len(ledger_rows.submissions()):,} | submissions ledger (报送台账) |
| `events.csv` | {len(ledger_rows.events()):,} | adoptions, instructions, replies (采用/批示/答复) |
| `services.csv` | {len(ledger_rows.services()):,} | services ledger (服务台账), GBK |

Design: stratified by wave x region x size class, disproportionate allocation (large
and medium firms and small regions over-sampled); weight = frame firms / sampled firms
in the stratum.

## Planted effects

The analysis must recover these (the test suite checks it):

1. Micro firms cite financing difficulty far more often than large firms
   (probabilities 0.62 micro, 0.45 small, 0.28 medium, 0.12 large).
2. Overall satisfaction is driven mostly by two items: 政务服务便利度 (`r_service`)
   and 执法规范性 (`r_enforcement`).
3. 海东市's government-service ratings improve from 2024 to 2025 (+0.7 on the 1–5
   scale); 海西州's stay flat.
4. 75% of firms state urgent needs in their own words about the difficulties they
   ticked; 6% of those answers (3% of suggestions) contain a planted phone number,
   name, firm name, ID number, credit code or e-mail that must never reach a brief.
5. Requests: natural resources (`natres`) is the slowest department (median 75 days);
   2025 requests are resolved 25% faster; some requests are never handled.
6. Half of the 2025 visits in each region and size class revisit a 2024 firm
   (`firm_id`), paired so that a firm's ratings agree across waves: wave-to-wave
   changes must count the firm once, as a cluster.

Planted parameters, as the generator holds them:

```json
{effects}
```
{readme_section()}"""
