"""Benchmark: the daily brief (日研判) and weekly dispatch (周调度) of the whole region,
PDF and XLSX included, on DuckDB.

Reuses ``bench/analytics.py``'s registry generator (10 cities, 40 enterprises, ~130
households per station, one sensor each) and writes the monitoring aggregates the
reports read (``mon_sensor_hourly`` per sensor-hour, ``mon_household_daily``,
``mon_sensor_last_seen``) directly with Arrow — the same rows the ingest hook would
maintain — instead of loading raw readings (that path is ``bench/analytics.py``'s).

Cases: 1,000,000 households × 1 day (daily brief) and 100,000 households × 7 days
(+ the days the comparisons need; weekly pack). Times: build (numbers and findings) and
render+archive (HTML zh/en, PDF, XLSX), wall seconds, one cold run each.

Usage: ``python bench/reports.py [--quick] [--dir PATH]`` (``--quick``: 100k only).
Prints a table and writes ``bench/results/reports.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analytics import (
    CITIES,
    ENTERPRISES_PER_CITY,
    HOUSEHOLDS_PER_BUILDING,
    HOUSEHOLDS_PER_STATION,
    write_registry,
)

from nuanliu.reports.archive import save_report
from nuanliu.reports.brief import BriefRules
from nuanliu.reports.daily import build_daily
from nuanliu.reports.scopes import ReportScope
from nuanliu.reports.weekly import build_weekly
from nuanliu.store import open_store

DAY = date(2026, 11, 30)
RESULTS = Path(__file__).resolve().parent / "results" / "reports.md"


def day_start_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(hours=8)


def write_aggregates(store, n: int, days: list[date], seed: int = 1) -> int:
    rng = np.random.default_rng(seed)
    sensors = pa.array([f"S{i:07d}" for i in range(n)], pa.string())
    households = pa.array([f"H{i:07d}" for i in range(n)], pa.string())
    # Most homes warm (mean 20.6 °C, sd 1.0: ~1 % under 18 °C); 3 % of the stations run
    # 2.5 °C cold (the findings a regulator acts on).
    n_st = max(CITIES * ENTERPRISES_PER_CITY, n // HOUSEHOLDS_PER_STATION)
    n_b = max(n_st, -(-n // HOUSEHOLDS_PER_BUILDING))
    station_of = (np.arange(n) * n_b // n) * n_st // n_b
    cold_station = rng.random(n_st) < 0.03
    base = rng.normal(20.6, 1.0, n) - 2.5 * cold_station[station_of]
    rows = 0
    for day in days:
        start = day_start_utc(day)
        day_base = base + rng.normal(0, 0.3, n)
        hourly_t = day_base[None, :] + 0.6 * np.sin(2 * np.pi * (np.arange(24)[:, None] / 24 - 0.3))
        with store.write() as w:
            for h in range(24):
                hour = start + timedelta(hours=h)
                t = hourly_t[h]
                w.append_arrow(
                    "mon_sensor_hourly",
                    pa.table(
                        {
                            "sensor_id": sensors,
                            "hour_ts": pa.array(
                                np.full(n, int(hour.timestamp() * 1e6)),
                                pa.timestamp("us", tz="UTC"),
                            ),
                            "n": pa.array(np.full(n, 6), pa.int64()),
                            "sum_temp_c": pa.array(t * 6),
                            "min_temp_c": pa.array(t - 0.3),
                            "max_temp_c": pa.array(t + 0.3),
                            "first_ts": pa.array(
                                np.full(n, int(hour.timestamp() * 1e6)),
                                pa.timestamp("us", tz="UTC"),
                            ),
                            "last_ts": pa.array(
                                np.full(n, int((hour + timedelta(minutes=50)).timestamp() * 1e6)),
                                pa.timestamp("us", tz="UTC"),
                            ),
                        }
                    ),
                )
            w.append_arrow(
                "mon_household_daily",
                pa.table(
                    {
                        "household_id": households,
                        "local_day": pa.array([day] * n, pa.date32()),
                        "n": pa.array(np.full(n, 144), pa.int64()),
                        "sum_temp_c": pa.array(hourly_t.mean(axis=0) * 144),
                        "min_temp_c": pa.array(hourly_t.min(axis=0) - 0.3),
                        "max_temp_c": pa.array(hourly_t.max(axis=0) + 0.3),
                    }
                ),
            )
        rows += n * 25
    last = day_start_utc(days[-1]) + timedelta(hours=23, minutes=50)
    silent = rng.random(n) < 0.03  # 3 % of sensors went silent a day earlier
    last_us = np.where(
        silent, int((last - timedelta(days=1)).timestamp() * 1e6), int(last.timestamp() * 1e6)
    )
    with store.write() as w:
        w.execute("DELETE FROM mon_sensor_last_seen")
        w.append_arrow(
            "mon_sensor_last_seen",
            pa.table(
                {"sensor_id": sensors, "last_ts": pa.array(last_us, pa.timestamp("us", tz="UTC"))}
            ),
        )
    return rows


def run_case(
    n: int, days: int, folder: Path, weekly: bool, reuse: bool = False, hours: bool = True
) -> dict[str, object]:
    path = folder / f"reports_{n}_{days}.duckdb"
    if reuse and path.exists():
        store = open_store(f"duckdb:///{path}")
        with store.write() as w:  # archived reports of earlier runs
            w.execute("DELETE FROM rep_reports")
        return _measure(store, n, days, weekly, float("nan"), hours)
    path.unlink(missing_ok=True)
    store = open_store(f"duckdb:///{path}")
    t0 = time.perf_counter()
    write_registry(store, n)
    print(f"registry of {n:,} households: {time.perf_counter() - t0:.1f} s", flush=True)
    # the weekly pack compares with the week before: 14 days; a daily brief reads its day
    span = [DAY - timedelta(days=k) for k in range(13, -1, -1)] if weekly else [DAY]
    write_aggregates(store, n, span)
    setup_s = time.perf_counter() - t0
    print(f"aggregates for {len(span)} days: {setup_s:.1f} s", flush=True)
    return _measure(store, n, days, weekly, setup_s, hours)


def _measure(
    store, n: int, days: int, weekly: bool, setup_s: float, hours: bool
) -> dict[str, object]:
    now = day_start_utc(DAY + timedelta(days=1)) + timedelta(hours=1)
    rs = ReportScope("region", "R")
    t1, c1 = time.perf_counter(), time.process_time()
    brief = (
        build_weekly(store, rs, DAY, now=now)
        if weekly
        else build_daily(store, rs, DAY, now=now, rules=BriefRules(hour_rates=hours))
    )
    build_s, build_cpu = time.perf_counter() - t1, time.process_time() - c1
    t2, c2 = time.perf_counter(), time.process_time()
    report = save_report(store, brief, by="bench", now=now)
    render_s, render_cpu = time.perf_counter() - t2, time.process_time() - c2
    load = os.getloadavg()[0]
    store.close()
    return {
        "case": f"{'weekly pack' if weekly else 'daily brief'}: {n:,} households × "
        f"{days} day{'s' if days > 1 else ''}{'' if hours else ' (without hour rates)'}",
        "setup_s": setup_s,
        "build_s": build_s,
        "render_s": render_s,
        "total_s": build_s + render_s,
        "build_cpu": build_cpu,
        "render_cpu": render_cpu,
        "load": load,
        "findings": len(brief.findings),
        "version": report.version,
        "target_s": 20.0 if weekly else 10.0,
    }


def _setup(seconds: object) -> str:
    return "(reused)" if seconds != seconds else f"{seconds:.1f}"  # NaN: data reused


def table(results: list[dict[str, object]]) -> str:
    lines = [
        "| case | data setup s | numbers + findings: wall s (CPU s) | HTML+PDF+XLSX+archive:"
        " wall s (CPU s) | total wall s | target s | met | findings | load avg |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']} | {_setup(r['setup_s'])} | {r['build_s']:.2f} ({r['build_cpu']:.2f}) | "
            f"{r['render_s']:.2f} ({r['render_cpu']:.2f}) | {r['total_s']:.2f} | "
            f"{r['target_s']:.0f} | {'yes' if r['total_s'] <= r['target_s'] else 'no'} | "
            f"{r['findings']} | {r['load']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--only", choices=["daily", "weekly"], default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse the data files in --dir")
    args = ap.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="nuanliu-reports-"))
    folder.mkdir(parents=True, exist_ok=True)
    cases = [(100_000, 7, True, True)]
    if not args.quick:
        cases += [(1_000_000, 1, False, True), (1_000_000, 1, False, False)]
    if args.only:
        cases = [c for c in cases if c[2] == (args.only == "weekly")]
    try:
        results = []
        for n, d, w, hours in cases:
            reuse = args.reuse or not hours  # the data of the case before
            results.append(run_case(n, d, folder, w, reuse=reuse, hours=hours))
            print(table(results[-1:]), flush=True)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    text = table(results)
    print(text)
    head = (
        f"# Reports benchmark\n\n`python bench/reports.py` on {platform.node()} "
        f"({platform.machine()}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, DuckDB, region scope (every enterprise, station, "
        "building). One cold run per case on a shared 2-core machine; CPU = this process's "
        "CPU time (DuckDB and WeasyPrint run in-process), load avg = the machine's 1-minute "
        "load when the case ended (other work running beside it).\n\n"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(head + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
