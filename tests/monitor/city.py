"""A small hand-built city whose monitoring answers are known by construction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

DAY = date(2025, 1, 15)  # a local (Asia/Shanghai) day
DAY_START_UTC = datetime(2025, 1, 14, 16, 0, tzinfo=UTC)  # local midnight of DAY

# Region IM (18 °C default) → city HH (inherits 18) with county XC; city BT (20 °C)
# with county KD. Enterprises E1, E2 in HH, E3 in BT. Stations S1 (E1), S2 (E2),
# S3 (E3). Buildings B1, B2 (S1), B3 (S2), B4 (S3).
REGIONS = [
    ("IM", None, "region", "内蒙古", "Inner Mongolia", None),
    ("HH", "IM", "city", "呼和浩特", "Hohhot", None),
    ("XC", "HH", "county", "新城区", "Xincheng", None),
    ("BT", "IM", "city", "包头", "Baotou", 20.0),
    ("KD", "BT", "county", "昆都仑区", "Kundulun", None),
]
ENTERPRISES = [
    ("E1", "HH", "呼和浩特热力", "Hohhot Heating", "L-1"),
    ("E2", "HH", "城发供热", "Chengfa Heating", "L-2"),
    ("E3", "BT", "包头热力", "Baotou Heating", "L-3"),
]
STATIONS = [("S1", "E1", "XC"), ("S2", "E2", "XC"), ("S3", "E3", "KD")]
COMMUNITIES = [("M1", "XC"), ("M2", "KD")]
BUILDINGS = [("B1", "S1", "M1"), ("B2", "S1", "M1"), ("B3", "S2", "M1"), ("B4", "S3", "M2")]

# Household daily mean temperatures (°C) by building. Standard: 18 in HH, 20 in BT.
HOUSEHOLD_TEMPS: dict[str, list[float]] = {
    "B1": [20.0, 19.0, 18.0, 17.0],  # 3 of 4 compliant
    "B2": [21.0, 25.0, 15.0],  # 2 of 3 compliant; one overheated, one cold
    "B3": [22.0, 18.5],  # 2 of 2
    "B4": [21.0, 19.5, 20.0, 26.0, 14.0],  # BT at 20 °C: 3 of 5; one overheated, one cold
}


@dataclass
class City:
    households: dict[str, tuple[str, float]]  # household -> (building, mean temp)
    sensors: dict[str, str]  # sensor -> household


def build_city(store: Any, silent_household: str | None = None) -> City:
    """Write the registry of the small city; every household has one sensor, the first
    household of B3 two (living room and bedroom)."""
    households: dict[str, tuple[str, float]] = {}
    sensors: dict[str, str] = {}
    with store.write() as w:
        w.executemany(
            "INSERT INTO regions (region_id, parent_id, level, name_zh, name_en,"
            " standard_temp_c) VALUES (?, ?, ?, ?, ?, ?)",
            REGIONS,
        )
        w.executemany(
            "INSERT INTO enterprises (enterprise_id, region_id, name_zh, name_en, licence_no)"
            " VALUES (?, ?, ?, ?, ?)",
            ENTERPRISES,
        )
        w.executemany(
            "INSERT INTO stations (station_id, enterprise_id, region_id, name_zh, name_en)"
            " VALUES (?, ?, ?, ?, ?)",
            [(s, e, r, f"{s}站", f"Station {s}") for s, e, r in STATIONS],
        )
        w.executemany(
            "INSERT INTO communities (community_id, region_id, name_zh, name_en)"
            " VALUES (?, ?, ?, ?)",
            [(c, r, f"{c}小区", f"Community {c}") for c, r in COMMUNITIES],
        )
        w.executemany(
            "INSERT INTO buildings (building_id, station_id, community_id, name_zh, name_en)"
            " VALUES (?, ?, ?, ?, ?)",
            [(b, s, c, f"{b}楼", f"Building {b}") for b, s, c in BUILDINGS],
        )
        hh_rows, sensor_rows = [], []
        for b, temps in HOUSEHOLD_TEMPS.items():
            for i, temp in enumerate(temps):
                hid = f"{b}-H{i + 1}"
                households[hid] = (b, temp)
                hh_rows.append((hid, b, f"{b} 单元 {i + 1}"))
                sensor_rows.append((f"{hid}-T1", hid, "living"))
                sensors[f"{hid}-T1"] = hid
                if b == "B3" and i == 0:
                    sensor_rows.append((f"{hid}-T2", hid, "bedroom"))
                    sensors[f"{hid}-T2"] = hid
        w.executemany(
            "INSERT INTO households (household_id, building_id, address) VALUES (?, ?, ?)",
            hh_rows,
        )
        w.executemany(
            "INSERT INTO sensors (sensor_id, household_id, room, installed_at) VALUES (?, ?, ?, ?)",
            [(*r, DAY_START_UTC - timedelta(days=30)) for r in sensor_rows],
        )
    return City(households, sensors)


def readings_table(rows: list[tuple[str, datetime, float]]) -> pa.Table:
    return pa.table(
        {
            "sensor_id": pa.array([r[0] for r in rows], pa.string()),
            "ts": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "temp_c": pa.array([r[2] for r in rows], pa.float64()),
            "humidity_pct": pa.array([None] * len(rows), pa.float64()),
        }
    )


def day_readings(
    city: City, start: datetime = DAY_START_UTC, hours: int = 24, step_min: int = 10
) -> list[tuple[str, datetime, float]]:
    """10-minute readings whose mean per household is exactly its designed temperature:
    a ±0.5 °C triangle around the mean, symmetric within every hour."""
    offsets = np.array([-0.5, 0.5, -0.25, 0.25, 0.0, 0.0])
    rows = []
    steps = hours * 60 // step_min
    for sid, hid in city.sensors.items():
        temp = city.households[hid][1]
        for k in range(steps):
            ts = start + timedelta(minutes=step_min * k)
            rows.append((sid, ts, temp + float(offsets[k % len(offsets)])))
    return rows
