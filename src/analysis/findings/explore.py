"""The analysis notebook's tables: each estimate of a brief as a table a researcher
reads, for any region, however small.

``table(survey, "drivers")`` calls the measure with the survey's own instrument and
domain. Where the domain cannot support it (a model that cannot be fitted, no second
wave, no ledger), it returns a :class:`Note` saying so in one sentence instead of
stopping the notebook, as the brief leaves the section out.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import pandas as pd

from analysis.findings.build import UNFIT, Survey
from analysis.findings.model import Findings

TABLES = (
    "index",
    "items",
    "regions",
    "changes",
    "difficulties",
    "gaps",
    "policies",
    "drivers",
    "voices",
    "requests",
    "suppressed",
)


@dataclass(frozen=True)
class Note:
    """Why a table is not there, shown as one line in a notebook."""

    text: str

    def _repr_html_(self) -> str:
        return f"<p><em>{escape(self.text)}</em></p>"

    def __repr__(self) -> str:
        return self.text


def table(survey: Survey, name: str, findings: Findings | None = None) -> pd.DataFrame | Note:
    """One table of the analysis, or a :class:`Note` saying why there is none.

    Parameters
    ----------
    survey : from :func:`analysis.findings.build.open_survey`.
    name : one of :data:`TABLES`.
    findings : the brief's findings (needed for ``voices``, ``requests`` and
        ``suppressed``, which are read from them).

    Examples
    --------
    >>> table(survey, "regions").query("dimension == 'overall'")  # doctest: +SKIP
    """
    if name not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}")
    try:
        return _TABLES[name](survey, findings)
    except UNFIT as exc:
        return Note(f"{name}: not estimable for this population ({exc})")


def _kw(s: Survey) -> dict:
    return {"instrument": s.instrument, "min_cell": s.params.min_cell}


def _index(s, f):
    from analysis.measures.index import environment_index

    return environment_index(s.design, domain=s.domain, **_kw(s))


def _items(s, f):
    from analysis.measures.index import item_scores

    return item_scores(s.design, domain=s.domain, **_kw(s))


def _regions(s, f):
    import numpy as np

    from analysis.findings import _sections
    from analysis.measures.index import region_ranking

    p = s.params
    whole = _sections.mask(s.design.data, industry=p.industry, size=p.size)
    whole &= s.design.data["wave"].to_numpy() == p.wave
    return region_ranking(s.design, domain=np.asarray(whole), **_kw(s))


def _changes(s, f):
    from analysis.measures.index import index_change

    p = s.params
    if p.compare_wave is None:
        return Note("changes: the data has one wave only, so there is no change to show")
    return index_change(
        s.design,
        current=p.wave,
        previous=p.compare_wave,
        by="region",
        domain=s.scope_all_waves,
        **_kw(s),
    )


def _difficulties(s, f):
    from analysis.measures.indicators import difficulties

    return difficulties(s.design, domain=s.domain, **_kw(s))


def _gaps(s, f):
    from analysis.measures.indicators import difficulty_gaps

    return difficulty_gaps(s.design, domain=s.domain, **_kw(s))


def _policies(s, f):
    from analysis.measures.indicators import policies

    return policies(s.design, domain=s.domain, **_kw(s))


def _drivers(s, f):
    from analysis.measures.models import key_drivers

    if not s.instrument.has("overall_satisfaction"):
        return Note("drivers: the questionnaire has no overall-satisfaction question")
    d = key_drivers(s.design, domain=s.domain, **_kw(s))
    if d.model == "none":
        return Note(f"drivers: {d.reason}")
    return d.importance.assign(model=d.model)


def _voices(s, f):
    blocks = [b for b in (f.open_answers if f else []) if b.categories]
    if not blocks:
        return Note("voices: no open answers in this population")
    return pd.DataFrame(
        [
            {
                "question": b.field,
                "category": c.code,
                "label": c.label.zh,
                "answers": c.count,
                "share": c.share.estimate,
                "phrases": "、".join(c.phrases[:5]),
            }
            for b in blocks
            for c in b.categories
        ]
    )


def _requests(s, f):
    if f is None or f.requests is None:
        o = f.omission("requests") if f else None
        return Note(f"requests: {o.reason.en}" if o else "requests: no ledger")
    return pd.DataFrame([r.model_dump() for r in f.requests.by_department])


def _suppressed(s, f):
    return pd.DataFrame([x.model_dump() for x in (f.suppressed if f else [])])


_TABLES = {
    "index": _index,
    "items": _items,
    "regions": _regions,
    "changes": _changes,
    "difficulties": _difficulties,
    "gaps": _gaps,
    "policies": _policies,
    "drivers": _drivers,
    "voices": _voices,
    "requests": _requests,
    "suppressed": _suppressed,
}
