"""Write tests/data/reference/panel.csv: two waves of a stratified sample of firms, half
of the second wave's firms revisited, a few of them in another size class by then.

R reads it in tests/data/r/make_reference_2.R (firm-clustered changes); the tests read
both. Run from the repository root:  .venv/bin/python tests/data/make_panel.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).parent / "reference" / "panel.csv"
STRATA = {"micro": (5000, 30), "small": (800, 20), "medium": (150, 15), "large": (40, 10)}


def main(seed: int = 13) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h, (N, n) in STRATA.items():
        firms = rng.choice(N, 2 * n, replace=False)
        first, fresh = firms[:n], firms[n : n + n // 2]
        kept = rng.choice(first, n - len(fresh), replace=False)
        effect = dict(zip(firms, rng.normal(0, 10, len(firms)), strict=True))
        for wave, ids in ((1, first), (2, np.concatenate([kept, fresh]))):
            for i in ids:
                y = 60 + 3 * (wave == 2) + effect[i] + rng.normal(0, 6)
                rows.append({"wave": wave, "size": h, "firm": f"{h}-{i}", "y": round(y, 2)})
    data = pd.DataFrame(rows)
    # three revisited small firms have grown into medium ones by the second wave
    grown = data[(data.wave == 2) & (data["size"] == "small")].firm
    grown = [f for f in grown if ((data.firm == f) & (data.wave == 1)).any()][:3]
    data.loc[data.firm.isin(grown) & (data.wave == 2), "size"] = "medium"
    n = data.groupby(["wave", "size"]).size().rename("n")
    data = data.join(n, on=["wave", "size"])
    data["fpc"] = data["size"].map({h: N for h, (N, _) in STRATA.items()})
    data["weight"] = data["fpc"] / data.pop("n")
    data["high"] = (data.y > 70).astype(int)
    data.to_csv(OUT, index=False)
    return data


if __name__ == "__main__":
    print(main().groupby(["wave", "size"]).size())
