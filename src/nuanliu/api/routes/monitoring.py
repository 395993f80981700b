"""Monitoring queries: compliance with drill-down, cold/overheated/offline lists, series."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request

from nuanliu.api.accounts import User
from nuanliu.api.deps import StoreDep, require
from nuanliu.api.frames import frame_records
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import InvalidInput, NotFound
from nuanliu.monitor import (
    cold_homes,
    compliance,
    compliance_trend,
    drilldown,
    offline_sensors,
    overheated_homes,
    suspicious_readings,
    timeseries,
)
from nuanliu.monitor.units import DEFAULT_PARENT, LEVELS, floor_hour, level_column
from nuanliu.scope import Scope

router = APIRouter(
    prefix=f"{API_PREFIX}/monitoring", tags=["monitoring"], responses=ERROR_RESPONSES
)

Reader = Annotated[User, Depends(require(Permission.READ))]

Level = StrEnum("Level", {k: k for k in LEVELS})  # type: ignore[misc]


class Resolution(StrEnum):
    raw = "raw"
    hour = "hour"
    day = "day"


MAX_LIST_WINDOW = timedelta(days=31)
MAX_TREND_DAYS = 400


def aware(request: Request, value: datetime | None) -> datetime | None:
    """Naive times are local (the platform's display timezone); everything else as sent."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(request.app.state.settings.timezone))


def _window(
    request: Request, start: datetime | None, end: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    end_at = aware(request, end) or datetime.now(UTC)
    start_at = aware(request, start) or end_at - default
    if end_at <= start_at:
        raise InvalidInput(
            "end must be after start", details={"start": str(start_at), "end": str(end_at)}
        )
    if end_at - start_at > MAX_LIST_WINDOW:
        raise InvalidInput(
            f"window longer than {MAX_LIST_WINDOW.days} days",
            details={"max_days": MAX_LIST_WINDOW.days},
        )
    return start_at, end_at


def require_unit(store: Any, scope: Scope, level: str, unit_id: str) -> None:
    """NotFound unless the scope sees at least one household of the unit."""
    cond, params = scope.where("hc")
    with store.read() as q:
        found = q.all(
            f"SELECT 1 FROM household_context hc WHERE ({cond}) AND hc.{level_column(level)} = ?"
            " LIMIT 1",
            [*params, unit_id],
        )
    if not found:
        raise NotFound(f"{level} {unit_id} not found", details={"level": level, "id": unit_id})


def any_hours(store: Any, scope: Scope, start: datetime, end: datetime) -> bool:
    """Whether any sensor in scope reported in ``[start, end)`` (hourly aggregates)."""
    cond, params = scope.where("hc")
    with store.read() as q:
        found = q.all(
            "SELECT 1 FROM mon_sensor_hourly h JOIN sensors s ON s.sensor_id = h.sensor_id"
            " JOIN household_context hc ON hc.household_id = s.household_id"
            f" WHERE ({cond}) AND h.hour_ts >= ? AND h.hour_ts < ? LIMIT 1",
            [*params, floor_hour(start), end],
        )
    return bool(found)


def _day(request: Request, value: date | None) -> date:
    if value is not None:
        return value
    return datetime.now(ZoneInfo(request.app.state.settings.timezone)).date()


@router.get(
    "/compliance",
    operation_id="monitoring_compliance",
    summary="Compliance rate (室温达标率) per unit of a level, optionally under a parent unit",
)
def monitoring_compliance(
    request: Request,
    store: StoreDep,
    user: Reader,
    level: Level = Query(default=Level("city"), description="the units to list"),
    parent_level: Level | None = Query(default=None),
    parent_id: str | None = Query(default=None, max_length=64),
    start: date | None = Query(default=None, description="first local day (default today)"),
    end: date | None = Query(default=None, description="day after the last (default start+1)"),
    hours: bool = Query(default=False, description="add hour-based rates"),
) -> dict[str, Any]:
    scope = user.scope()
    first = _day(request, start)
    if end is not None and (end - first).days > MAX_TREND_DAYS:
        raise InvalidInput(f"window longer than {MAX_TREND_DAYS} days")
    if parent_id is not None:
        plevel = parent_level.value if parent_level else DEFAULT_PARENT.get(level.value)
        if plevel is None:
            raise InvalidInput(f"level {level.value} has no parent level; pass parent_level")
        require_unit(store, scope, plevel, parent_id)
    df = compliance(
        store,
        scope,
        level.value,
        parent_id=parent_id,
        start=first,
        end=end,
        parent_level=parent_level.value if parent_level else None,
        hours=hours,
    )
    return {
        "level": level.value,
        "parent_id": parent_id,
        "start": first.isoformat(),
        "end": (end or first + timedelta(days=1)).isoformat(),
        "units": frame_records(df),
    }


@router.get(
    "/drilldown",
    operation_id="monitoring_drilldown",
    summary="Compliance at several levels at once (one query), e.g. city → enterprise → station",
)
def monitoring_drilldown(
    request: Request,
    store: StoreDep,
    user: Reader,
    levels: list[Level] = Query(
        default=[Level("city"), Level("enterprise"), Level("station")], max_length=8
    ),
    parent_level: Level | None = Query(default=None),
    parent_id: str | None = Query(default=None, max_length=64),
    start: date | None = Query(default=None, description="first local day (default today)"),
    end: date | None = Query(default=None, description="day after the last (default start+1)"),
) -> dict[str, Any]:
    scope = user.scope()
    first = _day(request, start)
    if end is not None and (end - first).days > MAX_TREND_DAYS:
        raise InvalidInput(f"window longer than {MAX_TREND_DAYS} days")
    names = list(dict.fromkeys(lv.value for lv in levels))  # unique, in the order given
    if parent_id is not None:
        plevel = parent_level.value if parent_level else DEFAULT_PARENT.get(names[0])
        if plevel is None:
            raise InvalidInput(f"level {names[0]} has no parent level; pass parent_level")
        require_unit(store, scope, plevel, parent_id)
    frames = drilldown(
        store,
        scope,
        first,
        end,
        levels=names,
        parent_id=parent_id,
        parent_level=parent_level.value if parent_level else None,
    )
    return {
        "parent_id": parent_id,
        "start": first.isoformat(),
        "end": (end or first + timedelta(days=1)).isoformat(),
        "levels": {lv: frame_records(df) for lv, df in frames.items()},
    }


@router.get(
    "/compliance/trend",
    operation_id="monitoring_compliance_trend",
    summary="Daily compliance over a window, for everything visible or one unit",
)
def monitoring_compliance_trend(
    request: Request,
    store: StoreDep,
    user: Reader,
    start: date | None = Query(default=None, description="first local day (default 7 days ago)"),
    end: date | None = Query(default=None, description="day after the last (default tomorrow)"),
    level: Level | None = Query(default=None),
    unit_id: str | None = Query(default=None, max_length=64),
) -> list[dict[str, Any]]:
    scope = user.scope()
    last = end or _day(request, None) + timedelta(days=1)
    first = start or last - timedelta(days=7)
    if (last - first).days > MAX_TREND_DAYS:
        raise InvalidInput(f"window longer than {MAX_TREND_DAYS} days")
    if (level is None) != (unit_id is None):
        raise InvalidInput("give both level and unit_id, or neither")
    if level is not None and unit_id is not None:
        require_unit(store, scope, level.value, unit_id)
    df = compliance_trend(
        store, scope, first, last, level=level.value if level else None, unit_id=unit_id
    )
    return frame_records(df)


@router.get("/cold", operation_id="monitoring_cold", summary="Cold households (longest run first)")
def monitoring_cold(
    request: Request,
    store: StoreDep,
    user: Reader,
    start: datetime | None = Query(default=None, description="default: 24 h before end"),
    end: datetime | None = Query(default=None, description="default: now"),
    below_c: float | None = Query(default=16.0, ge=-30, le=40, description="null: own standard"),
    min_hours: int = Query(default=6, ge=1, le=744),
    limit: int = Query(default=500, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    s, e = _window(request, start, end, timedelta(hours=24))
    if not any_hours(store, user.scope(), s, e):  # nothing reported: nothing to list
        return []
    df = cold_homes(store, user.scope(), s, e, below_c=below_c, min_hours=min_hours)
    return frame_records(df.head(limit))


@router.get(
    "/overheated",
    operation_id="monitoring_overheated",
    summary="Overheated households (wasted heat)",
)
def monitoring_overheated(
    request: Request,
    store: StoreDep,
    user: Reader,
    start: datetime | None = Query(default=None),
    end: datetime | None = Query(default=None),
    above_c: float = Query(default=24.0, ge=0, le=50),
    min_hours: int = Query(default=6, ge=1, le=744),
    limit: int = Query(default=500, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    s, e = _window(request, start, end, timedelta(hours=24))
    if not any_hours(store, user.scope(), s, e):
        return []
    df = overheated_homes(store, user.scope(), s, e, above_c=above_c, min_hours=min_hours)
    return frame_records(df.head(limit))


@router.get("/offline", operation_id="monitoring_offline", summary="Sensors that stopped reporting")
def monitoring_offline(
    request: Request,
    store: StoreDep,
    user: Reader,
    as_of: datetime | None = Query(default=None, description="default: now"),
    silent_hours: float = Query(default=2.0, gt=0, le=24 * 60),
    limit: int = Query(default=500, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    df = offline_sensors(
        store, user.scope(), aware(request, as_of), silent_for=timedelta(hours=silent_hours)
    )
    return frame_records(df.head(limit))


@router.get(
    "/suspicious",
    operation_id="monitoring_suspicious",
    summary="Suspicious readings: stuck, sudden drops (window opened), spikes, implausible",
)
def monitoring_suspicious(
    request: Request,
    store: StoreDep,
    user: Reader,
    start: datetime | None = Query(default=None),
    end: datetime | None = Query(default=None),
    limit: int = Query(default=500, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    s, e = _window(request, start, end, timedelta(hours=24))
    return frame_records(suspicious_readings(store, user.scope(), s, e).head(limit))


@router.get(
    "/series/{level}/{unit_id}",
    operation_id="monitoring_series",
    summary="Temperature series of a household, building, station or any unit",
)
def monitoring_series(
    request: Request,
    store: StoreDep,
    user: Reader,
    level: Level,
    unit_id: str,
    start: datetime | None = Query(default=None, description="default: 48 h before end"),
    end: datetime | None = Query(default=None, description="default: now"),
    resolution: Resolution = Query(default=Resolution.hour),
) -> dict[str, Any]:
    scope = user.scope()
    require_unit(store, scope, level.value, unit_id)
    s, e = _window(request, start, end, timedelta(hours=48))
    if resolution is Resolution.raw and level.value != "household":
        raise InvalidInput("raw series are per household; use hour or day")
    df = timeseries(store, scope, level.value, unit_id, s, e, resolution=resolution.value)
    return {
        "level": level.value,
        "unit_id": unit_id,
        "resolution": resolution.value,
        "start": s.isoformat(),
        "end": e.isoformat(),
        "points": frame_records(df),
    }
