"""Control: forecasts beside what happened, proposed schedules and the operator's
decision on them, and the balancing recommendation.

Reading needs ``read_network`` (regulators, enterprise admins and operators); a
schedule belongs to an enterprise (or to no one: shadow runs, read-only) and only that
enterprise's admins and operators (``dispatch``) may accept, edit or reject it. A
schedule outside the caller's enterprise is 404 (its existence is not revealed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from nuanliu.api.accounts import User
from nuanliu.api.deps import StoreDep, csrf_protect, require
from nuanliu.api.frames import frame_records
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.control import store as cstore
from nuanliu.errors import InvalidInput, NotFound

router = APIRouter(
    prefix=f"{API_PREFIX}/control",
    tags=["control"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Reader = Annotated[User, Depends(require(Permission.READ_NETWORK))]
Dispatcher = Annotated[User, Depends(require(Permission.DISPATCH))]


def visible_enterprises(store: Any, user: User) -> set[str | None]:
    """Enterprises whose schedules and stations the user sees, plus None (shadow runs)."""
    scope = user.scope()
    with store.read() as q:
        if scope.is_unrestricted:
            rows = q.all("SELECT DISTINCT enterprise_id FROM household_context")
        else:
            cond, params = scope.where("hc")
            rows = q.all(
                f"SELECT DISTINCT hc.enterprise_id FROM household_context hc WHERE {cond}", params
            )
    return {r[0] for r in rows} | {None}


def _site_visible(store: Any, user: User, site_id: str) -> bool:
    """A registry station is seen within one's enterprises; other sites by every reader."""
    with store.read() as q:
        owners = {
            r[0]
            for r in q.all(
                "SELECT DISTINCT enterprise_id FROM household_context WHERE station_id = ?",
                [site_id],
            )
        }
    return not owners or bool(owners & visible_enterprises(store, user))


@router.get(
    "/forecasts/{site_id}", operation_id="control_forecast", summary="Forecast beside actual load"
)
def forecast(
    site_id: str,
    store: StoreDep,
    user: Reader,
    start: datetime | None = Query(default=None),
    end: datetime | None = Query(default=None),
) -> list[dict[str, Any]]:
    end = end or datetime.now(UTC)
    start = start or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start and end must carry a timezone")
    if not _site_visible(store, user, site_id):
        raise NotFound(f"no site {site_id!r}")
    return frame_records(cstore.forecast_vs_actual(store, site_id, start=start, end=end))


@router.get(
    "/schedules", operation_id="control_schedules", summary="Proposed and decided schedules"
)
def schedules(
    store: StoreDep, user: Reader, limit: int = Query(default=50, ge=1, le=500)
) -> list[dict[str, Any]]:
    seen = visible_enterprises(store, user)
    return [r for r in cstore.list_schedules(store, limit=1000) if r["enterprise_id"] in seen][
        :limit
    ]


@router.get(
    "/schedules/{schedule_id}",
    operation_id="control_schedule",
    summary="One schedule, hour by hour",
)
def schedule(schedule_id: str, store: StoreDep, user: Reader) -> dict[str, Any]:
    try:
        head, hours = cstore.get_schedule(store, schedule_id)
    except NotFound:
        raise NotFound(f"no schedule {schedule_id!r}") from None
    if head.get("enterprise_id") not in visible_enterprises(store, user):
        raise NotFound(f"no schedule {schedule_id!r}")
    return {**head, "hours": frame_records(hours)}


class Edit(BaseModel):
    supply_point: str
    ts: datetime
    supply_temp_c: float = Field(gt=0, lt=200)


class Decision(BaseModel):
    decision: Literal["accepted", "edited", "rejected"]
    edits: list[Edit] = Field(default_factory=list)
    note: str | None = Field(default=None, max_length=500)


@router.post(
    "/schedules/{schedule_id}/decision",
    operation_id="control_decide",
    summary="Accept, edit or reject a schedule",
)
def decide(schedule_id: str, body: Decision, store: StoreDep, user: Dispatcher) -> dict[str, Any]:
    try:
        head, _ = cstore.get_schedule(store, schedule_id)
    except NotFound:
        raise NotFound(f"no schedule {schedule_id!r}") from None
    if head.get("enterprise_id") != user.enterprise_id:
        raise NotFound(f"no schedule {schedule_id!r}")
    edits = {(e.supply_point, e.ts): e.supply_temp_c for e in body.edits}
    cstore.decide(
        store,
        schedule_id,
        decision=body.decision,
        user=user.username,
        now=datetime.now(UTC),
        edits=edits,
        note=body.note,
    )
    head, _ = cstore.get_schedule(store, schedule_id)
    return {"schedule_id": schedule_id, "status": head["status"], "decided_by": head["decided_by"]}


@router.get(
    "/balance", operation_id="control_balance", summary="Balancing recommendation and its effect"
)
def balance(
    user: Reader,
    network: str = Query(default="tuoketuo-hohhot"),
    outdoor_temp_c: float | None = Query(default=None, ge=-50, le=30),
) -> dict[str, Any]:
    from nuanliu.network.examples import list_examples

    if network not in list_examples():
        raise NotFound(f"no example network {network!r}")
    res = _recommendation(network, outdoor_temp_c)
    valves = res.valves.replace([float("inf")], None)
    return {
        "setpoints": frame_records(res.setpoints),
        "effect": [
            {k: (str(v) if k != "metric" else v) for k, v in r.items()}
            for r in res.effect.to_dict("records")
        ],
        "valves": frame_records(valves),
        "notes": res.notes,
    }


@lru_cache(maxsize=16)
def _recommendation(network: str, outdoor_temp_c: float | None) -> Any:
    """Deterministic for a shipped example: solved once per process."""
    from nuanliu.control.balance import recommend
    from nuanliu.network.examples import load_example

    return recommend(load_example(network), outdoor_temp_c=outdoor_temp_c)
