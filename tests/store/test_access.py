"""Readers and the single writer: transactions, concurrency, engine seams."""

from __future__ import annotations

import datetime as dt
import threading

import pyarrow as pa
import pytest

from nuanliu.errors import InvalidInput, StoreError
from nuanliu.store import Store, open_store
from nuanliu.store.url import parse_url

T0 = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)


def test_write_block_is_one_transaction(store: Store) -> None:
    with pytest.raises(StoreError), store.write() as w:
        w.execute(
            "INSERT INTO regions (region_id, level, name_zh) VALUES (?, ?, ?)",
            ["nm", "region", "内蒙古自治区"],
        )
        w.execute(
            "INSERT INTO regions (region_id, level, name_zh) VALUES (?, ?, ?)",
            ["nm", "region", "duplicate key"],
        )
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM regions") == 0


def test_query_helpers_and_literal_marks(store: Store) -> None:
    with store.write() as w:
        w.executemany(
            "INSERT INTO regions (region_id, level, name_zh, name_en) VALUES (?, ?, ?, ?)",
            [
                ("nm", "region", "内蒙古自治区", "Inner Mongolia"),
                ("hh", "city", "呼和浩特市", "100% Hohhot?"),
            ],
        )
        assert w.execute("UPDATE regions SET parent_id = ? WHERE region_id = ?", ["nm", "hh"]) == 1
    with store.read() as q:
        # '?' and '%' inside string literals are text, not placeholders.
        assert q.one("SELECT name_zh FROM regions WHERE name_en = '100% Hohhot?'") == (
            "呼和浩特市",
        )
        assert q.one(
            "SELECT region_id FROM regions WHERE name_en LIKE ? AND level = 'city'", ["100%"]
        ) == ("hh",)
        assert q.one("SELECT 1 FROM regions WHERE region_id = 'none'") is None
        assert q.dicts("SELECT region_id, parent_id FROM regions ORDER BY region_id") == [
            {"region_id": "hh", "parent_id": "nm"},
            {"region_id": "nm", "parent_id": None},
        ]
        df = q.df("SELECT region_id, name_zh FROM regions ORDER BY region_id")
        assert list(df["name_zh"]) == ["呼和浩特市", "内蒙古自治区"]
        empty = q.arrow("SELECT region_id, standard_temp_c FROM regions WHERE FALSE")
        assert empty.num_rows == 0 and empty.column_names == ["region_id", "standard_temp_c"]


def test_upsert_replaces_non_key_columns(store: Store) -> None:
    cols = ["region_id", "level", "name_zh", "standard_temp_c"]
    with store.write() as w:
        w.upsert("regions", cols, ["region_id"], [("hh", "city", "呼和浩特", 18.0)])
    with store.write() as w:
        w.upsert("regions", cols, ["region_id"], [("hh", "city", "呼和浩特市", 20.0)])
    with store.read() as q:
        assert q.all("SELECT name_zh, standard_temp_c FROM regions") == [("呼和浩特市", 20.0)]


def test_readers_run_while_the_writer_holds_a_transaction(store: Store) -> None:
    """A reader never waits for the writer and never sees uncommitted rows."""
    in_tx = threading.Event()
    release = threading.Event()

    def writer() -> None:
        with store.write() as w:
            w.execute(
                "INSERT INTO regions (region_id, level, name_zh) VALUES ('nm', 'region', 'x')"
            )
            in_tx.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    assert in_tx.wait(10)
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM regions") == 0
    release.set()
    t.join(10)
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM regions") == 1


def test_concurrent_writers_and_readers_lose_nothing(store: Store) -> None:
    errors: list[BaseException] = []
    per_thread = 20

    def ingest(worker: int) -> None:
        try:
            for i in range(per_thread):
                ts = pa.array([T0 + dt.timedelta(minutes=i)] * 2, pa.timestamp("us", tz="UTC"))
                tbl = pa.table(
                    {"sensor_id": [f"w{worker}", "shared"], "ts": ts, "temp_c": [18.0, 19.0]}
                )
                store.insert_readings(tbl)
                with store.read() as q:
                    q.scalar("SELECT count(*) FROM readings")
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=ingest, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with store.read() as q:
        # 4 workers x 20 own readings, plus 20 "shared" readings stored once.
        assert q.scalar("SELECT count(*) FROM readings") == 4 * per_thread + per_thread


def test_urls_are_checked() -> None:
    assert parse_url("duckdb:///:memory:").path == ":memory:"
    pg = parse_url("postgresql://u:secret@db:5432/heat?schema=city_a&sslmode=disable")
    assert pg.schema == "city_a"
    assert "schema" not in pg.conninfo and "sslmode=disable" in pg.conninfo
    assert "secret" not in pg.redacted()
    with pytest.raises(InvalidInput):
        parse_url("postgresql://db/heat?schema=a;drop")
    with pytest.raises(InvalidInput):
        parse_url("mysql://db/heat")
    with pytest.raises(InvalidInput):
        parse_url("duckdb://relative.duckdb")


def test_memory_store_shares_one_database_between_readers() -> None:
    with open_store("duckdb:///:memory:") as store:
        with store.write() as w:
            w.execute(
                "INSERT INTO regions (region_id, level, name_zh) VALUES ('nm', 'region', 'x')"
            )
        with store.read() as q:
            assert q.scalar("SELECT count(*) FROM regions") == 1


def test_statements_then_arrow_reads_in_one_transaction(store: Store) -> None:
    """A hook-style sequence: change rows, then read them back as Arrow and pandas."""
    with store.write() as w:
        w.execute("INSERT INTO regions (region_id, level, name_zh) VALUES ('nm', 'region', 'x')")
        assert w.execute("UPDATE regions SET name_en = 'Inner Mongolia'") == 1
        assert w.arrow("SELECT name_en FROM regions").column(0).to_pylist() == ["Inner Mongolia"]
        w.execute("UPDATE regions SET standard_temp_c = 18")
        assert list(w.df("SELECT standard_temp_c FROM regions")["standard_temp_c"]) == [18.0]


def test_nested_write_joins_the_outer_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as outer:
        outer.execute("INSERT INTO regions (region_id, level, name_zh) VALUES ('a', 'region', 'x')")
        with store.write() as inner:
            assert inner is outer
            inner.execute(
                "INSERT INTO regions (region_id, level, name_zh) VALUES ('b', 'region', 'y')"
            )
        raise RuntimeError("the outer block fails after the inner one finished")
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM regions") == 0  # both rolled back together


def test_writer_recovers_after_its_connection_is_killed(store: Store) -> None:
    if store.caps.writer_processes != "many":
        pytest.skip("an embedded engine has no server connection to lose")
    import psycopg

    with store.write() as w:
        pid = w.scalar("SELECT pg_backend_pid()")
    conninfo = store.url.conninfo
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    with pytest.raises(StoreError), store.write() as w:
        w.execute("INSERT INTO regions (region_id, level, name_zh) VALUES ('a', 'region', 'x')")
    with store.write() as w:  # a fresh connection
        w.execute("INSERT INTO regions (region_id, level, name_zh) VALUES ('a', 'region', 'x')")
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM regions") == 1


def test_arrow_results_keep_types_nulls_and_empty_strings(store: Store) -> None:
    with store.write() as w:
        w.executemany(
            "INSERT INTO households (household_id, building_id, address, floor_area_m2,"
            " metered, resident_name) VALUES (?, ?, ?, ?, ?, ?)",
            [
                ("h1", "b1", "", 88.5, True, None),
                ("h2", "b1", 'a "quoted", comma\naddress', None, False, "张三"),
            ],
        )
    with store.read() as q:
        tbl = q.arrow(
            "SELECT household_id, address, floor_area_m2, metered, resident_name,"
            " CAST('2026-01-15 08:00:00+00' AS TIMESTAMPTZ) AS at,"
            " CAST(1.25 AS DECIMAL(10, 2)) AS money"
            " FROM households WHERE household_id LIKE ? ORDER BY household_id",
            ["h%"],
        )
    rows = tbl.to_pylist()
    assert [r["address"] for r in rows] == ["", 'a "quoted", comma\naddress']
    assert [r["floor_area_m2"] for r in rows] == [88.5, None]
    assert [r["metered"] for r in rows] == [True, False]
    assert [r["resident_name"] for r in rows] == [None, "张三"]
    assert tbl.schema.field("metered").type == pa.bool_()
    assert tbl.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert rows[0]["at"] == T0
    assert str(rows[0]["money"]) == "1.25"  # exact decimal, never a float


def test_bulk_and_row_wise_arrow_reads_agree(store: Store) -> None:
    """PostgreSQL streams plain-typed results through COPY and others row by row."""
    with store.write() as w:
        w.executemany(
            "INSERT INTO households (household_id, building_id, address, metered)"
            " VALUES (?, ?, ?, ?)",
            [("h1", "b1", "", True), ("h2", "b1", None, False), ("h3", "b2", "100% ok?", False)],
        )
    sql = "SELECT household_id, address, metered FROM households WHERE building_id = ? ORDER BY 1"
    with store.read() as q:
        plain = q.arrow(sql, ["b1"]).to_pylist()
        exact = q.arrow(sql.replace("metered", "metered, CAST(1 AS DECIMAL(4, 1)) AS d"), ["b1"])
        literal = q.arrow("SELECT address FROM households WHERE address LIKE '100%'")
    assert plain == [
        {"household_id": "h1", "address": "", "metered": True},
        {"household_id": "h2", "address": None, "metered": False},
    ]
    assert [{k: r[k] for k in plain[0]} for r in exact.to_pylist()] == plain
    assert literal.column("address").to_pylist() == ["100% ok?"]


def test_a_second_process_cannot_open_a_duckdb_file_for_writing(tmp_path) -> None:
    import subprocess
    import sys

    url = f"duckdb:///{tmp_path / 'one.duckdb'}"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from nuanliu.store import open_store; s = open_store(sys.argv[1]);"
            " print('ready', flush=True); sys.stdin.read()",
            url,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="one process"):
            open_store(url)
    finally:
        holder.communicate("", timeout=30)
    with open_store(url) as store:  # free again once the other process is gone
        assert store.schema_version() > 0
