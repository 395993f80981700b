"""Dashboard under load: 100 logged-in users browse while 5,000 readings/s are ingested.

    python bench/web.py            # full run (10,000 households, 60 s of load)
    python bench/web.py --quick    # short run (3,000 households, 20 s)

The server is the real application (uvicorn, one process, embedded DuckDB) started as a
separate process on a free loopback port; the load generator is this process: one
``httpx.AsyncClient`` per user, each logged in with its own session cookie, browsing
pages of its scope with a think time of 1–4 s, while gateway clients post JSON batches to
``/api/v1/readings`` at the target rate. Prints a latency table per page (p50/p95/p99)
and writes it to bench/results/web.md. Target: p95 ≤ 300 ms on every page.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from loadgen import Samples, browse, free_port, log_in, stop_users, wait_healthy, warm_up

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "web.md"
PASSWORD = "bench-password-1"
TARGET_P95_MS = 300.0


@dataclass
class Setup:
    db_path: Path
    city: str
    enterprises: list[str]
    stations: dict[str, list[str]]  # enterprise -> stations
    buildings: dict[str, list[str]]  # enterprise -> buildings
    households: dict[str, list[str]]  # enterprise -> households
    sensors: dict[str, list[str]]  # enterprise -> sensors
    users: list[tuple[str, str | None]]  # (username, enterprise or None for regulators)
    gateway_tokens: dict[str, str]  # enterprise -> bearer token
    history_rows: int
    n_households: int
    ingest: str = "http"  # or "inprocess"
    stats_path: str = ""


def prepare(db_path: Path, households: int, history_days: float) -> Setup:
    """Demo registry, simulated history, users and gateway tokens in a fresh DuckDB."""
    from nuanliu.api.accounts import create_user
    from nuanliu.api.sessions import create_token
    from nuanliu.monitor import open_monitored_store
    from nuanliu.monitor.alerts import default_rules, evaluate_alerts, save_rule
    from nuanliu.registry import build_demo_registry
    from nuanliu.sensors.demo import demo_faults
    from nuanliu.sensors.simulate import simulate_readings
    from nuanliu.web.demo import SENSOR_SQL

    store = open_monitored_store(f"duckdb:///{db_path}")
    try:
        build_demo_registry(store, households=households, seed=1)
        with store.read() as q:
            sensors = q.df(SENSOR_SQL, [])
            ctx = q.df(
                "SELECT hc.household_id, hc.building_id, hc.station_id, hc.enterprise_id,"
                " hc.city_id FROM household_context hc",
                [],
            )
        end = datetime.now(UTC)
        rows = 0
        for tbl in simulate_readings(
            sensors,
            end - timedelta(days=history_days),
            end,
            step=timedelta(minutes=30),
            seed=1,
            # The demo's problems: cold buildings, a failing station, offline sensors.
            faults=demo_faults(sensors, seed=1, history=timedelta(days=history_days)).config,
        ):
            rows += store.insert_readings(tbl).inserted
        for rule in default_rules():
            save_rule(store, rule)
        evaluate_alerts(store, deliver=False)
        city = str(ctx["city_id"].mode()[0])
        ctx = ctx[ctx["city_id"] == city]
        ents = sorted(ctx["enterprise_id"].unique())
        sens = sensors.drop(columns=["enterprise_id"], errors="ignore").merge(
            ctx[["household_id", "enterprise_id"]], on="household_id"
        )

        def by_ent(frame: Any, col: str) -> dict[str, list[str]]:
            return {e: sorted(frame.loc[frame["enterprise_id"] == e, col].unique()) for e in ents}

        users: list[tuple[str, str | None]] = []
        create_user(store, username="bench-regulator", password=PASSWORD, role="regulator",
                    scope_ids=[city])  # fmt: skip
        users.append(("bench-regulator", None))
        tokens = {}
        for e in ents:
            name = f"bench-op-{e}"
            create_user(store, username=name, password=PASSWORD, role="enterprise_operator",
                        scope_ids=[e])  # fmt: skip
            users.append((name, e))
            gw = create_user(store, username=f"bench-gw-{e}", password=PASSWORD, role="gateway",
                             scope_ids=[e])  # fmt: skip
            tokens[e] = create_token(store, gw, name="bench").token
        return Setup(
            db_path, city, ents, by_ent(ctx, "station_id"), by_ent(ctx, "building_id"),
            by_ent(ctx, "household_id"), by_ent(sens, "sensor_id"), users, tokens, rows,
            len(ctx),
        )  # fmt: skip
    finally:
        store.close()


def serve(db_path: str, port: int, inprocess_rate: int, stats_path: str) -> None:
    """The server process: the real app over the prepared DuckDB file; with
    ``inprocess_rate`` > 0 it also ingests that many readings/s through the in-process
    ingest path (validation, idempotent insert, aggregates), as an MQTT worker or the
    demo's simulator inside the DuckDB process does, once ``stats_path`` + ".go" exists."""
    import json
    import threading

    import pyarrow as pa
    import uvicorn

    from nuanliu.api.app import create_app
    from nuanliu.config import load_settings
    from nuanliu.ingest.batch import ingestor_for
    from nuanliu.ingest.model import RawBatch
    from nuanliu.monitor import open_monitored_store

    store = open_monitored_store(f"duckdb:///{db_path}")
    app = create_app(load_settings({}), store=store)

    def feed() -> None:
        with store.read() as q:
            ids = [r[0] for r in q.all("SELECT sensor_id FROM sensors ORDER BY sensor_id", [])]
        go = Path(stats_path + ".go")
        while not go.exists():
            time.sleep(0.1)
        batch, k, stored, spent = inprocess_rate // 2, 0, 0, []
        next_at = time.monotonic()
        while True:
            now_us = int(time.time() * 1e6)
            idx = np.arange(k, k + batch)
            k += batch
            sensor = pa.array([ids[i % len(ids)] for i in idx], pa.string())
            ts = pa.array(now_us - (idx // len(ids)) * 1000, pa.timestamp("us", tz="UTC"))
            temp = pa.array(20.0 + (idx % 7) * 0.3, pa.float64())
            hum = pa.nulls(batch, pa.float64())
            cols = {"sensor_id": sensor, "ts": ts, "temp_c": temp, "humidity_pct": hum}
            t0 = time.perf_counter()
            stored += (
                ingestor_for(store).ingest(RawBatch(cols, lambda i: "bench", lambda i: "")).stored
            )
            spent.append((time.perf_counter() - t0) * 1000.0)
            Path(stats_path).write_text(json.dumps({"stored": stored, "batch_ms": spent[-2000:]}))
            next_at += 0.5
            time.sleep(max(0.0, next_at - time.monotonic()))

    if inprocess_rate > 0:
        threading.Thread(target=feed, daemon=True).start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_keep_alive=30)  # fmt: skip


@dataclass
class WebSamples(Samples):
    alone_ms: dict[str, list[float]] = field(default_factory=dict)
    ingested: int = 0
    ingest_ms: list[float] = field(default_factory=list)
    ingest_errors: int = 0


def pages_for(setup: Setup, enterprise: str | None, rng: random.Random) -> tuple[str, str]:
    """A random page of the user's scope: (page name, URL)."""
    e = enterprise or rng.choice(setup.enterprises)
    choices = [
        ("overview", "/"),
        ("drill_root", "/drill"),
        ("city", f"/drill/city/{setup.city}"),
        ("enterprise", f"/drill/enterprise/{e}"),
        ("station", f"/stations/{rng.choice(setup.stations[e])}"),
        ("building", f"/drill/building/{rng.choice(setup.buildings[e])}"),
        ("household", f"/households/{rng.choice(setup.households[e])}"),
        ("alerts", "/alerts"),
        ("map_data", "/map/data.json"),
        ("kpi_refresh", "/partials/kpis"),
        ("homes_below", "/lists/households?status=below"),
        ("offline_list", "/lists/sensors"),
        ("station_30d", f"/stations/{rng.choice(setup.stations[e])}?range=30d"),
        ("search", f"/search?q={rng.choice(SEARCH_TERMS)}"),
    ]
    return rng.choice(choices)


# What people type: a unit and door, a building number, part of a road or estate name.
SEARCH_TERMS = ["2单元", "301室", "3号楼", "中山路", "花园", "_"]


async def ingest_loop(
    base: str, setup: Setup, rate_per_s: int, until: float, samples: WebSamples
) -> None:
    """Post a JSON batch every 0.5 s (rate/2 readings), round-robin over the enterprises'
    gateways (a gateway forwards its sensors' readings in batches); up to 16 in flight."""
    batch = max(1, rate_per_s // 2)
    cursors = {e: 0 for e in setup.enterprises}
    in_flight = asyncio.Semaphore(16)

    async def post(client: httpx.AsyncClient, e: str, rows: list[dict[str, Any]]) -> None:
        t0 = time.perf_counter()
        try:
            r = await client.post(
                "/api/v1/readings", json=rows,
                headers={"Authorization": f"Bearer {setup.gateway_tokens[e]}"},
            )  # fmt: skip
            if r.status_code == 200:
                samples.ingested += int(r.json().get("stored", 0))
            else:
                samples.ingest_errors += 1
        except httpx.HTTPError:
            samples.ingest_errors += 1
        finally:
            samples.ingest_ms.append((time.perf_counter() - t0) * 1000.0)
            in_flight.release()

    tasks = []
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        next_at = time.monotonic()
        tick = 0
        while time.monotonic() < until:
            e = setup.enterprises[tick % len(setup.enterprises)]
            tick += 1
            ids = setup.sensors[e]
            now = datetime.now(UTC)
            rows = []
            for i in range(batch):
                k = cursors[e] + i
                ts = now - timedelta(milliseconds=k // len(ids))  # unique per sensor
                rows.append({"sensor_id": ids[k % len(ids)], "ts": ts.isoformat(),
                             "temp_c": 20.0 + (k % 7) * 0.3})  # fmt: skip
            cursors[e] += batch
            await in_flight.acquire()
            tasks.append(asyncio.create_task(post(client, e, rows)))
            next_at += 0.5
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*tasks, return_exceptions=True)


async def alone(base: str, setup: Setup, samples: WebSamples, per_page: int = 10) -> None:
    """Each page requested by one user with nothing else running (after one warm visit):
    the cost of the code path itself, to compare with the latency under load."""
    rng = random.Random(7)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        who = setup.users[0][0]
        await log_in(client, who, PASSWORD)
        seen: set[str] = set()
        for _ in range(per_page * 30):
            page, url = pages_for(setup, None, rng)
            if page not in seen:
                seen.add(page)
                await client.get(url)
            if len(samples.alone_ms.get(page, [])) >= per_page:
                continue
            t0 = time.perf_counter()
            await client.get(url)
            samples.alone_ms.setdefault(page, []).append((time.perf_counter() - t0) * 1000.0)


def _inprocess_stats(setup: Setup) -> dict[str, Any]:
    import json

    path = Path(setup.stats_path)
    if not path.exists():
        return {"stored": 0, "batch_ms": []}
    for _ in range(20):  # the server rewrites it twice a second
        try:
            return json.loads(path.read_text())
        except ValueError:
            time.sleep(0.05)
    return {"stored": 0, "batch_ms": []}


async def load(base: str, setup: Setup, users: int, seconds: float, rate: int) -> WebSamples:
    samples = WebSamples()
    await alone(base, setup, samples)
    # Log in first (argon2 is slow on purpose), then measure a fixed window.
    until = time.monotonic() + seconds + 120.0
    logins = asyncio.Semaphore(2)
    tasks = [
        asyncio.create_task(
            browse(
                base,
                (setup.users[i % len(setup.users)][0], PASSWORD),
                partial(pages_for, setup, setup.users[i % len(setup.users)][1]),
                i,
                until,
                samples,
                (1.0, 4.0),
                logins,
            )  # fmt: skip
        )
        for i in range(users)
    ]
    await warm_up(tasks, samples, visits=4 * users, max_s=120.0)
    t0 = time.monotonic()
    if setup.ingest == "http":
        ingest = asyncio.create_task(ingest_loop(base, setup, rate, t0 + seconds, samples))
    else:
        ingest = asyncio.create_task(asyncio.sleep(0))
        Path(setup.stats_path + ".go").touch()
        before = _inprocess_stats(setup)
    await asyncio.sleep(seconds)
    if setup.ingest != "http":
        after = _inprocess_stats(setup)
        samples.ingested = after["stored"] - before["stored"]
        samples.ingest_ms = after["batch_ms"][len(before["batch_ms"]) :]
    await stop_users(tasks, ingest)
    samples.elapsed_s = time.monotonic() - t0  # type: ignore[attr-defined]
    samples.load_avg = os.getloadavg()[0]  # type: ignore[attr-defined]
    return samples


def table(samples: WebSamples, setup: Setup, users: int, seconds: float, rate: int) -> str:
    lines = [
        f"Dashboard under load: {users} users (think time 1–4 s) for {seconds:.0f} s, "
        f"ingest target {rate:,} readings/s "
        f"{'as HTTP batches' if setup.ingest == 'http' else 'through the in-process path'}; "
        f"{setup.n_households:,} households, "
        f"{setup.history_rows:,} readings of history; DuckDB, one uvicorn process, "
        f"{os.cpu_count()} CPU cores.",
        "",
        "| page | requests | errors | p50 ms | p95 ms | p99 ms | max ms | alone p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    every: list[float] = []
    for page in sorted(samples.latency_ms):
        v = np.array(samples.latency_ms[page])
        every.extend(v)
        p50, p95, p99 = np.percentile(v, [50, 95, 99])
        solo = samples.alone_ms.get(page)
        solo_txt = f"{np.percentile(solo, 50):.0f}" if solo else "–"
        lines.append(
            f"| {page} | {len(v)} | {samples.errors.get(page, 0)} | {p50:.0f} | {p95:.0f} "
            f"| {p99:.0f} | {v.max():.0f} | {solo_txt} |"
        )
    a = np.array(every)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    lines.append(f"| **all pages** | {len(a)} | {sum(samples.errors.values())} | {p50:.0f} "
                 f"| {p95:.0f} | {p99:.0f} | {a.max():.0f} | |")  # fmt: skip
    elapsed = getattr(samples, "elapsed_s", seconds)
    ing = np.array(samples.ingest_ms) if samples.ingest_ms else np.array([0.0])
    worst = max(np.percentile(np.array(v), 95) for v in samples.latency_ms.values())
    lines += [
        "",
        f"Ingest: {samples.ingested:,} readings stored in {elapsed:.0f} s = "
        f"**{samples.ingested / elapsed:,.0f} readings/s** (target {rate:,}); batch p50 "
        f"{np.percentile(ing, 50):.0f} ms, p95 {np.percentile(ing, 95):.0f} ms "
        f"(batches of {rate // 2:,}), {samples.ingest_errors} failed batches.",
        "",
        f"Worst page p95: {worst:.0f} ms — target ≤ {TARGET_P95_MS:.0f} ms: "
        f"{'met' if worst <= TARGET_P95_MS else 'NOT met'}. Machine load average during the "
        f"run: {getattr(samples, 'load_avg', float('nan')):.1f} on {os.cpu_count()} cores "
        "(the load generator, the server and anything else running share them).",
    ]
    if samples.error_samples:
        lines += ["", "Errors (first): " + "; ".join(samples.error_samples)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small city, 20 s of load")
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--rate", type=int, default=5000, help="readings per second to ingest")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--households", type=int, default=None)
    ap.add_argument(
        "--ingest", choices=["inprocess", "http"], default="inprocess",
        help="readings through the in-process ingest path of the server (the DuckDB "
        "deployment: one process owns the file) or as HTTP batches from gateways",
    )  # fmt: skip
    ap.add_argument("--append", action="store_true", help="add to the results file")
    ap.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), int(args.serve[2]), args.serve[3])
        return
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    households = args.households or (3000 if args.quick else 10000)
    with tempfile.TemporaryDirectory(prefix="nuanliu-bench-web-") as tmp:
        db = Path(tmp) / "web.duckdb"
        t0 = time.perf_counter()
        setup = prepare(db, households, history_days=2.0 if args.quick else 3.0)
        setup.ingest = args.ingest
        setup.stats_path = str(Path(tmp) / "ingest-stats.json")
        print(f"prepared {households:,} households, {setup.history_rows:,} readings "
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        server = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--serve",
                str(db),
                str(port),
                str(args.rate if args.ingest == "inprocess" else 0),
                setup.stats_path,
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, server, 60.0)
            samples = asyncio.run(load(base, setup, args.users, seconds, args.rate))
        finally:
            server.terminate()
            server.wait(timeout=20)
    out = table(samples, setup, args.users, seconds, args.rate)
    print(out)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    mode = "quick" if args.quick else "full"
    stamp = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    text = f"# bench/web.py ({mode}, ingest {args.ingest})\n\n{stamp}\n\n{out}\n"
    if args.append and RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8") + "\n" + text
    RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
