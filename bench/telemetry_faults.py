"""Substation fault detection against the telemetry simulator's injected faults.

    .venv/bin/python bench/telemetry_faults.py                 # seeds 1, 2, 3
    .venv/bin/python bench/telemetry_faults.py --seeds 1 --stations 10

For each seed: the Tuoketuo–Hohhot twin's first ``--stations`` stations, ``--days``
hourly days with an early-winter outdoor temperature, half of the stations given one
fault each (classes in turn, random start after the first week, 2–4 days); the
telemetry is stored (DuckDB), ``faults.detect`` judges every local day after the first
week, and the findings are scored over (station, class, day): a labelled day is one
the fault covers for at least 12 hours. Prints a Markdown table and writes it to
bench/results/telemetry_faults.md.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from nuanliu.store import open_store
from nuanliu.telemetry import faults
from nuanliu.telemetry import simulate as sim
from nuanliu.telemetry.demo import outdoor_series
from nuanliu.telemetry.store import save_sites, write_batch

RESULTS = Path(__file__).resolve().parent / "results" / "telemetry_faults.md"


def run(seed: int, twin: sim.TwinTable, net: object, stations: int, days: int, tmp: Path) -> dict:
    start = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=8)  # local midnight
    end = start + timedelta(days=days)
    sites = [s for s in sim.twin_sites(net, twin) if s.kind == "station"][:stations]
    times = pd.date_range(start, end, freq="1h", inclusive="left")
    labels = sim.random_faults(sites, start, end, share=0.5, seed=seed)
    tbl = sim.simulate(twin, sites, times, outdoor_series(times), faults=labels, seed=seed)
    store = open_store(f"duckdb:///{tmp / f'faults-{seed}.duckdb'}")
    try:
        save_sites(store, sites)
        write_batch(store, tbl)
        t0 = time.perf_counter()
        found = faults.detect(store, start=start + timedelta(days=7), end=end)
        secs = time.perf_counter() - t0
    finally:
        store.close()
    return {"seed": seed, "secs": secs, **faults.score(found, labels)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--stations", type=int, default=20)
    ap.add_argument("--days", type=int, default=28)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from nuanliu.network.examples.tuoketuo import build_tuoketuo_hohhot

    net = build_tuoketuo_hohhot()
    twin = sim.twin_table(net, [-24, -12, 0, 8])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows.append(run(seed, twin, net, args.stations, args.days, Path(tmp)))
            print(rows[-1], flush=True)
    lines = [
        "| seed | labelled station-days | found | true | precision | recall | detect s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['labelled']} | {r['found']} | {r['true_positives']} | "
            f"{r['precision']:.2f} | {r['recall']:.2f} | {r['secs']:.1f} |"
        )
    lines += ["", "| class | labelled | found | true |", "|---|---|---|---|"]
    for cls in sim.FAULT_CLASSES:
        lab = sum(r["per_class"][cls]["labelled"] for r in rows)
        fnd = sum(r["per_class"][cls]["found"] for r in rows)
        tru = sum(r["per_class"][cls]["true"] for r in rows)
        lines.append(f"| {cls} | {lab} | {fnd} | {tru} |")
    text = (
        "# Substation fault detection on simulated telemetry\n\n"
        f"Run of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.stations} stations of the "
        f"Tuoketuo–Hohhot twin, {args.days} days hourly, half of them with one injected "
        "fault; scored over (station, class, local day) after the first week.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text)
        print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
