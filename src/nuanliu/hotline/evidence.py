"""The sensor evidence a ticket carries from the moment it is filed.

On creation the ticket gets a snapshot of its household's indoor temperature over the
last 72 h (hourly means of all its sensors, from the monitoring aggregates), the
compliance of its building and station over the last 24 h, and the open alerts on the
household, its sensors, building and station. For temperature complaints the snapshot
says whether the sensor agrees: a "too cold" ticket while the sensor reads at or above
the standard *disagrees* and needs an on-site measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from nuanliu.hotline.model import TEMPERATURE_CATEGORIES, Category
from nuanliu.monitor.units import floor_hour

WINDOW = timedelta(hours=72)
RECENT_HOURS = 6  # the verdict looks at the latest hours with data ...
RECENT_MAX_AGE = timedelta(hours=12)  # ... if the newest of them is this recent

_HOUSEHOLD_HOURS = """
SELECT h.hour_ts, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c
FROM mon_sensor_hourly h JOIN sensors s ON s.sensor_id = h.sensor_id
WHERE s.household_id = ? AND h.hour_ts >= ? AND h.hour_ts < ?
GROUP BY h.hour_ts ORDER BY h.hour_ts
"""

# Share of reporting households of one unit whose mean over the window meets the standard.
_UNIT_RATE = """
WITH hh AS (
    SELECT s.household_id, SUM(h.sum_temp_c) / SUM(h.n) AS mean_c
    FROM mon_sensor_hourly h JOIN sensors s ON s.sensor_id = h.sensor_id
    JOIN household_context hc ON hc.household_id = s.household_id
    WHERE hc.{col} = ? AND h.hour_ts >= ? AND h.hour_ts < ?
    GROUP BY s.household_id
)
SELECT COUNT(*), SUM(CASE WHEN mean_c >= ? THEN 1 ELSE 0 END) FROM hh
"""

_OPEN_ALERTS = """
SELECT a.alert_id, a.rule_id, a.subject_kind, a.subject_id, a.raised_at, a.message_zh,
       a.message_en
FROM mon_alerts a
WHERE a.cleared_at IS NULL AND (
    (a.subject_kind = 'household' AND a.subject_id = ?)
    OR (a.subject_kind = 'sensor'
        AND a.subject_id IN (SELECT sensor_id FROM sensors WHERE household_id = ?))
    OR (a.subject_kind = 'building' AND a.subject_id = ?)
    OR (a.subject_kind = 'station' AND a.subject_id = ?)
)
ORDER BY a.raised_at DESC
"""


@dataclass(frozen=True)
class Evidence:
    standard_temp_c: float
    series: list[tuple[datetime, float]]
    mean_72h_c: float | None
    mean_6h_c: float | None
    min_72h_c: float | None
    building_rate: float | None
    station_rate: float | None
    alerts: list[dict[str, Any]]
    verdict: str  # agrees | disagrees | no_data | not_applicable


def _rate(q: Any, col: str, unit_id: str | None, start: datetime, end: datetime, std: float):
    if unit_id is None:
        return None
    row = q.one(_UNIT_RATE.format(col=col), [unit_id, start, end, std])
    if not row or not row[0]:
        return None
    return float(row[1] or 0) / float(row[0])


def verdict(category: Category, series: list[tuple[datetime, float]], std: float, at: datetime):
    """``agrees`` / ``disagrees`` / ``no_data`` for temperature tickets, else not_applicable."""
    if category not in TEMPERATURE_CATEGORIES:
        return "not_applicable", None
    recent = series[-RECENT_HOURS:]
    if not recent or at - recent[-1][0] > RECENT_MAX_AGE:
        return "no_data", None
    mean = sum(v for _, v in recent) / len(recent)
    return ("disagrees" if mean >= std else "agrees"), mean


def collect(q: Any, household_id: str, category: Category, at: datetime) -> Evidence:
    """The snapshot for ``household_id`` at ``at`` (read through ``q``)."""
    ctx = q.one(
        "SELECT building_id, station_id, COALESCE(standard_temp_c, 18.0)"
        " FROM household_context WHERE household_id = ?",
        [household_id],
    )
    building_id, station_id, std = (ctx[0], ctx[1], float(ctx[2])) if ctx else (None, None, 18.0)
    end = floor_hour(at) + timedelta(hours=1)
    start = end - WINDOW
    series = [(ts, float(v)) for ts, v in q.all(_HOUSEHOLD_HOURS, [household_id, start, end])]
    values = [v for _, v in series]
    day_start = end - timedelta(hours=24)
    alerts = [
        {
            "alert_id": int(r[0]),
            "rule_id": r[1],
            "subject_kind": r[2],
            "subject_id": r[3],
            "raised_at": r[4].isoformat() if r[4] else None,
            "message_zh": r[5],
            "message_en": r[6],
        }
        for r in q.all(_OPEN_ALERTS, [household_id, household_id, building_id, station_id])
    ]
    kind, mean_6h = verdict(category, series, std, at)
    if mean_6h is None and series:
        recent = values[-RECENT_HOURS:]
        mean_6h = sum(recent) / len(recent)
    return Evidence(
        standard_temp_c=std,
        series=series,
        mean_72h_c=sum(values) / len(values) if values else None,
        mean_6h_c=mean_6h,
        min_72h_c=min(values) if values else None,
        building_rate=_rate(q, "building_id", building_id, day_start, end, std),
        station_rate=_rate(q, "station_id", station_id, day_start, end, std),
        alerts=alerts,
        verdict=kind,
    )


def store_snapshot(w: Any, ticket_id: str, ev: Evidence, at: datetime) -> None:
    series = [[ts.isoformat(), round(v, 2)] for ts, v in ev.series]
    w.execute("DELETE FROM hl_evidence WHERE ticket_id = ?", [ticket_id])
    w.execute(
        "INSERT INTO hl_evidence (ticket_id, taken_at, standard_temp_c, hours_reported,"
        " mean_72h_c, mean_6h_c, min_72h_c, building_rate, station_rate, open_alerts, verdict,"
        " series, alerts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ticket_id,
            at,
            ev.standard_temp_c,
            len(ev.series),
            ev.mean_72h_c,
            ev.mean_6h_c,
            ev.min_72h_c,
            ev.building_rate,
            ev.station_rate,
            len(ev.alerts),
            ev.verdict,
            json.dumps(series),
            json.dumps(ev.alerts, ensure_ascii=False),
        ],
    )


def load_snapshot(q: Any, ticket_id: str) -> dict[str, Any] | None:
    rows = q.dicts("SELECT * FROM hl_evidence WHERE ticket_id = ?", [ticket_id])
    if not rows:
        return None
    row = rows[0]
    row["series"] = json.loads(row["series"])
    row["alerts"] = json.loads(row["alerts"])
    return row
