"""Qifang (企访): enterprise-visit survey data to policy briefs and proposal drafts.

The names below load on first use (PEP 562), so ``import analysis`` stays instant and
imports neither pandas nor statsmodels. The figures of a brief, on the bundled sample::

    from analysis import environment_index, frame_design, domain_mask, index_change
    from analysis.load import load

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
    "Design": "analysis.design",
    "difference": "analysis.compare",
    "versus_all": "analysis.compare",
    "chisq": "analysis.compare",
    "adjust_pvalues": "analysis.compare",
    "frame_design": "analysis.sampling",
    "domain_mask": "analysis.sampling",
    "firm_scores": "analysis.index",
    "environment_index": "analysis.index",
    "item_scores": "analysis.index",
    "region_ranking": "analysis.index",
    "index_change": "analysis.index",
    "difficulties": "analysis.indicators",
    "difficulty_gaps": "analysis.indicators",
    "policies": "analysis.indicators",
    "shares": "analysis.indicators",
    "key_drivers": "analysis.models",
    "suppress": "analysis.disclosure",
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
