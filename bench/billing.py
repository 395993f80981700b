"""Benchmark: meter frames decoded per second, and a settlement run for 1,000,000 homes.

1. Decode every shared M-Bus frame (``../shared/data/meters/mbus``) and a CJ/T 188 901F
   answer in a loop for a few seconds each; report frames per second (one core).
2. On DuckDB, write a registry of N households (48 per building, 10 cities, 40
   enterprises; a third metered, one meter each with a reading at the start and end of
   the season), then time ``run_billing`` for the 2026-2027 settlement (first run: every
   bill new) and once more (nothing changed: every bill unchanged, byte-identical output).

Usage: ``python bench/billing.py [--households N ...] [--quick] [--dir PATH]``.
Prints a table and writes ``bench/results/billing.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

from nuanliu.billing.examples import example_tariffs
from nuanliu.billing.runs import run_billing
from nuanliu.billing.tariffs import save_tariffs
from nuanliu.meters import cjt188, mbus
from nuanliu.meters.reading import decode_frame
from nuanliu.store import open_store

MBUS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "meters" / "mbus"
if not MBUS_DIR.is_dir():
    MBUS_DIR = Path("/work/shared/data/meters/mbus")
SEASON_START = datetime(2026, 10, 14, 16, tzinfo=UTC)
SEASON_END = datetime(2027, 4, 15, 16, tzinfo=UTC)


def frames_per_second(frames: list[bytes], seconds: float = 3.0) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for f in frames:
            decode_frame(f)
        n += len(frames)
    return n / (time.perf_counter() - t0)


def cjt188_frame() -> bytes:
    q = cjt188.Quantity
    d = cjt188.HeatMeterData(
        q(Decimal("12.34"), "GJ"), q(Decimal("23.45"), "GJ"), q(Decimal("3.50"), "kW"),
        q(Decimal("0.1234"), "m³/h"), q(Decimal("456.78"), "m³"), Decimal("50.10"),
        Decimal("40.20"), 1234, datetime(2026, 12, 1, 8, 0), 0,
    )  # fmt: skip
    return cjt188.build_answer("00000012345678", d)


def build(store, n: int) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    rng = np.random.default_rng(1)
    n_b = (n + 47) // 48
    cities = [f"C{i:02d}" for i in range(10)]
    ents = [f"E{i:02d}" for i in range(40)]
    with store.write() as w:
        w.execute("INSERT INTO regions VALUES ('R', NULL, 'region', '区', NULL, NULL)")
        w.executemany(
            "INSERT INTO regions VALUES (?, 'R', 'city', ?, NULL, NULL)", [(c, c) for c in cities]
        )
        w.executemany(
            "INSERT INTO enterprises (enterprise_id, region_id, name_zh) VALUES (?, ?, ?)",
            [(e, cities[i % 10], e) for i, e in enumerate(ents)],
        )
        w.executemany(
            "INSERT INTO stations (station_id, enterprise_id, region_id, name_zh) VALUES (?,?,?,?)",
            [(f"S{e}", e, cities[i % 10], e) for i, e in enumerate(ents)],
        )
        w.executemany(
            "INSERT INTO communities (community_id, region_id, name_zh) VALUES (?, ?, ?)",
            [(f"M{i:04d}", cities[i % 10], f"M{i}") for i in range(400)],
        )
        b_ids = [f"B{i:06d}" for i in range(n_b)]
        w.append_arrow(
            "buildings",
            pa.table(
                {
                    "building_id": b_ids,
                    "station_id": [f"SE{(i % 400) % 40:02d}" for i in range(n_b)],
                    "community_id": [f"M{i % 400:04d}" for i in range(n_b)],
                    "name_zh": b_ids,
                }
            ),
        )
        h_ids = [f"H{i:07d}" for i in range(n)]
        metered = np.arange(n) % 3 == 0
        w.append_arrow(
            "households",
            pa.table(
                {
                    "household_id": h_ids,
                    "building_id": [b_ids[i // 48] for i in range(n)],
                    "floor_area_m2": rng.uniform(45, 140, n).round(2),
                    "metered": metered,
                }
            ),
        )
        m_idx = np.flatnonzero(metered)
        meters = [f"M{h_ids[i]}" for i in m_idx]
        w.append_arrow(
            "heat_meters",
            pa.table(
                {
                    "meter_id": meters,
                    "household_id": [h_ids[i] for i in m_idx],
                    "protocol": ["cjt188"] * len(m_idx),
                    "energy_unit": ["GJ"] * len(m_idx),
                    "verification_interval_months": pa.array([60] * len(m_idx), pa.int32()),
                    "status": np.where(rng.random(len(m_idx)) < 0.01, "faulty", "active"),
                }
            ),
        )
        start = rng.uniform(0, 500, len(m_idx)).round(3)
        used = rng.uniform(10, 60, len(m_idx)).round(3)
        k = len(m_idx)
        now = datetime.now(UTC)
        w.append_arrow(
            "meter_readings",
            pa.table(
                {
                    "meter_id": meters * 2,
                    "read_at": pa.array(
                        [SEASON_START] * k + [SEASON_END] * k, pa.timestamp("us", tz="UTC")
                    ),
                    "energy_gj": pa.array(
                        [Decimal(f"{v:.3f}") for v in np.concatenate([start, start + used])],
                        pa.decimal128(18, 6),
                    ),
                    "billable": [True] * (2 * k),
                    "source": ["bench"] * (2 * k),
                    "received_at": pa.array([now] * (2 * k), pa.timestamp("us", tz="UTC")),
                }
            ),
        )
    save_tariffs(store, example_tariffs())
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--households", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--quick", action="store_true", help="100k households only")
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    sizes = [100_000] if args.quick else args.households
    frames = [mbus.parse_hex(p.read_text()) for p in sorted(MBUS_DIR.glob("*.hex"))]
    fps_mbus = frames_per_second(frames)
    fps_cjt = frames_per_second([cjt188_frame()])
    rows = []
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(dir=args.dir))
        try:
            store = open_store(f"duckdb:///{tmp / 'bench.duckdb'}")
            t_build = build(store, n)
            t0, c0 = time.perf_counter(), time.process_time()
            first = run_billing(
                store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1)
            )
            t_first, c_first = time.perf_counter() - t0, time.process_time() - c0
            t0, c0 = time.perf_counter(), time.process_time()
            again = run_billing(
                store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1)
            )
            t_again, c_again = time.perf_counter() - t0, time.process_time() - c0
            assert again.bills_new == 0 and again.output_sha256 == first.output_sha256
            metered = n // 3 + (1 if n % 3 else 0)
            rows.append((n, metered, t_build, t_first, c_first, t_again, c_again, first.bills_new))
            store.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "# Billing benchmark",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
        f"(shared; load average {os.getloadavg()[0]:.1f} at the end), "
        f"Python {platform.python_version()}; DuckDB store; {datetime.now(UTC):%Y-%m-%d}.",
        "",
        "| frames | decoded per second (one core) |",
        "|---|---|",
        f"| M-Bus, the {len(frames)} shared libmbus frames (17–250 bytes) | {fps_mbus:,.0f} |",
        f"| CJ/T 188 DI 901F answer (59 bytes) | {fps_cjt:,.0f} |",
        "",
        "| households | metered | build (s) | settlement run, all new: wall (s) | CPU of "
        "this process (s) | second run, unchanged: wall (s) | CPU (s) | bills written |",
        "|---|---|---|---|---|---|---|---|",
        *[
            f"| {n:,} | {m:,} | {b:.1f} | {f:.1f} | {fc:.1f} | {a:.1f} | {ac:.1f} | {w:,} |"
            for n, m, b, f, fc, a, ac, w in rows
        ],
        "",
        "CPU = process time of the benchmark process (Python and DuckDB threads); on a "
        "shared, oversubscribed machine the wall time includes waiting for a core.",
        "",
        "Target: settlement run for 1,000,000 households ≤ 60 s.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).resolve().parent / "results" / "billing.md"
    out.write_text(text)


if __name__ == "__main__":
    main()
