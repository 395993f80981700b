"""Ingest throughput: files (CSV, Parquet), the Python batch API and MQTT end to end,
on DuckDB and PostgreSQL, beside the raw engine append rate measured in the same run.

    .venv/bin/python bench/ingest.py            # 1,000,000 readings per path
    .venv/bin/python bench/ingest.py --quick    # 100,000 readings per path

Every measurement starts from an empty database (a new DuckDB file, a new PostgreSQL
schema) with the sensors registered and the monitoring aggregates hook registered, as
the `nuanliu ingest` commands run in production. "Raw append" is the engine's bulk path
into a table without constraints: DuckDB appending the Arrow table, PostgreSQL COPY.
MQTT runs the real worker process (`python -m nuanliu.ingest.cli mqtt`) against a
private Mosquitto; the clock runs from the first publish until the worker reports every
reading stored. Prints a Markdown table and writes it to bench/results/ingest.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from nuanliu.monitor import register_aggregates
from nuanliu.store import Store, open_store

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.md"
PG_URL = "postgresql://127.0.0.1:5432/test"


@dataclass
class Row:
    engine: str
    path: str
    readings: int
    seconds: float
    per_message: int | None = None
    raw_rate: float | None = None

    @property
    def rate(self) -> float:
        return self.readings / self.seconds

    def cells(self) -> list[str]:
        msgs = f"{self.rate / self.per_message:,.0f}" if self.per_message else ""
        share = f"{100 * self.rate / self.raw_rate:.0f} %" if self.raw_rate else ""
        return [
            self.engine,
            self.path,
            f"{self.readings:,}",
            str(self.per_message or ""),
            f"{self.seconds:.2f}",
            f"{self.rate:,.0f}",
            msgs,
            share,
        ]


HEADER = ["engine", "path", "readings", "readings/msg", "s", "readings/s", "msgs/s", "of raw"]


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
def fresh_store(
    engine: str, tmp: Path, sensors: pa.Table, monitor: bool = False
) -> Iterator[tuple[Store, str]]:
    """An empty, migrated store with the sensors registered (and the monitoring hook)."""
    if engine == "duckdb":
        url = f"duckdb:///{tmp / f'{uuid.uuid4().hex}.duckdb'}"
        schema = None
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}?schema={schema}"
    store = open_store(url)
    try:
        with store.write() as w:
            w.append_arrow("sensors", sensors)
        if monitor:
            register_aggregates(store)
        yield store, url
    finally:
        store.close()
        if schema:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ------------------------------------------------------------- measurements


def raw_append(store: Store, tbl: pa.Table) -> float:
    with store.write() as w:
        w.execute(
            "CREATE TABLE bench_raw (sensor_id TEXT, ts TIMESTAMPTZ, temp_c DOUBLE PRECISION,"
            " humidity_pct DOUBLE PRECISION)"
        )

    def run() -> None:
        with store.write() as w:
            for start in range(0, tbl.num_rows, 200_000):
                w.append_arrow("bench_raw", tbl.slice(start, 200_000))

    return timed(run)


def check_stored(store: Store, n: int, what: str) -> None:
    with store.read() as q:
        got = q.scalar("SELECT count(*) FROM readings", [])
    if got != n:
        raise SystemExit(f"{what}: {got} readings stored, expected {n}")


def store_only(store: Store, tbl: pa.Table) -> float:
    """The floor under every path: insert_readings on ready Arrow chunks, no parsing."""

    def run() -> None:
        for start in range(0, tbl.num_rows, 200_000):
            store.insert_readings(tbl.slice(start, 200_000))

    seconds = timed(run)
    check_stored(store, tbl.num_rows, "insert_readings")
    return seconds


def file_ingest(store: Store, path: Path, n: int) -> float:
    ing = Ingestor(store)
    seconds = timed(lambda: ingest_file(ing, path))
    check_stored(store, n, path.name)
    return seconds


def batch_api(store: Store, tbl: pa.Table, per_request: int) -> float:
    """HTTP-sized JSON array bodies through ingest_payload (parse + validate + store)."""
    rows = tbl.to_pylist()
    bodies = []
    for start in range(0, len(rows), per_request):
        chunk = rows[start : start + per_request]
        bodies.append(orjson.dumps([{**r, "ts": r["ts"].isoformat()} for r in chunk]))
    ing_store = store

    def run() -> None:
        for body in bodies:
            ingest_payload(ing_store, body, "application/json")

    seconds = timed(run)
    check_stored(store, tbl.num_rows, "batch API")
    return seconds


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k readings per path")
    ap.add_argument("--engines", default="duckdb,postgresql")
    ap.add_argument("--readings", type=int, default=None)
    ap.add_argument("--sensors", type=int, default=10_000)
    args = ap.parse_args()
    n = args.readings or (100_000 if args.quick else 1_000_000)
    n_single = max(n // 20, 5_000)  # one reading per message is slow by nature
    tbl = make_readings(n, args.sensors)
    sensors = sensor_table(args.sensors)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmpname:
        tmp = Path(tmpname)
        csv_path, parquet_path = tmp / "readings.csv", tmp / "readings.parquet"
        csv_tbl = tbl.set_column(
            1, "ts", pa.array(np.datetime_as_string(tbl["ts"].to_numpy(), unit="s") + "Z")
        )
        pacsv.write_csv(csv_tbl, csv_path)
        pq.write_table(tbl, parquet_path)
        broker, port = start_broker(tmp)
        try:
            for engine in args.engines.split(","):
                with fresh_store(engine, tmp, sensors) as (store, _):
                    raw = n / raw_append(store, tbl)
                rows.append(Row(engine, "raw engine append (no constraints)", n, n / raw))

                def measure(
                    path: str,
                    fn: Callable[[Store], float],
                    monitor: bool = False,
                    engine: str = engine,
                    raw: float = raw,
                ) -> None:
                    with fresh_store(engine, tmp, sensors, monitor) as (store, _):
                        secs = fn(store)
                    rows.append(Row(engine, path, n, secs, raw_rate=raw))
                    print(" | ".join(rows[-1].cells()), flush=True)

                measure(
                    "store.insert_readings alone (Arrow in memory)", lambda s: store_only(s, tbl)
                )
                measure("CSV file", lambda s: file_ingest(s, csv_path, n))
                measure("Parquet file", lambda s: file_ingest(s, parquet_path, n))
                measure("batch API, JSON 10k/request", lambda s: batch_api(s, tbl, 10_000))
                measure(
                    "CSV file + monitoring aggregates hook",
                    lambda s: file_ingest(s, csv_path, n),
                    monitor=True,
                )
                for per, count, monitor in ((500, n, False), (1, n_single, False), (500, n, True)):
                    with fresh_store(engine, tmp, sensors) as (store, url):
                        store.close()  # the worker process owns the DuckDB file
                        secs = mqtt_end_to_end(url, port, tbl.slice(0, count), per, tmp, monitor)
                    path = "MQTT end to end" + (" + monitoring aggregates hook" if monitor else "")
                    rows.append(Row(engine, path, count, secs, per, raw))
                    print(" | ".join(rows[-1].cells()), flush=True)
        finally:
            broker.terminate()
    table = "\n".join(
        ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        + ["| " + " | ".join(r.cells()) + " |" for r in rows]
    )
    note = (
        f"Readings: {n:,} per path ({n_single:,} for one reading per message), "
        f"{args.sensors:,} sensors; {'--quick' if args.quick else 'full'} run on "
        f"{platform.node()} ({platform.processor() or platform.machine()}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores. Every path parses, validates "
        "and stores through store.insert_readings (idempotent on sensor_id+ts); rows marked "
        "'+ monitoring aggregates hook' also maintain the monitoring aggregates in the same "
        "transaction, as `nuanliu ingest` does by default. 'of raw' compares with the "
        "engine's bulk append into a table without constraints (DuckDB: Arrow append; "
        "PostgreSQL: COPY) measured in the same run."
    )
    print()
    print(table)
    print()
    print(note)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"# Ingest benchmark\n\n{note}\n\n{table}\n")
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
