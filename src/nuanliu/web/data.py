"""Read models for the dashboard: compliance roll-ups, household status, series.

Compliance figures come from ``nuanliu.monitor.compliance`` (the same numbers the API
and the reports show; definitions there): today's local day, per unit, from the
maintained aggregates. This module adds what only pages need — the KPIs of one unit
together with its children, the latest temperature of each household of a building,
time series for charts — and caches results for a few seconds per (store, scope),
because many users look at the same figures and sensors report every few minutes.

Every query over households joins ``household_context`` filtered with the caller's
``Scope``: the data layer decides what a user may see; templates never filter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu.errors import NotFound
from nuanliu.scope import Scope
from nuanliu.web.cache import TTLCache

ROLLUP_CACHE = TTLCache(ttl_s=10.0, max_entries=2048)
STATUS_CACHE = TTLCache(ttl_s=10.0, max_entries=512)
TREND_CACHE = TTLCache(ttl_s=120.0)
REGISTRY_CACHE = TTLCache(ttl_s=60.0)

LEVEL_COLUMN = {
    "region": "region_id",
    "city": "city_id",
    "enterprise": "enterprise_id",
    "station": "station_id",
    "building": "building_id",
    "household": "household_id",
}
CHAIN = ("region", "city", "enterprise", "station", "building", "household")
CHILD_LEVEL = {
    "region": "city",
    "city": "enterprise",
    "enterprise": "station",
    "station": "building",
    "building": "household",
}


@dataclass(frozen=True)
class Thresholds:
    standard_temp_c: float = 18.0
    cold_temp_c: float = 16.0
    overheat_temp_c: float = 24.0
    offline_after: timedelta = timedelta(hours=2)


def _store_key(store: Any) -> int:
    return id(store)


def _scope_key(scope: Scope) -> tuple[Any, ...]:
    return (
        scope.region_ids,
        scope.enterprise_ids,
        scope.community_ids,
        scope.household_ids,
        scope.mask_personal,
    )


def now_utc() -> datetime:
    return datetime.now(UTC)


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def registry(store: Any) -> dict[str, pd.DataFrame]:
    """Names and coordinates of regions, enterprises, stations, buildings (cached labels).

    Labels only: whether a row may be shown is decided by scoped queries, never here.
    """

    def load() -> dict[str, pd.DataFrame]:
        with store.read() as q:
            return {
                "regions": q.df(
                    "SELECT region_id, parent_id, level, name_zh, name_en, standard_temp_c "
                    "FROM regions",
                    [],
                ).set_index("region_id", drop=False),
                "enterprises": q.df(
                    "SELECT enterprise_id, region_id, name_zh, name_en, licence_no "
                    "FROM enterprises",
                    [],
                ).set_index("enterprise_id", drop=False),
                "stations": q.df(
                    "SELECT station_id, enterprise_id, region_id, name_zh, name_en, "
                    "network_station_id, lon, lat FROM stations",
                    [],
                ).set_index("station_id", drop=False),
                "communities": q.df(
                    "SELECT community_id, region_id, name_zh, name_en FROM communities", []
                ).set_index("community_id", drop=False),
                "buildings": q.df(
                    "SELECT building_id, station_id, community_id, name_zh, name_en, address, "
                    "lon, lat, floors, year_built FROM buildings",
                    [],
                ).set_index("building_id", drop=False),
            }

    return REGISTRY_CACHE.get_or_compute(("registry", _store_key(store)), load)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    rate = _num(rec.get("rate"))
    return {
        "id": str(rec["unit_id"]),
        "name_zh": rec.get("name_zh"),
        "name_en": rec.get("name_en"),
        "households": int(rec["households"]),
        "reporting": int(rec["reporting_households"]),
        "compliant": int(rec["compliant_households"]),
        "reporting_days": int(rec["reporting_days"]),
        "compliant_days": int(rec["compliant_days"]),
        "rate_pct": None if rate is None else 100.0 * rate,
        "cold": int(rec["cold_households"]),
        "overheated": int(rec["overheated_households"]),
        "offline": int(rec["offline_sensors"]),
        "mean_temp_c": _num(rec.get("mean_temp_c")),
    }


def combine(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """KPIs of several units together (rate from household-days, mean weighted)."""
    keys = ("households", "reporting", "compliant", "reporting_days", "compliant_days",
            "cold", "overheated", "offline")  # fmt: skip
    out: dict[str, Any] = {k: sum(r[k] for r in rows) for k in keys}
    days = out["reporting_days"]
    out["rate_pct"] = 100.0 * out["compliant_days"] / days if days else None
    weighted = [(r["mean_temp_c"], r["reporting"]) for r in rows if r["mean_temp_c"] is not None]
    weight = sum(w for _, w in weighted)
    out["mean_temp_c"] = sum(m * w for m, w in weighted) / weight if weight else None
    return out


def worst_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["rate_pct"] is None, r["rate_pct"] or 0.0, r["id"]))


def rollup(
    store: Any,
    scope: Scope,
    level: str | None,
    entity_id: str | None,
    child_level: str | None,
    *,
    th: Thresholds | None = None,
    now: datetime | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Today's KPIs of one unit (or of everything in scope when ``level`` is None) and of
    its children at ``child_level``, worst compliance first.

    NotFound when the unit has no household the caller may see: out-of-scope units are
    treated as absent, which does not even confirm that they exist.
    """
    from nuanliu.monitor.compliance import drilldown

    th = th or Thresholds()
    at = now or now_utc()

    def load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        top = level or "region"
        levels = [top] + ([child_level] if child_level and child_level != top else [])
        out = drilldown(
            store,
            scope,
            at,
            levels=levels,
            parent_id=entity_id,
            parent_level=level if entity_id is not None else None,
            as_of=at,
            offline_after=th.offline_after,
            standard_c=th.standard_temp_c,
            cold_temp_c=th.cold_temp_c,
            overheat_temp_c=th.overheat_temp_c,
        )
        units = [_row(r) for r in out[top].to_dict("records") if r["unit_id"] is not None]
        if level is not None and not units:
            raise NotFound(f"{level} {entity_id!r} not found", details={level: entity_id})
        children = units
        if child_level and child_level != top:
            children = [_row(r) for r in out[child_level].to_dict("records")]
        return combine(units), worst_first(children)

    key = ("rollup", _store_key(store), _scope_key(scope), level, entity_id, child_level, th,
           _minute(at) if now is None else at)  # fmt: skip
    return ROLLUP_CACHE.get_or_compute(key, load)


def first_split_level(store: Any, scope: Scope) -> str:
    """The first level at which the visible households split (a city user sees enterprises)."""

    def load() -> str:
        where, params = scope.where("hc")
        cols = ", ".join(f"COUNT(DISTINCT hc.{LEVEL_COLUMN[lv]})" for lv in CHAIN[:-1])
        with store.read() as q:
            counts = q.all(f"SELECT {cols} FROM household_context hc WHERE {where}", params)[0]
        for lv, n in zip(CHAIN[:-1], counts, strict=True):
            if n and int(n) > 1:
                return lv
        return "building"

    return REGISTRY_CACHE.get_or_compute(("split", _store_key(store), _scope_key(scope)), load)


def ancestors(store: Any, scope: Scope, level: str, entity_id: str) -> dict[str, str]:
    """Ids of the chain above a visible unit (empty when the unit is not visible)."""
    where, params = scope.where("hc")
    cols = ", ".join(f"hc.{LEVEL_COLUMN[lv]}" for lv in CHAIN)
    with store.read() as q:
        rows = q.all(
            f"SELECT {cols} FROM household_context hc "
            f"WHERE hc.{LEVEL_COLUMN[level]} = ? AND {where} LIMIT 1",
            [entity_id, *params],
        )
    if not rows:
        return {}
    return {lv: v for lv, v in zip(CHAIN, rows[0], strict=True) if v is not None}


STATUS_SQL = """
SELECT hc.household_id, h.address, hc.standard_temp_c, lr.temp_c, lr.last_ts
FROM household_context hc
JOIN households h ON h.household_id = hc.household_id
LEFT JOIN (
    SELECT s.household_id, AVG(r.temp_c) AS temp_c, MAX(r.ts) AS last_ts
    FROM (
        SELECT r0.sensor_id, r0.temp_c, r0.ts,
               ROW_NUMBER() OVER (PARTITION BY r0.sensor_id ORDER BY r0.ts DESC) AS rn
        FROM readings r0 JOIN sensors s0 ON s0.sensor_id = r0.sensor_id
        JOIN household_context hc0 ON hc0.household_id = s0.household_id
        WHERE hc0.{column} = ? AND r0.ts > ? AND r0.ts <= ?
    ) r
    JOIN sensors s ON s.sensor_id = r.sensor_id
    WHERE r.rn = 1
    GROUP BY s.household_id
) lr ON lr.household_id = hc.household_id
WHERE hc.{column} = ? AND {where}
ORDER BY hc.household_id
"""

STATUS_ORDER = {"offline": 0, "cold": 1, "low": 2, "overheated": 3, "ok": 4}


def household_status(
    store: Any,
    scope: Scope,
    level: str,
    entity_id: str,
    *,
    th: Thresholds | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Households under one unit with the mean of their sensors' latest readings and a
    status now: offline (nothing within ``offline_after``), cold (below the cold limit),
    low (below the standard), ok, overheated (above the overheat limit)."""
    th = th or Thresholds()
    at = now or now_utc()
    column = LEVEL_COLUMN[level]

    def load() -> list[dict[str, Any]]:
        where, params = scope.where("hc")
        sql = STATUS_SQL.format(column=column, where=where)
        with store.read() as q:
            rows = q.all(sql, [entity_id, at - th.offline_after, at, entity_id, *params])
        out = []
        for household_id, address, std, temp, last_ts in rows:
            standard = float(std) if std is not None else th.standard_temp_c
            temp = _num(temp)
            if temp is None:
                status = "offline"
            elif temp > th.overheat_temp_c:
                status = "overheated"
            elif temp < th.cold_temp_c:
                status = "cold"
            elif temp < standard:
                status = "low"
            else:
                status = "ok"
            out.append(
                {
                    "household_id": str(household_id),
                    "address": address or "",
                    "standard_temp_c": standard,
                    "temp_c": temp,
                    "last_ts": last_ts,
                    "status": status,
                }
            )
        out.sort(key=lambda r: (STATUS_ORDER[r["status"]], r["temp_c"] or 0.0, r["household_id"]))
        return out

    key = ("status", _store_key(store), _scope_key(scope), level, entity_id, th,
           _minute(at) if now is None else at)  # fmt: skip
    return STATUS_CACHE.get_or_compute(key, load)


def daily_compliance(
    store: Any, scope: Scope, *, days: int = 7, th: Thresholds | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Compliance per local day for the last ``days`` days (today included)."""
    from nuanliu.monitor.compliance import compliance_trend

    th = th or Thresholds()
    at = now or now_utc()

    def load() -> list[dict[str, Any]]:
        df = compliance_trend(
            store, scope, at - timedelta(days=days - 1), at, standard_c=th.standard_temp_c
        )
        return [
            {
                "date": str(r["day"]),
                "reporting": int(r["reporting_households"]),
                "rate_pct": None if _num(r["rate"]) is None else 100.0 * float(r["rate"]),
                "mean_temp_c": _num(r.get("mean_temp_c")),
            }
            for r in df.to_dict("records")
        ]

    key = ("trend", _store_key(store), _scope_key(scope), days, th,
           at.replace(minute=0, second=0, microsecond=0) if now is None else at)  # fmt: skip
    return TREND_CACHE.get_or_compute(key, load)


def household_detail(store: Any, scope: Scope, household_id: str) -> dict[str, Any]:
    """The household's record and its sensors; NotFound when out of scope."""
    where, params = scope.where("hc")
    with store.read() as q:
        rows = q.all(
            "SELECT h.household_id, h.building_id, h.address, h.floor_area_m2, h.metered, "
            "h.resident_name, h.resident_phone, hc.station_id, hc.enterprise_id, "
            "hc.community_id, hc.city_id, hc.region_id, hc.standard_temp_c "
            "FROM households h JOIN household_context hc ON hc.household_id = h.household_id "
            f"WHERE h.household_id = ? AND {where}",
            [household_id, *params],
        )
        if not rows:
            raise NotFound(
                f"household {household_id!r} not found", details={"household": household_id}
            )
        sensors = q.all(
            "SELECT sensor_id, room, model FROM sensors WHERE household_id = ? ORDER BY sensor_id",
            [household_id],
        )
    cols = [
        "household_id", "building_id", "address", "floor_area_m2", "metered", "resident_name",
        "resident_phone", "station_id", "enterprise_id", "community_id", "city_id", "region_id",
        "standard_temp_c",
    ]  # fmt: skip
    rec = dict(zip(cols, rows[0], strict=True))
    if scope.mask_personal:
        rec["resident_name"] = _mask(rec["resident_name"])
        rec["resident_phone"] = _mask(rec["resident_phone"], keep=3)
    rec["standard_temp_c"] = float(rec["standard_temp_c"] or 18.0)
    rec["sensors"] = [{"sensor_id": s[0], "room": s[1], "model": s[2]} for s in sensors]
    return rec


def _mask(value: Any, keep: int = 1) -> str:
    text = "" if value is None else str(value)
    return text[:keep] + "*" * max(len(text) - keep, 0) if text else ""


SERIES_SQL = """
SELECT h.sensor_id, h.hour_ts, h.sum_temp_c / h.n AS temp_c
FROM mon_sensor_hourly h JOIN sensors s ON s.sensor_id = h.sensor_id
WHERE s.household_id = ? AND h.hour_ts >= ? AND h.hour_ts <= ?
ORDER BY h.sensor_id, h.hour_ts
"""


def household_series(
    store: Any, household_id: str, *, days: int = 3, now: datetime | None = None
) -> dict[str, list[tuple[int, float]]]:
    """Hourly mean temperature per sensor (epoch ms at mid-hour, °C) for a chart, from
    the monitoring hourly aggregates. The caller checks scope with ``household_detail``.
    """
    at = now or now_utc()
    with store.read() as q:
        rows = q.all(SERIES_SQL, [household_id, at - timedelta(days=days), at])
    out: dict[str, list[tuple[int, float]]] = {}
    for sensor_id, hour_ts, temp in rows:
        ts = pd.Timestamp(hour_ts)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
        out.setdefault(str(sensor_id), []).append(
            (int(ts.timestamp() * 1000) + 1_800_000, round(float(temp), 2))
        )
    return out
