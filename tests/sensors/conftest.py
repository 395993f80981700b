"""A shared three-day January simulation with every fault kind (built once per module)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pytest

from nuanliu.sensors import FaultConfig, simulate_readings, synthetic_sensors

START = "2026-01-10T00:00:00+08:00"
END = "2026-01-13T00:00:00+08:00"

FAULTS = FaultConfig(
    cold_building_fraction=0.15,
    overheat_fraction=0.05,
    offline_fraction=0.03,
    open_window_fraction=0.05,
    stuck_fraction=0.03,
    jump_fraction=0.03,
    spike_fraction=0.03,
)


@dataclass
class Run:
    sensors: pd.DataFrame
    readings: pd.DataFrame
    truth: pd.DataFrame
    tables: list[pa.Table]
    start: str = START
    end: str = END
    faults: FaultConfig = FAULTS

    def series(self, sensor_id: str) -> pd.Series:
        """One sensor's temperatures indexed by ts (grouped once, then looked up)."""
        if not hasattr(self, "_by_sensor"):
            self._by_sensor = {
                k: g.set_index("ts")["temp_c"].sort_index()
                for k, g in self.readings.groupby("sensor_id", sort=False)
            }
        return self._by_sensor.get(sensor_id, pd.Series(dtype=float))


@pytest.fixture(scope="session")
def january_run() -> Run:
    sensors = synthetic_sensors(800, seed=11, households_per_building=20)
    stream = simulate_readings(sensors, START, END, faults=FAULTS, seed=5, chunk_rows=50_000)
    tables = list(stream)
    readings = pa.concat_tables(tables).to_pandas()
    return Run(sensors, readings, stream.truth, tables)
