"""The parameters of ``qifang results``: one declared contract, checked before anything runs.

The contract's survey part (the inputs that give the next wave's indicators, the
confidence level, the smallest cell, the language, the unit) is the same as a run's and
is checked by :func:`analysis.ingest.params.check`; the ledgers, their description and
the period are checked here. ``notebooks/4-office-results.ipynb`` declares exactly these
names with these defaults (a test checks it).
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from analysis.errors import ParameterError
from analysis.ingest import params as run_params
from analysis.tracking.periods import Period, parse_period


@dataclass(frozen=True)
class ResultsParams:
    """Parameters of a results report. Paths may be relative to the project folder;
    :func:`check` makes them absolute."""

    period: str = "2025"  # year (2025), half-year (2025H1), quarter (2025Q3) or from..to dates
    submissions: str = "data/sample/submissions.csv"  # 报送台账 (CSV or XLSX)
    events: str = "data/sample/events.csv"  # 采用/批示/答复台账
    services: str = "data/sample/services.csv"  # 服务台账
    ledgers: str = "data/instrument/office-ledgers.yaml"  # the ledgers' description
    lang: str = "zh"  # language of the brief: zh or en (drafts are made in both)
    unit: str = "省工商联"  # the unit whose work it is
    visits: str = "data/sample/visits.csv"  # survey, for the next wave's indicators
    requests: str = "data/sample/requests.csv"  # requests ledger of the survey; empty: none
    frame: str = "data/sample/frame.csv"  # registered firms per wave x region x size
    instrument: str = "data/instrument/enterprise-visit.yaml"  # questionnaire
    rules: str = ""  # extra suggestion rules (YAML); empty: the defaults only
    coding: str = ""  # extra open-answer coding dictionary (YAML); empty: defaults
    min_cell: int = 10  # survey cells with fewer respondents are suppressed
    confidence: float = 0.95  # confidence level of every interval
    office: str = "data/office/qinghai.yaml"  # office profile: unit, 工作信息 期号, English names

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def survey(self) -> run_params.Params:
        """The survey parameters of the indicators (the run contract's types and paths)."""
        keys = set(run_params.names()) & set(self.to_dict())
        return replace(run_params.Params(), **{k: getattr(self, k) for k in keys})

    @property
    def period_info(self) -> Period:
        return parse_period(self.period)


_LEDGER_PATHS = ("submissions", "events", "services", "ledgers")


def names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(ResultsParams))


def collect(namespace: dict[str, Any]) -> dict[str, Any]:
    """The contract's parameters out of a notebook's namespace (``globals()``)."""
    return {name: namespace[name] for name in names() if name in namespace}


def check(raw: dict[str, Any] | None = None, root: str | Path = run_params.ROOT) -> ResultsParams:
    """Check names, types, the period and the input files of a results report.

    Raises
    ------
    ParameterError
        An unknown name (with the closest valid one), a wrong type, a period that is
        not one, or an input file that does not exist.

    Examples
    --------
    >>> check({"period": "2025H1"}).period_info.label.zh
    '2025年上半年'
    """
    raw = dict(raw or {})
    valid = names()
    unknown = [k for k in raw if k not in valid]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, valid, n=1)
            hints.append(f"'{k}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise ParameterError(
            f"unknown parameter {', '.join(hints)}", f"valid parameters: {', '.join(valid)}"
        )
    survey_keys = set(run_params.names()) & set(valid)
    # the survey part is checked by the run's contract, with this contract's defaults
    defaults = ResultsParams().to_dict()
    survey = run_params.check({k: raw.get(k, defaults[k]) for k in survey_keys}, root)
    own = {}
    for name in ("period", *_LEDGER_PATHS):
        if name not in raw:
            continue
        value = raw[name]
        if value is None or not isinstance(value, str | int) or not str(value).strip():
            raise ParameterError(f"{name} cannot be empty", f"give a value for {name}")
        own[name] = str(value).strip()
    p = replace(
        ResultsParams(),
        **own,
        **{k: getattr(survey, k) for k in survey_keys},
    )
    parse_period(p.period)
    paths = {}
    for name in _LEDGER_PATHS:
        path = Path(getattr(p, name))
        path = path if path.is_absolute() else Path(root) / path
        if not path.is_file():
            raise ParameterError(
                f"{name}: file not found: {path}",
                f"give the path of the {name} file, e.g. {name}=data/raw/…",
            )
        paths[name] = str(path)
    return replace(p, **paths)


def folder_name(p: ResultsParams) -> str:
    """The results folder's name: ``results-2025``, ``results-2025H1-en`` …"""
    return f"results-{p.period_info.key}" + ("" if p.lang == "zh" else f"-{p.lang}")
