"""The daily analysis (日研判) of one report scope for one local day.

Every compliance number is ``nuanliu.monitor``'s (``drilldown``, ``cold_homes``,
``overheated_homes``, ``list_alerts``); this module lines them up against the day before
and the same day last week, picks the worst units, adds coverage, complaints (through
the ``complaints`` seam), weather and licences, and hands the tables to the finding
rules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu import seams
from nuanliu.monitor.aggregates import monitor_timezone
from nuanliu.monitor.alerts import list_alerts
from nuanliu.monitor.compliance import DEFAULT_COLD_C, DEFAULT_OVERHEAT_C, drilldown
from nuanliu.monitor.homes import HOME_COLUMNS, cold_homes, overheated_homes
from nuanliu.monitor.units import DayWindow, day_window
from nuanliu.reports.brief import Brief, BriefRules
from nuanliu.reports.findings import daily_findings
from nuanliu.reports.indicators import coverage
from nuanliu.reports.scopes import ReportScope
from nuanliu.reports.weather import day_weather
from nuanliu.scope import Scope

UNIT_COLUMNS = [
    "level",
    "unit_id",
    "name_zh",
    "name_en",
    "households",
    "reporting_households",
    "rate_pct",
    "rate_prev_pct",
    "delta_prev_pp",
    "rate_week_pct",
    "delta_week_pp",
    "hour_rate_pct",
    "hour_rate_prev_pct",
    "hour_rate_week_pct",
    "mean_temp_c",
    "cold_households",
    "overheated_households",
]


def pct(series: pd.Series) -> pd.Series:
    """A share as a percentage with one decimal (what every document shows)."""
    return (pd.to_numeric(series, errors="coerce") * 100.0).round(1)


def unit_levels(rs: ReportScope) -> list[str]:
    """The levels a scope's brief drills into: itself, cities, enterprises, stations."""
    if rs.level == "enterprise":
        return ["enterprise", "station"]
    below = {"region": ["city", "enterprise", "station"], "city": ["enterprise", "station"]}
    return [rs.level, *below.get(rs.level, ["enterprise", "station"])]


def compare_units(
    cur: dict[str, pd.DataFrame],
    prev: dict[str, pd.DataFrame],
    week: dict[str, pd.DataFrame],
    levels: list[str],
) -> pd.DataFrame:
    """One row per unit: today's numbers, the day before, the same day last week."""
    frames = []
    for lv in levels:
        c = cur[lv].copy()
        for frame in (c, prev[lv], week[lv]):
            if "hour_rate" not in frame:  # hour rates not asked for
                frame["hour_rate"] = float("nan")
        keep = ["unit_id", "rate", "hour_rate"]
        p = prev[lv][keep].rename(columns={"rate": "rate_prev", "hour_rate": "hour_rate_prev"})
        w = week[lv][keep].rename(columns={"rate": "rate_week", "hour_rate": "hour_rate_week"})
        c = c.merge(p, on="unit_id", how="left").merge(w, on="unit_id", how="left")
        frames.append(c)
    df = pd.concat(frames, ignore_index=True)
    # levels in drill order; within a level the worst first (long tables are cut on paper)
    df["_order"] = df["level"].map({lv: i for i, lv in enumerate(levels)})
    df = df.sort_values(["_order", "rate", "unit_id"], na_position="last").reset_index(drop=True)
    out = df[["level", "unit_id", "name_zh", "name_en", "households", "reporting_households"]]
    out = out.copy()
    out["rate_pct"] = pct(df["rate"])
    out["rate_prev_pct"] = pct(df["rate_prev"])
    out["delta_prev_pp"] = ((df["rate"] - df["rate_prev"]) * 100.0).round(1)
    out["rate_week_pct"] = pct(df["rate_week"])
    out["delta_week_pp"] = ((df["rate"] - df["rate_week"]) * 100.0).round(1)
    out["hour_rate_pct"] = pct(df["hour_rate"])
    out["hour_rate_prev_pct"] = pct(df["hour_rate_prev"])
    out["hour_rate_week_pct"] = pct(df["hour_rate_week"])
    out["mean_temp_c"] = pd.to_numeric(df["mean_temp_c"]).round(1)
    out["cold_households"] = df["cold_households"]
    out["overheated_households"] = df["overheated_households"]
    return out[UNIT_COLUMNS]


def low_streaks(per_day: list[pd.DataFrame], low_rate: float) -> pd.DataFrame:
    """Per station: consecutive days below ``low_rate`` ending on the report day
    (``per_day[0]`` is the report day, then the days before)."""
    streak: dict[str, int] = {}
    alive: set[str] | None = None
    for frame in per_day:
        low = set(frame.loc[frame["rate"] < low_rate, "unit_id"].astype(str))
        alive = low if alive is None else alive & low
        for sid in alive:
            streak[sid] = streak.get(sid, 0) + 1
    return pd.DataFrame({"unit_id": list(streak), "low_days": list(streak.values())})


def worst(units: pd.DataFrame, level: str, n: int) -> pd.DataFrame:
    rows = units[(units["level"] == level) & units["rate"].notna()]
    return rows.sort_values(["rate", "mean_temp_c", "unit_id"]).head(n)


def _homes(df: pd.DataFrame, n: int) -> pd.DataFrame:
    out = df[list(HOME_COLUMNS)].head(n).copy()
    out["mean_temp_c"] = pd.to_numeric(out["mean_temp_c"]).round(1)
    out["min_temp_c"] = pd.to_numeric(out["min_temp_c"]).round(1)
    return out


CANDIDATE_CHUNK = 20_000

_CANDIDATES_SQL = """
SELECT d.household_id,
       CASE WHEN MIN(d.min_temp_c) < ? THEN 1 ELSE 0 END AS maybe_cold,
       CASE WHEN MAX(d.max_temp_c) > ? THEN 1 ELSE 0 END AS maybe_hot
FROM mon_household_daily d JOIN household_context hc ON hc.household_id = d.household_id
WHERE ({cond}) AND d.local_day >= ? AND d.local_day < ?
GROUP BY d.household_id
HAVING MIN(d.min_temp_c) < ? OR MAX(d.max_temp_c) > ?
"""


def home_lists(
    store: Any, scope: Scope, window: DayWindow, until: datetime, min_hours: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``nuanliu.monitor``'s cold and overheated homes of the window, asked only about the
    households that can be either: an hourly mean below 16 °C needs a reading below it
    that day (the daily minimum), one above 24 °C a reading above it (the daily maximum).
    The hourly table is read for those few households instead of for everyone."""
    cold_c, hot_c = DEFAULT_COLD_C, DEFAULT_OVERHEAT_C
    cond, params = scope.where("hc")
    with store.read() as q:
        cand = q.df(
            _CANDIDATES_SQL.format(cond=cond),
            [cold_c, hot_c, *params, window.first_day, window.end_day, cold_c, hot_c],
        )

    def ask(fn: Any, ids: list[str], **kw: Any) -> pd.DataFrame:
        parts = [
            fn(
                store,
                Scope(household_ids=frozenset(ids[i : i + CANDIDATE_CHUNK])),
                window.start_utc,
                until,
                min_hours=min_hours,
                **kw,
            )
            for i in range(0, len(ids), CANDIDATE_CHUNK)
        ]
        if not parts:
            parts = [fn(store, Scope(household_ids=frozenset()), window.start_utc, until, **kw)]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]

    cold = ask(
        cold_homes, sorted(cand.loc[cand["maybe_cold"] == 1, "household_id"]), below_c=cold_c
    )
    hot = ask(
        overheated_homes, sorted(cand.loc[cand["maybe_hot"] == 1, "household_id"]), above_c=hot_c
    )
    cold = cold.sort_values(["mean_temp_c", "household_id"]).reset_index(drop=True)
    hot = hot.sort_values(["mean_temp_c", "household_id"], ascending=[False, True])
    return cold, hot.reset_index(drop=True)


def alert_counts(store: Any, rs: ReportScope, start: datetime, end: datetime) -> pd.DataFrame:
    """Per alert rule: alerts raised in ``[start, end)`` and alerts open at ``end``."""
    df = list_alerts(store, rs.data_scope(), state=None, limit=1_000_000)
    cols = ["rule_id", "rule_name_zh", "rule_name_en", "severity", "raised", "open"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    raised_at = pd.to_datetime(df["raised_at"], utc=True)
    cleared_at = pd.to_datetime(df["cleared_at"], utc=True)
    df["raised"] = ((raised_at >= start) & (raised_at < end)).astype("int64")
    df["open"] = ((raised_at < end) & (cleared_at.isna() | (cleared_at >= end))).astype("int64")
    out = (
        df.groupby(["rule_id", "rule_name_zh", "rule_name_en", "severity"], dropna=False)[
            ["raised", "open"]
        ]
        .sum()
        .reset_index()
    )
    return out[(out["raised"] > 0) | (out["open"] > 0)][cols].reset_index(drop=True)


def complaint_table(
    store: Any, enterprise_ids: list[str], start: datetime, end: datetime
) -> pd.DataFrame | None:
    """Complaints per enterprise from the hotline seam; None while none is connected."""
    fn = seams.provider("complaints")
    if fn is None:
        return None
    stats = fn(store, level="enterprise", ids=enterprise_ids, start=start, end=end)
    rows = [
        {
            "enterprise_id": s.object_id,
            "opened": s.opened,
            "closed": s.closed,
            "overdue": s.overdue,
            "satisfaction_pct": None if s.satisfaction_rate is None else s.satisfaction_rate * 100,
            "per_10k_m2": s.per_10k_m2,
        }
        for s in stats
    ]
    cols = ["enterprise_id", "opened", "closed", "overdue", "satisfaction_pct", "per_10k_m2"]
    out = pd.DataFrame(rows, columns=cols)
    for col in ("satisfaction_pct", "per_10k_m2"):
        out[col] = pd.to_numeric(out[col]).round(1)
    return out


def build_daily(
    store: Any,
    rs: ReportScope,
    day: date,
    *,
    now: datetime | None = None,
    rules: BriefRules | None = None,
    forecast: pd.DataFrame | None = None,
) -> Brief:
    """The daily brief of ``rs`` for local ``day``, with numbers as of ``min(end of day, now)``."""
    from nuanliu.oversight.licences import licence_expiry, licence_states

    rules = rules or BriefRules()
    now = now or datetime.now(UTC)
    scope = rs.data_scope()
    name_zh, name_en = rs.names(store)
    with store.read() as q:
        tz = monitor_timezone(q)
    window = day_window(day, None, tz)
    as_of = min(window.end_utc, now)
    levels = unit_levels(rs)

    def drill(d: date, lv: list[str], hours: bool) -> dict[str, pd.DataFrame]:
        w = day_window(d, None, tz)
        return drilldown(store, scope, d, levels=lv, hours=hours, as_of=min(w.end_utc, now))

    hours = rules.hour_rates
    cur = drill(day, [*levels, "building"], hours)
    prev = drill(day - timedelta(days=1), levels, hours)
    week = drill(day - timedelta(days=7), levels, hours)
    per_day = [cur["station"], prev["station"]]
    for k in range(2, rules.low_days):
        per_day.append(drill(day - timedelta(days=k), ["station"], False)["station"])
    units = compare_units(cur, prev, week, levels)

    stations = cur["station"].merge(low_streaks(per_day, rules.low_rate), on="unit_id", how="left")
    stations["low_days"] = stations["low_days"].fillna(0).astype("int64")
    enterprise_of = _station_enterprise(store, stations["unit_id"].tolist())
    stations["enterprise_id"] = stations["unit_id"].map(enterprise_of)
    worst_st = worst(stations, "station", rules.top_n)
    worst_stations = pd.DataFrame(
        {
            "station_id": worst_st["unit_id"],
            "name_zh": worst_st["name_zh"],
            "name_en": worst_st["name_en"],
            "enterprise_id": worst_st["enterprise_id"],
            "rate_pct": pct(worst_st["rate"]),
            "mean_temp_c": pd.to_numeric(worst_st["mean_temp_c"]).round(1),
            "low_days": worst_st["low_days"],
        }
    ).reset_index(drop=True)
    worst_b = worst(cur["building"], "building", rules.top_n)
    worst_buildings = pd.DataFrame(
        {
            "building_id": worst_b["unit_id"],
            "name_zh": worst_b["name_zh"],
            "name_en": worst_b["name_en"],
            "households": worst_b["households"],
            "rate_pct": pct(worst_b["rate"]),
            "mean_temp_c": pd.to_numeric(worst_b["mean_temp_c"]).round(1),
        }
    ).reset_index(drop=True)

    cold, hot = home_lists(store, scope, window, as_of, rules.cold_run_h)

    ent = cur["enterprise"]
    cov = coverage(store, scope, as_of, ent)
    cov = cov.merge(
        ent[["unit_id", "name_zh", "name_en"]].rename(columns={"unit_id": "enterprise_id"}),
        on="enterprise_id",
        how="left",
    )
    states = licence_states(store, cov["enterprise_id"].tolist(), day)
    expiry = licence_expiry(store, cov["enterprise_id"].tolist(), day)
    cov_table = pd.DataFrame(
        {
            "enterprise_id": cov["enterprise_id"],
            "name_zh": cov["name_zh"],
            "name_en": cov["name_en"],
            "households": cov["households"],
            "households_with_sensor": cov["households_with_sensor"],
            "coverage_pct": pct(cov["coverage"]),
            "quota_pct": [round(rules.quota(e) * 100.0, 1) for e in cov["enterprise_id"]],
            "sensors": cov["sensors"],
            "offline_sensors": cov["offline_sensors"],
            "online_pct": pct(cov["online_rate"]),
            "licence_state": [states.get(e, "none") for e in cov["enterprise_id"]],
            "licence_valid_to": [expiry.get(e) for e in cov["enterprise_id"]],
        }
    )

    complaints = complaint_table(
        store, cov["enterprise_id"].tolist(), window.start_utc, window.end_utc
    )
    weather, weather_source = day_weather(day, rules.next_days, forecast=forecast, tz=tz)

    tables: dict[str, pd.DataFrame] = {
        "units": units,
        "worst_stations": worst_stations,
        "worst_buildings": worst_buildings,
        "cold_homes": _homes(cold, rules.top_n),
        "overheated_homes": _homes(hot, rules.top_n),
        "coverage": cov_table,
        "alerts": alert_counts(store, rs, window.start_utc, as_of),
        "weather": weather,
    }
    if complaints is not None:
        tables["complaints"] = complaints
    brief = Brief(
        kind="daily",
        scope=rs,
        name_zh=name_zh,
        name_en=name_en,
        first_day=window.first_day,
        end_day=window.end_day,
        data_time=as_of,
        tables=tables,
        findings=[],
        notes={
            "complaints_connected": complaints is not None,
            "weather_source": weather_source,
            "cold_total": len(cold),
            "overheated_total": len(hot),
            "long_cold": cold[cold["longest_run_h"] >= rules.long_cold_h],
            "stations": stations,
        },
    )
    brief.findings = daily_findings(brief, rules)
    brief.notes.pop("long_cold")
    brief.notes.pop("stations")
    return brief


def _station_enterprise(store: Any, station_ids: list[str]) -> dict[str, str]:
    if not station_ids:
        return {}
    with store.read() as q:
        rows = q.all("SELECT station_id, enterprise_id FROM stations")
    return {str(s): str(e) for s, e in rows}
