"""Coverage of the brief's share intervals, logit against Korn-Graubard (beta).

Which interval should the brief print for a share? This draws repeated stratified
samples from a fixed synthetic population laid out like the bundled sample's 海东市
in 2025 (four size strata: 102 micro firms of 14,057, 68 small of 1,984, 39 medium of
413, 18 large of 83; weights from 4.6 to 138) and counts how often each method's 95%
interval covers the population share, in four domains a brief reports:

  region   all 227 firms of the region
  medium   the 39 medium firms (one stratum)
  large    the 18 large firms (one stratum, sampling fraction 22%)
  industry a tenth of the firms of every stratum (about 23 firms, all weights mixed)

It then checks the test of a gap between two size classes when there is none: 102
micro and 17 large firms (the 海东市 strata) cite a difficulty with the same
probability; how often is the gap called significant at 5%, by the t test on the
linearised SE (the old treatment) and by :func:`analysis.survey.compare.difference`
(MOVER where a side has fewer than 5 firms on one side of its share)?

Run:  .venv/bin/python simulations/share_intervals.py [--reps 1000]
Prints two tables; takes about three minutes.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survey.compare import difference
from analysis.survey.design import Design

STRATA = {"micro": (102, 14_057), "small": (68, 1_984), "medium": (39, 413), "large": (18, 83)}
SHARES = (0.02, 0.05, 0.10, 0.25, 0.50)
DOMAINS = ("region", "medium", "large", "industry")


def population(p: float, rng) -> dict:
    """Each stratum's firms: whether they cite the difficulty, and their industry flag."""
    return {h: (rng.random(N) < p, rng.random(N) < 0.10) for h, (_, N) in STRATA.items()}


def one_sample(pop: dict, rng) -> pd.DataFrame:
    parts = []
    for h, (n, N) in STRATA.items():
        take = rng.choice(N, n, replace=False)
        y, ind = pop[h]
        parts.append(pd.DataFrame({"size": h, "fpc": N, "y": y[take] * 1.0, "ind": ind[take]}))
    return pd.concat(parts, ignore_index=True)


def truth(pop: dict) -> dict:
    y = {h: pop[h][0] for h in STRATA}
    ind = {h: pop[h][1] for h in STRATA}
    every = np.concatenate([y[h] for h in STRATA])
    in_ind = np.concatenate([y[h][ind[h]] for h in STRATA])
    return {
        "region": every.mean(),
        "medium": y["medium"].mean(),
        "large": y["large"].mean(),
        "industry": in_ind.mean(),
    }


def run(reps: int, seed: int = 2025) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in SHARES:
        pop = population(p, rng)
        true = truth(pop)
        hits = {(d, m): 0 for d in DOMAINS for m in ("logit", "beta")}
        width = {(d, m): 0.0 for d in DOMAINS for m in ("logit", "beta")}
        zeros = dict.fromkeys(DOMAINS, 0)
        for _ in range(reps):
            data = one_sample(pop, rng)
            data["region"] = "all"
            data["medium"] = np.where(data["size"] == "medium", "in", None)
            data["large"] = np.where(data["size"] == "large", "in", None)
            data["industry"] = np.where(data["ind"], "in", None)
            design = Design(data, strata="size", fpc="fpc")
            for d in DOMAINS:
                for m in ("logit", "beta"):
                    row = design.proportion(["y"], by=d, method=m).iloc[0]
                    hits[d, m] += row.ci_low <= true[d] <= row.ci_high
                    width[d, m] += row.ci_high - row.ci_low
                zeros[d] += row.estimate == 0
        for d in DOMAINS:
            rows.append(
                {
                    "share": p,
                    "domain": d,
                    "true": round(true[d], 4),
                    "zero cells": zeros[d] / reps,
                    "logit coverage": hits[d, "logit"] / reps,
                    "beta coverage": hits[d, "beta"] / reps,
                    "logit width": width[d, "logit"] / reps,
                    "beta width": width[d, "beta"] / reps,
                }
            )
    return pd.DataFrame(rows)


def false_gaps(reps: int, seed: int = 17) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    size = np.repeat(["micro", "large"], [STRATA["micro"][0], STRATA["large"][0]])
    fpc = np.where(size == "micro", STRATA["micro"][1], STRATA["large"][1])
    rows = []
    for p in SHARES[:4]:
        old = new = 0
        for _ in range(reps):
            y = (rng.random(len(size)) < p).astype(float)
            design = Design(
                pd.DataFrame({"size": size, "fpc": fpc, "y": y}), strata="size", fpc="fpc"
            )
            out = difference(design, ["y"], "size", "micro", "large", statistic="proportion")
            row = out.iloc[0]
            with np.errstate(all="ignore"):
                t = 2 * stats.t.sf(abs(row.estimate / row.se), row.df) if row.estimate else 1.0
            old += t < 0.05
            new += row.p_value < 0.05
        rows.append({"share": p, "t test": old / reps, "difference()": new / reps})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    args = parser.parse_args()
    table = run(args.reps)
    print(f"{args.reps} samples per share; 95% intervals\n")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(
        f"\nNo true gap, 102 micro against 17 large firms: share called significant at 5% "
        f"({args.reps} samples)\n"
    )
    print(false_gaps(args.reps).to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
