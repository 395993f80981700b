"""Benchmark: backup and restore of the store, and replay of the raw MQTT archive.

For each engine (DuckDB file, local PostgreSQL schema): load N readings (1,000 sensors,
one reading per sensor and minute) through ``Store.insert_readings``, then time

1. ``backup_store`` (DuckDB ``EXPORT DATABASE`` to Parquet / ``pg_dump -Fc`` on an
   exported snapshot) and the backup's size;
2. ``restore_backup`` into an empty database, including the manifest count check;
3. ``replay_archive`` of an archive holding the last 10 % of the readings as gateway
   messages of 250 readings (what a restore replays since the recovery point).

Usage: ``python bench/backup_restore.py [--readings N] [--pg URL]``. Prints a table and
writes ``bench/results/backup_restore.md``.
"""

from __future__ import annotations

import argparse
import base64
import json
import platform
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from nuanliu.ingest.archive import archive_file, replay_archive
from nuanliu.ingest.batch import Ingestor
from nuanliu.store import READINGS_BATCH_SCHEMA, open_store
from nuanliu.store.backup import backup_store, restore_backup

SENSORS = [f"S{i:05d}" for i in range(1000)]
PER_MESSAGE = 250


def readings(n: int, start: datetime) -> pa.Table:
    idx = np.arange(n)
    ts = np.datetime64(start.replace(tzinfo=None), "us") + (idx // len(SENSORS)) * np.timedelta64(
        60, "s"
    )
    return pa.table(
        {
            "sensor_id": pa.array([SENSORS[i % len(SENSORS)] for i in idx]),
            "ts": pa.array(ts, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
            "temp_c": pa.array(18 + (idx % 50) / 10.0),
            "humidity_pct": pa.nulls(n, pa.float64()),
        },
        schema=READINGS_BATCH_SCHEMA,
    )


def write_archive(directory: Path, tbl: pa.Table, at: datetime) -> int:
    path = archive_file(directory, at)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = tbl.to_pydict()
    messages = 0
    with open(path, "w", encoding="ascii") as fh:
        for first in range(0, tbl.num_rows, PER_MESSAGE):
            part = slice(first, first + PER_MESSAGE)
            body = {
                "sensor_id": rows["sensor_id"][part],
                "ts": [t.isoformat() for t in rows["ts"][part]],
                "temp_c": rows["temp_c"][part],
            }
            payload = base64.b64encode(json.dumps(body).encode()).decode()
            fh.write(json.dumps({"at": at.isoformat(), "topic": "nuanliu/v1/readings/gw",
                                 "payload": payload}) + "\n")  # fmt: skip
            messages += 1
    return messages


def size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def run(engine: str, url: str, destroy: Callable[[], None], n: int, work: Path) -> dict[str, Any]:
    """Load, back up, destroy, restore into the same URL, replay the archive's tail."""
    tbl = readings(n, datetime.now(UTC) - timedelta(days=3))
    tail = n // 10
    with open_store(url) as store:
        with store.write() as w:
            w.append_arrow("sensors", pa.table({"sensor_id": SENSORS, "household_id": SENSORS}))
        t0 = time.perf_counter()
        for first in range(0, n - tail, 100_000):
            store.insert_readings(tbl.slice(first, min(100_000, n - tail - first)))
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        info = backup_store(store, work / f"backup-{engine}")
        backup_s = time.perf_counter() - t0
    destroy()
    t0 = time.perf_counter()
    restore_backup(work / f"backup-{engine}", url)
    restore_s = time.perf_counter() - t0
    archive = work / f"archive-{engine}"
    messages = write_archive(archive, tbl.slice(n - tail), info.snapshot_at + timedelta(seconds=1))
    with open_store(url) as back:
        t0 = time.perf_counter()
        report = replay_archive(Ingestor(back), archive, info.snapshot_at)
        replay_s = time.perf_counter() - t0
        with back.read() as q:
            total = q.scalar("SELECT count(*) FROM readings")
    assert total == n and report.ingest.stored == tail, (total, report.ingest.summary())
    return {
        "engine": engine,
        "readings": n,
        "load_s": load_s,
        "backup_s": backup_s,
        "backup_mb": size_mb(work / f"backup-{engine}"),
        "restore_s": restore_s,
        "replayed": tail,
        "messages": messages,
        "replay_s": replay_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        duck = work / "bench.duckdb"
        rows.append(run("duckdb", f"duckdb:///{duck}", duck.unlink, args.readings, work))
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"

        def drop_schema() -> None:  # the disk dies; roles.sql makes the empty schema again
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
                conn.execute(f'CREATE SCHEMA "{schema}"')

        try:
            url = f"{args.pg}?schema={schema}"
            rows.append(run("postgresql", url, drop_schema, args.readings, work))
        finally:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    header = (
        "| engine | readings | load (s) | backup (s) | backup (MB) | restore (s) "
        "| replayed readings (messages) | replay (s) | replay readings/s |"
    )
    lines = [header, "|" + "---|" * 9]
    for r in rows:
        lines.append(
            f"| {r['engine']} | {r['readings']:,} | {r['load_s']:.1f} | {r['backup_s']:.1f} "
            f"| {r['backup_mb']:.1f} | {r['restore_s']:.1f} | {r['replayed']:,} "
            f"({r['messages']:,}) | {r['replay_s']:.1f} | "
            f"{r['replayed'] / r['replay_s']:,.0f} |"
        )
    machine = f"{platform.machine()}, {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    text = "\n".join(["# Backup, restore, archive replay", "", f"Machine: {machine}", "", *lines])
    print(text)
    out = Path(__file__).resolve().parent / "results" / "backup_restore.md"
    out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
