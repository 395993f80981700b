"""Fixtures: a monitored store with a small registry on each engine; readings helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from nuanliu.monitor import open_monitored_store
from nuanliu.registry import build_demo_registry
from nuanliu.sensors.faults import FaultConfig
from nuanliu.sensors.simulate import simulate_readings

# Inside the 2026–2027 season, past its first 10 days (normal budgets).
T0 = datetime.fromisoformat("2026-12-01T02:00:00+00:00")


@pytest.fixture
def hl_store(db_url: str) -> Iterator[Any]:
    st = open_monitored_store(db_url)
    build_demo_registry(st, households=60, seed=3)
    try:
        yield st
    finally:
        st.close()


def households(store: Any) -> list[str]:
    """Households with at least one sensor, in id order."""
    with store.read() as q:
        return [
            r[0] for r in q.all("SELECT DISTINCT household_id FROM sensors ORDER BY household_id")
        ]


def feed(store: Any, household_id: str, start: datetime, hours: int, temp_c: float) -> int:
    """Readings every 20 min for every sensor of the household, all at ``temp_c``."""
    with store.read() as q:
        sensors = [
            r[0]
            for r in q.all("SELECT sensor_id FROM sensors WHERE household_id = ?", [household_id])
        ]
    rows = [
        (sid, start + timedelta(minutes=20 * i), temp_c)
        for sid in sensors
        for i in range(hours * 3)
    ]
    tbl = pa.table(
        {
            "sensor_id": pa.array([r[0] for r in rows], pa.string()),
            "ts": pa.array([r[1] for r in rows], pa.timestamp("us", tz="UTC")),
            "temp_c": pa.array([r[2] for r in rows], pa.float64()),
            "humidity_pct": pa.array([None] * len(rows), pa.float64()),
        }
    )
    return store.insert_readings(tbl).inserted


@pytest.fixture
def sim(hl_store: Any) -> dict[str, str]:
    """Four days of simulated readings around T0, one building under-supplied (cold)."""
    with hl_store.read() as q:
        sensors = q.df(
            "SELECT s.sensor_id, s.household_id, h.building_id, b.station_id, h.floor_area_m2,"
            " b.year_built, b.floors FROM sensors s"
            " JOIN households h ON h.household_id = s.household_id"
            " JOIN buildings b ON b.building_id = h.building_id ORDER BY s.sensor_id"
        )
    buildings = sorted(sensors.building_id.unique())
    cold_b, warm_b = buildings[0], buildings[-1]
    stream = simulate_readings(
        sensors,
        T0 - timedelta(hours=72),
        T0 + timedelta(hours=60),
        step=timedelta(minutes=20),
        faults=FaultConfig(cold_buildings=[cold_b]),
        seed=2,
    )
    for chunk in stream:
        hl_store.insert_readings(chunk)
    return {
        "cold": sensors[sensors.building_id == cold_b].household_id.iloc[0],
        "warm": sensors[sensors.building_id == warm_b].household_id.iloc[0],
    }
