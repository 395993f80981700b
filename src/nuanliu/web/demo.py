"""``nuanliu demo``: a running platform on a fresh machine, from nothing but the package.

Steps (each idempotent, so a second run reuses the data directory):

1. open the embedded DuckDB under the data directory with the monitoring aggregates;
2. load the Tuoketuo–Hohhot example twin (when the network package ships it) and build
   the demo city's registry along it (stations at the network's substations);
3. one login per role, the default alert rules;
4. simulated history: the gap between the newest stored reading (or ``history_days``
   ago) and now, from the building-model sensor simulator;
5. live: the simulator streams readings every ``live_step`` through the ingest path
   (validation, quarantine, idempotent insert, aggregates), alerts are evaluated every
   minute, and uvicorn serves the dashboard until Ctrl-C.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from nuanliu.config import Settings, load_settings
from nuanliu.sensors.demo import demo_faults

log = logging.getLogger(__name__)

# Capabilities that add their demo data after the readings history, in this order. Each
# module has ``seed_demo(store, *, network, now) -> list[tuple[str, str]]``: idempotent
# (a second run adds nothing), returning what to click as (label, path) pairs.
DEMO_SEEDERS: tuple[str, ...] = (
    "nuanliu.telemetry.demo",
    "nuanliu.hotline.demo",
    "nuanliu.control.demo",
    "nuanliu.billing.demo",
    "nuanliu.oversight.demo",  # last: its evaluation reads complaints and fee collection
)

SENSOR_SQL = """
SELECT s.sensor_id, s.household_id, h.building_id, b.station_id, st.enterprise_id,
       h.floor_area_m2, b.year_built, b.floors
FROM sensors s JOIN households h ON h.household_id = s.household_id
JOIN buildings b ON b.building_id = h.building_id
LEFT JOIN stations st ON st.station_id = b.station_id
WHERE s.decommissioned_at IS NULL
ORDER BY s.sensor_id
"""


@dataclass(frozen=True)
class DemoOptions:
    data_dir: Path = Path("data")
    host: str = "127.0.0.1"
    port: int = 8000
    households: int = 3000
    history_days: float = 7.0
    history_step: timedelta = timedelta(minutes=20)
    live_step: timedelta = timedelta(minutes=1)
    live_spinup: timedelta = timedelta(hours=6)  # model warm-up before the first reading
    seed: int = 0
    network: str = "tuoketuo-hohhot"
    db_url: str = ""  # empty: DuckDB under data_dir; postgresql://…: the server engine
    ingest_workers: int = 2  # with a server engine: MQTT ingest processes (demo_workers)
    mqtt_url: str = ""  # empty: NUANLIU_MQTT_URL


@dataclass
class Prepared:
    store: Any
    settings: Settings
    network: Any
    logins: list[Any]
    sensors: pd.DataFrame
    history_rows: int
    registry_built: bool
    clicks: list[tuple[str, str]]


def _say(echo: Callable[[str], None] | None, text: str) -> None:
    (echo or log.info)(text)


def load_network(name: str) -> Any | None:
    """The example twin, or None when the network package does not ship it (yet)."""
    try:
        from nuanliu.network.examples import load_example

        return load_example(name)
    except Exception as exc:  # the demo still runs, without the twin pages' figures
        log.warning("network example %r unavailable: %s", name, exc)
        return None


def prepare(opts: DemoOptions, echo: Callable[[str], None] | None = None) -> Prepared:
    """Steps 1–4: everything before serving. Safe to call again on the same data dir."""
    from nuanliu.api.demo import create_demo_users
    from nuanliu.monitor import open_monitored_store
    from nuanliu.monitor.alerts import default_rules, list_rules, save_rule

    opts.data_dir.mkdir(parents=True, exist_ok=True)
    db = {"db_url": opts.db_url} if opts.db_url else {}
    settings = load_settings(data_dir=opts.data_dir, host=opts.host, port=opts.port, **db)
    _say(echo, f"database: {settings.database_url}")
    store = open_monitored_store(settings.database_url)
    network = load_network(opts.network)
    with store.read() as q:
        households = int(q.all("SELECT COUNT(*) FROM households", [])[0][0])
    built = False
    if households == 0:
        from nuanliu.registry import build_demo_registry

        _say(echo, f"building the demo city ({opts.households} households)…")
        report = build_demo_registry(
            store, network=network, households=opts.households, seed=opts.seed
        )
        _say(echo, f"registry: {report.counts}")
        built = True
    logins = create_demo_users(store)
    if not list_rules(store):
        for rule in default_rules():
            save_rule(store, rule)
    with store.read() as q:
        sensors = q.df(SENSOR_SQL, [])
    rows = backfill(store, sensors, opts, echo)
    clicks = seed_capabilities(store, network, echo)
    return Prepared(store, settings, network, logins, sensors, rows, built, clicks)


def seed_capabilities(
    store: Any, network: Any, echo: Callable[[str], None] | None = None
) -> list[tuple[str, str]]:
    """Each capability's demo data (``DEMO_SEEDERS``); what to click for each."""
    import importlib

    clicks: list[tuple[str, str]] = []
    now = datetime.now(UTC)
    for name in DEMO_SEEDERS:
        _say(echo, f"demo data: {name}…")
        clicks += importlib.import_module(name).seed_demo(store, network=network, now=now)
    return clicks


def newest_reading(store: Any) -> datetime | None:
    with store.read() as q:
        value = q.all("SELECT MAX(last_ts) FROM mon_sensor_last_seen", [])[0][0]
    if value is None:
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()


def backfill(
    store: Any,
    sensors: pd.DataFrame,
    opts: DemoOptions,
    echo: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> int:
    """Simulated readings from the newest stored one (or ``history_days`` ago) to now."""
    from nuanliu.sensors.simulate import simulate_readings

    end = now or datetime.now(UTC)
    start = end - timedelta(days=opts.history_days)
    newest = newest_reading(store)
    if newest is not None:
        start = max(start, newest + timedelta(seconds=1))
    if end - start < opts.history_step or sensors.empty:
        return 0
    _say(echo, f"simulating history {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC…")
    faults = demo_faults(sensors, seed=opts.seed, history=end - start).config
    stream = simulate_readings(
        sensors,
        start,
        end,
        step=opts.history_step,
        seed=opts.seed,
        chunk_rows=250_000,
        faults=faults,
    )
    stored = 0
    for table in stream:
        stored += store.insert_readings(table).inserted
    _say(echo, f"history: {stored:,} readings stored")
    return stored


class LiveFeed:
    """The simulator in real time: every ``step`` the readings of that instant go
    through the ingest path (as a gateway's batch would); alerts every minute."""

    def __init__(
        self, store: Any, sensors: pd.DataFrame, opts: DemoOptions, sink: Any = None
    ) -> None:
        self.store = store
        self.sensors = sensors
        self.opts = opts
        self.sink = sink  # None: ingest here; else publish (demo_workers ingest it)
        self.scheduler: Any = None
        self.stop = threading.Event()
        self.stored = 0
        self.rejected = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        from nuanliu.scheduler.runner import Scheduler

        t = threading.Thread(target=self._readings, name="demo-sensors", daemon=True)
        t.start()
        self._threads.append(t)
        # The periodic jobs (alerts every minute, reports, aggregates, …) in-process.
        self.scheduler = Scheduler(self.store)
        self.scheduler.start_thread()

    def close(self) -> None:
        self.stop.set()
        if self.scheduler is not None:
            self.scheduler.close()
        for t in self._threads:
            t.join(timeout=10)

    def _readings(self) -> None:
        from nuanliu.ingest.batch import ingestor_for
        from nuanliu.ingest.model import RawBatch
        from nuanliu.sensors.simulate import SensorSimulator

        if self.sensors.empty:
            return
        step_ns = int(self.opts.live_step.total_seconds() * 1e9)
        # The history's faults continue: the same cold and overheated homes; the
        # sensors that went offline stay silent.
        faults = demo_faults(self.sensors, seed=self.opts.seed).config
        live = self.sensors[~self.sensors["sensor_id"].isin(list(faults.offline_sensors))]
        sim = SensorSimulator(  # one step back: the first readings go out right away
            live,
            datetime.now(UTC) - self.opts.live_step,
            step=self.opts.live_step,
            seed=self.opts.seed,
            spinup=self.opts.live_spinup,
            faults=replace(faults, offline_sensors=()),
        )
        ingestor = ingestor_for(self.store)
        while not self.stop.is_set():
            now_ns = time.time_ns()
            pending = []
            while sim.now_ns + step_ns <= now_ns + step_ns // 2 and len(pending) < 60:
                pending.append(sim.next())
            if pending:
                table = sim.table(pending)
                batch = RawBatch(
                    {c: table[c] for c in ("sensor_id", "ts", "temp_c", "humidity_pct")},
                    lambda i: "demo:simulator",
                    lambda i: "",
                )
                try:
                    if self.sink is not None:  # published: the ingest workers store them
                        self.sink.send(table)
                        self.stored += table.num_rows
                    else:
                        report = ingestor.ingest(batch)
                        self.stored += report.stored
                        self.rejected += report.rejected
                except Exception:  # keep streaming; the next step retries new rows
                    log.exception("live ingest failed")
            wait_s = max(0.5, (sim.now_ns + step_ns - time.time_ns()) / 1e9)
            self.stop.wait(min(wait_s, self.opts.live_step.total_seconds()))


def build_app(prepared: Prepared) -> Any:
    from nuanliu.api.app import create_app
    from nuanliu.web.twin import set_network

    app = create_app(prepared.settings, store=prepared.store)
    if prepared.network is not None:
        set_network(app, prepared.network)
    return app


def where_to_click(base: str, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    return [*_core_clicks(base), *((what, f"{base}{path}") for what, path in extra)]


def _core_clicks(base: str) -> list[tuple[str, str]]:
    return [
        ("login / 登录", f"{base}/login"),
        ("overview / 总览", f"{base}/"),
        ("drill-down / 逐级下钻", f"{base}/drill"),
        ("network map / 管网地图", f"{base}/map"),
        ("alerts / 告警", f"{base}/alerts"),
        ("English", f"{base}/?lang=en"),
        ("API docs", f"{base}/docs"),
    ]


def run(opts: DemoOptions, echo: Callable[[str], None] | None = None) -> None:
    """Prepare, print the logins and URLs, stream and serve until Ctrl-C."""
    import uvicorn

    prepared = prepare(opts, echo)
    app = build_app(prepared)
    workers, sink = _server_ingest(prepared, opts, echo)
    feed = LiveFeed(prepared.store, prepared.sensors, opts, sink=sink)
    base = f"http://{opts.host}:{opts.port}"
    _say(echo, "")
    _say(echo, "Demo logins / 演示账号 (password / 密码 in the last column):")
    for login in prepared.logins:
        if login.role == "gateway":
            continue
        scope = ",".join(login.scope)
        _say(echo, f"  {login.role:<20} {login.username:<26} {scope:<14} {login.password}")
    _say(echo, "")
    for what, url in where_to_click(base, prepared.clicks):
        _say(echo, f"  {what:<24} {url}")
    _say(echo, "")
    _say(echo, f"live sensors: {len(prepared.sensors):,} reporting every {opts.live_step}")
    _say(echo, "Ctrl-C stops / 按 Ctrl-C 停止")
    feed.start()
    server = uvicorn.Server(
        uvicorn.Config(app, host=opts.host, port=opts.port, log_level="warning")
    )
    try:
        server.run()
    finally:
        feed.close()
        if workers is not None:
            sink.close()
            workers.stop()
        prepared.store.close()
        _say(echo, f"stopped; {feed.stored:,} live readings stored this run")


def _server_ingest(
    prepared: Prepared, opts: DemoOptions, echo: Callable[[str], None] | None
) -> tuple[Any, Any]:
    """On a server engine: ingest worker processes and the simulator's MQTT sink."""
    if prepared.store.caps.writer_processes != "many" or opts.ingest_workers < 1:
        return None, None
    from nuanliu.web.demo_workers import IngestWorkers, mqtt_sink

    mqtt_url = opts.mqtt_url or prepared.settings.mqtt_url
    sink = mqtt_sink(mqtt_url, prepared.sensors)
    workers = IngestWorkers(
        prepared.settings.database_url, mqtt_url, opts.ingest_workers, opts.data_dir / "logs"
    )
    for log in workers.start():
        _say(echo, f"ingest worker: {log}")
    _say(echo, f"{opts.ingest_workers} MQTT ingest workers share group 'demo' on {mqtt_url}")
    return workers, sink
