"""Cold and overheated homes, offline sensors: the operational lists behind the counts.

All read the maintained hourly aggregates (``mon_sensor_hourly``): a household's hourly
temperature is the mean of all its sensors' readings in that hour.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.monitor.compliance import (
    DEFAULT_OFFLINE_AFTER,
    DEFAULT_OVERHEAT_C,
    LAST_SEEN_JOIN,
    offline_condition,
    offline_params,
)
from nuanliu.monitor.units import ceil_hour, floor_hour, utc
from nuanliu.scope import Scope

DEFAULT_COLD_HOURS = 6

_HOURLY_HH = """
WITH hh AS (
    SELECT hc.household_id, hc.building_id, hc.station_id, hc.enterprise_id,
           COALESCE(hc.standard_temp_c, 18.0) AS std_c
    FROM household_context hc WHERE {cond}
)
SELECT s.household_id, h.hour_ts,
       SUM(h.sum_temp_c) / SUM(h.n) AS mean_c, MIN(h.min_temp_c) AS min_c
FROM mon_sensor_hourly h
JOIN sensors s ON s.sensor_id = h.sensor_id
JOIN hh ON hh.household_id = s.household_id
WHERE h.hour_ts >= ? AND h.hour_ts < ?
GROUP BY s.household_id, h.hour_ts
"""

#: the columns of a cold or overheated homes list
HOME_COLUMNS = (
    "household_id",
    "address",
    "building_id",
    "station_id",
    "enterprise_id",
    "longest_run_h",
    "hours",
    "since",
    "mean_temp_c",
    "min_temp_c",
)


def household_hours(store: Any, scope: Scope, start: datetime, end: datetime) -> pd.DataFrame:
    """Hourly means per household in scope: ``household_id, hour_ts, mean_c, min_c``.

    Hours are whole UTC hours: ``start`` is floored and ``end`` ceiled to the hour.
    """
    cond, params = scope.where("hc")
    with store.read() as q:
        df = q.df(_HOURLY_HH.format(cond=cond), [*params, floor_hour(start), ceil_hour(end)])
    return df.sort_values(["household_id", "hour_ts"]).reset_index(drop=True)


def _runs(df: pd.DataFrame, flag: np.ndarray) -> pd.DataFrame:
    """Per household: flagged hours and the longest run of consecutive flagged hours."""
    sub = df.loc[flag, ["household_id", "hour_ts"]]
    if sub.empty:
        return pd.DataFrame(
            {
                "household_id": pd.Series(dtype="object"),
                "hours": pd.Series(dtype="int64"),
                "longest_run_h": pd.Series(dtype="int64"),
                "since": pd.Series(dtype="datetime64[ns, UTC]"),
            }
        )
    hid = sub["household_id"].to_numpy()
    epoch = pd.Timestamp(0, tz="UTC")
    hours = ((pd.to_datetime(sub["hour_ts"], utc=True) - epoch) // pd.Timedelta(hours=1)).to_numpy()
    new_run = np.ones(len(sub), dtype=bool)
    new_run[1:] = (hid[1:] != hid[:-1]) | (hours[1:] != hours[:-1] + 1)
    run_id = np.cumsum(new_run)
    runs = pd.DataFrame({"household_id": hid, "run": run_id, "hour": hours})
    per_run = runs.groupby(["household_id", "run"], sort=False).agg(
        length=("hour", "size"), start=("hour", "min")
    )
    per_run = per_run.reset_index()
    best = per_run.sort_values(["household_id", "length", "start"], ascending=[True, False, False])
    best = best.drop_duplicates("household_id")
    total = runs.groupby("household_id").size().rename("hours")
    out = best.set_index("household_id")[["length", "start"]].join(total)
    out = out.rename(columns={"length": "longest_run_h"}).reset_index()
    out["since"] = pd.to_datetime(out["start"].astype("int64") * 3600, unit="s", utc=True)
    return out[["household_id", "hours", "longest_run_h", "since"]]


def _with_context(store: Any, df: pd.DataFrame) -> pd.DataFrame:
    """Add address, building, station and enterprise to a frame keyed by household."""
    if df.empty:
        for col in ["address", "building_id", "station_id", "enterprise_id"]:
            df[col] = pd.Series(dtype="object")
        return df
    with store.read() as q:
        ctx = q.df(
            "SELECT hc.household_id, h.address, hc.building_id, hc.station_id,"
            " hc.enterprise_id FROM household_context hc"
            " JOIN households h ON h.household_id = hc.household_id"
        )
    return df.merge(ctx, on="household_id", how="left")


def cold_homes(
    store: Any,
    scope: Scope,
    start: datetime,
    end: datetime,
    *,
    below_c: float | None = 16.0,
    min_hours: int = DEFAULT_COLD_HOURS,
) -> pd.DataFrame:
    """Households whose hourly mean stayed below ``below_c`` for ≥ ``min_hours`` hours
    in a row within ``[start, end)``. ``below_c=None`` uses each household's standard.

    Columns: ``household_id, address, building_id, station_id, enterprise_id,
    longest_run_h, hours (all hours below), since (start of the longest run, UTC),
    mean_temp_c, min_temp_c`` — the coldest first.
    """
    hours = household_hours(store, scope, start, end)
    if below_c is None:
        cond, params = scope.where("hc")
        with store.read() as q:
            std = q.df(
                "SELECT hc.household_id, COALESCE(hc.standard_temp_c, 18.0) AS std_c"
                f" FROM household_context hc WHERE {cond}",
                params,
            )
        hours = hours.merge(std, on="household_id", how="left")
        threshold = hours["std_c"].to_numpy(dtype=float)
    else:
        threshold = np.full(len(hours), float(below_c))
    flag = hours["mean_c"].to_numpy(dtype=float) < threshold
    runs = _runs(hours, flag)
    runs = runs[runs["longest_run_h"] >= min_hours]
    return _finish(store, hours, runs, ascending=True)


def overheated_homes(
    store: Any,
    scope: Scope,
    start: datetime,
    end: datetime,
    *,
    above_c: float = DEFAULT_OVERHEAT_C,
    min_hours: int = DEFAULT_COLD_HOURS,
) -> pd.DataFrame:
    """Households above ``above_c`` (24 °C: wasted heat) for ≥ ``min_hours`` hours in a
    row within ``[start, end)``; columns as :func:`cold_homes`, the warmest first."""
    hours = household_hours(store, scope, start, end)
    flag = hours["mean_c"].to_numpy(dtype=float) > above_c
    runs = _runs(hours, flag)
    runs = runs[runs["longest_run_h"] >= min_hours]
    return _finish(store, hours, runs, ascending=False)


def _finish(store: Any, hours: pd.DataFrame, runs: pd.DataFrame, ascending: bool) -> pd.DataFrame:
    stats = (
        hours.groupby("household_id")
        .agg(mean_temp_c=("mean_c", "mean"), min_temp_c=("min_c", "min"))
        .reset_index()
    )
    # An empty window yields untyped frames; align the key so the merge is well-defined.
    stats["household_id"] = stats["household_id"].astype("object")
    out = runs.merge(stats, on="household_id", how="left")
    out = _with_context(store, out)
    out = out.sort_values(["mean_temp_c", "household_id"], ascending=[ascending, True])
    out = out[list(HOME_COLUMNS)].reset_index(drop=True)
    for col in ["longest_run_h", "hours"]:
        out[col] = out[col].astype("int64")
    return out


def offline_sensors(
    store: Any,
    scope: Scope,
    as_of: datetime | None = None,
    *,
    silent_for: timedelta = DEFAULT_OFFLINE_AFTER,
) -> pd.DataFrame:
    """Sensors silent for more than ``silent_for`` at ``as_of`` (default now).

    Columns: ``sensor_id, household_id, address, building_id, station_id,
    enterprise_id, room, last_seen (UTC; NULL if never), silent_h`` — longest silent
    first. Sensors installed after ``as_of`` are not counted.
    """
    at = utc(as_of or datetime.now(UTC))
    cond, params = scope.where("hc")
    sql = f"""
        SELECT s.sensor_id, s.household_id, h.address, hc.building_id, hc.station_id,
               hc.enterprise_id, s.room,
               (SELECT MAX(x.last_ts) FROM mon_sensor_hourly x
                WHERE x.sensor_id = s.sensor_id AND x.hour_ts <= ? AND x.last_ts <= ?)
                   AS last_seen
        FROM sensors s
        JOIN household_context hc ON hc.household_id = s.household_id
        JOIN households h ON h.household_id = s.household_id
        {LAST_SEEN_JOIN.format(s="s")}
        WHERE ({cond}) AND (s.installed_at IS NULL OR s.installed_at <= ?)
          AND {offline_condition("s")}
    """
    with store.read() as q:
        df = q.df(sql, [at, at, *params, at, *offline_params(at, silent_for)])
    last = pd.to_datetime(df["last_seen"], utc=True)
    df["last_seen"] = last
    df["silent_h"] = (pd.Timestamp(at) - last).dt.total_seconds() / 3600.0
    return df.sort_values(["last_seen", "sensor_id"], na_position="first").reset_index(drop=True)
