"""Benchmark: sensor simulator throughput (rows/s) at city and region scale.

For N sensors (synthetic registry, realistic fault mix) × one day of 10-minute readings
(144 instants), measures the set-up (parameter draws, fault calibration, spin-up) and the
generation of every reading as Arrow tables ready for ``Store.insert_readings``.
The target is > 5 M rows/s of generation so the monitoring benchmark's 10^6 sensors ×
144 steps (1.44e8 rows) takes well under a minute.

Usage: ``python bench/sensors_simulate.py [--quick] [--sensors N ...]``.
``--quick`` runs 10^4 and 10^5 sensors; the default adds 10^6. Prints a table and writes
``bench/results/sensors_simulate.md``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np

from nuanliu.sensors import FaultConfig, simulate_readings, synthetic_sensors

START = "2026-01-15T00:00:00+08:00"
END = "2026-01-16T00:00:00+08:00"


def run(n: int) -> dict[str, float]:
    t0 = time.perf_counter()
    sensors = synthetic_sensors(n, seed=1)
    t1 = time.perf_counter()
    stream = simulate_readings(sensors, START, END, faults=FaultConfig.demo(), seed=1)
    t2 = time.perf_counter()
    rows = 0
    temps = []
    for tbl in stream:
        rows += tbl.num_rows
        temps.append(tbl["temp_c"].to_numpy()[:: max(1, tbl.num_rows // 1000)])
    t3 = time.perf_counter()
    sample = np.concatenate(temps)
    return {
        "sensors": n,
        "rows": rows,
        "registry_s": t1 - t0,
        "setup_s": t2 - t1,
        "generate_s": t3 - t2,
        "rows_per_s": rows / (t3 - t2),
        "rows_per_s_total": rows / (t3 - t1),
        "median_c": float(np.median(sample)),
        "faults": len(stream.truth),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only 10^4 and 10^5 sensors")
    ap.add_argument("--sensors", type=int, nargs="*", help="sensor counts to run")
    args = ap.parse_args()
    sizes = args.sensors or ([10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000])
    lines = [
        "# Sensor simulator throughput",
        "",
        f"One day (144 × 10 min) per sensor, demo fault mix, seed 1. Machine: "
        f"{platform.machine()}, Python {platform.python_version()}, shared 2-core host.",
        "",
        "| sensors | rows | registry s | set-up s | generate s | M rows/s (generate) "
        "| M rows/s (set-up + generate) | median °C | fault rows |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    print("\n".join(lines[:2]))
    print(lines[4])
    print(lines[5])
    for n in sizes:
        r = run(n)
        line = (
            f"| {r['sensors']:,} | {r['rows']:,} | {r['registry_s']:.1f} | {r['setup_s']:.1f} "
            f"| {r['generate_s']:.1f} | {r['rows_per_s'] / 1e6:.2f} "
            f"| {r['rows_per_s_total'] / 1e6:.2f} | {r['median_c']:.1f} | {r['faults']:,} |"
        )
        print(line, flush=True)
        lines.append(line)
    out = Path(__file__).parent / "results" / "sensors_simulate.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
