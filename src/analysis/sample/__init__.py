"""Sample: the synthetic survey with planted effects.

Takes a seed and a size; gives visits, a requests ledger and a frame in the shape of a
real survey, with the effects documented in ``data/sample/README.md`` that tests check.
"""
