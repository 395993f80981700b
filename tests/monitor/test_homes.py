"""Cold, overheated and offline homes; suspicious data on hand-made readings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from nuanliu.monitor import cold_homes, offline_sensors, overheated_homes, suspicious_readings
from nuanliu.monitor.suspicious import SuspiciousOptions, detect
from nuanliu.scope import Scope
from tests.monitor.city import DAY_START_UTC, City, readings_table

END = DAY_START_UTC + timedelta(days=1)
EVERYTHING = Scope.everything()


def test_cold_and_overheated_homes(store: Any, city: City) -> None:
    cold = cold_homes(store, EVERYTHING, DAY_START_UTC, END)
    assert list(cold["household_id"]) == ["B4-H5", "B2-H3"]  # the coldest first
    assert (cold["longest_run_h"] == 24).all()
    assert cold.iloc[0]["station_id"] == "S3"
    assert cold.iloc[0]["mean_temp_c"] == pytest.approx(14.0)
    # Against each household's own standard (18 °C, 20 °C in Baotou): 17 and 19.5 too.
    below_std = cold_homes(store, EVERYTHING, DAY_START_UTC, END, below_c=None)
    assert set(below_std["household_id"]) == {"B4-H5", "B2-H3", "B1-H4", "B4-H2"}
    hot = overheated_homes(store, EVERYTHING, DAY_START_UTC, END)
    assert list(hot["household_id"]) == ["B4-H4", "B2-H2"]  # the warmest first


def test_a_window_without_readings_lists_no_homes(store: Any, city: City) -> None:
    # A dispatcher opening the lists for a week before any sensor reported gets empty
    # lists with the usual columns, not an error.
    quiet_start = DAY_START_UTC - timedelta(days=7)
    for listing in (cold_homes, overheated_homes):
        out = listing(store, EVERYTHING, quiet_start, DAY_START_UTC)
        assert out.empty
        assert {"household_id", "longest_run_h", "mean_temp_c"} <= set(out.columns)


def test_cold_needs_consecutive_hours(store: Any, city: City) -> None:
    # B1-H1 (20 °C) gets a 5 h cold spell the next day, then a 7 h one.
    start = END
    rows = []
    for k in range(24 * 6):
        ts = start + timedelta(minutes=10 * k)
        hour = k // 6
        cold = 2 <= hour < 7 or 10 <= hour < 17
        rows.append(("B1-H1-T1", ts, 14.0 if cold else 20.0))
    store.insert_readings(readings_table(rows))
    six = cold_homes(store, EVERYTHING, start, start + timedelta(days=1), min_hours=6)
    assert list(six["household_id"]) == ["B1-H1"]
    assert six.iloc[0]["longest_run_h"] == 7
    assert six.iloc[0]["hours"] == 12
    assert six.iloc[0]["since"] == start + timedelta(hours=10)
    eight = cold_homes(store, EVERYTHING, start, start + timedelta(days=1), min_hours=8)
    assert eight.empty


def test_offline_sensors_as_of_a_time(store: Any, city: City) -> None:
    # B2-H1's sensor stops at 06:00 UTC; the others report the whole day.
    with store.write() as w:
        w.execute(
            "DELETE FROM readings WHERE sensor_id = 'B2-H1-T1' AND ts >= ?",
            [DAY_START_UTC + timedelta(hours=14)],
        )
    from nuanliu.monitor import rebuild_aggregates

    rebuild_aggregates(store)
    as_of = DAY_START_UTC + timedelta(hours=23, minutes=55)
    off = offline_sensors(store, EVERYTHING, as_of, silent_for=timedelta(hours=2))
    assert list(off["sensor_id"]) == ["B2-H1-T1"]
    last = DAY_START_UTC + timedelta(hours=13, minutes=50)
    assert off.iloc[0]["last_seen"] == last
    assert off.iloc[0]["silent_h"] == pytest.approx((as_of - last).total_seconds() / 3600)
    # Two hours after its last reading it is not yet offline; ten minutes later it is.
    assert offline_sensors(store, EVERYTHING, last + timedelta(hours=2)).empty
    later = offline_sensors(store, EVERYTHING, last + timedelta(hours=2, minutes=10))
    assert list(later["sensor_id"]) == ["B2-H1-T1"]
    # A scope without that household does not see it.
    baotou = Scope(region_ids=frozenset({"BT"}))
    assert offline_sensors(store, baotou, as_of).empty


def _series(sid: str, values: np.ndarray) -> list[tuple]:
    return [
        (sid, DAY_START_UTC + timedelta(minutes=10 * k), float(v)) for k, v in enumerate(values)
    ]


def test_detect_finds_each_kind_of_suspicious_data() -> None:
    rng = np.random.default_rng(5)
    n = 144
    base = 20 + 0.3 * np.sin(np.arange(n) / 20) + rng.normal(0, 0.05, n).round(2)
    stuck = base.copy()
    stuck[30:70] = 19.7  # 6.5 h frozen
    window = base.copy()
    window[50:53] = [16.0, 14.5, 15.2]  # open window, then re-heating
    window[53:60] = np.linspace(17.5, base[60], 7)
    jump = base.copy()
    jump[80:] += 4.0  # calibration shift
    spike = base.copy()
    spike[100] = 35.0
    rows = []
    for sid, vals in [
        ("ok", base),
        ("stuck", stuck),
        ("window", window),
        ("jump", jump),
        ("spike", spike),
    ]:
        rows += _series(sid, vals)
    tbl = readings_table(rows).sort_by([("sensor_id", "ascending"), ("ts", "ascending")])
    ev = detect(tbl, SuspiciousOptions())
    kinds = {(r.sensor_id, r.kind) for r in ev.itertuples()}
    assert kinds == {
        ("stuck", "stuck"),
        ("window", "open_window"),
        ("jump", "jump"),
        ("spike", "spike"),
    }
    w = ev[ev["kind"] == "open_window"].iloc[0]
    assert w["start"] == DAY_START_UTC + timedelta(minutes=500)
    assert w["value_c"] > 4.5
    s = ev[ev["kind"] == "stuck"].iloc[0]
    assert s["end"] - s["start"] == timedelta(minutes=390)


def test_suspicious_readings_reads_the_store_within_scope(store: Any, city: City) -> None:
    start = END
    values = np.full(36, 20.0)  # 6 h of one value: stuck
    store.insert_readings(readings_table(_series("B4-H1-T1", values)))
    store.insert_readings(
        readings_table(
            [
                (s, start + timedelta(minutes=10 * k), 20.0 + 0.1 * (k % 3))
                for s in ["B1-H1-T1"]
                for k in range(36)
            ]
        )
    )
    ev = suspicious_readings(store, EVERYTHING, DAY_START_UTC, start + timedelta(hours=6))
    stuck = ev[ev["kind"] == "stuck"]
    assert "B4-H1-T1" not in set(stuck["sensor_id"])  # B4-H1's day varies ±0.5 °C
    with store.write() as w:
        w.execute("DELETE FROM readings WHERE sensor_id = 'B4-H1-T1'")
    store.insert_readings(readings_table(_series("B4-H1-T1", values)))
    ev = suspicious_readings(store, EVERYTHING, DAY_START_UTC, start + timedelta(hours=6))
    assert set(ev[ev["kind"] == "stuck"]["sensor_id"]) == {"B4-H1-T1"}
    assert set(ev[ev["kind"] == "stuck"]["household_id"]) == {"B4-H1"}
    hh = Scope(region_ids=frozenset({"HH"}))
    assert suspicious_readings(store, hh, DAY_START_UTC, start + timedelta(hours=6)).empty
