"""Difficulties, support policies, satisfaction and outlook: the shares a brief reports.

All shares are design-weighted, among the firms that answered the question, estimated
inside the brief's domain and suppressed at ``min_cell``. Their intervals are Korn and
Graubard's (``method="beta"`` of :meth:`analysis.survey.design.Design.proportion`, R's
``svyciprop(method="beta")``) unless ``method="logit"`` is asked for: in a simulation
of the sample's 海东市 (``simulations/share_intervals.py``, results in the README) they
covered the true share at least as often as the logit interval for shares of 2-10% in
cells of 18-39 firms (e.g. 99.2% against 92.3% for 2% among 39 medium firms), and were
narrower there; for shares of 25-50% the two agree within a point.

Policies (``p_*``: unaware / aware / benefited) give three rates each:

``aware``
    share of firms that know the policy: answered aware or benefited;
``benefited``
    share of firms that benefited from it;
``reach_gap``
    among the firms that know the policy, the share that did not benefit:
    aware / (aware + benefited). A domain proportion (its base is the aware firms),
    so it answers "of the firms the policy reached in awareness, how many did it
    fail to reach in fact", and is comparable across policies of different fame.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from analysis.errors import DesignError
from analysis.ingest.instrument import MULTI_SEP, Instrument, load_instrument
from analysis.survey import _joint, disclosure, multiplicity
from analysis.survey.compare import difference
from analysis.survey.design import Design

MEASURES = ("aware", "benefited", "reach_gap")
SHARE_METHOD = "beta"  # interval of every share a brief prints (see the module notes)
OUTLOOK = ("overall_satisfaction", "invest_plan", "hiring_plan")


def difficulties(
    design: Design,
    *,
    by: str | Sequence[str] | None = None,
    domain=None,
    question: str = "difficulties",
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
    method: str = SHARE_METHOD,
) -> pd.DataFrame:
    """The share of firms citing each difficulty, ranked, overall or by size, industry …

    Parameters
    ----------
    design : the survey design.
    by : domain column(s), e.g. ``"size"`` or ``"industry"``; None: the whole domain.
    domain : the brief's population as a boolean mask
        (:func:`analysis.survey.sampling.domain_mask`).
    question : the multi-select question (its options are ``<question>__<option>``
        0/1 columns; a firm that skipped the question is missing in all of them).
    instrument : the questionnaire; default the bundled one.
    min_cell : cells with fewer answering firms are suppressed.
    confidence : interval level; default the design's.
    method : interval of the shares, ``"beta"`` (default) or ``"logit"``.

    Returns
    -------
    DataFrame with the ``by`` columns, ``option``, ``estimate, se, ci_low, ci_high,
    df, n, suppressed`` and ``rank`` (1 = most cited within its ``by`` cell; ties
    share a rank; suppressed cells are not ranked), sorted by cell then rank.

    Raises
    ------
    DesignError
        no option column of the question in the data; a bad domain.

    Examples
    --------
    >>> difficulties(design, by="size", domain=mask)                 # doctest: +SKIP
    """
    options = _options(design.data, question, instrument)
    columns = [f"{question}{MULTI_SEP}{o}" for o in options]
    out = _shares(design, columns, by, domain, min_cell, confidence, method)
    out = out.rename(columns={"level": "option"})
    out["option"] = out["option"].str.slice(len(question) + len(MULTI_SEP))
    keys = _by(by)
    group = out.groupby(keys, sort=False, observed=True) if keys else None
    ranked = out["estimate"] if group is None else group["estimate"]
    out["rank"] = ranked.rank(ascending=False, method="min")
    order = [*keys, "rank"] if keys else ["rank"]
    return out.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)


def difficulty_gaps(
    design: Design,
    *,
    by: str = "size",
    a: Hashable = "micro",
    b: Hashable = "large",
    domain=None,
    question: str = "difficulties",
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
) -> pd.DataFrame:
    """How much more often firms of one kind cite each difficulty than firms of another.

    Parameters
    ----------
    design, domain, question, instrument, min_cell, confidence : as
        :func:`difficulties`.
    by : the column that defines the two groups (default the size class).
    a, b : its two levels compared, ``a`` minus ``b`` (default micro minus large).

    Returns
    -------
    DataFrame with ``option``, ``estimate_a, estimate_b, estimate`` (a - b, in
    share points), ``se, ci_low, ci_high, df, p_value``, ``q_value`` (Benjamini-
    Hochberg over the options), ``significant`` (q < 1 - confidence), ``n_a, n_b,
    suppressed``. Suppressed when either group has fewer than ``min_cell`` firms.

    Examples
    --------
    >>> difficulty_gaps(design, a="micro", b="large")                # doctest: +SKIP
    """
    disclosure.check_min_cell(min_cell)
    options = _options(design.data, question, instrument)
    columns = [f"{question}{MULTI_SEP}{o}" for o in options]
    d, within = _joint.within(design, domain, None)
    out = difference(
        d, columns, by, a, b, statistic="proportion", within=within, confidence=confidence
    )
    out = _joint.strip(out).rename(columns={"level": "option"})
    out["option"] = out["option"].str.slice(len(question) + len(MULTI_SEP))
    return multiplicity.add_q(disclosure.suppress(out, min_cell), design._level(confidence))


def policies(
    design: Design,
    *,
    by: str | Sequence[str] | None = None,
    domain=None,
    instrument: Instrument | None = None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
    method: str = SHARE_METHOD,
) -> pd.DataFrame:
    """Awareness, benefit and reach gap of each support policy (see the module notes).

    Parameters
    ----------
    design, by, domain, instrument, min_cell, confidence, method : as :func:`difficulties`.

    Returns
    -------
    DataFrame with the ``by`` columns, ``policy``, ``measure`` (``aware``,
    ``benefited``, ``reach_gap``), ``estimate, se, ci_low, ci_high, df, n,
    suppressed``; ``n`` is the base: firms answering the question, or for the reach
    gap the firms aware of the policy.

    Raises
    ------
    DesignError
        no policy question (``p_*`` with choices unaware / aware / benefited).

    Examples
    --------
    >>> policies(design, domain=mask).query("measure == 'reach_gap'")  # doctest: +SKIP
    """
    inst = instrument or load_instrument()
    names = [
        q.name
        for q in inst.visits.fields
        if q.type == "single" and set(q.values) == {"unaware", "aware", "benefited"}
    ]
    names = [x for x in names if x in design.data.columns]
    if not names:
        raise DesignError(
            "the data has no policy question (choices unaware / aware / benefited)",
            "load the visits with the instrument that defines the p_* questions",
        )
    derived = {}
    for name in names:
        status = design.data[name].astype("object").to_numpy()
        answered = pd.notna(status)
        aware = np.isin(status, ["aware", "benefited"])
        benefited = status == "benefited"
        derived[f"{name}|aware"] = np.where(answered, aware, np.nan)
        derived[f"{name}|benefited"] = np.where(answered, benefited, np.nan)
        derived[f"{name}|reach_gap"] = np.where(aware, ~benefited, np.nan)
    out = _shares(design.assign(**derived), list(derived), by, domain, min_cell, confidence, method)
    parts = out.pop("level").str.split("|", n=1, expand=True)
    at = len(_by(by))
    out.insert(at, "policy", parts[0])
    out.insert(at + 1, "measure", parts[1])
    return out


def shares(
    design: Design,
    questions: Sequence[str] = OUTLOOK,
    *,
    by: str | Sequence[str] | None = None,
    domain=None,
    min_cell: int = disclosure.MIN_CELL,
    confidence: float | None = None,
    method: str = SHARE_METHOD,
) -> pd.DataFrame:
    """The distribution of single-choice answers: satisfaction, investment and hiring plans.

    Parameters
    ----------
    design, by, domain, min_cell, confidence, method : as :func:`difficulties`.
    questions : the single-choice or rating columns (default overall satisfaction and
        the two outlook plans).

    Returns
    -------
    DataFrame with the ``by`` columns, ``question``, ``level`` (each answer, as
    stored: a choice code or a rating), ``estimate, se, ci_low, ci_high, df, n,
    suppressed``; each question's shares sum to 1 within a cell.

    Examples
    --------
    >>> shares(design, ["invest_plan"], by="size")                    # doctest: +SKIP
    """
    disclosure.check_min_cell(min_cell)
    d, keys = _joint.within(design, domain, by)
    parts = []
    for question in [questions] if isinstance(questions, str) else list(questions):
        table = _joint.strip(d.proportion(question, by=keys, confidence=confidence, method=method))
        table.insert(len(_by(by)), "question", question)
        # a rating is stored as 5.0 but its choice code is 5
        table["level"] = [_code(v) for v in table["level"]]
        parts.append(table)
    return disclosure.suppress(pd.concat(parts, ignore_index=True), min_cell)


# -- private ---------------------------------------------------------------------------


def _by(by) -> list[str]:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


def _code(value):
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return value.item() if isinstance(value, np.generic) else value


def _shares(design, columns, by, domain, min_cell, confidence, method) -> pd.DataFrame:
    disclosure.check_min_cell(min_cell)
    d, keys = _joint.within(design, domain, by)
    out = _joint.strip(d.proportion(columns, by=keys, confidence=confidence, method=method))
    return disclosure.suppress(out, min_cell)


def _options(data: pd.DataFrame, question: str, instrument: Instrument | None) -> list[str]:
    """The question's options that have a column, in the instrument's order."""
    prefix = f"{question}{MULTI_SEP}"
    present = [c[len(prefix) :] for c in data.columns if str(c).startswith(prefix)]
    inst = instrument or load_instrument()
    if question in inst.visits:
        order = [str(v) for v in inst.question(question).values]
        present = [o for o in order if o in present] + [o for o in present if o not in order]
    if not present:
        raise DesignError(
            f"the data has no option columns {prefix}<option> of question {question!r}",
            "load the visits with the instrument (multi-selects become one 0/1 column per option)",
        )
    return present
