"""Build the results of a period from the ledgers: the tracking stage's last step.

:func:`open_ledgers` reads and checks everything a results report needs — the
parameters, the three ledgers, the links of submissions to runs and rules — and stops
on the first error with every problem listed, before anything is computed.
:func:`build_results` counts (:mod:`analysis.tracking.count`), closes the loop
(:mod:`analysis.tracking.loop`) and returns a :class:`~analysis.tracking.model.Results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analysis.errors import ParameterError, ValidationError
from analysis.findings.model import Text
from analysis.ingest.instrument import Instrument, load_instrument
from analysis.tracking import count, loop
from analysis.tracking import model as m
from analysis.tracking.ledgers import LEDGERS, Ledgers, read_ledgers
from analysis.tracking.params import ResultsParams, check
from analysis.tracking.periods import Period
from analysis.tracking.spec import load_spec


@dataclass(frozen=True)
class Office:
    """Everything a results report is made from, read and checked."""

    params: ResultsParams
    period: Period
    ledgers: Ledgers
    instrument: Instrument
    rules: list
    profile: object  # the office profile (analysis.ingest.office.Office) the drafts name


def open_ledgers(raw: dict | ResultsParams | None = None) -> Office:
    """Check the parameters and read and check the ledgers.

    Raises
    ------
    ParameterError
        A bad parameter or period, or a missing file.
    InputFileError, ValidationError, LedgerSpecError, RuleError, ProfileError
        A ledger that cannot be read or breaks a rule (every problem of the three files
        listed, with file, row, column and value), a bad ledgers description, rules
        file or office profile.
    """
    from analysis.ingest.office import load_office
    from analysis.writing.suggest import load_rules

    p = raw if isinstance(raw, ResultsParams) else check(raw)
    period = p.period_info
    instrument = load_instrument(p.instrument)
    ledgers = read_ledgers(
        p.submissions, p.events, p.services, load_spec(p.ledgers), instrument, strict=False
    )
    rules = load_rules(p.rules or None, instrument)
    problems = list(ledgers.problems)
    if not ledgers.errors:
        problems += loop.check_links(ledgers, period, instrument, rules)
    if any(x.severity == "error" for x in problems):
        raise ValidationError(problems)
    _covers(ledgers, period, p.period)
    # the profile's own unit: the `unit` parameter is the results' short name (省工商联)
    return Office(p, period, ledgers, instrument, rules, load_office(p.office))


def _covers(ledgers: Ledgers, period: Period, asked: str) -> None:
    """Stop when no row of any ledger falls in the period: a report of nothing would
    read as a year without work."""
    import pandas as pd

    dates = pd.concat(
        [
            ledgers.submissions.data["submitted"],
            ledgers.events.data["date"],
            ledgers.services.data["date"],
        ]
    ).dropna()
    if dates.empty or period.contains(dates).any():
        return
    raise ParameterError(
        f"period={asked}: no submission, event or service in the ledgers is dated in "
        f"{period.label.en} (the ledgers run from {dates.min().date()} to {dates.max().date()})",
        "choose a period the ledgers cover, or give the ledgers of that period",
    )


def build_results(office: Office) -> m.Results:
    """Count the period's work and close the loop.

    Returns
    -------
    Results
        Saved with ``results.save(folder / "results.json")``.

    Examples
    --------
    >>> results = build_results(open_ledgers({"period": "2025"}))  # doctest: +SKIP
    >>> results.adoption.items.value  # doctest: +SKIP
    15.0
    """
    p, period, ledgers = office.params, office.period, office.ledgers
    submitted, kinds = count.submissions(ledgers, period)
    adoption = count.adoption(ledgers, period)
    services = count.services(ledgers, period)
    unit = Text(zh=p.unit, en=p.unit)
    return m.Results(
        title=Text(
            zh=f"{p.unit}{period.label.zh}工作成效",
            en=f"What became of the office's work: {period.label.en}",
        ),
        unit=unit,
        period=m.PeriodInfo(start=period.start, end=period.end, key=period.key, label=period.label),
        sources=[
            m.Source(
                ledger=name,
                file=Path(ledgers[name].path).name,
                sha256=ledgers[name].sha256,
                rows=len(ledgers[name].data),
            )
            for name in LEDGERS
        ],
        submitted=submitted,
        by_kind=kinds,
        adoption=adoption,
        proposals=count.proposals(ledgers, period),
        topics=count.topics(ledgers, period),
        lines=count.lines(ledgers),
        services=services,
        loop=loop.close_loop(ledgers, period, p.survey, office.instrument, office.rules),
        notes=count.notes(ledgers, adoption, services),
    )
