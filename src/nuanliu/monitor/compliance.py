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
    names_sql,
    scope_and_parent,
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


LAST_SEEN_JOIN = "LEFT JOIN mon_sensor_last_seen ls ON ls.sensor_id = {s}.sensor_id"


def offline_condition(sensor_alias: str = "s") -> str:
    """SQL: the sensor has no reading in ``[T - D, T]`` (silent for more than D).

    Needs ``LAST_SEEN_JOIN`` (alias ``ls``) in the FROM clause; params
    ``offline_params(T, D)``. When the newest reading is not after T (the usual "now"
    question) the last-seen table decides alone; otherwise (a past T) the hourly buckets
    around T do, exactly for D ≥ 1 h: buckets between the bounds lie inside the
    interval, and the two edge buckets are decided by their last (resp. first) reading.
    """
    return (
        "(ls.last_ts IS NULL OR ls.last_ts < ? OR (ls.last_ts > ? AND NOT EXISTS ("
        "SELECT 1 FROM mon_sensor_hourly h "
        f"WHERE h.sensor_id = {sensor_alias}.sensor_id "
        "AND h.hour_ts >= ? AND h.hour_ts <= ? AND h.last_ts >= ? AND h.first_ts <= ?)))"
    )


def offline_params(as_of: datetime, offline_after: timedelta) -> list[Any]:
    since = as_of - offline_after
    return [since, as_of, floor_hour(since), as_of, since, as_of]


# The household_context chain (migration 0001) evaluated per building: every column but
# household_id is a building attribute, so the per-household joins shrink to one
# (households -> bc). tests/monitor checks it against the view row for row.
BUILDING_CONTEXT = """bc AS (
        SELECT b.building_id, b.station_id, st.enterprise_id, b.community_id,
               CASE WHEN r0.level = 'county' THEN r0.region_id END AS county_id,
               CASE WHEN r0.level = 'city' THEN r0.region_id
                    WHEN r1.level = 'city' THEN r1.region_id END AS city_id,
               CASE WHEN r0.level = 'region' THEN r0.region_id
                    WHEN r1.level = 'region' THEN r1.region_id
                    WHEN r2.level = 'region' THEN r2.region_id END AS region_id,
               COALESCE(r0.standard_temp_c, r1.standard_temp_c, r2.standard_temp_c, 18.0)
                   AS standard_temp_c
        FROM buildings b
        LEFT JOIN stations st ON st.station_id = b.station_id
        LEFT JOIN communities c ON c.community_id = b.community_id
        LEFT JOIN regions r0 ON r0.region_id = c.region_id
        LEFT JOIN regions r1 ON r1.region_id = r0.parent_id
        LEFT JOIN regions r2 ON r2.region_id = r1.parent_id
    )"""

# ``hd``: every household in scope with its daily facts over the window (one row each).
_DAILY_ONE_DAY = """
    hd AS (
        SELECT hh.*, CASE WHEN x.n IS NULL THEN 0 ELSE 1 END AS days,
               CASE WHEN x.sum_temp_c / x.n >= hh.std_c THEN 1 ELSE 0 END AS compliant_days,
               x.n, x.sum_temp_c AS sum_c, x.min_temp_c AS min_c, x.max_temp_c AS max_c
        FROM hh LEFT JOIN mon_household_daily x
          ON x.household_id = hh.household_id AND x.local_day >= ? AND x.local_day < ?
    )"""

_DAILY_MANY_DAYS = """
    hd AS (
        SELECT hh.*, COALESCE(d.days, 0) AS days,
               COALESCE(d.compliant_days, 0) AS compliant_days,
               d.n, d.sum_c, d.min_c, d.max_c
        FROM hh LEFT JOIN (
            SELECT x.household_id, COUNT(*) AS days,
                   SUM(CASE WHEN x.sum_temp_c / x.n >= hh.std_c THEN 1 ELSE 0 END)
                       AS compliant_days,
                   SUM(x.n) AS n, SUM(x.sum_temp_c) AS sum_c,
                   MIN(x.min_temp_c) AS min_c, MAX(x.max_temp_c) AS max_c
            FROM mon_household_daily x JOIN hh ON hh.household_id = x.household_id
            WHERE x.local_day >= ? AND x.local_day < ?
            GROUP BY x.household_id
        ) d ON d.household_id = hh.household_id
    )"""


def _facts_sql(cond: str, hours: bool, one_day: bool = False) -> str:
    """Per-household facts over the window (CTE ``f``); params from ``_facts_params``.

    ``cond`` is the scope (and parent) condition on alias ``hc`` with the columns of
    ``household_context``. ``one_day``: the daily table holds at most one row per
    household in the window, so no per-household GROUP BY is needed.
    """
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
    daily = _DAILY_ONE_DAY if one_day else _DAILY_MANY_DAYS
    return f"""
    WITH {BUILDING_CONTEXT},
    hh AS (
        SELECT hc.* FROM (
            SELECT h.household_id, bc.building_id, bc.station_id, bc.enterprise_id,
                   bc.community_id, bc.county_id, bc.city_id, bc.region_id,
                   COALESCE(bc.standard_temp_c, ?) AS std_c
            FROM households h JOIN bc ON bc.building_id = h.building_id
        ) hc
        WHERE {cond}
    ),
    {daily}{hourly},
    f AS (
        SELECT hd.household_id, hd.region_id, hd.city_id, hd.county_id, hd.enterprise_id,
               hd.station_id, hd.community_id, hd.building_id, hd.std_c,
               hd.days, hd.compliant_days, hd.n, hd.sum_c, hd.min_c, hd.max_c,
               CASE WHEN hd.days > 0 THEN 1 ELSE 0 END AS reporting,
               CASE WHEN hd.days > 0 AND hd.compliant_days = hd.days THEN 1 ELSE 0 END
                   AS compliant,
               CASE WHEN hd.sum_c / hd.n < ? THEN 1 ELSE 0 END AS cold,
               CASE WHEN hd.sum_c / hd.n > ? THEN 1 ELSE 0 END AS overheated,
               {hourly_cols}
        FROM hd
        {"LEFT JOIN hrs ON hrs.household_id = hd.household_id" if hours else ""}
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
    if hours:
        params += [window.start_utc, window.end_utc]
    params += [cold_c, overheat_c]
    # the offline CTE of _drill_sql
    params += [as_of, *offline_params(as_of, offline_after)]
    return params


_CHAIN_COLS = [
    "building_id",
    "station_id",
    "enterprise_id",
    "community_id",
    "county_id",
    "city_id",
    "region_id",
]

# Per building (or per household): the facts summed once, offline sensors counted per
# unit, the chain columns joined to the few unit rows; every level rolls these up.
_UNIT_AGG = """
    fu AS (
        SELECT {key} AS unit_key,
               COUNT(*) AS households,
               SUM(reporting) AS reporting_households,
               SUM(compliant) AS compliant_households,
               SUM(days) AS reporting_days,
               SUM(compliant_days) AS compliant_days,
               SUM(n) AS n,
               SUM(sum_c) AS sum_c,
               MIN(min_c) AS min_temp_c,
               MAX(max_c) AS max_temp_c,
               SUM(cold) AS cold_households,
               SUM(overheated) AS overheated_households,
               SUM(hours) AS reporting_hours,
               SUM(compliant_hours) AS compliant_hours
        FROM f GROUP BY {key}
    ),
    off AS (
        SELECT hh.{key} AS unit_key, COUNT(*) AS offline_sensors
        FROM sensors s JOIN hh ON hh.household_id = s.household_id
        {last_seen_join}
        WHERE (s.installed_at IS NULL OR s.installed_at <= ?)
          AND {offline}
        GROUP BY hh.{key}
    ),
    u AS MATERIALIZED (
        SELECT fu.*, COALESCE(off.offline_sensors, 0) AS offline_sensors, {chain}
        FROM fu
        LEFT JOIN off ON off.unit_key = fu.unit_key
        JOIN {chain_src} ON c.{key} = fu.unit_key
    )
"""

_LEVEL_ROLLUP = """
SELECT '{level}' AS level, u.{col} AS unit_id, nm.name_zh, nm.name_en,
       CAST(SUM(u.households) AS BIGINT) AS households,
       CAST(SUM(u.reporting_households) AS BIGINT) AS reporting_households,
       CAST(SUM(u.compliant_households) AS BIGINT) AS compliant_households,
       CAST(SUM(u.reporting_days) AS BIGINT) AS reporting_days,
       CAST(SUM(u.compliant_days) AS BIGINT) AS compliant_days,
       SUM(u.sum_c) / CAST(SUM(u.n) AS DOUBLE PRECISION) AS mean_temp_c,
       MIN(u.min_temp_c) AS min_temp_c,
       MAX(u.max_temp_c) AS max_temp_c,
       CAST(SUM(u.cold_households) AS BIGINT) AS cold_households,
       CAST(SUM(u.overheated_households) AS BIGINT) AS overheated_households,
       CAST(SUM(u.offline_sensors) AS BIGINT) AS offline_sensors,
       CAST(SUM(u.reporting_hours) AS BIGINT) AS reporting_hours,
       CAST(SUM(u.compliant_hours) AS BIGINT) AS compliant_hours
FROM u LEFT JOIN ({names}) nm ON nm.unit_id = u.{col}
GROUP BY u.{col}, nm.name_zh, nm.name_en
"""


def _drill_sql(facts: str, levels: Sequence[str], key: str) -> str:
    chain = ", ".join(
        f"c.{col}"
        for col in [*_CHAIN_COLS, "household_id"]
        if col != "household_id" or key == "household_id"
    )
    chain_src = "bc c" if key == "building_id" else "hh c"
    parts = []
    for lv in levels:
        col = level_column(lv)
        parts.append(_LEVEL_ROLLUP.format(level=lv, col=col, names=names_sql(lv)))
    agg = _UNIT_AGG.format(
        key=key,
        chain=chain,
        chain_src=chain_src,
        last_seen_join=LAST_SEEN_JOIN.format(s="s"),
        offline=offline_condition("s"),
    )
    return facts + "," + agg + " UNION ALL ".join(parts)


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

    One statement computes the per-household facts, sums them per building and rolls
    those few rows up to every requested level, so a full drill-down costs little more
    than one level. ``parent_id`` (of ``parent_level``, default: the parent of the
    first level) restricts the households. ``hours=True`` adds ``hour_rate`` (share of
    household-hours at the standard).
    """
    if not levels:
        return {}
    for lv in levels:
        level_column(lv)
    with store.read() as q:
        tz = monitor_timezone(q)
        window = day_window(start, end, tz)
        now = datetime.now(UTC)
        limit = min(window.end_utc, now) if as_of is None else min(window.end_utc, as_of)
        cond, sparams = scope_and_parent(scope, levels[0], parent_id, parent_level)
        facts = _facts_sql(cond, hours, one_day=window.days == 1)
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
        frames = []
        upper = [lv for lv in levels if lv != "household"]
        if upper:
            frames.append(q.df(_drill_sql(facts, upper, "building_id"), params))
        if "household" in levels:
            frames.append(q.df(_drill_sql(facts, ["household"], "household_id"), params))
    df = _finish(pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0], hours)
    return {lv: df[df["level"] == lv].reset_index(drop=True) for lv in levels}


def _finish(df: pd.DataFrame, hours: bool) -> pd.DataFrame:
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
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0).astype("int64")
    for col in ["mean_temp_c", "min_temp_c", "max_temp_c"]:
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["rate"] = df["compliant_days"] / df["reporting_days"].where(df["reporting_days"] > 0)
    cols = list(COLUMNS)
    if hours:
        rh = pd.to_numeric(df["reporting_hours"], errors="coerce")
        ch = pd.to_numeric(df["compliant_hours"], errors="coerce")
        df["reporting_hours"] = rh.fillna(0).astype("int64")
        df["compliant_hours"] = ch.fillna(0).astype("int64")
        df["hour_rate"] = ch / rh.where(rh > 0)
        cols += ["reporting_hours", "compliant_hours", "hour_rate"]
    return df[cols].sort_values(["level", "unit_id"], na_position="last")


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
