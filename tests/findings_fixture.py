"""Findings of the bundled sample, built once per test session (about 2 s)."""

from __future__ import annotations

from functools import cache


@cache
def sample_findings(**params):
    from analysis.findings.build import build_findings, open_survey

    return build_findings(open_survey(dict(params)))
