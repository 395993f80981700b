"""Fixtures: a monitored store with a small registry on each engine; readings helpers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from nuanliu.monitor import open_monitored_store
from nuanliu.registry import build_demo_registry

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
            r[0]
            for r in q.all(
                "SELECT DISTINCT household_id FROM sensors ORDER BY household_id"
            )
        ]


def feed(store: Any, household_id: str, start: datetime, hours: int, temp_c: float) -> int:
    """Readings every 20 min for every sensor of the household, all at ``temp_c``."""
    with store.read() as q:
        sensors = [r[0] for r in q.all("SELECT sensor_id FROM sensors WHERE household_id = ?", [household_id])]
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
