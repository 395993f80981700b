"""Simulated readings: contract, realism, determinism, and every fault's signature."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.sensors import FaultConfig, simulate_readings, synthetic_sensors
from nuanliu.store import READINGS_BATCH_SCHEMA

START = "2026-01-10T00:00:00+08:00"
END = "2026-01-13T00:00:00+08:00"

SENSOR_FAULTS = {"offline", "stuck", "jump", "spike", "open_window"}


def _series(run: Any, sensor_id: str) -> pd.Series:
    return run.series(sensor_id)


def _clean(run: Any, kind: str) -> pd.DataFrame:
    """Truth rows of ``kind`` whose sensor has no sensor-level fault (clean signal)."""
    t = run.truth
    noisy = set(t.loc[t["kind"].isin(SENSOR_FAULTS), "sensor_id"])
    rows = t[(t["kind"] == kind) & ~t["sensor_id"].isin(noisy)]
    assert len(rows), f"no clean {kind} rows to check"
    return rows


def test_tables_follow_the_insert_readings_contract(january_run: Any) -> None:
    for tbl in january_run.tables:
        assert tbl.schema.equals(READINGS_BATCH_SCHEMA, check_metadata=False)
        assert tbl["sensor_id"].null_count == 0 and tbl["temp_c"].null_count == 0
    r = january_run.readings
    assert r["ts"].min() == pd.Timestamp(START)
    assert r["ts"].max() == pd.Timestamp(END) - pd.Timedelta(minutes=10)
    assert (r["ts"].dt.minute % 10 == 0).all() and (r["ts"].dt.second == 0).all()
    assert not r.duplicated(["sensor_id", "ts"]).any()
    # 0.1 °C resolution, exactly representable tenths
    np.testing.assert_array_equal(r["temp_c"], np.round(r["temp_c"], 1))
    assert r["humidity_pct"].between(5.0, 95.0).all()


def test_healthy_homes_are_realistic(january_run: Any) -> None:
    r, t = january_run.readings, january_run.truth
    healthy = r[~r["sensor_id"].isin(set(t["sensor_id"]))]
    per_sensor = healthy.groupby("sensor_id")["temp_c"].median()
    assert len(per_sensor) > 400
    in_band = per_sensor.between(18.0, 23.0).mean()
    assert in_band > 0.8, in_band
    assert 19.5 < per_sensor.median() < 22.5
    # Hohhot winters are dry: indoor relative humidity mostly 15–45 %.
    assert healthy["humidity_pct"].between(12, 50).mean() > 0.9
    # Diurnal pattern: evenings (cooking, occupancy) warmer than the small hours.
    hour = healthy["ts"].dt.tz_convert("Asia/Shanghai").dt.hour
    by_hour = healthy.groupby(hour)["temp_c"].mean()
    assert by_hour.loc[19:22].mean() > by_hour.loc[3:6].mean() + 0.1
    # Readings move: noise and dynamics, not constants.
    assert healthy.groupby("sensor_id")["temp_c"].nunique().min() >= 3


def test_every_sensor_reports_every_step_unless_offline(january_run: Any) -> None:
    r, t = january_run.readings, january_run.truth
    offline = set(t.loc[t["kind"] == "offline", "sensor_id"])
    counts = r.groupby("sensor_id").size()
    online = counts[~counts.index.isin(offline)]
    assert (online == 3 * 144).all()
    assert set(counts.index) == set(january_run.sensors["sensor_id"])


def test_deterministic_by_seed_and_chunking(january_run: Any) -> None:
    sensors = january_run.sensors.iloc[::8].reset_index(drop=True)  # 100 sensors
    faults = january_run.faults
    end = pd.Timestamp(START) + pd.Timedelta(hours=30)

    def run(seed: int, chunk_rows: int) -> tuple[pa.Table, pd.DataFrame]:
        stream = simulate_readings(
            sensors, START, end, faults=faults, seed=seed, chunk_rows=chunk_rows
        )
        return pa.concat_tables(list(stream)), stream.truth

    a, truth_a = run(5, 7)
    b, truth_b = run(5, 10**6)
    assert a.equals(b)
    pd.testing.assert_frame_equal(truth_a, truth_b)
    c, _ = run(6, 10**6)
    assert not c["temp_c"].equals(a["temp_c"])


def test_truth_counts_follow_the_fractions(january_run: Any) -> None:
    FAULTS = january_run.faults
    t, s = january_run.truth, january_run.sensors
    n = len(s)
    per_kind = t.groupby("kind")["sensor_id"].nunique()
    for kind, frac in (
        ("offline", FAULTS.offline_fraction),
        ("stuck", FAULTS.stuck_fraction),
        ("jump", FAULTS.jump_fraction),
        ("spike", FAULTS.spike_fraction),
        ("open_window", FAULTS.open_window_fraction),
    ):
        assert per_kind[kind] == round(frac * n), kind
    n_buildings = s["building_id"].nunique()
    cold_buildings = t.loc[t["kind"] == "cold", "building_id"].nunique()
    assert cold_buildings == round(FAULTS.cold_building_fraction * n_buildings)
    # every sensor of a cold building is listed
    cold_b = set(t.loc[t["kind"] == "cold", "building_id"])
    assert set(t.loc[t["kind"] == "cold", "sensor_id"]) == set(
        s.loc[s["building_id"].isin(cold_b), "sensor_id"]
    )
    # sensor faults are exclusive: one kind per sensor
    sensor_rows = t[t["kind"].isin(SENSOR_FAULTS)].drop_duplicates(["kind", "sensor_id"])
    assert not sensor_rows["sensor_id"].duplicated().any()
    # daily faults once a day for three days
    assert (t[t["kind"] == "open_window"].groupby("sensor_id").size() == 3).all()


def test_cold_buildings_sit_at_14_to_17c(january_run: Any) -> None:
    rows = _clean(january_run, "cold")
    r = january_run.readings
    med = r[r["sensor_id"].isin(rows["sensor_id"])].groupby("sensor_id")["temp_c"].median()
    assert med.between(13.5, 17.5).all(), med.describe()
    assert med.median() < 16.8


def test_overheated_homes_exceed_24c(january_run: Any) -> None:
    rows = _clean(january_run, "overheat")
    r = january_run.readings
    med = r[r["sensor_id"].isin(rows["sensor_id"])].groupby("sensor_id")["temp_c"].median()
    assert (med > 24.0).mean() >= 0.9, med.describe()
    assert (med < 30.0).all()


def test_offline_sensors_stop_reporting(january_run: Any) -> None:
    t = january_run.truth
    rows = t[t["kind"] == "offline"]
    for _, row in rows.iterrows():
        x = _series(january_run, row["sensor_id"])
        assert len(x) > 0 and x.index.min() < row["start"]  # healthy before
        assert x.index.max() < row["start"]  # nothing from the fault time on
        assert x.index.max() == row["start"] - pd.Timedelta(minutes=10)


def test_open_window_drops_3k_then_recovers(january_run: Any) -> None:
    t = january_run.truth
    rows = t[t["kind"] == "open_window"]
    assert len(rows) >= 30
    for _, row in rows.iterrows():
        x = _series(january_run, row["sensor_id"])
        before = x[x.index <= row["start"]].iloc[-1]
        during = x[(x.index > row["start"]) & (x.index <= row["end"])]
        assert len(during) >= 1 and (row["end"] - row["start"]) <= pd.Timedelta(minutes=30)
        assert before - during.min() >= 3.0, (row["sensor_id"], before, during.min())
        later = x[(x.index > row["end"] + pd.Timedelta(hours=2))]
        later = later[later.index <= row["end"] + pd.Timedelta(hours=3)]
        if len(later):  # recovers to within 2 K of where it was
            assert before - later.mean() < 2.0


def test_stuck_sensors_repeat_one_value(january_run: Any) -> None:
    t = january_run.truth
    rows = t[t["kind"] == "stuck"]
    for _, row in rows.iterrows():
        x = _series(january_run, row["sensor_id"])
        window = x[(x.index >= row["start"]) & (x.index < row["end"])]
        assert window.nunique() == 1 and len(window) >= 2
        assert (row["end"] - row["start"]) >= pd.Timedelta(
            hours=4
        ) or window.index.max() == x.index.max()
        after = x[x.index >= row["end"]]
        if len(after) >= 6:
            assert after.nunique() > 1  # moves again afterwards


def test_jumps_shift_the_level(january_run: Any) -> None:
    t = january_run.truth
    rows = t[t["kind"] == "jump"]
    for _, row in rows.iterrows():
        x = _series(january_run, row["sensor_id"])
        k = float(row["detail"].split()[0])
        before = x[(x.index < row["start"]) & (x.index >= row["start"] - pd.Timedelta(hours=1))]
        after = x[(x.index >= row["start"]) & (x.index < row["start"] + pd.Timedelta(hours=1))]
        if len(before) >= 3 and len(after) >= 3:
            assert after.mean() - before.mean() == pytest.approx(k, abs=1.0)


def test_spikes_stand_out_from_neighbours(january_run: Any) -> None:
    t = january_run.truth
    rows = t[t["kind"] == "spike"]
    for _, row in rows.iterrows():
        x = _series(january_run, row["sensor_id"])
        if row["start"] not in x.index:
            continue  # outside the run
        i = x.index.get_loc(row["start"])
        neighbours = x.iloc[max(0, i - 2) : i].tolist() + x.iloc[i + 1 : i + 3].tolist()
        k = float(row["detail"].split()[0])
        assert x.iloc[i] - np.median(neighbours) == pytest.approx(k, abs=0.6)


def test_fault_lists_and_bad_input() -> None:
    sensors = synthetic_sensors(50, seed=1)
    faults = FaultConfig(offline_sensors=["S0000003"], cold_buildings=["B0000001"])
    stream = simulate_readings(sensors, START, "2026-01-10T03:00+08:00", faults=faults)
    kinds = stream.truth.groupby("kind")["sensor_id"].apply(set)
    assert kinds["offline"] == {"S0000003"}
    assert kinds["cold"] == set(sensors.loc[sensors["building_id"] == "B0000001", "sensor_id"])
    with pytest.raises(InvalidInput, match="within 0…1"):
        FaultConfig(offline_fraction=1.5)
    with pytest.raises(InvalidInput, match="add up"):
        FaultConfig(offline_fraction=0.6, stuck_fraction=0.6)
    with pytest.raises(InvalidInput, match="lacks columns"):
        simulate_readings(sensors.drop(columns=["building_id"]), START, END)
    with pytest.raises(InvalidInput, match="no timezone"):
        simulate_readings(sensors, "2026-01-10T00:00", END)
    with pytest.raises(InvalidInput, match="not after"):
        simulate_readings(sensors, END, START)
    dup = pd.concat([sensors, sensors.iloc[:1]])
    with pytest.raises(InvalidInput, match="more than once"):
        simulate_readings(dup, START, END)


def test_larger_steps_and_a_mild_october_day() -> None:
    sensors = synthetic_sensors(200, seed=2)
    stream = simulate_readings(
        sensors, "2026-10-20T00:00+08:00", "2026-10-21T00:00+08:00", step=timedelta(hours=1)
    )
    r = pa.concat_tables(list(stream)).to_pandas()
    assert len(r) == 200 * 24
    assert r.groupby("sensor_id")["temp_c"].median().between(17.0, 25.0).mean() > 0.9
