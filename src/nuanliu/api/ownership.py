"""What an enterprise may write in the registry: its own stations and everything below.

Reads are filtered by ``Scope`` (households the user sees). Writes need ownership: a
station whose ``enterprise_id`` is the caller's, a building on such a station, a
household in such a building, a sensor in such a household. A new row's parent must be
owned too (or come in the same import), and an existing row with the same id must
already be owned — otherwise an upsert could take over another enterprise's row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from nuanliu.api.sql import records

# Kinds an enterprise edits, parents first, with the column naming the owned parent.
EDITABLE_KINDS: dict[str, tuple[str, str | None]] = {
    "stations": ("station_id", None),
    "buildings": ("building_id", "station_id"),
    "households": ("household_id", "building_id"),
    "sensors": ("sensor_id", "household_id"),
}
_PARENT_KIND = {"buildings": "stations", "households": "buildings", "sensors": "households"}

# SQL giving the ids of one kind owned by an enterprise (parameter: enterprise id).
_OWNED_SQL = {
    "stations": "SELECT t.station_id FROM stations t WHERE t.enterprise_id = ?",
    "buildings": "SELECT t.building_id FROM buildings t JOIN stations st"
    " ON st.station_id = t.station_id WHERE st.enterprise_id = ?",
    "households": "SELECT t.household_id FROM households t JOIN buildings b"
    " ON b.building_id = t.building_id JOIN stations st ON st.station_id = b.station_id"
    " WHERE st.enterprise_id = ?",
    "sensors": "SELECT t.sensor_id FROM sensors t JOIN households h"
    " ON h.household_id = t.household_id JOIN buildings b ON b.building_id = h.building_id"
    " JOIN stations st ON st.station_id = b.station_id WHERE st.enterprise_id = ?",
}
_TABLE_KEY = {k: v[0] for k, v in EDITABLE_KINDS.items()}


def _ids(q: Any, sql: str, params: list[Any], column: str) -> set[str]:
    return {r[column] for r in records(q, sql, params, (column,))}


def owned_ids(q: Any, kind: str, enterprise_id: str, ids: Iterable[str]) -> set[str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return set()
    key = _TABLE_KEY[kind]
    marks = ", ".join("?" for _ in wanted)
    return _ids(q, f"{_OWNED_SQL[kind]} AND t.{key} IN ({marks})", [enterprise_id, *wanted], key)


def existing_ids(q: Any, kind: str, ids: Iterable[str]) -> set[str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return set()
    key = _TABLE_KEY[kind]
    marks = ", ".join("?" for _ in wanted)
    return _ids(q, f"SELECT {key} FROM {kind} WHERE {key} IN ({marks})", wanted, key)


def ownership_problems(
    store: Any, enterprise_id: str, rows_by_kind: Mapping[str, list[tuple[Any, Mapping[str, Any]]]]
) -> list[dict[str, Any]]:
    """``{where, kind, id, problem}`` for every row the enterprise may not write.

    ``rows_by_kind`` maps a kind to ``(where, row)`` pairs; ``where`` locates the row for
    the message (a file row, or the request).
    """
    problems: list[dict[str, Any]] = []
    accepted: dict[str, set[str]] = {}
    with store.read() as q:
        for kind in rows_by_kind:
            if kind not in EDITABLE_KINDS:
                problems.append(
                    {
                        "where": None,
                        "kind": kind,
                        "id": None,
                        "problem": f"an enterprise cannot edit {kind}; only "
                        + ", ".join(EDITABLE_KINDS),
                    }
                )
        for kind, (key, parent_col) in EDITABLE_KINDS.items():  # parents first
            rows = rows_by_kind.get(kind, [])
            if not rows:
                continue
            ids = [str(r.get(key) or "") for _, r in rows]
            existing = existing_ids(q, kind, ids)
            owned = owned_ids(q, kind, enterprise_id, existing)
            parents_owned: set[str] = set()
            if parent_col is not None:
                parent_kind = _PARENT_KIND[kind]
                refs = [str(r.get(parent_col) or "") for _, r in rows]
                parents_owned = owned_ids(q, parent_kind, enterprise_id, refs) | accepted.get(
                    parent_kind, set()
                )
            ok: set[str] = set()
            for (where, row), row_id in zip(rows, ids, strict=True):
                problem = None
                if row_id in existing and row_id not in owned:
                    problem = f"{key} {row_id} belongs to another enterprise"
                elif parent_col is None:
                    if str(row.get("enterprise_id") or "") != enterprise_id:
                        problem = f"enterprise_id must be your enterprise {enterprise_id}"
                elif str(row.get(parent_col) or "") not in parents_owned:
                    problem = f"{parent_col} {row.get(parent_col)} is not one of your enterprise's"
                if problem:
                    problems.append(
                        {"where": where, "kind": kind, "id": row_id, "problem": problem}
                    )
                else:
                    ok.add(row_id)
            accepted[kind] = ok
    return problems
