"""Row helpers over the store's reader/writer, so callers name columns instead of indices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def records(q: Any, sql: str, params: Sequence[Any], columns: Sequence[str]) -> list[dict]:
    """Rows of ``sql`` as dicts keyed by ``columns`` (the SELECT list, in order)."""
    out = []
    for row in q.all(sql, list(params)):
        if isinstance(row, Mapping):
            out.append({c: row[c] for c in columns})
        else:
            out.append(dict(zip(columns, row, strict=True)))
    return out


def record(q: Any, sql: str, params: Sequence[Any], columns: Sequence[str]) -> dict | None:
    rows = records(q, sql, params, columns)
    return rows[0] if rows else None
