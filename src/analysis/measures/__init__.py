"""Measures: the survey's indicators, each estimated on the design.

Takes a ``Design``; gives tables of the environment index, difficulties and policies,
key drivers of satisfaction, coded and redacted open answers, and the requests ledger.
"""
