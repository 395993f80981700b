"""Benchmark: compliance drill-down over maintained aggregates vs. a GROUP BY over raw.

For 100,000 and 1,000,000 households (one sensor each) × one local day of 10-minute
readings (14.4 M and 144 M rows) on DuckDB:

1. write a registry (10 cities, 40 enterprises, ~130 households per station, 48 per
   building) and load the readings through ``Store.insert_readings`` with the
   monitoring aggregates hook registered — the ingest path — one hour of every sensor
   per batch; report the load rate and the hook's share;
2. time ``drilldown`` (compliance at every level: region, city, enterprise, station,
   building) and ``compliance`` for one level, cold (first call) and warm (median);
3. time a plain ``GROUP BY sensor_id`` over the raw readings of the day, for comparison.

Usage: ``python bench/analytics.py [--quick] [--households N ...] [--dir PATH]``.
``--quick`` runs only 100k households. Prints a table and writes
``bench/results/analytics.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from nuanliu.monitor import compliance, drilldown
from nuanliu.monitor.aggregates import AggregatesHook
from nuanliu.scope import Scope
from nuanliu.store import open_store

DAY = date(2025, 1, 15)
DAY_START_UTC = datetime(2025, 1, 14, 16, 0, tzinfo=UTC)  # local midnight (UTC+8)
STEPS_PER_HOUR = 6
CITIES = 10
ENTERPRISES_PER_CITY = 4
HOUSEHOLDS_PER_STATION = 130
HOUSEHOLDS_PER_BUILDING = 48
BUILDINGS_PER_COMMUNITY = 10
LEVELS = ["region", "city", "enterprise", "station", "building"]
RESULTS = Path(__file__).resolve().parent / "results" / "analytics.md"


def ids(prefix: str, n: int, width: int = 7) -> pa.Array:
    return pa.array([f"{prefix}{i:0{width}d}" for i in range(n)], pa.string())


def write_registry(store, n: int) -> None:
    n_st = max(CITIES * ENTERPRISES_PER_CITY, n // HOUSEHOLDS_PER_STATION)
    n_b = max(n_st, -(-n // HOUSEHOLDS_PER_BUILDING))
    city_of_st = np.arange(n_st) * CITIES // n_st
    ent_of_st = city_of_st * ENTERPRISES_PER_CITY + np.arange(n_st) % ENTERPRISES_PER_CITY
    st_of_b = np.arange(n_b) * n_st // n_b
    city_of_b = city_of_st[st_of_b]
    first_b = np.searchsorted(city_of_b, np.arange(CITIES))
    comm_in_city = (np.arange(n_b) - first_b[city_of_b]) // BUILDINGS_PER_COMMUNITY
    comm_ids = [f"M{c:02d}-{k:05d}" for c, k in zip(city_of_b, comm_in_city, strict=True)]
    b_of_h = np.arange(n) * n_b // n
    city_ids = [f"C{c:02d}" for c in range(CITIES)]
    with store.write() as w:
        w.append_arrow(
            "regions",
            pa.table(
                {
                    "region_id": ["R", *city_ids, *[f"K{c:02d}" for c in range(CITIES)]],
                    "parent_id": [None, *["R"] * CITIES, *city_ids],
                    "level": ["region", *["city"] * CITIES, *["county"] * CITIES],
                    "name_zh": [
                        "内蒙古",
                        *[f"城市{c}" for c in range(CITIES)],
                        *[f"区{c}" for c in range(CITIES)],
                    ],
                    "name_en": [
                        "Region",
                        *[f"City {c}" for c in range(CITIES)],
                        *[f"County {c}" for c in range(CITIES)],
                    ],
                    "standard_temp_c": [
                        18.0,
                        *[20.0 if c == 3 else None for c in range(CITIES)],
                        *[None] * CITIES,
                    ],
                }
            ),
        )
        n_ent = CITIES * ENTERPRISES_PER_CITY
        w.append_arrow(
            "enterprises",
            pa.table(
                {
                    "enterprise_id": [f"E{e:03d}" for e in range(n_ent)],
                    "region_id": [f"C{e // ENTERPRISES_PER_CITY:02d}" for e in range(n_ent)],
                    "name_zh": [f"供热企业{e}" for e in range(n_ent)],
                    "name_en": [f"Heating Co {e}" for e in range(n_ent)],
                }
            ),
        )
        st_ids = ids("ST", n_st)
        w.append_arrow(
            "stations",
            pa.table(
                {
                    "station_id": st_ids,
                    "enterprise_id": [f"E{e:03d}" for e in ent_of_st],
                    "region_id": [f"K{c:02d}" for c in city_of_st],
                    "name_zh": st_ids,
                }
            ),
        )
        uniq_comm, first_idx = np.unique(np.array(comm_ids), return_index=True)
        w.append_arrow(
            "communities",
            pa.table(
                {
                    "community_id": uniq_comm.tolist(),
                    "region_id": [f"K{city_of_b[i]:02d}" for i in first_idx],
                    "name_zh": uniq_comm.tolist(),
                }
            ),
        )
        b_ids = ids("B", n_b)
        w.append_arrow(
            "buildings",
            pa.table(
                {
                    "building_id": b_ids,
                    "station_id": pa.array(st_ids.to_numpy(zero_copy_only=False)[st_of_b]),
                    "community_id": comm_ids,
                    "name_zh": b_ids,
                }
            ),
        )
        h_ids = ids("H", n)
        w.append_arrow(
            "households",
            pa.table(
                {
                    "household_id": h_ids,
                    "building_id": pa.array(b_ids.to_numpy(zero_copy_only=False)[b_of_h]),
                    "metered": pa.array(np.zeros(n, dtype=bool)),
                }
            ),
        )
        w.append_arrow("sensors", pa.table({"sensor_id": ids("S", n), "household_id": h_ids}))


def hour_batch(sensor_ids: pa.Array, base_c: np.ndarray, hour: int, rng) -> pa.Table:
    n = len(base_c)
    k = hour * STEPS_PER_HOUR + np.arange(STEPS_PER_HOUR)
    ts_us = int(DAY_START_UTC.timestamp() * 1_000_000) + k * 600_000_000  # 10-minute steps
    daily = 0.6 * np.sin(2 * np.pi * (k / 144.0 - 0.3))
    temp = base_c[None, :] + daily[:, None] + rng.normal(0, 0.15, (STEPS_PER_HOUR, n))
    return pa.table(
        {
            "sensor_id": pa.concat_arrays([sensor_ids] * STEPS_PER_HOUR),
            "ts": pa.array(np.repeat(ts_us, n), pa.timestamp("us", tz="UTC")),
            "temp_c": pa.array(np.round(temp, 1).ravel()),
            "humidity_pct": pa.nulls(n * STEPS_PER_HOUR, pa.float64()),
        }
    )


def timed(fn, repeat: int) -> tuple[float, float, float]:
    """First call, and the median wall and CPU time of ``repeat`` further calls, s.

    CPU time is this process's (DuckDB runs in-process): on a shared machine it says
    what the work costs when wall time is stretched by other processes.
    """
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return first, statistics.median(walls), statistics.median(cpus)


def run_case(n: int, folder: Path, repeat: int, *, reuse: bool = False) -> dict[str, object]:
    """Load (unless ``reuse`` and the file holds the case already) and time the queries."""
    path = folder / f"analytics_{n}.duckdb"
    if reuse and path.exists():
        store = open_store(f"duckdb:///{path}")
        with store.read() as q:
            rows = int(q.scalar("SELECT COUNT(*) FROM readings"))
        return {
            "households": n,
            "readings": rows,
            "reused": True,
            **_queries(store, n, path, repeat),
        }
    if path.exists():
        path.unlink()
    store = open_store(f"duckdb:///{path}")
    with store.write() as w:
        w.execute("SET memory_limit = '8GB'")
    hook = AggregatesHook()
    hook_s = 0.0

    def timed_hook(w, rows):
        nonlocal hook_s
        t0 = time.perf_counter()
        hook(w, rows)
        hook_s += time.perf_counter() - t0

    store.add_readings_hook(timed_hook)
    t0 = time.perf_counter()
    write_registry(store, n)
    registry_s = time.perf_counter() - t0
    rng = np.random.default_rng(1)
    base = rng.normal(20.3, 1.6, n)
    sensor_ids = ids("S", n)
    rows = 0
    t0 = time.perf_counter()
    for hour in range(24):
        rows += store.insert_readings(hour_batch(sensor_ids, base, hour, rng)).inserted
    load_s = time.perf_counter() - t0
    return {
        "households": n,
        "readings": rows,
        "registry_s": registry_s,
        "load_s": load_s,
        "load_rate": rows / load_s,
        "hook_share": hook_s / load_s,
        **_queries(store, n, path, repeat),
    }


def _queries(store, n: int, path: Path, repeat: int) -> dict[str, object]:
    scope = Scope.everything()
    as_of = DAY_START_UTC + timedelta(days=1)

    def full() -> None:
        dd = drilldown(store, scope, DAY, levels=LEVELS, as_of=as_of)
        assert int(dd["region"]["households"].iloc[0]) == n

    def one_level() -> None:
        compliance(store, scope, "station", start=DAY, as_of=as_of)

    def raw_group_by() -> None:
        with store.read() as q:
            q.all(
                "SELECT sensor_id, AVG(temp_c), MIN(temp_c) FROM readings"
                " WHERE ts >= ? AND ts < ? GROUP BY sensor_id",
                [DAY_START_UTC, as_of],
            )

    load_avg = os.getloadavg()[0]
    dd_first, dd_warm, dd_cpu = timed(full, repeat)
    lv_first, lv_warm, lv_cpu = timed(one_level, repeat)
    raw_first, raw_warm, raw_cpu = timed(raw_group_by, max(1, repeat // 2))
    result = drilldown(store, scope, DAY, levels=["region"], as_of=as_of)["region"].iloc[0]
    store.close()
    size_gb = path.stat().st_size / 1e9
    return {
        "dd_first": dd_first,
        "dd_warm": dd_warm,
        "dd_cpu": dd_cpu,
        "lv_warm": lv_warm,
        "lv_cpu": lv_cpu,
        "lv_first": lv_first,
        "raw_first": raw_first,
        "raw_warm": raw_warm,
        "raw_cpu": raw_cpu,
        "load_avg": load_avg,
        "rate": float(result["rate"]),
        "size_gb": size_gb,
    }


def table(results: list[dict[str, object]]) -> str:
    head = (
        "| households | readings | load s | load rows/s | hook share |"
        " drill-down 5 levels: first / warm wall s (warm CPU s) |"
        " one level: warm wall s (CPU s) | raw GROUP BY: warm wall s (CPU s) |"
        " drill-down vs raw (wall) | compliance | DB GB | load avg |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in results:
        if r.get("reused"):
            load = " (reused) | – | – |"
        else:
            load = f" {r['load_s']:.1f} | {r['load_rate']:,.0f} | {r['hook_share'] * 100:.0f} % |"
        lines.append(
            f"| {r['households']:,} | {r['readings']:,} |{load}"
            f" {r['dd_first']:.3f} / {r['dd_warm']:.3f} ({r['dd_cpu']:.3f}) |"
            f" {r['lv_warm']:.3f} ({r['lv_cpu']:.3f}) |"
            f" {r['raw_warm']:.2f} ({r['raw_cpu']:.2f}) |"
            f" {r['raw_warm'] / r['dd_warm']:.1f}× | {r['rate'] * 100:.1f} % |"
            f" {r['size_gb']:.2f} | {r['load_avg']:.1f} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only 100,000 households")
    parser.add_argument("--households", type=int, nargs="*", default=None)
    parser.add_argument("--dir", type=Path, default=None, help="where the DuckDB files go")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the queries again on files already loaded in --dir (no load);"
        " appends a section to the results",
    )
    args = parser.parse_args()
    if args.reuse and args.dir is None:
        parser.error("--reuse needs --dir")
    sizes = args.households or ([100_000] if args.quick else [100_000, 1_000_000])
    folder = args.dir or Path(tempfile.mkdtemp(prefix="nuanliu-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for n in sizes:
            results.append(run_case(n, folder, args.repeat, reuse=args.reuse))
            print(table(results[-1:]), flush=True)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    import duckdb

    if args.reuse:
        section = (
            f"\n## Queries re-measured on the loaded files, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
            "`python bench/analytics.py --reuse --dir …` (same data, current code).\n\n"
            + table(results)
        )
        print(table(results))
        old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
        RESULTS.write_text(old + section, encoding="utf-8")
        return
    md = (
        "# Compliance analytics benchmark\n\n"
        f"`python bench/analytics.py{' --quick' if args.quick else ''}` on "
        f"{platform.node()} ({platform.machine()}, DuckDB {duckdb.__version__}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC. One local day of 10-minute readings, one "
        "sensor per household; loaded through `Store.insert_readings` with the monitoring "
        "aggregates hook (one hour of every sensor per batch). Drill-down = compliance at "
        "region, city, enterprise, station and building level in one call, over the "
        "maintained daily aggregates; raw GROUP BY = per-sensor mean and minimum over the "
        "raw readings of the day. Warm = median of repeated calls; CPU = this process's "
        "CPU time (DuckDB runs in-process) — the machine (2 cores) is shared, and the "
        "load average when the queries ran is in the last column.\n\n" + table(results)
    )
    print(table(results))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(md, encoding="utf-8")


if __name__ == "__main__":
    main()
