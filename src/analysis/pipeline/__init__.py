"""Pipeline: runs the notebooks and delivers the outputs.

Takes checked parameters and the input files; runs the notebooks with papermill and
gives ``briefs/<run>/``: the brief in HTML and PDF (WeasyPrint), the drafts, the
manifest, swapped in atomically; ``batch`` does this for every region, industry or size.
"""
