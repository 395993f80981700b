"""Regulator reports: the daily analysis (日研判) and weekly dispatch (周调度) briefs,
rendered as a web page, a PDF and an XLSX workbook and archived unchanged.

- ``scopes``: what a report covers (``region:IM``, ``city:HH``, ``enterprise:E1``);
- ``daily`` / ``weekly``: the numbers (monitor definitions) and ``findings`` from them;
- ``render``: HTML, PDF and XLSX of a brief; ``archive``: the stored documents;
- ``jobs``: the scheduler's entry points; ``cli``: ``nuanliu reports …``.
"""
