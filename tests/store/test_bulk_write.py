"""The readings write fast path stores every value exactly, whatever the batch looks like.

On PostgreSQL an all-new batch goes in as one binary COPY built from NumPy record
arrays (grouped by id length and humidity presence); on DuckDB as one Arrow scan. These
tests compare what comes back with what went in, value by value, on both engines.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from nuanliu.store import Store
from nuanliu.store.engine import copy_binary_readings

T0 = dt.datetime(2026, 1, 15, 8, 0, 0, 123456, tzinfo=dt.UTC)


def readings(ids: list[str], humidity: list[float | None]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "sensor_id": pa.array(ids, pa.string()),
            "ts": pa.array(
                [T0 + dt.timedelta(minutes=i, microseconds=7 * i) for i in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "temp_c": pa.array([-39.5 + i * 0.37 for i in range(n)], pa.float64()),
            "humidity_pct": pa.array(humidity, pa.float64()),
        }
    )


def rows_back(store: Store) -> list[tuple[object, ...]]:
    with store.read() as q:
        return q.all(
            "SELECT sensor_id, ts, temp_c, humidity_pct FROM readings ORDER BY ts, sensor_id"
        )


def expected(tbl: pa.Table) -> list[tuple[object, ...]]:
    rows = [(r["sensor_id"], r["ts"], r["temp_c"], r["humidity_pct"]) for r in tbl.to_pylist()]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def test_mixed_id_lengths_unicode_and_missing_humidity_round_trip(store: Store) -> None:
    ids = ["S1", "S0002", "S1", "传感器-7", "S0002", "a" * 70, "S1", "x"]
    hum = [40.5, None, 0.0, 100.0, None, 55.25, None, 1e-9]
    tbl = readings(ids, hum)
    report = store.insert_readings(tbl)
    assert (report.inserted, report.duplicates) == (8, 0)
    assert rows_back(store) == expected(tbl)


def test_a_sliced_batch_stores_only_its_own_rows(store: Store) -> None:
    tbl = readings([f"S{i:04d}" for i in range(50)], [float(i) for i in range(50)])
    part = tbl.slice(17, 9)  # Arrow offsets not starting at 0
    assert store.insert_readings(part).inserted == 9
    assert rows_back(store) == expected(part)


def test_a_partly_stored_batch_falls_back_and_stores_only_the_new_rows(store: Store) -> None:
    tbl = readings([f"S{i % 7}" for i in range(40)], [None if i % 3 else 50.0 for i in range(40)])
    store.insert_readings(tbl.slice(0, 25))
    report = store.insert_readings(tbl.slice(10, 30))  # 15 stored already, 15 new
    assert (report.inserted, report.duplicates) == (15, 15)
    assert rows_back(store) == expected(tbl)


def test_binary_copy_stream_layout() -> None:
    tbl = readings(["ab", "c"], [21.5, None])
    data = copy_binary_readings(tbl, received_us=0)
    assert data.startswith(b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8)
    assert data.endswith(b"\xff\xff")
    # header 19 + per row: 2 + (4 + id) + 12 (ts) + 12 (temp) + 12 or 4 (humidity) + 12
    assert len(data) == 19 + (2 + 6 + 12 + 12 + 12 + 12) + (2 + 5 + 12 + 12 + 4 + 12) + 2
