"""Desk: the office's web desk (``qifang serve``).

Takes uploads of visits, requests ledger and frame, validates them as ``qifang
validate`` does, and runs briefs and batches with the pipeline's own ``run`` and
``batch`` in runner processes; gives the briefs, drafts and tables in the browser.
State lives in one SQLite database in the desk's data folder: users, datasets, jobs.
"""
