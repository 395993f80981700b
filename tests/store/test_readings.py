"""Readings are stored once per (sensor, time); hooks see exactly the new rows."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.store import QuarantineRow, Store, Writer

T0 = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)


def batch(rows: list[tuple[str, int, float]], *, humidity: bool = True) -> pa.Table:
    """Rows of (sensor, minutes after T0, temperature)."""
    cols: dict[str, pa.Array] = {
        "sensor_id": pa.array([r[0] for r in rows], pa.string()),
        "ts": pa.array(
            [T0 + dt.timedelta(minutes=r[1]) for r in rows], pa.timestamp("us", tz="UTC")
        ),
        "temp_c": pa.array([r[2] for r in rows], pa.float64()),
    }
    if humidity:
        cols["humidity_pct"] = pa.array([40.0 + i for i in range(len(rows))], pa.float64())
    return pa.table(cols)


def stored(store: Store) -> list[tuple[str, dt.datetime, float]]:
    with store.read() as q:
        return q.all("SELECT sensor_id, ts, temp_c FROM readings ORDER BY sensor_id, ts")


def test_duplicates_across_batches_are_stored_once(store: Store) -> None:
    first = store.insert_readings(batch([("s1", 0, 18.5), ("s1", 5, 18.7), ("s2", 0, 21.0)]))
    assert (first.inserted, first.duplicates) == (3, 0)
    # A resend overlapping the first batch plus one late reading.
    second = store.insert_readings(batch([("s1", 5, 99.0), ("s2", 0, 99.0), ("s2", -30, 20.1)]))
    assert (second.inserted, second.duplicates) == (1, 2)
    rows = stored(store)
    assert len(rows) == 4
    # The first value stays: a resend never overwrites what was measured.
    assert {(r[0], r[1]): r[2] for r in rows}[("s1", T0 + dt.timedelta(minutes=5))] == 18.7


def test_duplicates_within_a_batch_keep_the_first(store: Store) -> None:
    report = store.insert_readings(batch([("s1", 0, 18.0), ("s1", 0, 25.0), ("s2", 0, 19.0)]))
    assert (report.inserted, report.duplicates) == (2, 1)
    assert [r[2] for r in stored(store)] == [18.0, 19.0]


def test_hooks_receive_only_new_rows_in_the_same_transaction(store: Store) -> None:
    seen: list[pa.Table] = []
    counts_inside: list[int] = []

    def hook(w: Writer, new_rows: pa.Table) -> None:
        seen.append(new_rows)
        counts_inside.append(w.scalar("SELECT count(*) FROM readings"))

    store.add_readings_hook(hook)
    store.insert_readings(batch([("s1", 0, 18.0), ("s2", 0, 19.0)]))
    store.insert_readings(batch([("s1", 0, 18.0), ("s2", 0, 19.0), ("s3", 0, 17.5)]))
    store.insert_readings(batch([("s1", 0, 18.0)]))  # nothing new: hook not called
    assert [t.num_rows for t in seen] == [2, 1]
    assert seen[1].column("sensor_id").to_pylist() == ["s3"]
    assert seen[1].column("temp_c").to_pylist() == [17.5]
    assert seen[1].schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert seen[1].column("ts").to_pylist() == [T0]
    assert counts_inside == [2, 3]  # the hook sees the rows it is told about


def test_a_failing_hook_rolls_the_insert_back(store: Store) -> None:
    def broken(w: Writer, new_rows: pa.Table) -> None:
        raise RuntimeError("aggregate update failed")

    store.add_readings_hook(broken)
    with pytest.raises(RuntimeError):
        store.insert_readings(batch([("s1", 0, 18.0)]))
    assert stored(store) == []
    store.remove_readings_hook(broken)
    # The same rows go in once the hook is fixed: nothing half-written blocks them.
    assert store.insert_readings(batch([("s1", 0, 18.0)])).inserted == 1


def test_readings_without_humidity_and_in_another_zone(store: Store) -> None:
    shanghai = dt.timezone(dt.timedelta(hours=8))
    tbl = pa.table(
        {
            "sensor_id": ["s1"],
            "ts": pa.array([dt.datetime(2026, 1, 15, 16, 0, tzinfo=shanghai)]),
            "temp_c": [18.0],
        }
    )
    assert store.insert_readings(tbl).inserted == 1
    # 16:00 in Shanghai is 08:00 UTC, the same instant as T0: a duplicate.
    assert store.insert_readings(batch([("s1", 0, 18.0)])).duplicates == 1
    with store.read() as q:
        assert q.one("SELECT humidity_pct FROM readings") == (None,)


def test_bad_batches_are_refused_with_the_column(store: Store) -> None:
    naive = pa.table({"sensor_id": ["s1"], "ts": [dt.datetime(2026, 1, 1)], "temp_c": [18.0]})
    with pytest.raises(InvalidInput, match="timezone-aware"):
        store.insert_readings(naive)
    with pytest.raises(InvalidInput, match="temp_c"):
        store.insert_readings(batch([("s1", 0, 18.0)]).drop_columns(["temp_c"]))
    nulls = batch([("s1", 0, 18.0)]).set_column(2, "temp_c", pa.array([None], pa.float64()))
    with pytest.raises(InvalidInput, match="temp_c") as err:
        store.insert_readings(nulls)
    assert err.value.details == [{"column": "temp_c", "problem": "1 null value(s)"}]


def test_a_large_batch_round_trips(store: Store) -> None:
    n = 20_000
    rows = [(f"s{i % 500}", i // 500, 15.0 + (i % 70) / 10) for i in range(n)]
    report = store.insert_readings(batch(rows))
    assert report.inserted == n
    again = store.insert_readings(batch(rows[: n // 2]))
    assert (again.inserted, again.duplicates) == (0, n // 2)
    with store.read() as q:
        total, mean = q.one("SELECT count(*), avg(temp_c) FROM readings")
    assert total == n
    assert mean == pytest.approx(sum(r[2] for r in rows) / n)


def test_quarantine_keeps_source_reason_and_raw_text(store: Store) -> None:
    received = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    n = store.insert_quarantine(
        [
            QuarantineRow(
                source="file:readings.csv:17",
                reason="temperature 'abc' is not a number",
                raw="s1,2026-01-15T08:00:00Z,abc",
                sensor_id="s1",
                ts_text="2026-01-15T08:00:00Z",
                received_at=received,
            ),
            QuarantineRow(source="mqtt:nuanliu/v1/readings/gw1", reason="not JSON", raw="{"),
        ]
    )
    assert n == 2
    with store.read() as q:
        rows = q.dicts("SELECT * FROM quarantine ORDER BY quarantine_id")
    assert [r["source"] for r in rows] == ["file:readings.csv:17", "mqtt:nuanliu/v1/readings/gw1"]
    assert rows[0]["received_at"] == received
    assert rows[0]["raw"] == "s1,2026-01-15T08:00:00Z,abc"
    assert rows[1]["sensor_id"] is None and rows[1]["received_at"].tzinfo is not None
    assert rows[0]["quarantine_id"] < rows[1]["quarantine_id"]
    assert store.insert_quarantine([]) == 0


def test_a_key_committed_by_another_process_meanwhile_is_a_duplicate(store: Store) -> None:
    """PostgreSQL with several writers: the race ends in a duplicate, not an error."""
    if store.caps.writer_processes != "many":
        pytest.skip("an embedded engine has one writing process")
    import threading

    import psycopg

    schema = store.url.schema
    options = f"-c search_path={schema}" if schema else ""
    other = psycopg.connect(store.url.conninfo, options=options)
    try:
        other.execute(
            "INSERT INTO readings (sensor_id, ts, temp_c, received_at) VALUES (%s, %s, %s, now())",
            ["s1", T0, 30.0],
        )  # uncommitted: our insert cannot see it yet and will wait on its key
        result: list[object] = []
        worker = threading.Thread(
            target=lambda: result.append(
                store.insert_readings(batch([("s1", 0, 18.0), ("s2", 0, 19.0)]))
            )
        )
        worker.start()
        worker.join(1.0)
        assert worker.is_alive()  # blocked on the other transaction's key
        other.commit()
        worker.join(30)
    finally:
        other.close()
    [report] = result
    assert (report.inserted, report.duplicates) == (1, 1)
    assert [r[2] for r in stored(store)] == [30.0, 19.0]  # the other writer's value stands


def test_two_stores_on_one_duckdb_file_share_the_writer(tmp_path) -> None:
    """One process, one file, two Store objects (e.g. web app and ingest): no double rows."""
    import threading

    from nuanliu.store import open_store

    url = f"duckdb:///{tmp_path / 'shared.duckdb'}"
    stores = [open_store(url), open_store(url)]
    rows = [(f"s{i % 50}", i // 50, 18.0) for i in range(2_000)]
    reports = []
    try:
        threads = [
            threading.Thread(
                target=lambda s=s: reports.extend(
                    s.insert_readings(batch(rows[k : k + 200])) for k in range(0, len(rows), 200)
                )
            )
            for s in stores
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with stores[0].read() as q:
            assert q.scalar("SELECT count(*) FROM readings") == len(rows)
        assert sum(r.inserted for r in reports) == len(rows)
    finally:
        for s in stores:
            s.close()
