"""The requests ledger (诉求办理台账): how the requests firms raise are followed through.

Each row of the ledger is one request a firm raised in a visit, with the department
responsible, its status (已办结 resolved, 办理中 in progress, 未办理 open) and the
dates it was raised and resolved. This module reports, as of a date:

- how many requests were resolved, overall and by department and category;
- how long resolution takes: the Kaplan–Meier median of days to resolve, with
  requests still unresolved at the as-of date counted as right-censored (a request
  open for 90 days says resolution takes more than 90 days, not that it took 90);
- the unresolved requests older than a limit (default 60 days), counted by
  department and category;
- the change between survey waves, with a log-rank test.

Results are plain data (frozen dataclasses of Python numbers, and DataFrames) that
the findings stage serialises. The ledger's ``summary`` column (the request in the
firm's words) is personal text and never leaves this module: no result holds it.

Examples
--------
>>> from analysis.ingest.load import load
>>> requests = load("data/sample/requests.csv", form="requests").data
>>> report = ledger_report(requests)
>>> report.as_of
'2025-12-31'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd
from statsmodels.duration.survfunc import survdiff

from analysis.measures._ledger import (
    check_days,
    count_overdue,
    group_columns,
    prepare,
    resolution_table,
    wave_of_requests,
)

__all__ = [
    "LedgerReport",
    "WaveChange",
    "follow_through",
    "ledger_report",
    "overdue",
    "wave_change",
]

DEFAULT_OVERDUE_DAYS = 60


@dataclass(frozen=True)
class WaveChange:
    """Follow-through by survey wave and a test of the difference in time to resolve.

    Attributes
    ----------
    table : one row per wave: the columns of :func:`follow_through`.
    statistic : log-rank chi-square statistic (NaN with fewer than two waves).
    df : its degrees of freedom (waves minus one).
    p_value : its p-value.
    test : ``"logrank"``.
    """

    table: pd.DataFrame
    statistic: float
    df: int
    p_value: float
    test: str = "logrank"


@dataclass(frozen=True)
class LedgerReport:
    """The ledger's follow-through as of a date.

    Attributes
    ----------
    as_of : the as-of date (ISO); requests raised after it are left out.
    requests, resolved, in_progress, open : counts as of ``as_of``.
    resolution_rate : resolved / requests.
    median_days, median_ci_low, median_ci_high : Kaplan–Meier median days to resolve
        and its 95% confidence interval (None where not estimable, e.g. the upper
        limit when fewer than half the requests are resolved).
    overdue_days : the limit for :attr:`overdue`.
    overdue : unresolved requests raised more than ``overdue_days`` days before
        ``as_of``.
    left_out : requests raised after ``as_of``.
    by_department, by_category : :func:`follow_through` per group.
    overdue_by_department, overdue_by_category : :func:`overdue` per group.
    waves : :func:`wave_change`, or None when the waves are unknown.
    """

    as_of: str
    requests: int
    resolved: int
    in_progress: int
    open: int
    resolution_rate: float
    median_days: float | None
    median_ci_low: float | None
    median_ci_high: float | None
    overdue_days: int
    overdue: int
    left_out: int
    by_department: pd.DataFrame
    by_category: pd.DataFrame
    overdue_by_department: pd.DataFrame
    overdue_by_category: pd.DataFrame
    waves: WaveChange | None


def ledger_report(
    requests: pd.DataFrame,
    visits: pd.DataFrame | None = None,
    as_of: str | date | pd.Timestamp | None = None,
    overdue_days: int = DEFAULT_OVERDUE_DAYS,
) -> LedgerReport:
    """Everything the brief says about the ledger, in one object.

    Parameters
    ----------
    requests : the ledger as loaded by ``analysis.ingest.load.load(path, form="requests")``
        (``.data``): status, raised_date, resolved_date, department, category,
        visit_id.
    visits : the visits data, to find each request's wave by its visit_id; not
        needed when the ledger has a ``wave`` column. None and no such column: no
        wave comparison.
    as_of : the date the ledger was last updated; default the latest date in it.
    overdue_days : a request unresolved for more than this many days at ``as_of``
        is overdue.

    Returns
    -------
    LedgerReport

    Raises
    ------
    ValidationError
        A missing column; a status other than resolved, in_progress or open; a
        resolved request without a resolution date; a date resolved before raised.
    ParameterError
        ``as_of`` is not a date; ``overdue_days`` is not a whole number >= 0;
        requests whose visit_id is not in ``visits``.

    Examples
    --------
    >>> report = ledger_report(requests, visits)  # doctest: +SKIP
    >>> report.by_department.sort_values("median_days").tail(1).department  # doctest: +SKIP
    """
    ledger, as_of_ts, left_out = prepare(requests, as_of)
    limit = check_days(overdue_days)
    overall = resolution_table(ledger).iloc[0]
    waves = None
    if "wave" in requests.columns or visits is not None:
        waves = _wave_change(ledger, wave_of_requests(requests, visits).loc[ledger.index])
    return LedgerReport(
        as_of=as_of_ts.date().isoformat(),
        requests=int(overall["requests"]),
        resolved=int(overall["resolved"]),
        in_progress=int(overall["in_progress"]),
        open=int(overall["open"]),
        resolution_rate=float(overall["resolution_rate"]),
        median_days=_optional(overall["median_days"]),
        median_ci_low=_optional(overall["median_ci_low"]),
        median_ci_high=_optional(overall["median_ci_high"]),
        overdue_days=limit,
        overdue=int(count_overdue(ledger, limit, []).iloc[0]["overdue"]),
        left_out=left_out,
        by_department=resolution_table(ledger, ["department"]),
        by_category=resolution_table(ledger, ["category"]),
        overdue_by_department=count_overdue(ledger, limit, ["department"]),
        overdue_by_category=count_overdue(ledger, limit, ["category"]),
        waves=waves,
    )


def follow_through(
    requests: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    as_of: str | date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Resolution counts, rate and Kaplan–Meier median days to resolve.

    Parameters
    ----------
    requests : the ledger (see :func:`ledger_report`).
    by : column(s) of the ledger to group by (``"department"``, ``"category"``, a
        ``wave`` column, …); None: overall. Not request_id, visit_id or summary.
    as_of : the as-of date; default the latest date in the ledger. A request resolved
        after it counts as in progress; one raised after it is left out.

    Returns
    -------
    DataFrame with the ``by`` columns, then ``requests``, ``resolved``,
    ``in_progress``, ``open``, ``resolution_rate``, ``median_days``,
    ``median_ci_low``, ``median_ci_high`` (NaN where not estimable).

    Raises
    ------
    ValidationError, ParameterError
        As :func:`ledger_report`.

    Notes
    -----
    Days to resolve run from raised_date to resolved_date; an unresolved request is
    censored at ``as_of``. The median is statsmodels' ``SurvfuncRight.quantile(0.5)``:
    the first time the survival curve falls *below* 0.5 (SAS's convention; where the
    curve sits exactly at 0.5, R's ``survfit`` reports the midpoint instead). The
    interval inverts the test on the complementary log-log scale
    (``quantile_ci``); its upper limit is NaN when the curve does not fall far enough.

    Examples
    --------
    >>> follow_through(requests, by="department")  # doctest: +SKIP
    """
    ledger, _, _ = prepare(requests, as_of, by)
    return resolution_table(ledger, group_columns(by, ledger))


def overdue(
    requests: pd.DataFrame,
    days: int = DEFAULT_OVERDUE_DAYS,
    by: str | Sequence[str] | None = "department",
    as_of: str | date | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Unresolved requests older than a limit, counted (never listed).

    Parameters
    ----------
    requests : the ledger (see :func:`ledger_report`).
    days : the limit: overdue means unresolved more than ``days`` days after it was
        raised, counted to ``as_of``.
    by : column(s) to count by; None: one overall row.
    as_of : the as-of date; default the latest date in the ledger.

    Returns
    -------
    DataFrame with the ``by`` columns, ``unresolved``, ``overdue`` and, of those,
    ``open`` and ``in_progress``, and ``oldest_days`` (the age of the oldest
    overdue request). Only counts: no request text or id leaves the module.

    Raises
    ------
    ValidationError, ParameterError
        As :func:`ledger_report`.

    Examples
    --------
    >>> overdue(requests, days=60, by="department")  # doctest: +SKIP
    """
    ledger, _, _ = prepare(requests, as_of, by)
    return count_overdue(ledger, check_days(days), group_columns(by, ledger))


def wave_change(
    requests: pd.DataFrame,
    visits: pd.DataFrame | None = None,
    as_of: str | date | pd.Timestamp | None = None,
) -> WaveChange:
    """Follow-through by survey wave, and whether time to resolve differs between waves.

    Parameters
    ----------
    requests : the ledger (see :func:`ledger_report`); its own ``wave`` column is used
        when it has one.
    visits : the visits data (visit_id, wave), to find each request's wave.
    as_of : the as-of date; default the latest date in the ledger.

    Returns
    -------
    WaveChange
        One row per wave (:func:`follow_through` columns) and the log-rank test of
        equal time-to-resolve curves (statsmodels ``survdiff``), which counts open
        requests as censored.

    Raises
    ------
    ParameterError
        Neither a ``wave`` column nor ``visits``; visit_ids not found in ``visits``.
    ValidationError
        As :func:`ledger_report`.

    Examples
    --------
    >>> change = wave_change(requests, visits)  # doctest: +SKIP
    >>> change.table[["wave", "median_days"]]  # doctest: +SKIP
    """
    ledger, _, _ = prepare(requests, as_of)
    return _wave_change(ledger, wave_of_requests(requests, visits).loc[ledger.index])


# -- helpers -------------------------------------------------------------------------


def _wave_change(ledger: pd.DataFrame, wave: pd.Series) -> WaveChange:
    frame = ledger.assign(wave=wave.to_numpy())
    table = resolution_table(frame, ["wave"])
    k = len(table)
    statistic = p_value = math.nan
    if k >= 2 and frame["event"].sum() > 0:
        codes = pd.factorize(frame["wave"], sort=True)[0]
        statistic, p_value = (
            float(x) for x in survdiff(frame["days"].to_numpy(), frame["event"].to_numpy(), codes)
        )
    return WaveChange(table=table, statistic=statistic, df=max(k - 1, 0), p_value=p_value)


def _optional(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
