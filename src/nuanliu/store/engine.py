"""Every difference between DuckDB and PostgreSQL, in one place.

The rest of the store (and every module above it) writes SQL once with ``?``
placeholders and portable types (TEXT, DOUBLE PRECISION, BIGINT, BOOLEAN, TIMESTAMPTZ)
and calls the engine for what cannot be portable: connections, the reader pool,
placeholder style, bulk append (Arrow scan vs COPY), idempotent reading inserts and
locking for migrations. ``Capabilities`` describes the engine to callers that need to
choose (e.g. a benchmark printing what it ran on); nothing outside this module says
``if postgres``.
"""

from __future__ import annotations

import io
import os
import queue
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from nuanliu.errors import StoreError
from nuanliu.store.url import StoreUrl

if TYPE_CHECKING:  # pandas costs ~0.15 s to import; only DataFrame results need it
    import pandas as pd

READINGS_BATCH_SCHEMA = pa.schema(
    [
        ("sensor_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("temp_c", pa.float64()),
        ("humidity_pct", pa.float64()),
    ]
)


@dataclass(frozen=True)
class Capabilities:
    """What the engine is and how it does the non-portable things."""

    engine: str  # "duckdb" | "postgresql"
    paramstyle: str  # how placeholders reach the driver: "qmark" or "format"
    bulk_append: str  # "arrow-scan" | "copy-csv"
    readings_idempotency: str  # "anti-join" | "primary-key"
    writer_processes: str  # "one" (DuckDB file lock) | "many" (server)
    reader_pool: str  # "cursors" | "connection-pool"
    migration_lock: str  # "process-lock" | "advisory-lock"
    upsert: str = "INSERT ... ON CONFLICT (key) DO UPDATE SET col = excluded.col"
    backup: str = ""  # "export-database" (DuckDB EXPORT) | "pg_dump" (store/backup.py)

    def sql(self, text: str) -> str:
        """Rewrite ``?`` placeholders for the driver (string literals left alone)."""
        if self.paramstyle == "qmark":
            return text
        return _qmark_to_format(text)

    def upsert_sql(self, table: str, columns: Sequence[str], key: Sequence[str]) -> str:
        """``INSERT ... ON CONFLICT DO UPDATE`` (same syntax on both engines)."""
        cols = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        updates = [c for c in columns if c not in key]
        conflict = ", ".join(key)
        if not updates:
            return (
                f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) DO NOTHING"
            )
        sets = ", ".join(f"{c} = excluded.{c}" for c in updates)
        return (
            f"INSERT INTO {table} ({cols}) VALUES ({marks}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
        )


def _qmark_to_format(text: str) -> str:
    out: list[str] = []
    quote: str | None = None
    for ch in text:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


# DuckDB hands every connect() of one file in a process the same database instance, so
# two Store objects on one file must share one writer lock (the anti-join relies on it).
_FILE_WRITE_LOCKS: dict[str, threading.RLock] = {}
_FILE_WRITE_LOCKS_GUARD = threading.Lock()


class Engine(ABC):
    """Connections and the non-portable operations of one database."""

    caps: Capabilities
    write_lock: threading.RLock  # held by the store around every write transaction

    @abstractmethod
    def writer(self) -> Any:
        """The single writer connection (callers hold the store's writer lock)."""

    @abstractmethod
    def acquire_reader(self) -> Any: ...

    @abstractmethod
    def release_reader(self, conn: Any) -> None: ...

    @abstractmethod
    def begin(self, conn: Any) -> None: ...

    @abstractmethod
    def commit(self, conn: Any) -> None: ...

    @abstractmethod
    def rollback(self, conn: Any) -> None: ...

    @abstractmethod
    def execute(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run a statement; the number of rows it changed (-1 when unknown)."""

    @abstractmethod
    def executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    @abstractmethod
    def fetch_arrow(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> pa.Table: ...

    def fetch_df(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.fetch_arrow(conn, sql, params).to_pandas()

    @abstractmethod
    def append_arrow(self, conn: Any, table: str, tbl: pa.Table) -> int:
        """Bulk-append an Arrow table (columns by name) to ``table``; rows appended."""

    @abstractmethod
    def upsert_arrow(self, conn: Any, table: str, tbl: pa.Table, key: Sequence[str]) -> None:
        """Insert rows of ``tbl``, replacing the other columns of rows whose key exists.

        Keys must be unique within ``tbl``.
        """

    @abstractmethod
    def insert_new_readings(self, conn: Any, batch: pa.Table) -> pa.Table:
        """Insert the rows of a de-duplicated batch whose (sensor_id, ts) is not stored yet.

        Returns exactly the inserted rows (``READINGS_BATCH_SCHEMA``).
        """

    @abstractmethod
    def lock_for_migration(self, conn: Any) -> None:
        """Serialise migrations between processes (inside the writer transaction)."""

    def table_names(self, conn: Any) -> list[str]:
        """Tables of the store's schema; both engines speak information_schema."""
        _, rows = self.fetch(
            conn,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() ORDER BY table_name",
        )
        return [r[0] for r in rows]

    @abstractmethod
    def close(self) -> None: ...


# --------------------------------------------------------------------------- DuckDB


class DuckDBEngine(Engine):
    """Embedded DuckDB: one database instance per process; readers are cursors on it.

    DuckDB lets one process open a database file for writing (it takes a file lock), so
    a second ``nuanliu`` process on the same file fails with a clear ``StoreError``.
    Inside the process every cursor is its own connection to the shared instance, with
    MVCC snapshots, so readers run in parallel with the single writer.
    """

    caps = Capabilities(
        engine="duckdb",
        paramstyle="qmark",
        bulk_append="arrow-scan",
        readings_idempotency="anti-join",
        writer_processes="one",
        reader_pool="cursors",
        migration_lock="process-lock",
        backup="export-database",
    )

    def __init__(self, url: StoreUrl, *, read_only: bool = False) -> None:
        import duckdb

        self._duckdb = duckdb
        self.write_lock = threading.RLock()
        if url.path != ":memory:":
            Path(url.path).parent.mkdir(parents=True, exist_ok=True)
            with _FILE_WRITE_LOCKS_GUARD:
                key = os.path.realpath(url.path)
                self.write_lock = _FILE_WRITE_LOCKS.setdefault(key, threading.RLock())
        try:
            self._db = duckdb.connect(url.path, read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open DuckDB database {url.path}: {exc}. DuckDB allows one process to "
                "open a file for writing; stop the other process or use PostgreSQL",
                details={"path": url.path},
            ) from exc
        self._setup(self._db)
        self._cursor_lock = threading.Lock()  # cursor() on the shared instance
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._writer = self._new_cursor()

    @staticmethod
    def _setup(conn: Any) -> None:
        # Arrow/pandas results carry timestamps in the session zone: always UTC.
        conn.execute("SET TimeZone = 'UTC'")

    def _new_cursor(self) -> Any:
        with self._cursor_lock:
            cur = self._db.cursor()
        self._setup(cur)
        return cur

    def writer(self) -> Any:
        return self._writer

    def acquire_reader(self) -> Any:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._new_cursor()

    def release_reader(self, conn: Any) -> None:
        self._idle.put(conn)

    def begin(self, conn: Any) -> None:
        conn.execute("BEGIN TRANSACTION")

    def commit(self, conn: Any) -> None:
        try:
            conn.execute("COMMIT")
        except self._duckdb.Error as exc:
            self.rollback(conn)
            raise StoreError(f"DuckDB could not commit: {exc}") from exc

    def rollback(self, conn: Any) -> None:
        try:
            conn.execute("ROLLBACK")
        except self._duckdb.Error:
            return  # no transaction left to undo (DuckDB already aborted it)

    def _run(self, conn: Any, sql: str, params: Sequence[Any] | None) -> Any:
        try:
            return conn.execute(sql, list(params) if params is not None else None)
        except self._duckdb.Error as exc:
            raise StoreError(f"DuckDB refused: {exc}", details={"sql": _clip(sql)}) from exc

    def execute(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> int:
        cur = self._run(conn, sql, params)
        try:
            # Fetch to the end: DuckDB refuses other work on a connection whose last
            # result is unfinished.
            rows = cur.fetchall() if cur.description else []
        except self._duckdb.Error:
            return -1
        # DuckDB reports changed rows as a one-column result named "Count".
        if len(rows) == 1 and cur.description and cur.description[0][0] == "Count":
            return int(rows[0][0])
        return -1

    def executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            conn.executemany(sql, [list(r) for r in rows])
        except self._duckdb.Error as exc:
            raise StoreError(f"DuckDB refused: {exc}", details={"sql": _clip(sql)}) from exc

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self._run(conn, sql, params)
        cols = [d[0] for d in cur.description or []]
        return cols, cur.fetchall() if cols else []

    def _relation(self, conn: Any, sql: str, params: Sequence[Any] | None) -> Any:
        # A relation hands its result to Arrow without the copy a DB-API cursor makes.
        try:
            return conn.sql(sql, params=list(params) if params is not None else None)
        except self._duckdb.Error as exc:
            raise StoreError(f"DuckDB refused: {exc}", details={"sql": _clip(sql)}) from exc

    def fetch_arrow(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        rel = self._relation(conn, sql, params)
        if rel is None:  # a statement without a result
            return pa.table({})
        try:
            return rel.to_arrow_table()
        except self._duckdb.Error as exc:
            raise StoreError(f"DuckDB refused: {exc}", details={"sql": _clip(sql)}) from exc

    def fetch_df(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        rel = self._relation(conn, sql, params)
        if rel is None:
            import pandas as pd

            return pd.DataFrame()
        try:
            return rel.df()
        except self._duckdb.Error as exc:
            raise StoreError(f"DuckDB refused: {exc}", details={"sql": _clip(sql)}) from exc

    def _unregister(self, conn: Any, view: str) -> None:
        # After a failed statement DuckDB refuses even this until the rollback; raising
        # here would hide the statement's own error (the one worth reporting).
        try:
            conn.unregister(view)
        except self._duckdb.Error:
            return

    def append_arrow(self, conn: Any, table: str, tbl: pa.Table) -> int:
        if tbl.num_rows == 0:
            return 0
        view = f"_append_{uuid.uuid4().hex}"
        cols = ", ".join(tbl.column_names)
        conn.register(view, tbl)
        try:
            self._run(conn, f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {view}", None)
        finally:
            self._unregister(conn, view)
        return tbl.num_rows

    def upsert_arrow(self, conn: Any, table: str, tbl: pa.Table, key: Sequence[str]) -> None:
        if tbl.num_rows == 0:
            return
        view = f"_upsert_{uuid.uuid4().hex}"
        conn.register(view, tbl)
        try:
            self._run(conn, _upsert_select(table, tbl.column_names, key, view), None)
        finally:
            self._unregister(conn, view)

    def insert_new_readings(self, conn: Any, batch: pa.Table) -> pa.Table:
        if batch.num_rows == 0:
            return READINGS_BATCH_SCHEMA.empty_table()
        import pyarrow.compute as pc

        bounds = pc.min_max(batch.column("ts"))
        # No unique index on DuckDB (see docs/store.md); the single writer makes this
        # race-free. Only a batch row inside the span of the stored rows of the batch's
        # time window can repeat a stored key; zone maps on ts narrow that look-up to a
        # few row groups. Live data and time-ordered files land after what is stored, or
        # overlap it by a boundary minute (a file read in blocks, a gateway's resend):
        # the rows outside the span are appended as they are, without anti-join or
        # RETURNING (~30 % of the insert's time), and only the rest is anti-joined.
        span = "SELECT min(ts), max(ts) FROM readings WHERE ts >= ? AND ts <= ?"
        lo, hi = self._run(conn, span, [bounds["min"].as_py(), bounds["max"].as_py()]).fetchall()[0]
        if lo is None:
            self._append_readings(conn, batch)
            return batch
        ts = batch.column("ts")
        inside = pc.and_(
            pc.greater_equal(ts, pa.scalar(lo, ts.type)), pc.less_equal(ts, pa.scalar(hi, ts.type))
        )
        n_inside = pc.sum(inside).as_py() or 0
        outside = batch.filter(pc.invert(inside)) if n_inside < batch.num_rows else None
        if outside is not None:
            self._append_readings(conn, outside)
        if not n_inside:
            return batch
        view = f"_readings_{uuid.uuid4().hex}"
        conn.register(view, batch.filter(inside) if outside is not None else batch)
        try:
            sql = f"""
                INSERT INTO readings (sensor_id, ts, temp_c, humidity_pct, received_at)
                SELECT b.sensor_id, b.ts, b.temp_c, b.humidity_pct, now()
                FROM {view} b
                WHERE NOT EXISTS (
                    SELECT 1 FROM readings r
                    WHERE r.ts >= ? AND r.ts <= ?
                      AND r.sensor_id = b.sensor_id AND r.ts = b.ts)
                RETURNING sensor_id, ts, temp_c, humidity_pct
            """
            new = self.fetch_arrow(conn, sql, [lo, hi]).cast(READINGS_BATCH_SCHEMA)
        finally:
            self._unregister(conn, view)
        return pa.concat_tables([outside, new]) if outside is not None else new

    def _append_readings(self, conn: Any, rows: pa.Table) -> None:
        """Append rows known to be new (no stored row shares a key with them)."""
        view = f"_readings_{uuid.uuid4().hex}"
        conn.register(view, rows)
        try:
            self._run(
                conn,
                "INSERT INTO readings (sensor_id, ts, temp_c, humidity_pct, received_at)"
                f" SELECT sensor_id, ts, temp_c, humidity_pct, now() FROM {view}",
                None,
            ).fetchall()
        finally:
            self._unregister(conn, view)

    def lock_for_migration(self, conn: Any) -> None:
        # One process holds the file; the store's writer lock serialises threads.
        return None

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                break
        self._writer.close()
        self._db.close()


# ----------------------------------------------------------------------- PostgreSQL

# PostgreSQL type OIDs -> Arrow types, for typed (and empty) Arrow results.
_PG_ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    1043: pa.string(),
    1042: pa.string(),
    19: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


_INSERT_NEW_READINGS = (
    "COPY (INSERT INTO readings (sensor_id, ts, temp_c, humidity_pct, received_at)"
    " SELECT sensor_id, timestamptz 'epoch' + ts_us * interval '1 microsecond',"
    " temp_c, humidity_pct, now() FROM readings_batch ORDER BY sensor_id, ts_us"
    " ON CONFLICT (sensor_id, ts) DO NOTHING"
    " RETURNING sensor_id, (extract(epoch FROM ts) * 1000000)::bigint,"
    " temp_c, humidity_pct) TO STDOUT (FORMAT csv)"
)
_COPY_READINGS_BINARY = (
    b"COPY readings (sensor_id, ts, temp_c, humidity_pct, received_at) FROM STDIN (FORMAT binary)"
)
# The transaction's now() (what received_at means) in PostgreSQL's binary epoch, 2000-01-01.
_NOW_US = b"SELECT ((extract(epoch FROM now()) - 946684800) * 1000000)::bigint"
_READ_ONLY_QUERY = re.compile(r"^\s*(SELECT|WITH)\b", re.IGNORECASE)
_MODIFYING = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|FOR\s+UPDATE|FOR\s+SHARE)\b", re.IGNORECASE)


class PostgresEngine(Engine):
    """PostgreSQL server: a dedicated writer connection plus a pool of readers.

    With ``?schema=name`` every connection's ``search_path`` is that schema (created if
    missing), so separate schemas isolate tests or tenants in one database.
    """

    caps = Capabilities(
        engine="postgresql",
        paramstyle="format",
        bulk_append="copy-csv",
        readings_idempotency="primary-key",
        writer_processes="many",
        reader_pool="connection-pool",
        migration_lock="advisory-lock",
        backup="pg_dump",
    )

    def __init__(self, url: StoreUrl) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.write_lock = threading.RLock()  # the primary key guards other processes
        self.schema = url.schema
        options = "-c TimeZone=UTC"
        if url.schema:
            options += f" -c search_path={url.schema}"
        self._kwargs: dict[str, Any] = {"options": options}
        try:
            if url.schema:
                with psycopg.connect(url.conninfo, autocommit=True) as conn:
                    # Only when missing: the application's role may lack CREATE on the
                    # database (docs/deploy.md: migrations run as another role).
                    found = conn.execute(
                        "SELECT 1 FROM pg_namespace WHERE nspname = %s", [url.schema]
                    ).fetchone()
                    if found is None:
                        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{url.schema}"')
            self._conninfo = url.conninfo
            self._writer = psycopg.connect(url.conninfo, **self._kwargs)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL: {exc}") from exc
        self._pool = ConnectionPool(
            url.conninfo,
            kwargs={**self._kwargs, "autocommit": True},
            min_size=1,
            max_size=url.pool_size,
            open=True,
            name="nuanliu-readers",
        )

    def writer(self) -> Any:
        # Reconnect after a server restart or a dropped connection; the caller's
        # transaction starts on the fresh connection.
        if self._writer.closed or self._writer.broken:
            try:
                self._writer = self._psycopg.connect(self._conninfo, **self._kwargs)
            except self._psycopg.Error as exc:
                raise StoreError(f"cannot reconnect to PostgreSQL: {exc}") from exc
        return self._writer

    def acquire_reader(self) -> Any:
        try:
            return self._pool.getconn(timeout=30)
        except Exception as exc:  # psycopg_pool.PoolTimeout and friends
            raise StoreError(f"no PostgreSQL reader connection available: {exc}") from exc

    def release_reader(self, conn: Any) -> None:
        self._pool.putconn(conn)

    def begin(self, conn: Any) -> None:
        # psycopg opens a transaction implicitly on the first statement.
        return None

    def commit(self, conn: Any) -> None:
        try:
            conn.commit()
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL could not commit: {exc}") from exc

    def rollback(self, conn: Any) -> None:
        if conn.closed or conn.broken:
            return  # nothing to undo; writer() reconnects next time
        try:
            conn.rollback()
        except self._psycopg.Error:
            return  # the connection died meanwhile; the server discarded the transaction

    def _cursor(self, conn: Any, sql: str, params: Sequence[Any] | None) -> Any:
        cur = conn.cursor()
        try:
            if params:
                cur.execute(self.caps.sql(sql), list(params))
            else:
                cur.execute(sql.encode())  # no placeholders: '%' and '?' stay literal
        except self._psycopg.Error as exc:
            cur.close()
            raise StoreError(f"PostgreSQL refused: {exc}", details={"sql": _clip(sql)}) from exc
        return cur

    def execute(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> int:
        with self._cursor(conn, sql, params) as cur:
            return cur.rowcount

    def executemany(self, conn: Any, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with conn.cursor() as cur:
                cur.executemany(self.caps.sql(sql), [list(r) for r in rows])
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL refused: {exc}", details={"sql": _clip(sql)}) from exc

    def fetch(
        self, conn: Any, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._cursor(conn, sql, params) as cur:
            if cur.description is None:
                return [], []
            return [d.name for d in cur.description], cur.fetchall()

    def fetch_arrow(self, conn: Any, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        fast = self._fetch_arrow_copy(conn, sql, params)
        if fast is not None:
            return fast
        with self._cursor(conn, sql, params) as cur:
            if cur.description is None:
                return pa.table({})
            rows = cur.fetchall()
            arrays = []
            names = []
            for i, d in enumerate(cur.description):
                values = [r[i] for r in rows]
                typ = _PG_ARROW_TYPES.get(d.type_code)
                if typ is None and not rows:
                    typ = pa.string()
                arrays.append(pa.array(values, type=typ))
                names.append(d.name)
            return pa.Table.from_arrays(arrays, names=names)

    def _fetch_arrow_copy(
        self, conn: Any, sql: str, params: Sequence[Any] | None
    ) -> pa.Table | None:
        """Large results: ``COPY (query) TO STDOUT`` parsed by Arrow, ~10x faster than
        building Python tuples. None when the query or its column types do not qualify
        (then the caller fetches rows)."""
        text = sql.strip().rstrip(";")
        if not _READ_ONLY_QUERY.match(text) or _MODIFYING.search(text):
            return None
        inner = self.caps.sql(text) if params else text
        try:
            with self._psycopg.ClientCursor(conn) as cur:
                # The column types, without running the query for real.
                probe = f"SELECT * FROM ({inner}) AS _q LIMIT 0"
                cur.execute(probe, list(params) if params else None)
                desc = cur.description or []
                names = [d.name for d in desc]
                types = [_PG_ARROW_TYPES.get(d.type_code) for d in desc]
                if not names or None in types or len(set(names)) != len(names):
                    return None
                query = cur.mogrify(inner, list(params)) if params else inner
                buf = io.BytesIO()
                with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)".encode()) as copy:
                    for chunk in copy:
                        buf.write(chunk)
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL refused: {exc}", details={"sql": _clip(sql)}) from exc
        schema = pa.schema(list(zip(names, types, strict=True)))
        data = buf.getvalue()
        if not data:
            return schema.empty_table()
        try:
            return pacsv.read_csv(
                io.BytesIO(data),
                read_options=pacsv.ReadOptions(column_names=names),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict(zip(names, types, strict=True)),
                    true_values=["t"],
                    false_values=["f"],
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            ).cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None  # e.g. 'infinity' timestamps: fall back to rows

    def _copy_in(self, conn: Any, table: str, tbl: pa.Table) -> None:
        buf = io.BytesIO()
        opts = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        pacsv.write_csv(_csv_ready(tbl), buf, write_options=opts)
        cols = ", ".join(tbl.column_names)
        try:
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)".encode()) as copy,
            ):
                copy.write(buf.getvalue())
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL refused COPY into {table}: {exc}") from exc

    def append_arrow(self, conn: Any, table: str, tbl: pa.Table) -> int:
        if tbl.num_rows == 0:
            return 0
        self._copy_in(conn, table, tbl)
        return tbl.num_rows

    def upsert_arrow(self, conn: Any, table: str, tbl: pa.Table, key: Sequence[str]) -> None:
        if tbl.num_rows == 0:
            return
        stage = f"_upsert_{uuid.uuid4().hex}"
        self.execute(
            conn, f"CREATE TEMP TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        self._copy_in(conn, stage, tbl)
        self.execute(conn, _upsert_select(table, tbl.column_names, key, stage))
        self.execute(conn, f"DROP TABLE {stage}")

    def insert_new_readings(self, conn: Any, batch: pa.Table) -> pa.Table:
        if batch.num_rows == 0:
            return READINGS_BATCH_SCHEMA.empty_table()
        # Usually a batch is all new. It is then COPYed straight into readings in binary
        # (no text for the server to parse, no staging table: the cost of a plain bulk
        # load), in (sensor_id, ts) order so that writers inserting overlapping keys wait
        # for each other instead of deadlocking, and the new rows are the batch itself.
        # A stored key -- also one another writer commits meanwhile, which the COPY waits
        # for -- aborts it with a unique violation; the batch is then undone to the
        # savepoint, staged in a temp table and inserted with ON CONFLICT DO NOTHING
        # (race-free with several writing processes), and COPY (INSERT ... RETURNING) TO
        # STDOUT streams exactly the new rows back (none, for a resent batch).
        ordered = batch.take(_key_order(batch))
        try:
            with conn.cursor() as cur:
                cur.execute(b"SAVEPOINT nuanliu_readings")
                received_us = cur.execute(_NOW_US).fetchone()[0]
                try:
                    with cur.copy(_COPY_READINGS_BINARY) as copy:
                        copy.write(copy_binary_readings(ordered, received_us))
                    new = batch
                except self._psycopg.errors.UniqueViolation:
                    cur.execute(b"ROLLBACK TO SAVEPOINT nuanliu_readings")
                    new = self._insert_new_only(conn, ordered)
                cur.execute(b"RELEASE SAVEPOINT nuanliu_readings")
        except self._psycopg.Error as exc:
            raise StoreError(f"PostgreSQL refused the readings insert: {exc}") from exc
        return new

    def _insert_new_only(self, conn: Any, batch: pa.Table) -> pa.Table:
        """The rows of ``batch`` not stored yet, inserted; some keys are known stored."""
        self.execute(
            conn,
            'CREATE TEMP TABLE IF NOT EXISTS readings_batch (sensor_id TEXT COLLATE "C",'
            " ts_us BIGINT, temp_c DOUBLE PRECISION, humidity_pct DOUBLE PRECISION)"
            " ON COMMIT DELETE ROWS",
        )
        # Timestamps travel as integer microseconds: formatting them as text cost more
        # than the whole COPY.
        as_us = batch.set_column(1, "ts_us", batch.column("ts").cast(pa.int64()))
        self._copy_in(conn, "readings_batch", as_us)
        new = _parse_returned_readings(self._copy_out(conn, _INSERT_NEW_READINGS))
        self.execute(conn, "TRUNCATE readings_batch")
        return new

    def _copy_out(self, conn: Any, sql: str) -> bytes:
        out = io.BytesIO()
        with conn.cursor() as cur, cur.copy(sql.encode()) as copy:
            for chunk in copy:
                out.write(chunk)
        return out.getvalue()

    def lock_for_migration(self, conn: Any) -> None:
        self.execute(
            conn,
            "SELECT pg_advisory_xact_lock(hashtext('nuanliu-migrate:' || current_schema()))",
        )

    def close(self) -> None:
        self._pool.close()
        self._writer.close()


def _csv_ready(tbl: pa.Table) -> pa.Table:
    """Timestamps as ISO text with an explicit UTC offset, which COPY parses exactly;
    binary as bytea hex text."""
    import pyarrow.compute as pc

    cols = []
    for field, col in zip(tbl.schema, tbl.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            # Storage is UTC either way; naive timestamps are taken as UTC. The UTC wall
            # time is cast to text without a zone (a zone-aware cast or strftime converts
            # value by value: ~20x slower) and marked as UTC; the fraction is the unit's.
            utc = col.cast(pa.timestamp(field.type.unit, tz="UTC"))
            text = pc.cast(utc.cast(pa.timestamp(field.type.unit)), pa.string())
            cols.append(pc.binary_join_element_wise(text, "+00:00", ""))
        elif pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            # bytea's hex input form; raw bytes (NUL, quotes, newlines) cannot go in CSV.
            hexed = [None if v is None else "\\x" + v.hex() for v in col.to_pylist()]
            cols.append(pa.array(hexed, pa.string()))
        else:
            cols.append(col)
    return pa.Table.from_arrays(cols, names=tbl.column_names)


_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00Z in Unix microseconds
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no extension
_COPY_TRAILER = b"\xff\xff"


def _key_order(batch: pa.Table) -> pa.Array:
    """Row order by (sensor_id, ts): byte order of the ids, as ``COLLATE "C"`` sorts."""
    import pyarrow.compute as pc

    return pc.sort_indices(batch, sort_keys=[("sensor_id", "ascending"), ("ts", "ascending")])


def copy_binary_readings(batch: pa.Table, received_us: int) -> bytes:
    """The batch as a PostgreSQL binary COPY stream of (sensor_id, ts, temp_c,
    humidity_pct, received_at), built with NumPy record arrays, no loop per row.

    Every row is a 16-bit field count and, per field, a 32-bit length (-1 = NULL) and
    the value in network byte order (timestamps as microseconds since 2000-01-01). Rows
    whose id has the same length and whose humidity is equally present have the same
    layout; each such group is one packed record array (usually the whole batch). The
    order of rows changes only across groups, which COPY does not care about.
    """
    sid = batch.column("sensor_id").combine_chunks()
    n = len(sid)
    if n == 0:
        return _COPY_HEADER + _COPY_TRAILER
    offsets = np.frombuffer(sid.buffers()[1], np.int32, n + 1, sid.offset * 4)
    lengths = np.diff(offsets)
    hum = batch.column("humidity_pct").combine_chunks()
    has_hum = ~hum.is_null().to_numpy(zero_copy_only=False)
    ts = batch.column("ts").combine_chunks().cast(pa.int64()).to_numpy() - _PG_EPOCH_US
    temp = batch.column("temp_c").combine_chunks().to_numpy(zero_copy_only=False)
    hum_v = hum.fill_null(0.0).to_numpy(zero_copy_only=False)
    data = np.frombuffer(sid.buffers()[2], np.uint8) if sid.buffers()[2] else np.empty(0, np.uint8)
    layout = lengths.astype(np.int64) * 2 + has_hum
    groups: list[slice | np.ndarray] = (
        [slice(None)]  # the usual batch: one layout, no index arrays
        if (layout == layout[0]).all()
        else [np.flatnonzero(layout == key) for key in np.unique(layout)]
    )
    parts = [_COPY_HEADER]
    for rows in groups:
        first = 0 if isinstance(rows, slice) else int(rows[0])
        width, with_hum = int(lengths[first]), bool(has_hum[first])
        fields: list[tuple[str, str]] = [("nf", ">i2"), ("l_sid", ">i4")]
        if width:
            fields.append(("sid", f"S{width}"))
        fields += [("l_ts", ">i4"), ("ts", ">i8"), ("l_t", ">i4"), ("t", ">f8"), ("l_h", ">i4")]
        if with_hum:
            fields.append(("h", ">f8"))
        fields += [("l_r", ">i4"), ("r", ">i8")]
        rec = np.empty(len(ts[rows]), dtype=np.dtype(fields))
        rec["nf"] = 5
        rec["l_sid"] = width
        if width:
            if isinstance(rows, slice):  # equal lengths: the ids are one contiguous run
                ids = data[offsets[0] : offsets[-1]]
            else:
                ids = data[(offsets[:-1][rows][:, None] + np.arange(width)).ravel()]
            rec["sid"] = ids.view(f"S{width}")
        rec["l_ts"] = 8
        rec["ts"] = ts[rows]
        rec["l_t"] = 8
        rec["t"] = temp[rows]
        rec["l_h"] = 8 if with_hum else -1
        if with_hum:
            rec["h"] = hum_v[rows]
        rec["l_r"] = 8
        rec["r"] = received_us
        parts.append(rec.tobytes())
    parts.append(_COPY_TRAILER)
    return b"".join(parts)


def _parse_returned_readings(data: bytes) -> pa.Table:
    if not data:
        return READINGS_BATCH_SCHEMA.empty_table()
    types = {
        "sensor_id": pa.string(),
        "ts_us": pa.int64(),
        "temp_c": pa.float64(),
        "humidity_pct": pa.float64(),
    }
    tbl = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(types)),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=False, quoted_strings_can_be_null=False
        ),
    )
    ts = tbl.column("ts_us").cast(pa.timestamp("us", tz="UTC"))
    return pa.Table.from_arrays(
        [tbl.column("sensor_id"), ts, tbl.column("temp_c"), tbl.column("humidity_pct")],
        schema=READINGS_BATCH_SCHEMA,
    )


def _upsert_select(table: str, columns: Sequence[str], key: Sequence[str], source: str) -> str:
    cols = ", ".join(columns)
    updates = [c for c in columns if c not in key]
    action = (
        "DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in updates)
        if updates
        else "DO NOTHING"
    )
    return (
        f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {source} "
        f"ON CONFLICT ({', '.join(key)}) {action}"
    )


def _clip(sql: str, limit: int = 300) -> str:
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[:limit] + " …"


def create_engine(url: StoreUrl, *, read_only: bool = False) -> Engine:
    if url.engine == "duckdb":
        return DuckDBEngine(url, read_only=read_only)
    return PostgresEngine(url)
