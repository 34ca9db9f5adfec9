"""Checks across the cells of one file: required answers, duplicate ids, duplicate
frame strata, the ledger's dates against its statuses, and one summary warning per
optional question that some firms skipped. Used by :mod:`analysis.ingest.load`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import Problem
from analysis.ingest._coding import problem
from analysis.ingest.instrument import Form
from analysis.ingest.iorw import RawTable

SKIPPED = "skipped this optional question"


def row_checks(
    raw: RawTable, form: Form, data: pd.DataFrame, targets, flagged: set
) -> list[Problem]:
    """Checks across cells: required answers, duplicate ids, ledger consistency, and a
    summary warning per optional question that some firms skipped. A cell already
    reported as invalid is not reported again as empty."""
    problems: list[Problem] = []
    rows = raw.row_numbers
    header_of = {name: raw.header[cols[0][0]] for name, cols in targets.items()}
    for q in form.fields:
        if q.name not in targets:
            continue
        col = data[q.columns[0]] if q.type != "multi" else data[list(q.columns)].iloc[:, 0]
        empty = np.asarray(pd.isna(col))
        if q.required:
            for pos in np.flatnonzero(empty):
                if (int(rows[pos]), header_of[q.name]) in flagged:
                    continue
                problems.append(
                    problem(
                        raw,
                        rows[pos],
                        header_of[q.name],
                        "",
                        f"required '{q.short.zh}' ({q.name}) is empty",
                        "fill it in, or remove the row if it is not a real visit",
                    )
                )
        elif empty.any() and not q.personal:
            first = ", ".join(str(r) for r in rows[np.flatnonzero(empty)[:5]])
            problems.append(
                problem(
                    raw,
                    None,
                    header_of[q.name],
                    None,
                    f"{int(empty.sum())} of {len(empty)} rows {SKIPPED} (first rows: {first})",
                    "nothing to do if the firms did not answer it",
                    "warning",
                )
            )
    ident = form.by_role("id")
    if ident is not None and ident.name in targets:
        ids = data[ident.name]
        dup = ids.duplicated(keep=False) & ids.notna()
        if dup.any():
            first_row = pd.Series(rows).groupby(ids.to_numpy()).transform("min").to_numpy()
            for pos in np.flatnonzero(dup.to_numpy() & (first_row != rows)):
                problems.append(
                    problem(
                        raw,
                        rows[pos],
                        header_of[ident.name],
                        str(ids.iloc[pos]),
                        f"duplicate {ident.name}: also on row {first_row[pos]}",
                        "keep one of the rows, or give each visit its own id",
                    )
                )
    if form.name == "frame" and {"wave", "region", "size"} <= set(targets):
        stratum = data[["wave", "region", "size"]]
        # a row whose wave, region or size could not be read is reported already
        complete = stratum.notna().all(axis=1).to_numpy()
        keys = stratum.astype(object).where(stratum.notna(), "").astype(str)
        dup = keys.duplicated(keep=False).to_numpy() & data["firms"].notna().to_numpy()
        dup &= complete
        first_row = pd.Series(rows).groupby([keys[c] for c in keys]).transform("min").to_numpy()
        for pos in np.flatnonzero(dup & (first_row != rows)):
            problems.append(
                problem(
                    raw,
                    rows[pos],
                    header_of["region"],
                    " × ".join(keys.iloc[pos]),
                    f"this wave × region × size is also on row {first_row[pos]}",
                    "keep one count per stratum",
                )
            )
    if form.name == "requests" and {"status", "raised_date", "resolved_date"} <= set(targets):
        status = data["status"].astype(object)
        raised, resolved = data["raised_date"], data["resolved_date"]
        checks = [
            (
                (status == "resolved") & resolved.isna(),
                "resolved_date",
                "status is 已办结 (resolved) but the resolution date is empty",
                "add the date it was resolved, or correct the status",
            ),
            (
                resolved < raised,
                "resolved_date",
                "resolved before it was raised",
                "correct one of the two dates",
            ),
            (
                (status != "resolved") & resolved.notna() & status.notna(),
                "resolved_date",
                "has a resolution date but its status is not 已办结 (resolved)",
                "correct the status or remove the date",
            ),
        ]
        for mask, column, message, fix in checks:
            for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
                problems.append(
                    problem(
                        raw,
                        rows[pos],
                        header_of.get(column, column),
                        str(resolved.iloc[pos].date()) if pd.notna(resolved.iloc[pos]) else "",
                        message,
                        fix,
                    )
                )
    return problems
