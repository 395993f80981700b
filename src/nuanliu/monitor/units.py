"""Organisational levels (region → city → enterprise → station → building → household),
their columns in ``household_context``, names, and the time windows queries take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nuanliu.errors import InvalidInput
from nuanliu.monitor.aggregates import local_midnight_utc
from nuanliu.scope import Scope

# level -> (household_context column, SQL giving unit_id, name_zh, name_en)
LEVELS: dict[str, tuple[str, str]] = {
    "region": ("region_id", "SELECT region_id, name_zh, name_en FROM regions"),
    "city": ("city_id", "SELECT region_id, name_zh, name_en FROM regions"),
    "county": ("county_id", "SELECT region_id, name_zh, name_en FROM regions"),
    "enterprise": ("enterprise_id", "SELECT enterprise_id, name_zh, name_en FROM enterprises"),
    "station": ("station_id", "SELECT station_id, name_zh, name_en FROM stations"),
    "community": ("community_id", "SELECT community_id, name_zh, name_en FROM communities"),
    "building": ("building_id", "SELECT building_id, name_zh, name_en FROM buildings"),
    "household": (
        "household_id",
        "SELECT household_id, address AS name_zh, address AS name_en FROM households",
    ),
}

# The drill-down chain and each level's default parent.
CHAIN = ["region", "city", "enterprise", "station", "building", "household"]
DEFAULT_PARENT = {
    "city": "region",
    "county": "city",
    "enterprise": "city",
    "station": "enterprise",
    "community": "county",
    "building": "station",
    "household": "building",
}


def level_column(level: str) -> str:
    """The ``household_context`` column of ``level``; InvalidInput for unknown levels."""
    try:
        return LEVELS[level][0]
    except KeyError:
        raise InvalidInput(
            f"unknown level {level!r}; use one of {', '.join(LEVELS)}",
            details={"level": level},
        ) from None


def scope_and_parent(
    scope: Scope,
    level: str | None,
    parent_id: str | None,
    parent_level: str | None,
    alias: str = "hc",
) -> tuple[str, list[Any]]:
    """SQL condition on ``household_context`` for the scope and an optional parent unit."""
    cond, params = scope.where(alias)
    params = list(params)
    if parent_id is not None:
        plevel = parent_level or (DEFAULT_PARENT.get(level or "") if level else None)
        if plevel is None:
            raise InvalidInput(
                f"level {level!r} has no parent level; pass parent_level with parent_id"
            )
        cond = f"({cond}) AND {alias}.{level_column(plevel)} = ?"
        params.append(parent_id)
    return cond, params


def names_sql(level: str) -> str:
    """SQL giving ``unit_id, name_zh, name_en`` of every unit of ``level``."""
    level_column(level)
    _, sql = LEVELS[level]
    key, rest = sql.split(",", 1)
    return f"{key.strip()} AS unit_id,{rest}"


@dataclass(frozen=True)
class DayWindow:
    """Local days ``[first_day, end_day)`` and the UTC instants they span."""

    first_day: date
    end_day: date
    start_utc: datetime
    end_utc: datetime
    tz: str

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days


def day_window(start: date | datetime, end: date | datetime | None, tz: str) -> DayWindow:
    """Local days covered by ``[start, end)``; dates are local days, ``end`` exclusive.

    ``end=None`` means one day. Datetimes must be timezone-aware; a datetime end that
    is not a local midnight includes its (partial) day.
    """
    zone = ZoneInfo(tz)

    def to_day(value: date | datetime, *, is_end: bool) -> date:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise InvalidInput(f"time {value.isoformat()} must be timezone-aware")
            local = value.astimezone(zone)
            d = local.date()
            if is_end and (local.hour, local.minute, local.second, local.microsecond) != (
                0,
                0,
                0,
                0,
            ):
                d += timedelta(days=1)
            return d
        return value

    first = to_day(start, is_end=False)
    last = first + timedelta(days=1) if end is None else to_day(end, is_end=True)
    if last <= first:
        raise InvalidInput(f"empty window: end {last} is not after start {first}")
    return DayWindow(first, last, local_midnight_utc(first, tz), local_midnight_utc(last, tz), tz)


def utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"time {value.isoformat()} must be timezone-aware")
    return value.astimezone(UTC)


def floor_hour(value: datetime) -> datetime:
    return utc(value).replace(minute=0, second=0, microsecond=0)


def ceil_hour(value: datetime) -> datetime:
    floored = floor_hour(value)
    return floored if floored == utc(value) else floored + timedelta(hours=1)
