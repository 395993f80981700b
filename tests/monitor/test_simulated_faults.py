"""Detection finds the sensor simulator's ground-truth faults (cold buildings, overheated
homes, offline sensors, stuck values, jumps, spikes, open windows)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from nuanliu.monitor import (
    cold_homes,
    compliance,
    offline_sensors,
    overheated_homes,
    suspicious_readings,
)
from nuanliu.scope import Scope
from nuanliu.sensors.faults import FaultConfig
from nuanliu.sensors.simulate import simulate_readings, synthetic_sensors
from tests.monitor.city import DAY, DAY_START_UTC

EVERYTHING = Scope.everything()
END = DAY_START_UTC + timedelta(days=1)


def write_registry(store: Any, sensors: pd.DataFrame) -> None:
    """One city, one county, one enterprise; the simulator's stations and buildings."""
    with store.write() as w:
        w.executemany(
            "INSERT INTO regions (region_id, parent_id, level, name_zh, name_en) VALUES"
            " (?, ?, ?, ?, ?)",
            [
                ("IM", None, "region", "内蒙古", "Inner Mongolia"),
                ("HH", "IM", "city", "呼和浩特", "Hohhot"),
                ("XC", "HH", "county", "新城区", "Xincheng"),
            ],
        )
        w.execute(
            "INSERT INTO enterprises (enterprise_id, region_id, name_zh) VALUES"
            " ('E1', 'HH', '热力')"
        )
        w.execute(
            "INSERT INTO communities (community_id, region_id, name_zh) VALUES ('M1', 'XC', '小区')"
        )
        st = pd.DataFrame({"station_id": sensors["station_id"].unique()})
        st["enterprise_id"], st["region_id"], st["name_zh"] = "E1", "XC", st["station_id"]
        b = sensors.drop_duplicates("building_id")[["building_id", "station_id"]].copy()
        b["community_id"], b["name_zh"] = "M1", b["building_id"]
        h = sensors.drop_duplicates("household_id")[["household_id", "building_id"]].copy()
        h["metered"] = False
        for name, df in [
            ("stations", st),
            ("buildings", b),
            ("households", h),
            ("sensors", sensors[["sensor_id", "household_id"]]),
        ]:
            w.append_arrow(name, pa.Table.from_pandas(df, preserve_index=False))


@pytest.fixture
def simulated(store: Any) -> tuple[Any, pd.DataFrame]:
    sensors = synthetic_sensors(144, seed=4)
    faults = FaultConfig(
        cold_buildings=["B0000001"],
        overheat_fraction=0.05,
        offline_fraction=0.05,
        stuck_fraction=0.05,
        jump_fraction=0.05,
        spike_fraction=0.05,
        open_window_fraction=0.1,
        fault_span=timedelta(hours=12),
        stuck_h=(5.0, 10.0),
    )
    write_registry(store, sensors)
    stream = simulate_readings(sensors, DAY_START_UTC, END, faults=faults, seed=9)
    for chunk in stream:
        store.insert_readings(chunk)
    return store, stream.truth


def ids(truth: pd.DataFrame, kind: str, col: str = "sensor_id") -> set[str]:
    return set(truth.loc[truth["kind"] == kind, col])


def test_detection_matches_simulator_ground_truth(simulated: tuple[Any, pd.DataFrame]) -> None:
    store, truth = simulated
    faulty_sensor = truth["kind"].isin(["stuck", "jump", "offline", "spike"])
    noisy_households = set(truth.loc[faulty_sensor, "household_id"])

    off = offline_sensors(store, EVERYTHING, END, silent_for=timedelta(hours=2))
    offline_truth = truth[truth["kind"] == "offline"]
    expected = set(
        offline_truth.loc[offline_truth["start"] <= END - timedelta(hours=2), "sensor_id"]
    )
    assert expected and set(off["sensor_id"]) == expected

    cold = cold_homes(store, EVERYTHING, DAY_START_UTC, END, below_c=17.0, min_hours=6)
    cold_truth = ids(truth, "cold", "household_id")
    found = set(cold["household_id"])
    assert cold_truth - noisy_households <= found
    assert found - cold_truth <= noisy_households  # only faulty sensors look cold otherwise

    hot = overheated_homes(store, EVERYTHING, DAY_START_UTC, END, above_c=24.0, min_hours=6)
    hot_truth = ids(truth, "overheat", "household_id")
    assert hot_truth - noisy_households <= set(hot["household_id"])
    # Healthy simulated homes reach 25 °C too: check every flagged home against the raw
    # readings (hourly means above 24 °C for 6 h in a row).
    with store.read() as q:
        raw = q.df(
            "SELECT s.household_id, r.ts, r.temp_c FROM readings r"
            " JOIN sensors s ON s.sensor_id = r.sensor_id"
        )
    raw["hour"] = pd.to_datetime(raw["ts"], utc=True).dt.floor("h")
    hourly = raw.groupby(["household_id", "hour"])["temp_c"].mean() > 24.0
    for hid in hot["household_id"]:
        above = hourly.loc[hid].astype(int)
        runs = above.groupby((above != above.shift()).cumsum()).sum()
        assert runs.max() >= 6, hid

    ev = suspicious_readings(store, EVERYTHING, DAY_START_UTC, END)
    for kind in ("stuck", "jump", "spike"):
        assert ids(ev, kind) >= ids(truth, kind) - ids(truth, "offline"), kind
    # Nothing healthy is reported as stuck, jumping or spiking.
    flagged = set(ev.loc[ev["kind"].isin(["stuck", "jump", "spike"]), "sensor_id"])
    assert flagged <= set(truth.loc[faulty_sensor | (truth["kind"] == "open_window"), "sensor_id"])
    windows = truth[truth["kind"] == "open_window"]
    found_w = ev[ev["kind"] == "open_window"].merge(windows, on="sensor_id", suffixes=("", "_t"))
    hit = found_w[
        (found_w["start"] >= found_w["start_t"] - timedelta(minutes=30))
        & (found_w["start"] <= found_w["end_t"])
    ]
    assert hit["sensor_id"].nunique() >= 0.8 * windows["sensor_id"].nunique()

    # The cold building is the least compliant one.
    by_building = compliance(store, EVERYTHING, "building", start=DAY, as_of=END)
    worst = by_building.sort_values("rate").iloc[0]
    assert worst["unit_id"] == "B0000001"
    assert worst["rate"] < 0.2
