"""Compliance (室温达标率) with drill-down at every level, and its daily trend.

A household *reports* on a local day when it has readings that day; it is *compliant*
that day when its daily mean (all its sensors' readings) is at or above its city's
standard (``household_context.standard_temp_c``, 18 °C by default). Over a window of
several days the rate is compliant household-days / reporting household-days (for one
day: compliant households / reporting households), and a household counts as
compliant when it was compliant on every day it reported.

Per unit the drill-down also counts cold households (window mean below
``cold_temp_c``, 16 °C by default), overheated households (window mean above
``overheat_temp_c``, 24 °C: wasted heat) and offline sensors (no reading during the
``offline_after`` before the window end, or before ``as_of`` if that is earlier).
Everything reads the maintained aggregates, never the raw readings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu.monitor.aggregates import monitor_timezone
from nuanliu.monitor.units import (
    CHAIN,
    DayWindow,
    day_window,
    floor_hour,
    level_column,
    scope_and_parent,
    unit_names,
)
from nuanliu.scope import Scope

DEFAULT_STANDARD_C = 18.0
DEFAULT_COLD_C = 16.0
DEFAULT_OVERHEAT_C = 24.0
DEFAULT_OFFLINE_AFTER = timedelta(hours=2)

COLUMNS = [
    "level",
    "unit_id",
    "name_zh",
    "name_en",
    "households",
    "reporting_households",
    "compliant_households",
    "rate",
    "reporting_days",
    "compliant_days",
    "mean_temp_c",
    "min_temp_c",
    "max_temp_c",
    "cold_households",
    "overheated_households",
    "offline_sensors",
]


def offline_condition(sensor_alias: str = "s") -> str:
    """SQL: sensor has no reading in ``[T - D, T]`` (silent for more than D); params
    ``offline_params(T, D)``.

    Exact for D ≥ 1 h: every hourly bucket between the bounds lies inside the interval,
    and the two edge buckets are decided by their last (resp. first) reading time.
    """
    return (
        "NOT EXISTS (SELECT 1 FROM mon_sensor_hourly h "
        f"WHERE h.sensor_id = {sensor_alias}.sensor_id "
        "AND h.hour_ts >= ? AND h.hour_ts <= ? AND h.last_ts >= ? AND h.first_ts <= ?)"
    )


def offline_params(as_of: datetime, offline_after: timedelta) -> list[Any]:
    since = as_of - offline_after
    return [floor_hour(since), as_of, since, as_of]


def _facts_sql(cond: str, hours: bool) -> str:
    """Per-household facts over the window; params in the order documented inline."""
    hourly = ""
    hourly_cols = "CAST(NULL AS BIGINT) AS hours, CAST(NULL AS BIGINT) AS compliant_hours"
    if hours:
        hourly = """,
        hh_hours AS (  -- hourly household means from the sensor hourly aggregates
            SELECT s.household_id, h.hour_ts, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c
            FROM mon_sensor_hourly h
            JOIN sensors s ON s.sensor_id = h.sensor_id
            JOIN hh ON hh.household_id = s.household_id
            WHERE h.hour_ts >= ? AND h.hour_ts < ?
            GROUP BY s.household_id, h.hour_ts
        ),
        hrs AS (
            SELECT x.household_id, COUNT(*) AS hours,
                   SUM(CASE WHEN x.mean_c >= hh.std_c THEN 1 ELSE 0 END) AS compliant_hours
            FROM hh_hours x JOIN hh ON hh.household_id = x.household_id
            GROUP BY x.household_id
        )"""
        hourly_cols = "hrs.hours, hrs.compliant_hours"
    return f"""
    WITH hh AS (
        SELECT hc.household_id, hc.region_id, hc.city_id, hc.county_id, hc.enterprise_id,
               hc.station_id, hc.community_id, hc.building_id,
               COALESCE(hc.standard_temp_c, ?) AS std_c
        FROM household_context hc
        WHERE {cond}
    ),
    d AS (
        SELECT d.household_id, COUNT(*) AS days,
               SUM(CASE WHEN d.sum_temp_c / d.n >= hh.std_c THEN 1 ELSE 0 END)
                   AS compliant_days,
               SUM(d.n) AS n, SUM(d.sum_temp_c) AS sum_c,
               MIN(d.min_temp_c) AS min_c, MAX(d.max_temp_c) AS max_c
        FROM mon_household_daily d JOIN hh ON hh.household_id = d.household_id
        WHERE d.local_day >= ? AND d.local_day < ?
        GROUP BY d.household_id
    ),
    off AS (
        SELECT s.household_id, COUNT(*) AS offline_sensors
        FROM sensors s JOIN hh ON hh.household_id = s.household_id
        WHERE (s.installed_at IS NULL OR s.installed_at <= ?)
          AND {offline_condition("s")}
        GROUP BY s.household_id
    ){hourly},
    f AS (
        SELECT hh.household_id, hh.region_id, hh.city_id, hh.county_id, hh.enterprise_id,
               hh.station_id, hh.community_id, hh.building_id, hh.std_c,
               COALESCE(d.days, 0) AS days,
               COALESCE(d.compliant_days, 0) AS compliant_days,
               d.n, d.sum_c, d.min_c, d.max_c,
               CASE WHEN d.days > 0 THEN 1 ELSE 0 END AS reporting,
               CASE WHEN d.days > 0 AND d.compliant_days = d.days THEN 1 ELSE 0 END
                   AS compliant,
               CASE WHEN d.sum_c / d.n < ? THEN 1 ELSE 0 END AS cold,
               CASE WHEN d.sum_c / d.n > ? THEN 1 ELSE 0 END AS overheated,
               COALESCE(off.offline_sensors, 0) AS offline_sensors,
               {hourly_cols}
        FROM hh
        LEFT JOIN d ON d.household_id = hh.household_id
        LEFT JOIN off ON off.household_id = hh.household_id
        {"LEFT JOIN hrs ON hrs.household_id = hh.household_id" if hours else ""}
    )
    """


def _facts_params(
    scope_params: list[Any],
    window: DayWindow,
    as_of: datetime,
    offline_after: timedelta,
    standard_c: float,
    cold_c: float,
    overheat_c: float,
    hours: bool,
) -> list[Any]:
    params: list[Any] = [standard_c, *scope_params, window.first_day, window.end_day]
    params += [as_of, *offline_params(as_of, offline_after)]
    if hours:
        params += [window.start_utc, window.end_utc]
    params += [cold_c, overheat_c]
    return params


_LEVEL_AGG = """
SELECT '{level}' AS level, {col} AS unit_id,
       COUNT(*) AS households,
       CAST(SUM(reporting) AS BIGINT) AS reporting_households,
       CAST(SUM(compliant) AS BIGINT) AS compliant_households,
       CAST(SUM(days) AS BIGINT) AS reporting_days,
       CAST(SUM(compliant_days) AS BIGINT) AS compliant_days,
       SUM(sum_c) / CAST(SUM(n) AS DOUBLE PRECISION) AS mean_temp_c,
       MIN(min_c) AS min_temp_c,
       MAX(max_c) AS max_temp_c,
       CAST(SUM(cold) AS BIGINT) AS cold_households,
       CAST(SUM(overheated) AS BIGINT) AS overheated_households,
       CAST(SUM(offline_sensors) AS BIGINT) AS offline_sensors,
       CAST(SUM(hours) AS BIGINT) AS reporting_hours,
       CAST(SUM(compliant_hours) AS BIGINT) AS compliant_hours
FROM f GROUP BY {col}
"""


def drilldown(
    store: Any,
    scope: Scope,
    start: date | datetime,
    end: date | datetime | None = None,
    *,
    levels: Sequence[str] = tuple(CHAIN[:-1]),
    parent_id: str | None = None,
    parent_level: str | None = None,
    as_of: datetime | None = None,
    offline_after: timedelta = DEFAULT_OFFLINE_AFTER,
    standard_c: float = DEFAULT_STANDARD_C,
    cold_temp_c: float = DEFAULT_COLD_C,
    overheat_temp_c: float = DEFAULT_OVERHEAT_C,
    hours: bool = False,
) -> dict[str, pd.DataFrame]:
    """Compliance per unit at several levels at once: ``{level: DataFrame}``.

    One query computes the per-household facts once and groups them per level, so a
    full drill-down costs little more than one level. ``parent_id`` (of
    ``parent_level``, default: the parent of the first level) restricts the households.
    ``hours=True`` adds ``hour_rate`` (share of household-hours at the standard).
    """
    if not levels:
        return {}
    cols = [level_column(lv) for lv in levels]
    with store.read() as q:
        tz = monitor_timezone(q)
        window = day_window(start, end, tz)
        now = datetime.now(UTC)
        limit = min(window.end_utc, now) if as_of is None else min(window.end_utc, as_of)
        cond, sparams = scope_and_parent(scope, levels[0], parent_id, parent_level)
        sql = _facts_sql(cond, hours) + " UNION ALL ".join(
            _LEVEL_AGG.format(level=lv, col=col) for lv, col in zip(levels, cols, strict=True)
        )
        params = _facts_params(
            sparams,
            window,
            limit,
            offline_after,
            standard_c,
            cold_temp_c,
            overheat_temp_c,
            hours,
        )
        df = q.df(sql, params)
        out: dict[str, pd.DataFrame] = {}
        for lv in levels:
            part = df[df["level"] == lv].copy()
            names = unit_names(q, lv)
            out[lv] = _finish(part, names, hours)
    return out


def _finish(part: pd.DataFrame, names: pd.DataFrame, hours: bool) -> pd.DataFrame:
    part = part.merge(names, on="unit_id", how="left")
    for col in [
        "households",
        "reporting_households",
        "compliant_households",
        "reporting_days",
        "compliant_days",
        "cold_households",
        "overheated_households",
        "offline_sensors",
    ]:
        part[col] = part[col].fillna(0).astype("int64")
    part["rate"] = part["compliant_days"] / part["reporting_days"].where(part["reporting_days"] > 0)
    cols = list(COLUMNS)
    if hours:
        rh = pd.to_numeric(part["reporting_hours"], errors="coerce")
        ch = pd.to_numeric(part["compliant_hours"], errors="coerce")
        part["reporting_hours"] = rh.fillna(0).astype("int64")
        part["compliant_hours"] = ch.fillna(0).astype("int64")
        part["hour_rate"] = ch / rh.where(rh > 0)
        cols += ["reporting_hours", "compliant_hours", "hour_rate"]
    part = part[cols].sort_values("unit_id", na_position="last").reset_index(drop=True)
    return part


def compliance(
    store: Any,
    scope: Scope,
    level: str,
    parent_id: str | None = None,
    start: date | datetime | None = None,
    end: date | datetime | None = None,
    **options: Any,
) -> pd.DataFrame:
    """One row per unit of ``level`` (under ``parent_id`` if given) for ``[start, end)``.

    Columns: ``level, unit_id, name_zh, name_en, households, reporting_households,
    compliant_households, rate, reporting_days, compliant_days, mean_temp_c,
    min_temp_c, max_temp_c, cold_households, overheated_households, offline_sensors``
    (+ ``reporting_hours, compliant_hours, hour_rate`` with ``hours=True``).
    ``start`` defaults to today (local). Options as for :func:`drilldown`.
    """
    if start is None:
        start = datetime.now(UTC)
    return drilldown(store, scope, start, end, levels=[level], parent_id=parent_id, **options)[
        level
    ]


def compliance_trend(
    store: Any,
    scope: Scope,
    start: date | datetime,
    end: date | datetime | None = None,
    *,
    level: str | None = None,
    unit_id: str | None = None,
    standard_c: float = DEFAULT_STANDARD_C,
) -> pd.DataFrame:
    """Daily compliance over ``[start, end)``: one row per local day.

    Columns ``day, households, reporting_households, compliant_households, rate,
    mean_temp_c, min_temp_c``; restricted to one unit with ``level`` and ``unit_id``.
    """
    with store.read() as q:
        tz = monitor_timezone(q)
        window = day_window(start, end, tz)
        cond, params = scope.where("hc")
        params = list(params)
        if level is not None and unit_id is not None:
            cond = f"({cond}) AND hc.{level_column(level)} = ?"
            params.append(unit_id)
        total = q.one(f"SELECT COUNT(*) FROM household_context hc WHERE {cond}", params)
        df = q.df(
            f"""
            WITH hh AS (
                SELECT hc.household_id, COALESCE(hc.standard_temp_c, ?) AS std_c
                FROM household_context hc WHERE {cond}
            )
            SELECT d.local_day AS day,
                   COUNT(*) AS reporting_households,
                   SUM(CASE WHEN d.sum_temp_c / d.n >= hh.std_c THEN 1 ELSE 0 END)
                       AS compliant_households,
                   SUM(d.sum_temp_c) / SUM(d.n) AS mean_temp_c,
                   MIN(d.min_temp_c) AS min_temp_c
            FROM mon_household_daily d JOIN hh ON hh.household_id = d.household_id
            WHERE d.local_day >= ? AND d.local_day < ?
            GROUP BY d.local_day
            """,
            [standard_c, *params, window.first_day, window.end_day],
        )
    days = pd.DataFrame({"day": [window.first_day + timedelta(days=i) for i in range(window.days)]})
    df["day"] = pd.to_datetime(df["day"]).dt.date
    out = days.merge(df, on="day", how="left")
    out.insert(1, "households", int(total[0]) if total else 0)
    for col in ["reporting_households", "compliant_households"]:
        out[col] = out[col].fillna(0).astype("int64")
    out["rate"] = out["compliant_households"] / out["reporting_households"].where(
        out["reporting_households"] > 0
    )
    return out[
        [
            "day",
            "households",
            "reporting_households",
            "compliant_households",
            "rate",
            "mean_temp_c",
            "min_temp_c",
        ]
    ]
