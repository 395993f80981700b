"""The readings write fast path stores every value exactly, whatever the batch looks like.

On PostgreSQL an all-new batch goes in as one binary COPY built from NumPy record
arrays (grouped by id length and humidity presence); on DuckDB as one Arrow scan. These
tests compare what comes back with what went in, value by value, on both engines.
"""

from __future__ import annotations

import datetime as dt
import struct

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _decode(data: bytes) -> list[tuple[object, ...]]:
    """PostgreSQL's binary COPY format read back field by field (the spec, in Python)."""
    assert data[:11] == b"PGCOPY\n\xff\r\n\x00"
    pos, rows = 19, []
    while True:
        (nf,) = struct.unpack_from(">h", data, pos)
        pos += 2
        if nf == -1:
            assert pos == len(data)
            return rows
        fields: list[bytes | None] = []
        for _ in range(nf):
            (size,) = struct.unpack_from(">i", data, pos)
            pos += 4
            fields.append(None if size == -1 else data[pos : pos + size])
            pos += max(size, 0)
        sid, ts, temp, hum, rec = fields
        assert sid is not None and ts is not None and temp is not None and rec is not None
        epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        rows.append(
            (
                sid.decode("utf-8"),
                epoch + dt.timedelta(microseconds=struct.unpack(">q", ts)[0]),
                struct.unpack(">d", temp)[0],
                None if hum is None else struct.unpack(">d", hum)[0],
                struct.unpack(">q", rec)[0],
            )
        )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(
                st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12
            ),
            st.integers(-(10**15), 10**15),
            st.floats(allow_nan=False, allow_infinity=False),
            st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
        ),
        max_size=40,
    ),
    st.integers(0, 5),
)
def test_binary_copy_stream_decodes_to_the_batch(rows: list[tuple], cut: int) -> None:
    """Any ids (lengths, scripts, empty), times, values and missing humidity; also a
    batch that is a slice of a larger table."""
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    tbl = pa.table(
        {
            "sensor_id": pa.array(["pad"] * cut + [r[0] for r in rows], pa.string()),
            "ts": pa.array(
                [base] * cut + [base + dt.timedelta(microseconds=r[1]) for r in rows],
                pa.timestamp("us", tz="UTC"),
            ),
            "temp_c": pa.array([0.0] * cut + [r[2] for r in rows], pa.float64()),
            "humidity_pct": pa.array([None] * cut + [r[3] for r in rows], pa.float64()),
        }
    ).slice(cut)
    got = _decode(copy_binary_readings(tbl, received_us=42))
    want = [(r[0], base + dt.timedelta(microseconds=r[1]), r[2], r[3], 42) for r in rows]
    assert sorted(got, key=repr) == sorted(want, key=repr)


def test_a_batch_overlapping_stored_rows_stores_each_new_row_once(store: Store) -> None:
    """Stored rows inside the batch's window, with gaps, plus rows before and after them
    (a file read in blocks overlaps by a boundary minute): exactly the new rows are
    stored, and the hooks see exactly them."""
    tbl = readings([f"S{i % 5}" for i in range(60)], [float(i) for i in range(60)])
    stored_part = tbl.take(list(range(20, 40, 2)))  # every other row of 20..39
    store.insert_readings(stored_part)
    seen: list[pa.Table] = []
    store.add_readings_hook(lambda w, new: seen.append(new))
    report = store.insert_readings(tbl)
    assert (report.inserted, report.duplicates) == (50, 10)
    assert rows_back(store) == expected(tbl)
    new_keys = {(r["sensor_id"], r["ts"]) for t in seen for r in t.to_pylist()}
    old_keys = {(r["sensor_id"], r["ts"]) for r in stored_part.to_pylist()}
    assert len(new_keys) == 50 and not new_keys & old_keys
    assert store.insert_readings(tbl).inserted == 0  # idempotent


def test_dedupe_of_ordered_and_unordered_batches_keeps_the_first_row() -> None:
    """Batches ordered by (ts, id) or (id, ts) skip the hashing unless a key repeats;
    whatever the order, each key's first row is kept."""
    from nuanliu.store.readings import _strictly_ordered, dedupe_batch

    t = [T0 + dt.timedelta(minutes=m) for m in (0, 0, 1, 1, 1)]
    by_ts = pa.table(
        {
            "sensor_id": ["a", "b", "a", "b", "b"],
            "ts": pa.array(t, pa.timestamp("us", tz="UTC")),
            "temp_c": [1.0, 2.0, 3.0, 4.0, 5.0],
            "humidity_pct": pa.nulls(5, pa.float64()),
        }
    )
    assert not _strictly_ordered(by_ts)  # ("b", 1 min) twice
    assert dedupe_batch(by_ts).column("temp_c").to_pylist() == [1.0, 2.0, 3.0, 4.0]
    clean = by_ts.slice(0, 4)
    assert _strictly_ordered(clean) and dedupe_batch(clean) is clean
    by_id = clean.take([0, 2, 1, 3])  # (id, ts) order
    assert _strictly_ordered(by_id) and dedupe_batch(by_id) is by_id
    mixed = clean.take([1, 0, 3, 2])  # neither order: the hash path
    assert not _strictly_ordered(mixed) and dedupe_batch(mixed).num_rows == 4
    again = pa.concat_tables([by_id, by_id.slice(1, 1)])  # a repeat at the end
    assert dedupe_batch(again).column("temp_c").to_pylist() == [1.0, 3.0, 2.0, 4.0]
