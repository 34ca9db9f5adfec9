"""Qifang (企访): enterprise-visit survey data to policy briefs and proposal drafts.

The names below load on first use (PEP 562), so ``import analysis`` stays instant and
imports neither pandas nor statsmodels. The figures of a brief, on the bundled sample::

    from analysis import environment_index, frame_design, domain_mask, index_change
    from analysis.ingest.load import load

    visits = load("data/sample/visits.csv").data
    design = frame_design(visits, load("data/sample/frame.csv", "frame").data)
    latest = domain_mask(design.data, wave=2025)          # the brief's population
    environment_index(design, by="region", domain=latest)  # 0-100, SE, CI, n
    index_change(design, by="region")                      # 2025 - 2024, q-values
    design.methods                                         # for the methods note
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "Design": "analysis.survey.design",
    "difference": "analysis.survey.compare",
    "versus_all": "analysis.survey.compare",
    "chisq": "analysis.survey.compare",
    "adjust_pvalues": "analysis.survey.multiplicity",
    "frame_design": "analysis.survey.sampling",
    "domain_mask": "analysis.survey.sampling",
    "firm_scores": "analysis.measures.index",
    "environment_index": "analysis.measures.index",
    "item_scores": "analysis.measures.index",
    "region_ranking": "analysis.measures.index",
    "index_change": "analysis.measures.index",
    "difficulties": "analysis.measures.indicators",
    "difficulty_gaps": "analysis.measures.indicators",
    "policies": "analysis.measures.indicators",
    "shares": "analysis.measures.indicators",
    "key_drivers": "analysis.measures.models",
    "suppress": "analysis.survey.disclosure",
    "load_instrument": "analysis.ingest.instrument",
    "Findings": "analysis.findings.model",
    "load_rules": "analysis.writing.suggest",
    "suggest": "analysis.writing.suggest",
    "Brief": "analysis.writing.brief",
    "make_drafts": "analysis.writing.drafts",
    "audit": "analysis.writing.drafts",
    "read_ledgers": "analysis.tracking.ledgers",
    "parse_period": "analysis.tracking.periods",
    "Results": "analysis.tracking.model",
    "ResultsBrief": "analysis.tracking.brief",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
