"""Ingest throughput on DuckDB and PostgreSQL beside each engine's plain bulk load of the
same rows, measured in the same run.

    .venv/bin/python bench/ingest.py            # 1,000,000 readings per path
    .venv/bin/python bench/ingest.py --quick    # 100,000 readings per path
    .venv/bin/python bench/ingest.py --only bulk,files,cli --engines duckdb

Every measurement starts from an empty, migrated database (a new DuckDB file, a new
PostgreSQL schema) with the sensors registered; rows load into the real ``readings``
table.

Plain bulk loads (the baselines; no validation, no de-duplication):

- DuckDB: ``INSERT INTO readings SELECT ... FROM <Arrow table>`` of all rows in one
  statement (in-process), and DuckDB's own ``read_csv`` / ``read_parquet`` of the same
  files;
- PostgreSQL: ``COPY readings FROM STDIN (FORMAT csv)`` of the CSV file's bytes as they
  are, written in 1 MiB blocks by psycopg, and ``COPY ... (FORMAT binary)`` of the same
  rows as PostgreSQL itself exports them. ``received_at`` gets a ``DEFAULT now()`` in
  these throw-away schemas so that the file's four columns load unchanged.

Each engine's fastest in-process baseline is its "bulk load"; every other row says what
share of it it reaches. The same loads run as a process of their own (a ``python -c``
that imports duckdb and runs ``read_csv``; ``psql -c '\\copy ...'``) are the yardstick
for the whole-process CLI rows (``python -m nuanliu.cli ingest FILE --db URL``, wall time
from process start to exit). "Time to first row" is that CLI on a one-reading file: the
whole process, so its start-up, store opening, parse, validation, commit and exit.

MQTT runs the real worker process (``python -m nuanliu.ingest.cli mqtt``) against a
private Mosquitto; the clock runs from the first publish until the worker reports every
reading stored. Prints a Markdown table and writes it to bench/results/ingest.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import orjson
import paho.mqtt.client as mqtt
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nuanliu.ingest.batch import Ingestor, ingest_payload
from nuanliu.ingest.files import ingest_file
from nuanliu.monitor.aggregates import register_aggregates
from nuanliu.store import Store, open_store

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.md"
PG_URL = "postgresql://127.0.0.1:5432/test"
GROUPS = ("bulk", "store", "files", "cli", "startup", "batch", "mqtt", "telemetry", "stages")
LOAD_COLS = "sensor_id, ts, temp_c, humidity_pct"


@dataclass
class Row:
    engine: str
    path: str
    readings: int
    seconds: float
    per_message: int | None = None
    fastest: float | None = None  # the engine's fastest in-process bulk load, rows/s
    same: float | None = None  # the engine's plain load of the same input, rows/s
    process: float | None = None  # that load run as a process of its own (CLI rows)
    cpu: float | None = None  # CPU s (user + system) of this process and its children

    @property
    def rate(self) -> float:
        return self.readings / self.seconds

    def cells(self) -> list[str]:
        def share(base: float | None) -> str:
            return f"{100 * self.rate / base:.0f} %" if base else ""

        msgs = f"{self.rate / self.per_message:,.0f}" if self.per_message else ""
        return [
            self.engine,
            self.path,
            f"{self.readings:,}",
            str(self.per_message or ""),
            f"{self.seconds:.2f}",
            f"{self.cpu:.2f}" if self.cpu is not None else "",
            f"{self.rate:,.0f}",
            msgs,
            share(self.fastest),
            share(self.same),
            share(self.process),
        ]


HEADER = [
    "engine",
    "path",
    "readings",
    "readings/msg",
    "s",
    "CPU s",
    "readings/s",
    "msgs/s",
    "of fastest bulk load",
    "of same input's bulk load",
    "of bulk load as a process",
]


# ------------------------------------------------------------------- data


def make_readings(n: int, sensors: int, seed: int = 7) -> pa.Table:
    """n plausible readings, one per sensor per minute, ending a day ago."""
    rng = np.random.default_rng(seed)
    idx = np.arange(n)
    start = datetime.now(UTC) - timedelta(days=1, minutes=n // sensors + 1)
    ts_us = int(start.timestamp()) * 1_000_000 + (idx // sensors) * 60_000_000
    ids = np.array([f"B{s:06d}" for s in range(sensors)], dtype=object)
    return pa.table(
        {
            "sensor_id": pa.array(ids[idx % sensors], pa.string()),
            "ts": pa.array(ts_us, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            "temp_c": np.round(rng.normal(20.5, 1.5, n), 2),
            "humidity_pct": np.round(rng.uniform(25, 60, n), 1),
        }
    )


def sensor_table(sensors: int) -> pa.Table:
    ids = [f"B{s:06d}" for s in range(sensors)]
    return pa.table({"sensor_id": ids, "household_id": [f"H{s[1:]}" for s in ids]})


@contextmanager
def fresh_url(engine: str, tmp: Path) -> Iterator[str]:
    """The URL of an empty database: a new DuckDB file, or a new PostgreSQL schema."""
    if engine == "duckdb":
        yield f"duckdb:///{tmp / f'{uuid.uuid4().hex}.duckdb'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?schema={schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def prepare(url: str, sensors: pa.Table) -> Store:
    """Migrate the database and register the sensors; the open store."""
    store = open_store(url)
    with store.write() as w:
        w.append_arrow("sensors", sensors)
    return store


@contextmanager
def fresh_store(
    engine: str, tmp: Path, sensors: pa.Table, monitor: bool = False
) -> Iterator[tuple[Store, str]]:
    """An empty, migrated store with the sensors registered (and the monitoring hook)."""
    with fresh_url(engine, tmp) as url:
        store = prepare(url, sensors)
        try:
            if monitor:
                register_aggregates(store)
            yield store, url
        finally:
            store.close()


LAST_CPU = [0.0]  # CPU seconds of the last ``timed`` call


def cpu_now() -> float:
    """User + system CPU seconds of this process (all threads) and its waited children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def timed(fn: Callable[[], object]) -> float:
    """Wall seconds of ``fn()``; its CPU seconds are left in ``LAST_CPU[0]``."""
    c0 = cpu_now()
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    LAST_CPU[0] = cpu_now() - c0
    return wall


def count_readings(url: str) -> int:
    with open_store(url, migrate=False) as store, store.read() as q:
        return int(q.scalar("SELECT count(*) FROM readings", []))


def check_count(got: int, n: int, what: str) -> None:
    if got != n:
        raise SystemExit(f"{what}: {got} readings stored, expected {n}")


def duckdb_path(url: str) -> str:
    return url.removeprefix("duckdb:///")


def pg_schema(url: str) -> str:
    return url.rsplit("schema=", 1)[1]


def pg_connect(url: str) -> psycopg.Connection:
    return psycopg.connect(PG_URL, options=f"-c search_path={pg_schema(url)} -c TimeZone=UTC")


def pg_default_received_at(url: str) -> None:
    with pg_connect(url) as conn:
        conn.execute("ALTER TABLE readings ALTER COLUMN received_at SET DEFAULT now()")


# ------------------------------------------------------------ bulk loads


def duckdb_bulk(
    url: str, sensors: pa.Table, source: str, n: int, tbl: pa.Table | None = None
) -> float:
    """One ``INSERT INTO readings SELECT ... FROM <source>`` on a plain DuckDB connection."""
    prepare(url, sensors).close()
    con = duckdb.connect(duckdb_path(url))
    try:
        if tbl is not None:
            con.register("arrow_rows", tbl)
        sql = f"INSERT INTO readings SELECT {LOAD_COLS}, now() FROM {source}"
        seconds = timed(lambda: con.execute(sql).fetchall())
    finally:
        con.close()
    check_count(count_readings(url), n, source)
    return seconds


def duckdb_read_csv_sql(path: Path) -> str:
    return (
        f"read_csv('{path}', header = true, columns = {{'sensor_id': 'VARCHAR', "
        "'ts': 'TIMESTAMPTZ', 'temp_c': 'DOUBLE', 'humidity_pct': 'DOUBLE'})"
    )


def duckdb_process(url: str, sensors: pa.Table, source: str) -> float:
    """A DuckDB load as a process of its own: python, import duckdb, load, exit."""
    prepare(url, sensors).close()
    sql = f"INSERT INTO readings SELECT {LOAD_COLS}, now() FROM {source}"
    code = "import sys, duckdb; duckdb.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()"
    return timed(
        lambda: subprocess.run([sys.executable, "-c", code, duckdb_path(url), sql], check=True)
    )


def pg_copy(url: str, sensors: pa.Table, data: Path | bytes, fmt: str) -> float:
    """``COPY readings FROM STDIN`` of the bytes as they are, in 1 MiB blocks, one commit."""
    prepare(url, sensors).close()
    pg_default_received_at(url)
    opts = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT binary"
    sql = f"COPY readings ({LOAD_COLS}) FROM STDIN ({opts})"
    blob = data if isinstance(data, bytes) else None

    def run() -> None:
        with pg_connect(url) as conn:
            with conn.cursor() as cur, cur.copy(sql) as copy:
                if blob is not None:
                    for start in range(0, len(blob), 1 << 20):
                        copy.write(blob[start : start + (1 << 20)])
                else:
                    with Path(data).open("rb") as fh:  # type: ignore[arg-type]
                        while block := fh.read(1 << 20):
                            copy.write(block)
            conn.commit()

    return timed(run)


def pg_export_binary(url: str) -> bytes:
    """The stored rows as PostgreSQL's own binary COPY stream."""
    out = bytearray()
    with pg_connect(url) as conn, conn.cursor() as cur:
        sql = f"COPY (SELECT {LOAD_COLS} FROM readings) TO STDOUT (FORMAT binary)"
        with cur.copy(sql) as copy:
            for chunk in copy:
                out += chunk
    return bytes(out)


def psql_process(url: str, sensors: pa.Table, csv_path: Path) -> float | None:
    """``psql -c '\\copy readings ... csv'``: the plain load as a process of its own."""
    psql = shutil.which("psql")
    if psql is None:
        return None
    prepare(url, sensors).close()
    pg_default_received_at(url)
    env = {**os.environ, "PGOPTIONS": f"-c search_path={pg_schema(url)}"}
    cmd = [
        psql, "-q", "-X", "-v", "ON_ERROR_STOP=1", PG_URL, "-c",
        f"\\copy readings ({LOAD_COLS}) FROM '{csv_path}' WITH (FORMAT csv, HEADER true)",
    ]  # fmt: skip
    return timed(lambda: subprocess.run(cmd, check=True, env=env))


# ----------------------------------------------------------- our paths


def store_only(store: Store, tbl: pa.Table) -> float:
    """``insert_readings`` on ready Arrow chunks, no parsing: the store write alone."""

    def run() -> None:
        for start in range(0, tbl.num_rows, 200_000):
            store.insert_readings(tbl.slice(start, 200_000))

    return timed(run)


def file_ingest(store: Store, path: Path) -> float:
    ing = Ingestor(store)
    return timed(lambda: ingest_file(ing, path))


TELEMETRY_POINTS = (
    "primary_supply_temp_c",
    "primary_return_temp_c",
    "primary_flow_m3_h",
    "primary_heat_kw",
    "secondary_supply_temp_c",
    "secondary_return_temp_c",
    "valve_opening_pct",
    "outdoor_temp_c",
)


def write_telemetry_csv(path: Path, n_values: int, sites: int = 700, seed: int = 7) -> None:
    """A wide station-controller export: one row per site and minute, eight points."""
    rng = np.random.default_rng(seed)
    rows = n_values // len(TELEMETRY_POINTS)
    idx = np.arange(rows)
    start = int((datetime.now(UTC) - timedelta(days=1, minutes=rows // sites + 1)).timestamp())
    ts = (start + (idx // sites) * 60) * 1_000_000
    cols: dict[str, object] = {
        "site_id": pa.array([f"HH{s:04d}" for s in idx % sites], pa.string()),
        "ts": pa.array(np.datetime_as_string(ts.astype("datetime64[us]"), unit="s") + "Z"),
    }
    means = (95, 48, 120, 6000, 55, 42, 60, -8)
    for point, mean in zip(TELEMETRY_POINTS, means, strict=True):
        cols[point] = np.round(rng.normal(mean, abs(mean) * 0.02 + 0.5, rows), 2)
    pacsv.write_csv(pa.table(cols), path)


def telemetry_ingest(store: Store, path: Path, sites: int = 700) -> float:
    from nuanliu.telemetry.ingest import ingest_telemetry_file
    from nuanliu.telemetry.store import Site, save_sites

    save_sites(store, [Site(f"HH{s:04d}", "station", f"站{s}") for s in range(sites)])
    reports = []
    secs = timed(lambda: reports.append(ingest_telemetry_file(store, path)))
    assert reports[0].stored == reports[0].received, reports[0].summary()
    return secs


def csv_stages(store: Store, path: Path) -> list[tuple[str, float, float]]:
    """The CSV file path stage by stage, one after the other (no read-ahead thread), and
    two whole-file readers beside it: (stage, wall s, CPU s) each."""
    from nuanliu.ingest.csv_lines import csv_chunks
    from nuanliu.store.readings import dedupe_batch, normalise_readings

    out: list[tuple[str, float, float]] = []

    def stage(label: str, fn: Callable[[], object]) -> None:
        out.append((label, timed(fn), LAST_CPU[0]))

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sql = f"SELECT * FROM {duckdb_read_csv_sql(path)}"
    stage(
        "DuckDB read_csv → Arrow table (explicit column types)",
        lambda: con.sql(sql).to_arrow_table(),
    )
    con.close()
    types = {"sensor_id": pa.string(), "ts": pa.timestamp("us", tz="UTC")}
    types |= {"temp_c": pa.float64(), "humidity_pct": pa.float64()}
    opts = pacsv.ConvertOptions(column_types=types)
    stage(
        "pyarrow.csv.read_csv → Arrow table (same types)",
        lambda: pacsv.read_csv(path, convert_options=opts),
    )
    ing = Ingestor(store)
    chunks: list[object] = []
    with path.open("rb") as fh:
        stage(
            "ours: read 8 MiB blocks of lines, Arrow parse (csv_lines)",
            lambda: chunks.extend(csv_chunks(fh, f"file:{path.name}")),
        )
    checked: list[object] = []
    stage("ours: validation", lambda: checked.extend(ing.check(*c) for c in chunks))  # type: ignore[misc]
    stage(
        "ours: normalise + de-duplicate (in the store's write)",
        lambda: [dedupe_batch(normalise_readings(c[0].valid)) for c in checked],  # type: ignore[index]
    )
    stage(
        "ours: write (Store.write_batch, one commit per block)",
        lambda: [ing.commit(*c) for c in checked],
    )  # type: ignore[misc]
    return out


def cli_command(*args: str) -> list[str]:
    """The `nuanliu` command as a user runs it (the console script is the same code)."""
    return [sys.executable, "-m", "nuanliu.cli", *args]


def cli_ingest(url: str, sensors: pa.Table, path: Path, *extra: str) -> float:
    prepare(url, sensors).close()  # the process opens (and on DuckDB locks) the file
    cmd = cli_command("ingest", str(path), "--db", url, *extra)
    return timed(lambda: subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL))


def run_clocked(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_to_first_row(
    url: str, sensors: pa.Table, path: Path, cmd: list[str], runs: int
) -> list[tuple[float, float]]:
    """Whole-process (wall, CPU) seconds of ingesting a one-reading file, the store current.

    Each run stores the reading anew (the previous run's is deleted) so every run commits.
    """
    prepare(url, sensors).close()
    times = []
    for _ in range(runs):
        with open_store(url, migrate=False) as store, store.write() as w:
            w.execute("DELETE FROM readings")
        times.append(run_clocked([*cmd, str(path), "--db", url]))
        check_count(count_readings(url), 1, "time to first row")
    return times


def import_floor(engine: str) -> list[str]:
    """A process that only imports the libraries the ingest command cannot do without."""
    driver = "duckdb" if engine == "duckdb" else "psycopg, psycopg_pool"
    return [
        sys.executable,
        "-c",
        f"import typer, rich.console, pyarrow.compute, pyarrow.csv, pandas, {driver}",
    ]


def batch_api(store: Store, tbl: pa.Table, per_request: int) -> float:
    """HTTP-sized JSON array bodies through ingest_payload (parse + validate + store)."""
    rows = tbl.to_pylist()
    bodies = []
    for start in range(0, len(rows), per_request):
        chunk = rows[start : start + per_request]
        bodies.append(orjson.dumps([{**r, "ts": r["ts"].isoformat()} for r in chunk]))

    def run() -> None:
        for body in bodies:
            ingest_payload(store, body, "application/json")

    return timed(run)


def start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 10000000\nmax_inflight_messages 1000\n"
    )
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("mosquitto did not start")


def mqtt_payloads(tbl: pa.Table, per_message: int) -> list[bytes]:
    ids = tbl["sensor_id"].to_pylist()
    ts_ms = (tbl["ts"].cast(pa.int64()).to_numpy() // 1000).tolist()
    temps = tbl["temp_c"].to_pylist()
    hums = tbl["humidity_pct"].to_pylist()
    out = []
    for s in range(0, len(ids), per_message):
        e = s + per_message
        if per_message == 1:
            out.append(
                orjson.dumps(
                    {
                        "sensor_id": ids[s],
                        "ts": ts_ms[s],
                        "temp_c": temps[s],
                        "humidity_pct": hums[s],
                    }
                )
            )
        else:
            out.append(
                orjson.dumps(
                    {
                        "gateway_id": f"gw{s // per_message % 50}",
                        "sensor_id": ids[s:e],
                        "ts": ts_ms[s:e],
                        "temp_c": temps[s:e],
                        "humidity_pct": hums[s:e],
                    }
                )
            )
    return out


def mqtt_end_to_end(
    url: str, port: int, tbl: pa.Table, per_message: int, tmp: Path, monitor: bool
) -> float:
    run = uuid.uuid4().hex[:8]
    log = tmp / f"mqtt-{run}.log"
    cmd = [
        sys.executable, "-m", "nuanliu.ingest.cli", "mqtt", "--url", f"mqtt://127.0.0.1:{port}",
        "--db", url, "--client-id", f"bench-{run}", "--group", run,
        "--topic", f"nuanliu/v1/readings/{run}/#", "--stats-interval-s", "0.1",
        "--aggregates" if monitor else "--no-aggregates",
    ]  # fmt: skip
    payloads = mqtt_payloads(tbl, per_message)
    with log.open("wb") as out:
        worker = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        while "subscribed to" not in log.read_text():
            if worker.poll() is not None:
                raise SystemExit(f"MQTT worker exited:\n{log.read_text()}")
            time.sleep(0.05)
        pub = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"pub-{run}", protocol=MQTTProtocolVersion.MQTTv5
        )
        pub.max_inflight_messages_set(1000)
        pub.max_queued_messages_set(0)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        topic = f"nuanliu/v1/readings/{run}/gw"
        t0 = time.perf_counter()
        publisher = threading.Thread(
            target=lambda: [pub.publish(topic, p, qos=1) for p in payloads], daemon=True
        )
        publisher.start()
        n = tbl.num_rows
        pattern = re.compile(r"(\d+) readings \(stored (\d+)")
        while True:
            found = pattern.findall(log.read_text()[-4000:])
            if found and int(found[-1][1]) >= n:
                break
            if worker.poll() is not None:
                raise SystemExit(f"MQTT worker exited:\n{log.read_text()}")
            time.sleep(0.02)
        seconds = time.perf_counter() - t0
        pub.disconnect()
        pub.loop_stop()
    finally:
        worker.terminate()
        worker.wait(30)
    return seconds


# -------------------------------------------------------------------- main


class Bench:
    """Runs the selected groups for one engine and collects the rows."""

    def __init__(self, args: argparse.Namespace, tmp: Path, n: int, tbl: pa.Table) -> None:
        self.only = set(args.only.split(","))
        self.tmp = tmp
        self.n = n
        self.tbl = tbl
        self.sensors = sensor_table(args.sensors)
        self.csv = tmp / "readings.csv"
        self.parquet = tmp / "readings.parquet"
        self.one_row = tmp / "one.csv"
        self.rows: list[Row] = []
        self.startup: list[str] = []
        self.stages: list[str] = []
        csv_tbl = tbl.set_column(
            1, "ts", pa.array(np.datetime_as_string(tbl["ts"].to_numpy(), unit="s") + "Z")
        )
        pacsv.write_csv(csv_tbl, self.csv)
        pacsv.write_csv(csv_tbl.slice(0, 1), self.one_row)
        pq.write_table(tbl, self.parquet)

    def add_startup(self, engine: str, label: str, times: list[tuple[float, float]]) -> None:
        wall = [w for w, _ in times]
        cpu = [c for _, c in times]
        self.startup.append(
            f"| {engine} | {label} | {statistics.median(wall):.2f} | "
            f"{min(wall):.2f}–{max(wall):.2f} | {statistics.median(cpu):.2f} |"
        )
        print(self.startup[-1], flush=True)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(" | ".join(row.cells()), flush=True)

    def fresh(self, engine: str) -> AbstractContextManager[str]:
        return fresh_url(engine, self.tmp)

    def bulk(self, engine: str) -> dict[str, float]:
        """Run the plain loads; their rates by what they load (and "fastest")."""
        n, s = self.n, self.sensors
        rates: dict[str, float] = {}

        def add(key: str, label: str, secs: float) -> None:
            row = Row(engine, label, n, secs, cpu=LAST_CPU[0])
            rates[key] = row.rate
            self.add(row)

        if engine == "duckdb":
            with self.fresh(engine) as url:
                secs = duckdb_bulk(url, s, "arrow_rows", n, self.tbl)
            add("arrow", "bulk load: Arrow table, one INSERT ... SELECT", secs)
            with self.fresh(engine) as url:
                secs = duckdb_bulk(url, s, duckdb_read_csv_sql(self.csv), n)
            add("csv", "bulk load: read_csv of the CSV file", secs)
            with self.fresh(engine) as url:
                secs = duckdb_bulk(url, s, f"read_parquet('{self.parquet}')", n)
            add("parquet", "bulk load: read_parquet of the Parquet file", secs)
            for key, source, label in (
                ("process_csv", duckdb_read_csv_sql(self.csv), "read_csv"),
                ("process_parquet", f"read_parquet('{self.parquet}')", "read_parquet"),
            ):
                with self.fresh(engine) as url:
                    secs = duckdb_process(url, s, source)
                    check_count(count_readings(url), n, "duckdb process")
                add(key, f"bulk load as a process: python -c duckdb {label}", secs)
        else:
            with self.fresh(engine) as url:
                secs = pg_copy(url, s, self.csv, "csv")
                check_count(count_readings(url), n, "COPY csv")
                binary = pg_export_binary(url)
            add("csv", "bulk load: COPY FROM STDIN (FORMAT csv), the file's bytes", secs)
            with self.fresh(engine) as url:
                secs = pg_copy(url, s, binary, "binary")
                check_count(count_readings(url), n, "COPY binary")
            add("binary", "bulk load: COPY FROM STDIN (FORMAT binary), the same rows", secs)
            rates["arrow"] = rates["parquet"] = rates["binary"]  # typed rows: binary COPY
            with self.fresh(engine) as url:
                psql_secs = psql_process(url, s, self.csv)
                if psql_secs is not None:
                    check_count(count_readings(url), n, "psql \\copy")
                    add("process_csv", "bulk load as a process: psql \\copy csv", psql_secs)
                    rates["process_parquet"] = rates["process_csv"]
        rates["fastest"] = max(rates[k] for k in ("arrow", "csv", "parquet"))
        return rates

    def run(self, engine: str) -> None:
        n, tbl, s = self.n, self.tbl, self.sensors
        base = self.bulk(engine) if "bulk" in self.only else {}

        def ours(
            path: str, fn: Callable[[Store], float], same: str | None, monitor: bool = False
        ) -> None:
            with fresh_store(engine, self.tmp, s, monitor) as (store, url):
                secs = fn(store)
                cpu = LAST_CPU[0]
                with store.read() as q:
                    check_count(int(q.scalar("SELECT count(*) FROM readings", [])), n, path)
            row = Row(engine, path, n, secs, fastest=base.get("fastest"), cpu=cpu)
            row.same = base.get(same) if same else None
            self.add(row)

        if "store" in self.only:
            ours(
                "store.insert_readings alone (Arrow in memory, 200k/call)",
                lambda st: store_only(st, tbl),
                "arrow",
            )
        if "files" in self.only:
            for label, path, same, monitor in (
                ("in-process ingest_file: CSV", self.csv, "csv", False),
                ("in-process ingest_file: Parquet", self.parquet, "parquet", False),
                ("in-process ingest_file: CSV + aggregates hook", self.csv, "csv", True),
                (
                    "in-process ingest_file: Parquet + aggregates hook",
                    self.parquet,
                    "parquet",
                    True,
                ),
            ):
                ours(label, lambda st, p=path: file_ingest(st, p), same, monitor)
        if "cli" in self.only:
            no_agg = ("--no-aggregates",)
            for label, path, kind, extra in (
                ("CLI process: nuanliu ingest CSV", self.csv, "csv", ()),
                ("CLI process: nuanliu ingest Parquet", self.parquet, "parquet", ()),
                ("CLI process: nuanliu ingest CSV --no-aggregates", self.csv, "csv", no_agg),
                ("CLI process: nuanliu ingest Parquet --no-aggregates", self.parquet, "parquet",
                 no_agg),
            ):  # fmt: skip
                with self.fresh(engine) as url:
                    secs = cli_ingest(url, s, path, *extra)
                    cpu = LAST_CPU[0]
                    check_count(count_readings(url), n, label)
                row = Row(engine, label, n, secs, fastest=base.get("fastest"), cpu=cpu)
                row.same, row.process = base.get(kind), base.get(f"process_{kind}")
                self.add(row)
        if "startup" in self.only:
            runs = 5
            for label, cmd in (
                ("nuanliu ingest one.csv", cli_command("ingest")),
                (
                    "python -m nuanliu.ingest.cli one.csv",
                    [sys.executable, "-m", "nuanliu.ingest.cli"],
                ),
            ):
                with self.fresh(engine) as url:
                    times = time_to_first_row(url, s, self.one_row, cmd, runs)
                self.add_startup(engine, f"`{label}`", times)
            floor = [run_clocked(import_floor(engine)) for _ in range(runs)]
            self.add_startup(engine, f"floor: `{import_floor(engine)[-1]}`", floor)
        if "batch" in self.only:
            ours("batch API, JSON 10k/request", lambda st: batch_api(st, tbl, 10_000), None)
        if "telemetry" in self.only:
            values = (n // len(TELEMETRY_POINTS)) * len(TELEMETRY_POINTS)
            path = self.tmp / "telemetry.csv"
            if not path.exists():
                write_telemetry_csv(path, values)
            with fresh_store(engine, self.tmp, s) as (store, _url):
                secs = telemetry_ingest(store, path)
                cpu = LAST_CPU[0]
                with store.read() as q:
                    got = int(q.scalar("SELECT count(*) FROM telemetry", []))
                check_count(got, values, "telemetry")
            label = "in-process telemetry ingest: wide CSV, 8 points/row, + hourly/daily aggregates"
            self.add(Row(engine, label, values, secs, fastest=base.get("fastest"), cpu=cpu))
        if "stages" in self.only and engine == "duckdb":
            with fresh_store(engine, self.tmp, s) as (store, _url):
                for label, wall, cpu in csv_stages(store, self.csv):
                    self.stages.append(f"| {engine} | {label} | {wall:.3f} | {cpu:.3f} |")
                    print(self.stages[-1], flush=True)
        if "mqtt" in self.only:
            n_single = max(n // 20, 5_000)  # one reading per message is slow by nature
            broker, port = start_broker(self.tmp)
            try:
                for per, count, monitor in ((500, n, False), (1, n_single, False), (500, n, True)):
                    with fresh_store(engine, self.tmp, s) as (store, url):
                        store.close()  # the worker process owns the DuckDB file
                        secs = mqtt_end_to_end(
                            url, port, tbl.slice(0, count), per, self.tmp, monitor
                        )
                    path = "MQTT end to end" + (" + aggregates hook" if monitor else "")
                    self.add(
                        Row(engine, path, count, secs, per_message=per, fastest=base.get("fastest"))
                    )
            finally:
                broker.terminate()
                broker.wait(10)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k readings per path")
    ap.add_argument("--engines", default="duckdb,postgresql")
    ap.add_argument("--only", default=",".join(GROUPS), help=f"groups: {','.join(GROUPS)}")
    ap.add_argument("--readings", type=int, default=None)
    ap.add_argument("--sensors", type=int, default=10_000)
    ap.add_argument("--no-write", action="store_true", help="do not write the results file")
    ap.add_argument(
        "--append", action="store_true", help="add this run to the results file (a noisy machine)"
    )
    args = ap.parse_args()
    n = args.readings or (100_000 if args.quick else 1_000_000)
    load_before = load_average()
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmpname:
        bench = Bench(args, Path(tmpname), n, make_readings(n, args.sensors))
        for engine in args.engines.split(","):
            bench.run(engine)
    load_after = load_average()
    table = "\n".join(
        ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        + ["| " + " | ".join(r.cells()) + " |" for r in bench.rows]
    )
    startup = "\n".join(
        [
            "| engine | command (store current) | median wall s | min–max wall s (5 runs) "
            "| median CPU s |",
            "|---|---|---|---|---|",
            *bench.startup,
        ]
    )
    note = (
        f"{n:,} readings per path (MQTT one reading per message: {max(n // 20, 5_000):,}), "
        f"{args.sensors:,} sensors; {'--quick' if args.quick else 'full'} run on "
        f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores, shared), "
        f"started {started:%Y-%m-%d %H:%M} UTC; load average (1, 5, 15 min) {load_before} "
        f"before and {load_after} after. duckdb {duckdb.__version__}, pyarrow "
        f"{pa.__version__}, psycopg {psycopg.__version__}, PostgreSQL on 127.0.0.1.\n\n"
        "**bulk load** rows are each engine's plain load of the same rows into `readings` "
        "(no validation, no de-duplication; how they are run: the docstring of "
        "`bench/ingest.py`). Shares: *of fastest bulk load* is a row's rate over the "
        "engine's fastest in-process bulk load (DuckDB: the Arrow table or read_parquet; "
        "PostgreSQL: the faster COPY); *of same input's bulk load* over the engine's plain "
        "load of that input (CSV rows: read_csv / COPY csv of the file; Parquet and Arrow "
        "rows: read_parquet / Arrow append on DuckDB, COPY binary on PostgreSQL, which has "
        "no Parquet loader); *of bulk load as a process* (CLI rows) over that load run as "
        "a process of its own (`python -c` duckdb; `psql \\copy` csv). "
        "`in-process ingest_file` rows parse, validate and store through "
        "`Store.insert_readings` (idempotent on sensor_id+ts) in a warm process; "
        "`CLI process` rows are `python -m nuanliu.cli ingest FILE --db URL` timed from "
        "process start to exit, with the monitoring aggregates hook on as `nuanliu ingest` "
        "runs by default (and without, `--no-aggregates`). *CPU s* is user + system time "
        "of the benchmark process (all threads) and its child processes during the "
        "measurement (the PostgreSQL server's is not included)."
    )
    stages = "\n".join(
        ["| engine | stage (the bench's CSV file) | wall s | CPU s |", "|---|---|---|---|"]
        + bench.stages
    )
    stages_text = (
        "### CSV path stage by stage\n\nThe `in-process ingest_file: CSV` path split into "
        "its stages, run one after the other (no read-ahead thread), beside two whole-file "
        "readers of the same file; CPU is user + system time of all the process's threads."
        f"\n\n{stages}\n\n"
        if bench.stages
        else ""
    )
    startup_text = (
        "### Time to first row\n\nThe whole `nuanliu ingest` process on a one-reading CSV "
        "file: start-up, store opening with the schema version check, parse, validate, "
        "commit (with the aggregates hook), summary, exit — so an upper bound of the time "
        "to the first stored row. *floor* is a process that only imports the libraries "
        "the command cannot do without; CPU is user + system time of the process, which "
        "other jobs on the machine inflate far less than wall time.\n\n"
        f"{startup}\n"
        if bench.startup
        else ""
    )
    text = f"{note}\n\n{table}\n\n{stages_text}{startup_text}"
    title = f"## Run of {started:%Y-%m-%d %H:%M} UTC (load average {load_before} before)"
    if args.append and RESULTS.exists():
        text = f"{RESULTS.read_text().rstrip()}\n\n{title}\n\n{text}"
    else:
        text = f"# Ingest benchmark\n\n{title}\n\n{text}"
    print()
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
        print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
