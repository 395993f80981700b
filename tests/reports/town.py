"""A small town whose daily and weekly numbers are computed by hand.

Region R → city C (18 °C) → county K. Enterprises E1 (good), E2 (a cold station),
E3 (poor coverage, one sensor offline on the report day, a cold home). One station and
one building per enterprise, four households each. Each household reads one constant
temperature per local day, hourly (24 readings at HH:30), from D-7 to D.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

D = date(2026, 11, 30)  # report day (local, Asia/Shanghai)


def day_start_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)


# household -> (sensor or None, {day offset (0 = D, -1 = D-1 …): temp}, default temp)
def temps(hh: str, k: int) -> float | None:
    """Daily temperature of ``hh`` on D+k (k ≤ 0); None = no reading that day."""
    table: dict[str, Any] = {
        "E1-H1": 20.0,
        "E1-H2": 21.0,
        "E1-H3": 22.0,
        "E1-H4": 25.0,
        "E2-H3": 19.0,
        "E2-H4": 20.0,
        "E3-H1": 21.0,
        "E3-H2": 15.0,
    }
    if hh in table:
        return table[hh]
    if hh == "E2-H1":
        return 17.0 if k >= -2 else 19.0
    if hh == "E2-H2":
        return 17.0 if k in (0, -2) else 19.0
    if hh == "E3-H3":
        return None if k == 0 else 21.0
    return None  # E3-H4 has no sensor


HOUSEHOLDS = [f"E{e}-H{i}" for e in (1, 2, 3) for i in (1, 2, 3, 4)]
SENSORS = {f"{hh}-T": hh for hh in HOUSEHOLDS if hh != "E3-H4"}


def build_town(store: Any, days: int = 8) -> None:
    """Registry and readings for D-days+1 … D."""
    with store.write() as w:
        w.executemany(
            "INSERT INTO regions (region_id, parent_id, level, name_zh, name_en, standard_temp_c)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("R", None, "region", "自治区", "Region", None),
                ("C", "R", "city", "暖城", "Warm City", 18.0),
                ("K", "C", "county", "新区", "New District", None),
            ],
        )
        w.executemany(
            "INSERT INTO enterprises (enterprise_id, region_id, name_zh, name_en) VALUES (?,?,?,?)",
            [(f"E{e}", "C", f"热力{e}", f"Heat {e}") for e in (1, 2, 3)],
        )
        w.executemany(
            "INSERT INTO stations (station_id, enterprise_id, region_id, name_zh, name_en)"
            " VALUES (?,?,?,?,?)",
            [(f"S{e}", f"E{e}", "K", f"{e}号站", f"Station {e}") for e in (1, 2, 3)],
        )
        w.execute(
            "INSERT INTO communities (community_id, region_id, name_zh, name_en)"
            " VALUES ('M', 'K', '小区', 'Estate')"
        )
        w.executemany(
            "INSERT INTO buildings (building_id, station_id, community_id, name_zh, name_en)"
            " VALUES (?,?,?,?,?)",
            [(f"B{e}", f"S{e}", "M", f"{e}号楼", f"Building {e}") for e in (1, 2, 3)],
        )
        w.executemany(
            "INSERT INTO households (household_id, building_id, address, floor_area_m2)"
            " VALUES (?,?,?,?)",
            [(hh, f"B{hh[1]}", f"{hh} 室", 80.0) for hh in HOUSEHOLDS],
        )
        w.executemany(
            "INSERT INTO sensors (sensor_id, household_id, room, installed_at) VALUES (?,?,?,?)",
            [(s, hh, "living", day_start_utc(D) - timedelta(days=60)) for s, hh in SENSORS.items()],
        )
    rows: list[tuple[str, datetime, float]] = []
    for k in range(-(days - 1), 1):
        start = day_start_utc(D + timedelta(days=k))
        for sid, hh in SENSORS.items():
            t = temps(hh, k)
            if t is None:
                continue
            rows += [(sid, start + timedelta(hours=h, minutes=30), t) for h in range(24)]
    store.insert_readings(
        pa.table(
            {
                "sensor_id": pa.array([r[0] for r in rows], pa.string()),
                "ts": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
                "temp_c": pa.array([r[2] for r in rows], pa.float64()),
                "humidity_pct": pa.array([None] * len(rows), pa.float64()),
            }
        )
    )
