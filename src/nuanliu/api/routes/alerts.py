"""Alerts visible in the caller's scope, and acknowledging them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from nuanliu.api.accounts import User
from nuanliu.api.audit import record_event
from nuanliu.api.deps import StoreDep, client_ip, csrf_protect, require
from nuanliu.api.frames import dict_record, frame_records
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.routes.monitoring import aware
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import NotFound
from nuanliu.monitor.alerts import acknowledge, list_alerts
from nuanliu.monitor.units import level_column
from nuanliu.scope import Scope

router = APIRouter(
    prefix=f"{API_PREFIX}/alerts",
    tags=["alerts"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Reader = Annotated[User, Depends(require(Permission.READ))]
Acknowledger = Annotated[User, Depends(require(Permission.ACKNOWLEDGE))]

_UNIT_KINDS = ("region", "city", "county", "enterprise", "station", "community", "building")


class AlertState(StrEnum):
    open = "open"
    raised = "raised"
    acknowledged = "acknowledged"
    cleared = "cleared"
    all = "all"


def alert_visible(store: Any, scope: Scope, alert_id: int) -> bool:
    """Whether the scope sees the alert's subject (same rule as ``list_alerts``)."""
    with store.read() as q:
        row = q.all(
            "SELECT subject_kind, subject_id FROM mon_alerts WHERE alert_id = ?", [alert_id]
        )
        if not row:
            return False
        kind, subject = row[0][0], row[0][1]
        if scope.is_unrestricted:
            return True
        cond, params = scope.where("hc")
        if kind == "household":
            test, arg = "hc.household_id = ?", subject
        elif kind == "sensor":
            test = "hc.household_id = (SELECT s.household_id FROM sensors s WHERE s.sensor_id = ?)"
            arg = subject
        elif kind in _UNIT_KINDS:
            test, arg = f"hc.{level_column(kind)} = ?", subject
        else:
            return False
        found = q.all(
            f"SELECT 1 FROM household_context hc WHERE ({cond}) AND {test} LIMIT 1", [*params, arg]
        )
    return bool(found)


@router.get("", operation_id="alerts_list", summary="Alerts in my scope, newest first")
def alerts_list(
    request: Request,
    store: StoreDep,
    user: Reader,
    state: AlertState = Query(default=AlertState.open),
    since: datetime | None = Query(default=None),
    limit: int = Query(default=200, ge=1, le=5000),
) -> list[dict[str, Any]]:
    df = list_alerts(
        store,
        user.scope(),
        state=None if state is AlertState.all else state.value,
        since=aware(request, since),
        limit=limit,
    )
    return frame_records(df)


@router.post(
    "/{alert_id}/acknowledge",
    operation_id="alerts_acknowledge",
    summary="Acknowledge an open alert (it stays open until its condition ends)",
)
def alerts_acknowledge(
    request: Request,
    store: StoreDep,
    user: Acknowledger,
    alert_id: Annotated[int, Path(ge=1, le=2**62)],
) -> dict[str, Any]:
    if not alert_visible(store, user.scope(), alert_id):
        raise NotFound(f"alert {alert_id} not found", details={"alert_id": alert_id})
    row = acknowledge(store, alert_id, by=user.username)
    out = dict_record(row)
    record_event(
        store,
        action="alert_acknowledge",
        user=user,
        object_type="alert",
        object_id=str(alert_id),
        after={"state": out.get("state"), "acknowledged_by": out.get("acknowledged_by")},
        client_ip=client_ip(request),
    )
    return out
