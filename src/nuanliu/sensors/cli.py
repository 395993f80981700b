"""``nuanliu sensors simulate``: simulated indoor readings into a store, MQTT, HTTP or files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from nuanliu.config import load_settings
from nuanliu.errors import InvalidInput, NuanliuError

app = typer.Typer(no_args_is_help=True, help="Sensor simulator (传感器模拟): readings with faults.")


def _open_store(url: str | None) -> Any:
    from nuanliu.store import open_store

    settings = load_settings()
    if not url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(url or settings.database_url)
    try:  # keep the monitoring aggregates current, as `nuanliu ingest` does
        from nuanliu.monitor import register_aggregates
    except ImportError:
        return store
    register_aggregates(store)
    return store


def _parse_start(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    ts = pd.Timestamp(text)
    if ts.tzinfo is None:
        ts = ts.tz_localize("Asia/Shanghai")  # local time unless an offset is given
    return ts.to_pydatetime()


@app.command("simulate")
def simulate_cmd(
    db: str | None = typer.Option(None, "--db", help="Store URL to ingest into (the sink)."),
    mqtt: str | None = typer.Option(None, "--mqtt", help="MQTT broker URL, e.g. mqtt://h:1883."),
    http: str | None = typer.Option(None, "--http", help="Readings endpoint URL to POST to."),
    token: str | None = typer.Option(None, "--token", help="Bearer token for --http."),
    out: Path | None = typer.Option(None, "--out", help="Write a .csv, .parquet or .ndjson file."),
    sensors_csv: Path | None = typer.Option(
        None, "--sensors", help="Registry CSV (sensor_id, household_id, building_id, ...)."
    ),
    registry: str | None = typer.Option(
        None, "--registry", help="Store URL to read sensors from (default: --db or settings)."
    ),
    start: str | None = typer.Option(
        None, "--start", help="First reading time, ISO 8601 (default: now − days)."
    ),
    days: float = typer.Option(1.0, "--days", help="Days to generate (history with --follow)."),
    follow: bool = typer.Option(False, "--follow", help="Then keep streaming in real time."),
    step_min: float = typer.Option(10.0, "--step-min", help="Minutes between readings."),
    tick_s: float = typer.Option(10.0, "--tick-s", help="Seconds between ticks with --follow."),
    speed: float = typer.Option(1.0, "--speed", help="Time acceleration with --follow."),
    duration_s: float | None = typer.Option(
        None, "--duration-s", help="Stop following after this many seconds."
    ),
    cold_fraction: float = typer.Option(0.0, "--cold-fraction", help="Share of cold buildings."),
    overheat_fraction: float = typer.Option(
        0.0, "--overheat-fraction", help="Share of overheated households."
    ),
    offline_fraction: float = typer.Option(0.0, "--offline-fraction", help="Sensors going off."),
    open_window_fraction: float = typer.Option(
        0.0, "--open-window-fraction", help="Sensors whose room is aired daily."
    ),
    stuck_fraction: float = typer.Option(0.0, "--stuck-fraction", help="Sensors stuck on a value."),
    jump_fraction: float = typer.Option(0.0, "--jump-fraction", help="Sensors with a level jump."),
    spike_fraction: float = typer.Option(0.0, "--spike-fraction", help="Sensors with spikes."),
    demo_faults: bool = typer.Option(False, "--demo-faults", help="A realistic mix of faults."),
    weather: str = typer.Option("hohhot", "--weather", help="Shipped weather name or EPW file."),
    curve: str = typer.Option(
        "default", "--curve", help="Heating curve: default, jiexiu or an operator CSV."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same readings)."),
    truth: Path | None = typer.Option(None, "--truth", help="Write the fault ground truth CSV."),
) -> None:
    """Generate realistic indoor readings (with faults) for registered sensors."""
    console = Console(stderr=True)
    try:
        _simulate(console, **locals_without(locals(), "console"))
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None


def locals_without(values: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k not in names}


def _simulate(console: Console, **o: Any) -> None:
    from nuanliu.sensors.faults import FaultConfig
    from nuanliu.sensors.registry import sensors_from_csv, sensors_from_store
    from nuanliu.sensors.runner import SimulatorRunner, TickReport
    from nuanliu.sensors.simulate import SensorSimulator
    from nuanliu.sensors.sinks import FileSink, HttpSink, MqttSink, StoreSink, gateway_map

    chosen = [k for k in ("db", "mqtt", "http", "out") if o[k]]
    if len(chosen) > 1:
        raise InvalidInput(f"choose one sink, not {', '.join('--' + c for c in chosen)}")
    if o["days"] <= 0 and not o["follow"]:
        raise InvalidInput("--days must be positive")
    if o["http"] and not o["token"]:
        console.print("[yellow]warning:[/yellow] --http without --token: the API will refuse")

    store = None
    if o["db"] or not chosen:
        store = _open_store(o["db"])
    if o["sensors_csv"]:
        sensors = sensors_from_csv(o["sensors_csv"])
    else:
        reg = store if (store is not None and not o["registry"]) else _open_store(o["registry"])
        sensors = sensors_from_store(reg)

    if o["demo_faults"]:
        faults = FaultConfig.demo()
    else:
        faults = FaultConfig(
            cold_building_fraction=o["cold_fraction"],
            overheat_fraction=o["overheat_fraction"],
            offline_fraction=o["offline_fraction"],
            open_window_fraction=o["open_window_fraction"],
            stuck_fraction=o["stuck_fraction"],
            jump_fraction=o["jump_fraction"],
            spike_fraction=o["spike_fraction"],
        )
    step = timedelta(minutes=o["step_min"])
    span = timedelta(days=o["days"])
    now = datetime.now(UTC)
    begin = _parse_start(o["start"], now - span)
    from nuanliu.buildings.heating_curve import heating_curve

    sim = SensorSimulator(
        sensors,
        begin,
        step=step,
        weather=o["weather"],
        curve=heating_curve(o["curve"]),
        faults=faults,
        seed=o["seed"],
        fault_span=max(span, step),
        calibration_span=min(max(span, timedelta(days=1)), timedelta(days=7)),
    )

    gateways = gateway_map(sensors)
    if o["mqtt"]:
        sink: Any = MqttSink(o["mqtt"], gateways)
    elif o["http"]:
        sink = HttpSink(o["http"], gateways, token=o["token"])
    elif o["out"]:
        sink = FileSink(o["out"])
    else:
        sink = StoreSink(store)
    console.print(
        f"{len(sensors)} sensors, from "
        f"{pd.Timestamp(sim.start_ns, tz='UTC').tz_convert('Asia/Shanghai'):%Y-%m-%d %H:%M %Z} "
        f"every {o['step_min']:g} min → {'--' + chosen[0] if chosen else 'store'}"
    )

    if o["follow"]:

        def show(r: TickReport) -> None:
            console.print(
                f"{r.ts_to:%Y-%m-%d %H:%M} UTC  +{r.rows} readings  ({sink.report.line()})"
            )

        runner = SimulatorRunner(
            sim, sink, tick_s=o["tick_s"], acceleration=o["speed"], on_tick=show
        )
        if sim.now_ns <= now.timestamp() * 1e9:
            _with_progress(console, sim, int(now.timestamp() * 1e9), runner.backfill)
        try:
            runner.run(o["duration_s"])
        except KeyboardInterrupt:
            runner.stop()
    else:
        end_ns = int((pd.Timestamp(begin) + span).value)
        runner = SimulatorRunner(sim, sink, cap_at_now=False)
        try:
            _with_progress(console, sim, end_ns - 1, lambda cb: runner.emit_until(end_ns - 1, cb))
        finally:
            sink.close()
    if o["truth"]:
        t = sim.truth()
        t.to_csv(o["truth"], index=False)
        console.print(f"ground truth: {len(t)} fault rows → {o['truth']}")
    console.print(f"done: {sink.report.line()}")
    for reason in sink.report.reasons[:5]:
        console.print(f"  quarantined: {reason}")


@app.command("climate")
def climate_cmd(
    weather: str = typer.Option("hohhot", "--weather", help="Shipped weather name or EPW file."),
    year: int = typer.Option(2025, "--year", help="Calendar year to lay the typical year on."),
    base_c: float = typer.Option(18.0, "--base", help="Degree-day base temperature °C."),
) -> None:
    """Climate facts of the weather the simulator uses: degree days, heating period."""
    from rich.table import Table

    from nuanliu.weather import (
        design_facts,
        heating_degree_days,
        heating_period,
        monthly_heating_degree_days,
        read_epw,
        shipped_epw,
    )
    from nuanliu.weather.shipped import SHIPPED

    console = Console()
    try:
        epw = shipped_epw(weather) if weather.lower() in SHIPPED else read_epw(weather)
        hourly = epw.for_year(year)
        hp = heating_period(hourly)
    except NuanliuError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from None
    loc = epw.location
    table = Table(title=f"{loc.city} ({loc.wmo}, {loc.source}) 气候 climate")
    table.add_column("fact")
    table.add_column("value", justify="right")
    table.add_row(f"HDD{base_c:g} K·d / 采暖度日数", f"{heating_degree_days(hourly, base_c):.0f}")
    table.add_row("min / mean °C", f"{hourly['temp_c'].min():.1f} / {hourly['temp_c'].mean():.1f}")
    table.add_row(
        "heating period (5-day mean ≤ 5 °C) / 供暖期",
        f"{hp.first_day:%m-%d} – {hp.last_day:%m-%d}, {hp.days} d, mean {hp.mean_temp_c:.1f} °C",
    )
    if epw.design is not None:
        table.add_row(
            "ASHRAE DB99.6 / DB99 °C",
            f"{epw.design.heating_db996_c} / {epw.design.heating_db990_c}",
        )
    if weather.lower() in SHIPPED:
        facts = design_facts(weather)
        table.add_row("GB 50736 design outdoor °C / 供暖室外计算温度", f"{facts.gb_design_temp_c}")
    monthly = monthly_heating_degree_days(hourly, base_c)
    table.add_row("HDD by month", " ".join(f"{v:.0f}" for v in monthly))
    console.print(table)


def _with_progress(console: Console, sim: Any, end_ns: int, work: Any) -> Any:
    """Run ``work(on_step)`` while a progress bar follows the simulation clock."""
    first = sim.now_ns
    total = max(1, (end_ns - first) // sim.step_ns + 1)
    with Progress(
        TextColumn("simulating"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("sim", total=total)
        return work(
            lambda ts_ns: progress.update(task, completed=(ts_ns - first) // sim.step_ns + 1)
        )
