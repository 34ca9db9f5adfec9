"""Survey: the design and its estimators.

Takes a validated table and the frame; gives a ``Design`` (strata, clusters, weights,
calibration) whose means, totals and shares carry design-based standard errors, domain
comparisons with adjusted p-values, and disclosure control of small cells.
"""
