"""Complaint statistics: the three 12345 rates and the complaint rates, by registry level.

Definitions over a half-open interval ``[start, end)`` (the seam's ``ComplaintStats``):

- **response rate** (响应率) = sign clocks of first rounds started in the interval and
  decided by ``end`` (signed, or past their deadline) that were signed by the deadline
  / those decided;
- **resolution rate** (解决率) = tickets closed in the interval by the resident's
  confirmation that it is solved / tickets closed in the interval;
- **satisfaction rate** (满意率) = (satisfied + basically satisfied) / tickets closed in the
  interval with a rating;
- **per 10,000 m² / per 1,000 households** = tickets opened in the interval per heated
  area / households of the unit (households of the registry now);
- **overdue** = tickets open at ``end`` with a clock past its deadline at ``end``;
- **repeat complaints** = tickets opened in the interval whose household had filed
  another ticket in the ``REPEAT_DAYS`` before;
- **SLA breach rate** = clocks due in the interval (decided by ``end``) that finished
  late or not at all / clocks due in the interval.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from nuanliu.monitor.units import level_column, utc
from nuanliu.scope import Scope
from nuanliu.seams import ComplaintStats

REPEAT_DAYS = 30
STAT_LEVELS = ("region", "city", "county", "enterprise", "station", "community")

_SQL = """
WITH hh AS (
    SELECT hc.household_id, hc.{col} AS unit_id
    FROM household_context hc WHERE ({cond}) {ids}
),
units AS (
    SELECT hh.unit_id, COUNT(*) AS households, SUM(h.floor_area_m2) AS area_m2
    FROM hh JOIN households h ON h.household_id = hh.household_id GROUP BY hh.unit_id
),
late AS (  -- tickets with a clock past its deadline at ``end``
    SELECT DISTINCT ticket_id FROM hl_sla_clocks
    WHERE due_at < ? AND (completed_at IS NULL OR completed_at > ?)
),
tk AS (
    SELECT hh.unit_id, t.ticket_id, t.created_at, t.closed_at, t.closure, t.resolved,
           t.satisfaction, late.ticket_id IS NOT NULL AS has_late,
           LAG(t.created_at) OVER (PARTITION BY t.household_id ORDER BY t.created_at,
                                   t.ticket_id) AS previous_at
    FROM hl_tickets t JOIN hh ON hh.household_id = t.household_id
    LEFT JOIN late ON late.ticket_id = t.ticket_id
    WHERE t.created_at < ?
),
agg AS (
    SELECT unit_id,
        SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END) AS opened,
        SUM(CASE WHEN closed_at >= ? AND closed_at < ? THEN 1 ELSE 0 END) AS closed,
        SUM(CASE WHEN closed_at >= ? AND closed_at < ? AND closure = 'confirmed'
                  AND resolved THEN 1 ELSE 0 END) AS resolved,
        SUM(CASE WHEN closed_at >= ? AND closed_at < ? AND satisfaction IS NOT NULL
                 THEN 1 ELSE 0 END) AS rated,
        SUM(CASE WHEN closed_at >= ? AND closed_at < ?
                  AND satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END) AS satisfied,
        SUM(CASE WHEN created_at >= ? AND previous_at IS NOT NULL
                  AND previous_at < created_at AND previous_at >= created_at - ?
                 THEN 1 ELSE 0 END) AS repeats,
        SUM(CASE WHEN (closed_at IS NULL OR closed_at >= ?) AND has_late
                 THEN 1 ELSE 0 END) AS overdue
    FROM tk GROUP BY unit_id
),
clk AS (
    SELECT hh.unit_id,
        SUM(CASE WHEN c.step = 'sign' AND c.round_no = 1 AND c.started_at >= ?
                  AND (c.completed_at < ? OR c.due_at < ?) THEN 1 ELSE 0 END) AS sign_due,
        SUM(CASE WHEN c.step = 'sign' AND c.round_no = 1 AND c.started_at >= ?
                  AND c.completed_at < ? AND c.completed_at <= c.due_at
                 THEN 1 ELSE 0 END) AS sign_met,
        SUM(CASE WHEN c.due_at >= ? AND c.due_at < ? THEN 1 ELSE 0 END) AS clocks_due,
        SUM(CASE WHEN c.due_at >= ? AND c.due_at < ?
                  AND ((c.completed_at IS NULL AND (c.paused_since IS NULL
                        OR c.paused_since >= c.due_at))
                       OR c.completed_at > c.due_at) THEN 1 ELSE 0 END) AS breached
    FROM hl_sla_clocks c JOIN hl_tickets t ON t.ticket_id = c.ticket_id
    JOIN hh ON hh.household_id = t.household_id
    WHERE c.started_at < ? AND (c.due_at >= ? OR c.started_at >= ?)
    GROUP BY hh.unit_id
)
SELECT u.unit_id, u.households, u.area_m2,
    COALESCE(a.opened, 0) AS opened, COALESCE(a.closed, 0) AS closed,
    COALESCE(a.resolved, 0) AS resolved, COALESCE(a.rated, 0) AS rated,
    COALESCE(a.satisfied, 0) AS satisfied, COALESCE(a.repeats, 0) AS repeats,
    COALESCE(a.overdue, 0) AS overdue,
    COALESCE(k.sign_due, 0) AS sign_due, COALESCE(k.sign_met, 0) AS sign_met,
    COALESCE(k.clocks_due, 0) AS clocks_due, COALESCE(k.breached, 0) AS breached
FROM units u LEFT JOIN agg a ON a.unit_id = u.unit_id LEFT JOIN clk k ON k.unit_id = u.unit_id
WHERE u.unit_id IS NOT NULL
ORDER BY u.unit_id
"""


def _ratio(num: Any, den: Any) -> float | None:
    den = float(den or 0)
    return float(num or 0) / den if den > 0 else None


def rates_frame(
    store: Any,
    scope: Scope,
    level: str,
    start: datetime,
    end: datetime,
    *,
    ids: list[str] | None = None,
) -> pd.DataFrame:
    """One row per unit of ``level`` in scope: counts, the three rates, complaint rates,
    repeats and SLA breaches for ``[start, end)``."""
    col = level_column(level)
    start, end = utc(start), utc(end)
    cond, params = scope.where("hc")
    id_sql = ""
    if ids is not None:
        id_sql = f"AND hc.{col} IN ({', '.join('?' for _ in ids)})" if ids else "AND FALSE"
    sql = _SQL.format(col=col, cond=cond, ids=id_sql)
    args: list[Any] = [*params, *(ids or [])]
    args += [end, end]  # late
    args += [end]  # tk
    args += [start, start, end, start, end, start, end, start, end]
    args += [start, timedelta(days=REPEAT_DAYS), end]
    args += [start, end, end, start, end, start, end, start, end, end, start, start]
    with store.read() as q:
        df = q.df(sql, args)
    if df.empty:
        return df.assign(
            response_rate=[],
            resolution_rate=[],
            satisfaction_rate=[],
            per_10k_m2=[],
            per_1000_households=[],
            breach_rate=[],
        )
    counts = [
        "households",
        "opened",
        "closed",
        "resolved",
        "rated",
        "satisfied",
        "repeats",
        "overdue",
        "sign_due",
        "sign_met",
        "clocks_due",
        "breached",
    ]
    df[counts] = df[counts].fillna(0).astype("int64")
    df["area_m2"] = df["area_m2"].astype("float64")
    df["response_rate"] = [_ratio(m, d) for m, d in zip(df.sign_met, df.sign_due, strict=True)]
    df["resolution_rate"] = [_ratio(r, c) for r, c in zip(df.resolved, df.closed, strict=True)]
    df["satisfaction_rate"] = [_ratio(s, r) for s, r in zip(df.satisfied, df.rated, strict=True)]
    df["per_10k_m2"] = [
        _ratio(o, (a or 0) / 10_000) for o, a in zip(df.opened, df.area_m2, strict=True)
    ]
    df["per_1000_households"] = [
        _ratio(o, h / 1000) for o, h in zip(df.opened, df.households, strict=True)
    ]
    df["breach_rate"] = [_ratio(b, c) for b, c in zip(df.breached, df.clocks_due, strict=True)]
    return df


def complaint_stats(
    store: Any,
    *,
    level: str,
    ids: list[str] | None,
    start: datetime,
    end: datetime,
) -> list[ComplaintStats]:
    """The ``complaints`` seam: one ``ComplaintStats`` per object of ``level``."""
    df = rates_frame(store, Scope.everything(), level, start, end, ids=ids)
    out = []
    found = set()
    for r in df.itertuples(index=False):
        found.add(r.unit_id)
        out.append(
            ComplaintStats(
                level=level,
                object_id=str(r.unit_id),
                opened=int(r.opened),
                closed=int(r.closed),
                overdue=int(r.overdue),
                response_rate=r.response_rate,
                resolution_rate=r.resolution_rate,
                satisfaction_rate=r.satisfaction_rate,
                per_10k_m2=r.per_10k_m2,
                per_1000_households=r.per_1000_households,
            )
        )
    for missing in sorted(set(ids or []) - found):  # objects without households
        out.append(ComplaintStats(level, missing, 0, 0, 0, None, None, None, None, None))
    return out


def trend_frame(
    store: Any, scope: Scope, start: datetime, end: datetime, *, tz: str = "Asia/Shanghai"
) -> pd.DataFrame:
    """Per local day: tickets opened and closed, the resolution, satisfaction and SLA
    breach rates. Days are counted in SQL from the zone's UTC offset at ``start`` (China
    keeps one offset all year)."""
    from datetime import date
    from zoneinfo import ZoneInfo

    start, end = utc(start), utc(end)
    offset_s = int((start.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)).total_seconds())
    day = "CAST(FLOOR((EXTRACT(EPOCH FROM {c}) + ?) / 86400) AS BIGINT)"
    cond, params = scope.where("hc")
    join = (
        "FROM hl_tickets t JOIN household_context hc ON hc.household_id = t.household_id"
        f" WHERE ({cond})"
    )
    with store.read() as q:
        tickets = q.all(
            "SELECT d, SUM(opened), SUM(closed), SUM(resolved), SUM(rated), SUM(sat) FROM ("
            f" SELECT {day.format(c='t.created_at')} AS d, 1 AS opened, 0 AS closed,"
            f" 0 AS resolved, 0 AS rated, 0 AS sat {join}"
            " AND t.created_at >= ? AND t.created_at < ?"
            f" UNION ALL SELECT {day.format(c='t.closed_at')}, 0, 1,"
            " CASE WHEN t.closure = 'confirmed' AND t.resolved THEN 1 ELSE 0 END,"
            " CASE WHEN t.satisfaction IS NOT NULL THEN 1 ELSE 0 END,"
            " CASE WHEN t.satisfaction IN ('satisfied', 'basic') THEN 1 ELSE 0 END"
            f" {join} AND t.closed_at >= ? AND t.closed_at < ?"
            ") x GROUP BY d",
            [offset_s, *params, start, end, offset_s, *params, start, end],
        )
        clocks = q.all(
            f"SELECT {day.format(c='c.due_at')} AS d, COUNT(*),"
            " SUM(CASE WHEN c.breached_at IS NOT NULL OR c.completed_at > c.due_at"
            " THEN 1 ELSE 0 END)"
            " FROM hl_sla_clocks c JOIN hl_tickets t ON t.ticket_id = c.ticket_id"
            " JOIN household_context hc ON hc.household_id = t.household_id"
            f" WHERE ({cond}) AND c.due_at >= ? AND c.due_at < ? GROUP BY d",
            [offset_s, *params, start, end],
        )
    epoch = date(1970, 1, 1)
    first = (start.timestamp() + offset_s) // 86400
    last = (end.timestamp() - 1 + offset_s) // 86400
    per = {int(r[0]): r[1:] for r in tickets}
    due = {int(r[0]): r[1:] for r in clocks}
    rows = []
    for d in range(int(first), int(last) + 1):
        o, c, res, rated, sat = (int(v or 0) for v in per.get(d, (0, 0, 0, 0, 0)))
        n_due, n_late = (int(v or 0) for v in due.get(d, (0, 0)))
        rows.append(
            {
                "day": epoch + timedelta(days=d),
                "opened": o,
                "closed": c,
                "resolution_rate": res / c if c else None,
                "satisfaction_rate": sat / rated if rated else None,
                "breach_rate": n_late / n_due if n_due else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=["day", "opened", "closed", "resolution_rate", "satisfaction_rate", "breach_rate"],
    )


def map_layer(store: Any, scope: Scope, start: datetime, end: datetime) -> dict[str, Any]:
    """Stations as GeoJSON points with their complaint and SLA figures for the interval."""
    df = rates_frame(store, scope, "station", start, end)
    with store.read() as q:
        where = ", ".join("?" for _ in df.unit_id) or "NULL"
        coords = {
            r[0]: r[1:]
            for r in q.all(
                f"SELECT station_id, lon, lat, name_zh, name_en FROM stations"
                f" WHERE station_id IN ({where})",
                list(df.unit_id),
            )
        }
    features = []
    for r in df.itertuples(index=False):
        lon, lat, zh, en = coords.get(r.unit_id, (None, None, None, None))
        if lon is None or lat is None:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [float(lon), float(lat)]},
                "properties": {
                    "station_id": r.unit_id,
                    "name_zh": zh,
                    "name_en": en,
                    "opened": int(r.opened),
                    "overdue": int(r.overdue),
                    "per_1000_households": r.per_1000_households,
                    "per_10k_m2": r.per_10k_m2,
                    "response_rate": r.response_rate,
                    "resolution_rate": r.resolution_rate,
                    "satisfaction_rate": r.satisfaction_rate,
                    "breach_rate": r.breach_rate,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
