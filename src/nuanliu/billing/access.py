"""Which households, communities and meters a caller's scope may see (billing and meters)."""

from __future__ import annotations

from nuanliu.errors import NotFound
from nuanliu.scope import Scope
from nuanliu.store import Store


def visible_households(store: Store, scope: Scope) -> set[str]:
    cond, params = scope.where("hc")
    with store.read() as q:
        return {
            r[0]
            for r in q.all(f"SELECT household_id FROM household_context hc WHERE {cond}", params)
        }


def require_household(store: Store, scope: Scope, household_id: str) -> None:
    cond, params = scope.where("hc")
    with store.read() as q:
        found = q.one(
            f"SELECT 1 FROM household_context hc WHERE ({cond}) AND hc.household_id = ?",
            [*params, household_id],
        )
    if found is None:
        raise NotFound(f"household {household_id} not found")


def require_unit(store: Store, scope: Scope, column: str, unit_id: str, what: str) -> None:
    cond, params = scope.where("hc")
    with store.read() as q:
        found = q.one(
            f"SELECT 1 FROM household_context hc WHERE ({cond}) AND hc.{column} = ?",
            [*params, unit_id],
        )
    if found is None:
        raise NotFound(f"{what} {unit_id} not found")


def visible_units(store: Store, scope: Scope, column: str) -> list[str]:
    cond, params = scope.where("hc")
    with store.read() as q:
        rows = q.all(
            f"SELECT DISTINCT hc.{column} FROM household_context hc WHERE ({cond}) "
            f"AND hc.{column} IS NOT NULL ORDER BY 1",
            params,
        )
    return [r[0] for r in rows]


def visible_meters(store: Store, scope: Scope) -> set[str]:
    cond, params = scope.where("hc")
    with store.read() as q:
        rows = q.all(
            "SELECT m.meter_id FROM heat_meters m JOIN household_context hc ON "
            f"hc.household_id = m.household_id WHERE {cond} UNION SELECT m.meter_id FROM "
            "heat_meters m JOIN household_context hc ON hc.building_id = m.building_id "
            f"WHERE m.household_id IS NULL AND {cond}",
            [*params, *params],
        )
    return {r[0] for r in rows}
