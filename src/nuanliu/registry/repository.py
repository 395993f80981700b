"""Registry reads and writes over the store, with the caller's ``Scope`` applied.

Visibility follows the design rule: whatever hangs below a household chain is visible
when at least one household the scope admits belongs to it (``household_context``);
an unrestricted scope sees every row, including ones without households yet.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pydantic import ValidationError

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.registry.kinds import KINDS, Kind, kind_named
from nuanliu.registry.masking import mask_name, mask_phone
from nuanliu.registry.models import RegistryModel
from nuanliu.scope import Scope
from nuanliu.store import Store, Writer
from nuanliu.store.like import LIKE_ESCAPE_SQL, contains_pattern

# The household_context column that carries each kind's id (regions: any of three).
_CONTEXT_COLUMN = {
    "enterprises": "enterprise_id",
    "stations": "station_id",
    "communities": "community_id",
    "buildings": "building_id",
    "households": "household_id",
}


@dataclass(frozen=True)
class UpsertCounts:
    inserted: int
    updated: int


@dataclass(frozen=True)
class Node:
    """One child in a drill-down, with how many households the scope sees below it."""

    kind: str
    id: str
    name_zh: str | None
    name_en: str | None
    households: int


# ------------------------------------------------------------------- arrow schemas


def _arrow_type(annotation: Any) -> pa.DataType:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _arrow_type(args[0])
    if origin in (typing.Union, types.UnionType):
        return _arrow_type(args[0])
    if origin is typing.Literal:
        return pa.string()
    return {
        str: pa.string(),
        float: pa.float64(),
        int: pa.int64(),
        bool: pa.bool_(),
        dt.datetime: pa.timestamp("us", tz="UTC"),
    }[annotation]


def arrow_schema(kind: Kind) -> pa.Schema:
    """The Arrow schema of a kind's rows (column order = model field order)."""
    return pa.schema(
        [(name, _arrow_type(f.annotation)) for name, f in kind.model.model_fields.items()]
    )


def to_arrow(kind: Kind, records: Sequence[RegistryModel]) -> pa.Table:
    schema = arrow_schema(kind)
    columns = {name: [getattr(r, name) for r in records] for name in schema.names}
    return pa.table(columns, schema=schema)


# ------------------------------------------------------------------------ writes


def _resolve(kind: str | Kind) -> Kind:
    if isinstance(kind, Kind):
        return kind
    try:
        return kind_named(kind)
    except KeyError as exc:
        raise InvalidInput(
            f"unknown registry kind {kind!r}; one of {', '.join(KINDS)}",
            details=[{"kind": kind, "problem": "unknown kind"}],
        ) from exc


def upsert_table(w: Writer, kind: Kind, tbl: pa.Table) -> UpsertCounts:
    """Bulk-store trusted rows (keys unique, parents checked by the caller)."""
    if tbl.num_rows == 0:
        return UpsertCounts(0, 0)
    before = w.scalar(f"SELECT count(*) FROM {kind.name}")
    w.upsert_arrow(kind.name, tbl, [kind.key])
    after = w.scalar(f"SELECT count(*) FROM {kind.name}")
    inserted = int(after) - int(before)
    return UpsertCounts(inserted=inserted, updated=tbl.num_rows - inserted)


def existing_ids(w: Writer | Any, kind: Kind, ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` are stored (one query with the ids as an Arrow scan/array)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return set()
    found: set[str] = set()
    for start in range(0, len(wanted), 5000):
        chunk = wanted[start : start + 5000]
        marks = ", ".join("?" for _ in chunk)
        rows = w.all(f"SELECT {kind.key} FROM {kind.name} WHERE {kind.key} IN ({marks})", chunk)
        found.update(r[0] for r in rows)
    return found


def validate_rows(
    kind: Kind, rows: Sequence[Mapping[str, Any] | RegistryModel]
) -> tuple[list[RegistryModel], list[dict[str, Any]]]:
    """Models for the valid rows; ``{row, column, problem}`` for every invalid field."""
    good: list[RegistryModel] = []
    errors: list[dict[str, Any]] = []
    for index, row in enumerate(rows):
        if isinstance(row, kind.model):
            good.append(row)
            continue
        data = row.model_dump() if isinstance(row, RegistryModel) else dict(row)
        try:
            good.append(kind.model.model_validate(data))
        except ValidationError as exc:
            for err in exc.errors():
                column = str(err["loc"][0]) if err["loc"] else None
                problem = err["msg"].removeprefix("Value error, ")
                if err["type"] == "missing":
                    problem = "required"
                errors.append({"row": index, "column": column, "problem": problem})
    return good, errors


_LEVEL_RANK = {"region": 0, "city": 1, "county": 2}


def region_level_problems(w: Writer, regions: Mapping[str, RegistryModel]) -> dict[str, str]:
    """Regions whose parent is not a higher level (a county under a city under a region).

    A region or city may stand at the top; a county needs a parent.
    """
    levels = {key: m.level for key, m in regions.items()}
    wanted = {m.parent_id for m in regions.values()} - {None} - set(levels)
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        rows = w.all(
            f"SELECT region_id, level FROM regions WHERE region_id IN ({marks})", sorted(wanted)
        )
        levels.update(dict(rows))
    problems: dict[str, str] = {}
    for key, model in regions.items():
        level, parent = model.level, model.parent_id
        if parent is None:
            if level == "county":
                problems[key] = "a county needs a parent city"
            continue
        parent_level = levels.get(parent)
        if parent_level is not None and _LEVEL_RANK[parent_level] >= _LEVEL_RANK[level]:
            problems[key] = f"parent {parent} is a {parent_level}; a {level} must sit below it"
    return problems


def upsert(
    store: Store, kind: str | Kind, rows: Sequence[Mapping[str, Any] | RegistryModel]
) -> UpsertCounts:
    """Validate and store rows of one kind; all or nothing.

    Raises ``InvalidInput`` (details ``[{row, column, problem}]``, row = index in
    ``rows``) when any row is invalid or refers to a parent that does not exist.
    """
    spec = _resolve(kind)
    good, errors = validate_rows(spec, rows)
    keys = [getattr(m, spec.key) for m in good]
    if len(set(keys)) != len(keys):
        seen: set[str] = set()
        for index, key in enumerate(keys):
            if key in seen:
                errors.append({"row": index, "column": spec.key, "problem": f"{key} repeats"})
            seen.add(key)
    with store.write() as w:
        for column, parent_kind in spec.parents:
            parent = KINDS[parent_kind]
            refs = {getattr(m, column) for m in good} - {None}
            known = existing_ids(w, parent, refs)
            if parent is spec:  # regions refer to regions: the batch's own rows count
                known |= set(keys)
            for index, model in enumerate(good):
                ref = getattr(model, column)
                if ref is not None and ref not in known:
                    errors.append(
                        {"row": index, "column": column, "problem": f"unknown {parent.key} {ref}"}
                    )
        if spec.name == "regions":
            index_of = {k: i for i, k in enumerate(keys)}
            by_key = dict(zip(keys, good, strict=True))
            for key, problem in region_level_problems(w, by_key).items():
                errors.append({"row": index_of[key], "column": "parent_id", "problem": problem})
        if errors:
            raise InvalidInput(
                f"{len(errors)} problem(s) in {spec.name}; nothing stored", details=errors
            )
        return upsert_table(w, spec, to_arrow(spec, good))


# ------------------------------------------------------------------------- reads


def _visible_ids_sql(kind: Kind, scope: Scope) -> tuple[str, list[Any]]:
    """SQL condition on alias ``t`` admitting the rows of ``kind`` the scope sees."""
    if scope.is_unrestricted:
        return "TRUE", []
    where, params = scope.where("hc")
    if kind.name == "regions":
        sub = (
            f"SELECT hc.region_id FROM household_context hc WHERE {where} UNION "
            f"SELECT hc.city_id FROM household_context hc WHERE {where} UNION "
            f"SELECT hc.county_id FROM household_context hc WHERE {where}"
        )
        return f"t.region_id IN ({sub})", params * 3
    if kind.name == "sensors":
        sub = f"SELECT hc.household_id FROM household_context hc WHERE {where}"
        return f"t.household_id IN ({sub})", params
    column = _CONTEXT_COLUMN[kind.name]
    sub = f"SELECT hc.{column} FROM household_context hc WHERE {where}"
    return f"t.{kind.key} IN ({sub})", params


def _mask(record: RegistryModel, scope: Scope) -> RegistryModel:
    if scope.mask_personal and hasattr(record, "resident_name"):
        return record.model_copy(
            update={
                "resident_name": mask_name(record.resident_name),  # type: ignore[attr-defined]
                "resident_phone": mask_phone(record.resident_phone),  # type: ignore[attr-defined]
            }
        )
    return record


def _records(kind: Kind, cols: list[str], rows: list[tuple[Any, ...]]) -> list[RegistryModel]:
    # Stored rows were validated on the way in: construct without re-validating.
    return [kind.model.model_construct(**dict(zip(cols, r, strict=True))) for r in rows]


def list_records(
    store: Store,
    kind: str | Kind,
    scope: Scope,
    *,
    filters: Mapping[str, Any] | None = None,
    search: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[RegistryModel]:
    """Rows of ``kind`` the scope sees, ordered by id; ``filters`` are column equalities.

    ``search`` matches the id, Chinese or English name (or address) as a substring.
    """
    spec = _resolve(kind)
    cols = spec.columns
    where, params = _visible_ids_sql(spec, scope)
    clauses = [where]
    for column, value in (filters or {}).items():
        if column not in cols:
            raise InvalidInput(f"{spec.name} has no column {column!r} to filter on")
        clauses.append(f"t.{column} = ?")
        params.append(value)
    if search:
        fields = [c for c in (spec.key, "name_zh", "name_en", "address") if c in cols]
        # The user's text matches literally: "%" and "_" in it are not wildcards.
        like = f"LIKE lower(?) {LIKE_ESCAPE_SQL}"
        clauses.append("(" + " OR ".join(f"lower(t.{c}) {like}" for c in fields) + ")")
        params.extend([contains_pattern(search)] * len(fields))
    sql = (
        f"SELECT {', '.join('t.' + c for c in cols)} FROM {spec.name} t "
        f"WHERE {' AND '.join(clauses)} ORDER BY t.{spec.key}"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    with store.read() as q:
        rows = q.all(sql, params)
    return [_mask(r, scope) for r in _records(spec, cols, rows)]


def get_record(store: Store, kind: str | Kind, record_id: str, scope: Scope) -> RegistryModel:
    """One row by id; ``NotFound`` when it does not exist or the scope does not see it."""
    spec = _resolve(kind)
    found = list_records(store, spec, scope, filters={spec.key: record_id})
    if not found:
        raise NotFound(
            f"{spec.key[:-3]} {record_id} not found",
            details={"kind": spec.name, "id": record_id},
        )
    return found[0]


def count_records(store: Store, scope: Scope) -> dict[str, int]:
    """How many rows of each kind the scope sees."""
    out: dict[str, int] = {}
    with store.read() as q:
        for spec in KINDS.values():
            where, params = _visible_ids_sql(spec, scope)
            out[spec.name] = int(
                q.scalar(f"SELECT count(*) FROM {spec.name} t WHERE {where}", params)
            )
    return out


# The drill-down: (parent kind, level) -> (child kind, child column naming the parent,
# household_context column of the child).
_DRILL: dict[tuple[str, str | None], tuple[str, str, str]] = {
    ("regions", "region"): ("regions", "parent_id", "city_id"),
    ("regions", "city"): ("enterprises", "region_id", "enterprise_id"),
    ("regions", "county"): ("communities", "region_id", "community_id"),
    ("enterprises", None): ("stations", "enterprise_id", "station_id"),
    ("stations", None): ("buildings", "station_id", "building_id"),
    ("communities", None): ("buildings", "community_id", "building_id"),
    ("buildings", None): ("households", "building_id", "household_id"),
}


def children(store: Store, kind: str | Kind, record_id: str, scope: Scope) -> list[Node]:
    """The next level down from one row: region → city → enterprise → station →
    building → household (a county lists its communities, a community its buildings,
    a household its sensors), with the households the scope sees under each child."""
    spec = _resolve(kind)
    parent = get_record(store, spec, record_id, scope)  # NotFound when out of scope
    if spec.name == "households":
        sensors = list_records(store, "sensors", scope, filters={"household_id": record_id})
        return [Node("sensors", s.sensor_id, s.room, s.room, 1) for s in sensors]  # type: ignore[attr-defined]
    if spec.name == "sensors":
        return []
    level = getattr(parent, "level", None)
    child_name, parent_column, context_column = _DRILL[(spec.name, level)]
    child = KINDS[child_name]
    where, params = scope.where("hc")
    extra = ""
    if spec.name == "regions" and level == "city":
        extra = " AND hc.city_id = c.region_id"  # an enterprise's households in this city
    name_en = "c.name_en" if "name_en" in child.columns else "c.address"
    name_zh = "c.name_zh" if "name_zh" in child.columns else "c.address"
    sql = (
        f"SELECT c.{child.key}, {name_zh}, {name_en}, count(hc.household_id) "
        f"FROM {child.name} c LEFT JOIN household_context hc "
        f"ON hc.{context_column} = c.{child.key}{extra} AND {where} "
        f"WHERE c.{parent_column} = ? "
        f"GROUP BY c.{child.key}, {name_zh}, {name_en} "
    )
    if not scope.is_unrestricted:
        sql += "HAVING count(hc.household_id) > 0 "
    sql += f"ORDER BY c.{child.key}"
    with store.read() as q:
        rows = q.all(sql, [*params, record_id])
    return [Node(child.name, r[0], r[1], r[2], int(r[3])) for r in rows]
