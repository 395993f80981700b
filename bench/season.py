"""Benchmark: a heating season of the dynamic twin at hourly steps.

Runs ``simulate_season`` over Hohhot's heating season (15 Oct – 15 Apr, 183 days, 4392
hourly steps, CSWD typical-year weather) for

1. the Tuoketuo → Hohhot example (68 km line, 2 relay stations, isolation station,
   96 city stations; target ≤ 60 s on the 2-core machine), and
2. a generated city of 2,000 consumers (``generate_city(2000, seed=1)``),

and reports wall-clock and CPU seconds (set-up included: compile, pump-power table,
initial steady state), steps per second, the machine's load average around the run,
the totals and the relative energy-balance residual. The machine is shared: CPU seconds
are this process's own and the better measure of what a run costs; both grow with the
load (a loaded 2-core machine runs each process slower, not only less often).

Usage: ``python bench/season.py [--days N] [--only tuoketuo|city] [--out FILE]``.
Prints a table and writes ``bench/results/season.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import pandas as pd

from nuanliu.network.generate import generate_city
from nuanliu.sim.season import simulate_season

RESULTS = Path(__file__).resolve().parent / "results" / "season.md"
START = pd.Timestamp("2025-10-15", tz="Asia/Shanghai")


def run(label: str, network, days: float) -> dict:
    end = START + pd.Timedelta(days=days)
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate_season(network, "hohhot", start=START, end=end, step="1h")
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    load1 = os.getloadavg()[0]
    tt = res.totals
    return {
        "network": label,
        "steps": res.steps,
        "seconds": secs,
        "CPU seconds": cpu,
        "steps/s": res.steps / secs,
        "load avg (1 min) before/after": f"{load0:.1f} / {load1:.1f}",
        "heat produced GWh": tt["heat_produced_j"] / 3.6e12,
        "heat lost %": 100 * tt["heat_lost_j"] / tt["heat_produced_j"],
        "pump MWh": tt["pump_electricity_j"] / 3.6e9,
        "cold household-h": tt["cold_household_hours"],
        "balance residual": tt["energy_balance_residual_j"] / tt["heat_produced_j"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=183.0)
    ap.add_argument("--only", choices=["tuoketuo", "city"], help="run one network only")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results file")
    args = ap.parse_args()
    rows = []
    if args.only != "city":
        rows.append(run("tuoketuo-hohhot", "tuoketuo-hohhot", args.days))
    if args.only != "tuoketuo":
        rows.append(run("generated city, 2,000 consumers", generate_city(2000, seed=1), args.days))
    fmt = {
        "seconds": "{:.1f}",
        "CPU seconds": "{:.1f}",
        "steps/s": "{:.1f}",
        "heat produced GWh": "{:,.1f}",
    }
    fmt |= {"heat lost %": "{:.2f}", "pump MWh": "{:,.1f}", "cold household-h": "{:,.0f}"}
    fmt |= {"balance residual": "{:.1e}"}
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(fmt.get(c, "{}").format(r[c]) for c in cols) + " |")
    table = "\n".join(lines)
    head = (
        f"# Season simulation ({args.days:g} days, 1 h steps)\n\n"
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; seconds (wall clock) include set-up; CPU "
        "seconds are this process's own (the machine is shared).\n\n"
    )
    print(table)
    args.out.write_text(head + table + "\n")


if __name__ == "__main__":
    main()
