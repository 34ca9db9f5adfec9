"""Findings: one typed, versioned, JSON-serialisable object, the only thing writing reads.

Takes the run's parameters and data (``build.open_survey``) and the measures; gives
``Findings`` (``model``), saved as ``findings.json`` with its schema, and the named facts
that rules and templates use (``facts``).
"""
