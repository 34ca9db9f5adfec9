"""Ingest: from what an office has to a typed, validated table.

Takes survey exports (CSV/XLSX, UTF-8/GBK, 问卷星 layouts), the questionnaire as data
(YAML or XLSForm), the requests ledger, the frame and the run's parameters; gives
``Loaded`` tables of coded values, and every problem as file, row, column, value and fix.
"""
