"""Temperature time series for one unit (household, building, station, ... region)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.monitor.aggregates import monitor_timezone
from nuanliu.monitor.units import ceil_hour, day_window, floor_hour, level_column
from nuanliu.scope import Scope

RESOLUTIONS = ("raw", "hour", "day")


def timeseries(
    store: Any,
    scope: Scope,
    level: str,
    unit_id: str,
    start: date | datetime,
    end: date | datetime,
    *,
    resolution: str = "hour",
) -> pd.DataFrame:
    """Mean, minimum and maximum temperature of a unit over ``[start, end)``.

    ``resolution``: ``hour`` (UTC hours, from the hourly aggregates), ``day`` (local
    days, from the daily aggregates; ``start``/``end`` may be dates) or ``raw`` (every
    reading; households only). Columns: ``ts`` (hour start UTC, or local ``day``),
    ``mean_temp_c, min_temp_c, max_temp_c, households`` (reporting), ``readings``.
    The household mean weighs every reading equally; a unit's mean weighs households
    by their number of readings.
    """
    if resolution not in RESOLUTIONS:
        raise InvalidInput(f"resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    col = level_column(level)
    cond, params = scope.where("hc")
    unit_cond = f"({cond}) AND hc.{col} = ?"
    uparams = [*params, unit_id]
    with store.read() as q:
        if resolution == "day":
            window = day_window(start, end, monitor_timezone(q))
            return q.df(
                f"""
                SELECT d.local_day AS day,
                       SUM(d.sum_temp_c) / SUM(d.n) AS mean_temp_c,
                       MIN(d.min_temp_c) AS min_temp_c, MAX(d.max_temp_c) AS max_temp_c,
                       COUNT(*) AS households, CAST(SUM(d.n) AS BIGINT) AS readings
                FROM mon_household_daily d
                JOIN household_context hc ON hc.household_id = d.household_id
                WHERE {unit_cond} AND d.local_day >= ? AND d.local_day < ?
                GROUP BY d.local_day ORDER BY d.local_day
                """,
                [*uparams, window.first_day, window.end_day],
            )
        if not isinstance(start, datetime) or not isinstance(end, datetime):
            raise InvalidInput("hourly and raw series need timezone-aware datetimes")
        if resolution == "hour":
            return q.df(
                f"""
                SELECT h.hour_ts AS ts,
                       SUM(h.sum_temp_c) / SUM(h.n) AS mean_temp_c,
                       MIN(h.min_temp_c) AS min_temp_c, MAX(h.max_temp_c) AS max_temp_c,
                       COUNT(DISTINCT s.household_id) AS households,
                       CAST(SUM(h.n) AS BIGINT) AS readings
                FROM mon_sensor_hourly h
                JOIN sensors s ON s.sensor_id = h.sensor_id
                JOIN household_context hc ON hc.household_id = s.household_id
                WHERE {unit_cond} AND h.hour_ts >= ? AND h.hour_ts < ?
                GROUP BY h.hour_ts ORDER BY h.hour_ts
                """,
                [*uparams, floor_hour(start), ceil_hour(end)],
            )
        if level != "household":
            raise InvalidInput("raw series are per household; use hour or day for units")
        return q.df(
            f"""
            SELECT r.ts, r.sensor_id, r.temp_c, r.humidity_pct
            FROM readings r
            JOIN sensors s ON s.sensor_id = r.sensor_id
            JOIN household_context hc ON hc.household_id = s.household_id
            WHERE {unit_cond} AND r.ts >= ? AND r.ts < ?
            ORDER BY r.ts, r.sensor_id
            """,
            [*uparams, start, end],
        )
