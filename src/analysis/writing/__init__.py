"""Writing: from findings to words, charts and documents.

Takes ``Findings`` and the suggestion rules; gives ranked suggestions with their
evidence, the brief's sections and charts, and the drafts (zh/en Markdown, HTML, DOCX),
with numbers formatted one way and audited against the findings.
"""
