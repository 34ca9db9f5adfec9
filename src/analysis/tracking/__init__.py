"""Tracking: what became of the office's work, from its ledgers to its annual account.

Takes the office's three ledgers (submissions, events, services: CSV or XLSX, described
by ``data/instrument/office-ledgers.yaml``), a period, and the survey for the next
wave's indicators; gives ``Results`` (``model``), saved as ``results.json`` with its
schema — items and instances counted apart, services by kind, region and period, the
loop from each suggestion to its indicator, every figure traced to ledger rows — and
the results brief, the tables, the 工作总结 and the 工作信息.
"""
