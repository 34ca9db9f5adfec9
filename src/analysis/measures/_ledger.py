"""The ledger as the statistics need it, and the statistics per group.

:func:`prepare` checks the ledger and reduces it, as of a date, to status, an event
flag and days to resolution (or to the as-of date, when censored); the personal
``summary`` text is dropped there. The other functions compute per group.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import SurvfuncRight

from analysis.errors import ParameterError, Problem, ValidationError

STATUSES = ("resolved", "in_progress", "open")
_REQUIRED = ("status", "raised_date", "resolved_date")
_SOURCE = "requests ledger"
# Grouping by these would list single requests; summary is the firm's own words.
_NEVER_GROUP = ("request_id", "summary", "visit_id")


def prepare(
    requests: pd.DataFrame, as_of, by: str | Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.Timestamp, int]:
    """The ledger reduced to what the statistics need, as of a date: group columns
    (department, category, wave and those in ``by``), ``event`` (resolved by as_of),
    ``days`` (to resolution, or to as_of if censored) and the status as of that date.
    The summary text is dropped here."""
    for c in [by] if isinstance(by, str) else list(by or []):
        if c in _NEVER_GROUP:
            raise ParameterError(
                f"cannot group the ledger by {c!r}: each group would be one request",
                "group by department, category or wave",
            )
    missing = [c for c in _REQUIRED if c not in requests.columns]
    if missing:
        raise ValidationError(
            [
                Problem(
                    _SOURCE,
                    None,
                    c,
                    None,
                    f"required column {c!r} is missing",
                    "load the ledger with analysis.ingest.load.load(path, form='requests')",
                )
                for c in missing
            ]
        )
    status = requests["status"].astype("string")
    raised = pd.to_datetime(requests["raised_date"], errors="coerce")
    resolved = pd.to_datetime(requests["resolved_date"], errors="coerce")
    _check_rows(requests, status, raised, resolved)

    latest = max(raised.max(), resolved.max() if resolved.notna().any() else raised.max())
    as_of_ts = latest.normalize() if as_of is None else _timestamp(as_of)
    inside = (raised <= as_of_ts).to_numpy()
    done = (status == "resolved").to_numpy() & (resolved <= as_of_ts).to_numpy()
    days = (resolved.where(done, as_of_ts) - raised).dt.days.to_numpy()
    # A request resolved after the as-of date was still being handled on it.
    status_then = np.where(done, "resolved", np.where(status == "open", "open", "in_progress"))
    ledger = pd.DataFrame(
        {"status": status_then, "event": done.astype(int), "days": days.astype(float)},
        index=requests.index,
    )
    extra = [by] if isinstance(by, str) else list(by or [])
    for column in dict.fromkeys(["department", "category", "wave", *extra]):
        if column in requests.columns:
            ledger[column] = requests[column]
    return ledger[inside], as_of_ts, int((~inside).sum())


def _check_rows(requests, status, raised, resolved) -> None:
    ids = requests["request_id"] if "request_id" in requests.columns else None
    checks = [
        (
            ~status.isin(STATUSES).fillna(False),
            "status",
            "status is not resolved, in_progress or open (已办结/办理中/未办理)",
            "correct the status",
        ),
        (
            raised.isna(),
            "raised_date",
            "the date raised is missing or not a date",
            "fill in the date the request was raised",
        ),
        (
            (status == "resolved").fillna(False) & resolved.isna(),
            "resolved_date",
            "status is resolved but the resolution date is missing",
            "add the date it was resolved, or correct the status",
        ),
        (
            (resolved < raised).fillna(False),
            "resolved_date",
            "resolved before it was raised",
            "correct one of the two dates",
        ),
    ]
    # Problems name the request id: row numbers of a file are not known here.
    problems = [
        Problem(_SOURCE, None, column, None if ids is None else str(ids.iloc[pos]), message, fix)
        for mask, column, message, fix in checks
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool))
    ]
    if problems:
        raise ValidationError(problems)


def _timestamp(value) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise ParameterError(f"as_of={value!r} is not a date", "write it as 2025-12-31")
    return ts.normalize()


def check_days(days) -> int:
    if isinstance(days, bool) or not isinstance(days, (int, np.integer)) or days < 0:
        raise ParameterError(
            f"the overdue limit must be a whole number of days >= 0, got {days!r}",
            "pass e.g. days=60",
        )
    return int(days)


def group_columns(by, ledger: pd.DataFrame) -> list[str]:
    cols = [by] if isinstance(by, str) else list(by or [])
    for c in cols:
        if c not in ledger.columns:
            raise ParameterError(
                f"cannot group the ledger by {c!r}: no such column",
                "use department, category or wave, or add the column to the ledger",
            )
    return cols


def _groups(ledger: pd.DataFrame, by: list[str]):
    if not by:
        yield {}, ledger
        return
    for key, part in ledger.groupby(by, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, [_plain(k) for k in key], strict=True)), part


def resolution_table(ledger: pd.DataFrame, by: list[str] | None = None) -> pd.DataFrame:
    rows = []
    for key, part in _groups(ledger, by or []):
        counts = part["status"].value_counts()
        n = len(part)
        median, low, high = _km_median(part["days"].to_numpy(), part["event"].to_numpy())
        rows.append(
            {
                **key,
                "requests": n,
                **{s: int(counts.get(s, 0)) for s in STATUSES},
                "resolution_rate": counts.get("resolved", 0) / n if n else math.nan,
                "median_days": median,
                "median_ci_low": low,
                "median_ci_high": high,
            }
        )
    columns = [
        *(by or []),
        "requests",
        *STATUSES,
        "resolution_rate",
        "median_days",
        "median_ci_low",
        "median_ci_high",
    ]
    return pd.DataFrame(rows, columns=columns)


def _km_median(days: np.ndarray, event: np.ndarray) -> tuple[float, float, float]:
    if len(days) == 0 or event.sum() == 0:
        return math.nan, math.nan, math.nan
    sf = SurvfuncRight(days.astype(float), event.astype(float))
    median = float(sf.quantile(0.5))
    # The interval's transform takes logs of survival probabilities of 0 and 1; those
    # points simply fall outside the interval, so the warnings say nothing.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = (float(x) for x in sf.quantile_ci(0.5))
    return median, low, (high if math.isfinite(high) else math.nan)


def count_overdue(ledger: pd.DataFrame, limit: int, by: list[str]) -> pd.DataFrame:
    rows = []
    unresolved = ledger["event"] == 0
    late = unresolved & (ledger["days"] > limit)
    frame = ledger.assign(_unresolved=unresolved, _late=late)
    for key, part in _groups(frame, by):
        lp = part[part["_late"]]
        rows.append(
            {
                **key,
                "unresolved": int(part["_unresolved"].sum()),
                "overdue": len(lp),
                "open": int((lp["status"] == "open").sum()),
                "in_progress": int((lp["status"] == "in_progress").sum()),
                "oldest_days": float(lp["days"].max()) if len(lp) else math.nan,
            }
        )
    return pd.DataFrame(
        rows, columns=[*by, "unresolved", "overdue", "open", "in_progress", "oldest_days"]
    )


def wave_of_requests(requests: pd.DataFrame, visits: pd.DataFrame | None) -> pd.Series:
    if "wave" in requests.columns:
        wave = requests["wave"]
    elif visits is None:
        raise ParameterError(
            "the ledger has no wave column and no visits data was given",
            "pass the visits data (visit_id, wave) so each request finds its wave",
        )
    else:
        if "visit_id" not in requests.columns or not {"visit_id", "wave"} <= set(visits.columns):
            raise ParameterError(
                "need visit_id in the ledger and visit_id, wave in the visits",
                "load both files with analysis.ingest.load.load",
            )
        lookup = visits.drop_duplicates("visit_id").set_index("visit_id")["wave"]
        wave = requests["visit_id"].map(lookup)
    if wave.isna().any():
        raise ParameterError(
            f"{int(wave.isna().sum())} request(s) have no wave: their visit_id is not in "
            "the visits data",
            "run `qifang validate` on both files and correct the visit ids",
        )
    return wave


def _plain(x):
    return x.item() if isinstance(x, np.generic) else x
