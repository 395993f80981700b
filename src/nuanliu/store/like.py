"""LIKE patterns from user text: ``%`` and ``_`` typed by a user match themselves.

Use ``column LIKE ? ESCAPE '\\'`` with ``contains_pattern(text)`` (same syntax on
DuckDB and PostgreSQL).
"""

from __future__ import annotations

ESCAPE = "\\"
LIKE_ESCAPE_SQL = "ESCAPE '\\'"


def escape_like(text: str) -> str:
    """``text`` with the LIKE wildcards and the escape character escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, literally."""
    return f"%{escape_like(text)}%"
