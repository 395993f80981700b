"""``nuanliu simulate pipe-test`` and ``nuanliu simulate season`` (dynamic model)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from nuanliu.errors import InvalidInput, NuanliuError

EXIT_INVALID = 2


def _floats(text: str, name: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise typer.BadParameter(
            f"{text!r}: comma-separated numbers expected", param_hint=name
        ) from None
    if not values:
        raise typer.BadParameter("at least one value", param_hint=name)
    return values


def _per_segment(values: list[float], n: int, name: str) -> list[float]:
    if len(values) == 1:
        return values * n
    if len(values) != n:
        raise typer.BadParameter(f"give one value or {n} (one per pipe)", param_hint=name)
    return values


def pipe_test(
    csv: Path = typer.Argument(
        ..., help="Measured series (CSV): time, mass flow, inlet T, outlet T(s)."
    ),
    length: str = typer.Option(..., "--length", help="Pipe length(s) m; a chain: 20,19"),
    diameter: str = typer.Option(..., "--diameter", help="Inner diameter(s) m"),
    wall: str = typer.Option(..., "--wall", help="Steel wall thickness(es) m"),
    insulation: str = typer.Option(..., "--insulation", help="Insulation thickness(es) m"),
    ambient: float = typer.Option(20.0, "--ambient", help="Surroundings °C"),
    conductivity: float = typer.Option(0.04, "--insulation-conductivity", help="W/(m·K)"),
    outer_h: float = typer.Option(5.0, "--outer-h", help="Outer surface coefficient W/(m²·K)"),
    wall_density: float = typer.Option(7850.0, "--wall-density", help="kg/m³"),
    wall_cp: float = typer.Option(480.0, "--wall-cp", help="J/(kg·K)"),
    time_col: str | None = typer.Option(None, "--time-col", help="default time_s"),
    flow_col: str | None = typer.Option(None, "--flow-col", help="default m_flow_kg_per_s"),
    inlet_col: str | None = typer.Option(None, "--inlet-col", help="default T_water_in_C"),
    outlet_col: list[str] | None = typer.Option(
        None,
        "--outlet-col",
        help="Measured outlet column per pipe end (repeat; default T_water_out_C)",
    ),
    plot: Path | None = typer.Option(None, "--plot", help="Write a PNG of measured vs modelled."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the series (CSV)."),
    resolved: bool = typer.Option(
        False,
        "--resolved",
        help="Also run the resolved reference model (film coefficient, wall and "
        "insulation per cell; forward flow only).",
    ),
) -> None:
    """Replay a measured pipe test through the dynamic pipe model (管道动态验证).

    Reports RMSE, mean error, worst error and the error at the arrival front for each
    measured point, with and without the pipe wall's heat capacity (and with
    ``--resolved`` for the resolved reference model).
    """
    from nuanliu.sim.pipe_resolved import replay_resolved
    from nuanliu.sim.pipe_test import PipeSegment, read_series, replay, score

    console = Console()
    lengths = _floats(length, "--length")
    n = len(lengths)
    try:
        segs = [
            PipeSegment(
                length_m=lengths[i],
                inner_diameter_m=_per_segment(_floats(diameter, "--diameter"), n, "--diameter")[i],
                wall_thickness_m=_per_segment(_floats(wall, "--wall"), n, "--wall")[i],
                insulation_thickness_m=_per_segment(
                    _floats(insulation, "--insulation"), n, "--insulation"
                )[i],
                insulation_conductivity_w_m_k=conductivity,
                outer_surface_w_m2_k=outer_h,
                wall_density_kg_m3=wall_density,
                wall_cp_j_kg_k=wall_cp,
            )
            for i in range(n)
        ]
        series, cols = read_series(
            str(csv),
            time_col=time_col,
            flow_col=flow_col,
            inlet_col=inlet_col,
            outlet_cols=outlet_col or None,
        )
        with_wall = replay(series, segs, ambient_c=ambient, wall=True)
        no_wall = replay(series, segs, ambient_c=ambient, wall=False)
        fine = replay_resolved(series, segs, ambient_c=ambient) if resolved else []
    except (NuanliuError, OSError) as exc:
        msg = exc.message if isinstance(exc, NuanliuError) else str(exc)
        console.print(f"[red]error 错误:[/red] {escape(msg)}")
        raise typer.Exit(EXIT_INVALID) from None
    if not len(with_wall.scores):
        console.print("[yellow]no measured outlet temperature to compare 无实测出口温度[/yellow]")
    t = Table(title=f"{csv.name}: modelled − measured 模拟−实测 (K)")
    for c in ("point", "model", "RMSE", "mean", "worst", "worst at front", "arrival (s)"):
        t.add_column(c, justify="right")
    for label, res in (("with wall 含管壁", with_wall), ("no wall 无管壁", no_wall)):
        for row in res.scores.itertuples(index=False):
            t.add_row(
                cols[int(row.point)],
                label,
                f"{row.rmse_k:.3f}",
                f"{row.mean_error_k:+.3f}",
                f"{row.max_abs_error_k:.2f}",
                f"{row.front_max_abs_error_k:.2f}",
                f"{row.arrival_error_s:+.1f}",
            )
    time_s = series["time_s"].to_numpy()
    for i, temps in enumerate(fine):
        if f"measured_{i}" not in series or i >= len(cols):
            continue
        sc = score(time_s, series[f"measured_{i}"].to_numpy(), temps)
        t.add_row(
            cols[i],
            "resolved 精细",
            f"{sc['rmse_k']:.3f}",
            f"{sc['mean_error_k']:+.3f}",
            f"{sc['max_abs_error_k']:.2f}",
            f"{sc['front_max_abs_error_k']:.2f}",
            f"{sc['arrival_error_s']:+.1f}",
        )
    console.print(t)
    if output is not None:
        out = with_wall.series.copy()
        for c in [c for c in no_wall.series.columns if c.startswith("modelled_")]:
            out[c.replace("modelled_", "modelled_no_wall_")] = no_wall.series[c]
        for i, temps in enumerate(fine):
            out[f"modelled_resolved_{i}"] = temps
        out.to_csv(output, index=False)
        console.print(f"series written 已写入: {output}")
    if plot is not None:
        from nuanliu.sim.pipe_plot import plot_pipe_test

        plot_pipe_test(with_wall, no_wall, plot, title=csv.stem, resolved=fine[0] if fine else None)
        console.print(f"plot written 图已写入: {plot}")


def season(
    file: str = typer.Argument(..., help="Network file or example name (tuoketuo-hohhot)."),
    weather: str = typer.Option("hohhot", "--weather", help="EPW file or shipped name."),
    start: str = typer.Option(..., "--start", help="Start (local time unless an offset is given)"),
    end: str = typer.Option(..., "--end", help="End (exclusive)"),
    step: str = typer.Option("1h", "--step", help="Time step, e.g. 1h, 30min"),
    schedule: Path | None = typer.Option(
        None, "--schedule", help="CSV: ts plus one column of supply °C per source"
    ),
    flats: int = typer.Option(4, "--flats-per-element", help="Representative flats per station"),
    curves: bool = typer.Option(
        False, "--curves", help="Sources and isolation stations follow supply curves"
    ),
    output: Path | None = typer.Option(None, "-o", "--output", help="Output folder (Parquet)"),
) -> None:
    """Simulate a heating season with the dynamic model (供暖季动态仿真).

    Writes stations.parquet, sources.parquet, households.parquet, network.parquet and
    totals.json (heat produced, delivered, lost, pump electricity, cold household-
    hours). Ctrl-C stops and writes what was simulated so far.
    """
    import pandas as pd
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from nuanliu.sim.cli import _load
    from nuanliu.sim.season import simulate_season, write_season

    console = Console()
    try:
        net = _load(file)
        sched = None
        if schedule is not None:
            sched = pd.read_csv(schedule)
            if "ts" not in sched:
                raise InvalidInput(f"{schedule}: needs a ts column")
            ts = pd.to_datetime(sched.pop("ts"))
            if ts.dt.tz is None:
                ts = ts.dt.tz_localize("Asia/Shanghai")
            sched.index = pd.DatetimeIndex(ts)
        with Progress(
            *Progress.get_default_columns()[:1],
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("simulating 仿真中", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            res = simulate_season(
                net,
                weather,
                start=start,
                end=end,
                step=step,
                source_supply_schedule=sched,
                on_progress=report,
                flats_per_element=flats,
                follow_curves=curves,
            )
    except (NuanliuError, OSError, ValueError) as exc:
        msg = exc.message if isinstance(exc, NuanliuError) else str(exc)
        console.print(f"[red]error 错误:[/red] {escape(msg)}")
        raise typer.Exit(EXIT_INVALID) from None
    tt = res.totals
    t = Table(title=f"{res.meta.get('network', file)} — season 供暖季 ({res.steps} steps)")
    t.add_column("quantity 指标")
    t.add_column("value 数值", justify="right")
    gj = 1e9
    for label, key, scale, unit in (
        ("heat produced 供热量", "heat_produced_j", gj, "GJ"),
        ("heat delivered 用热量", "heat_delivered_j", gj, "GJ"),
        ("heat lost 管网热损", "heat_lost_j", gj, "GJ"),
        ("stored heat change 蓄热变化", "stored_heat_change_j", gj, "GJ"),
        ("pump electricity 水泵电耗", "pump_electricity_j", 3.6e6, "kWh"),
        ("cold household-hours 低温户时", "cold_household_hours", 1.0, "h"),
        ("overheated household-hours 过热户时", "overheated_household_hours", 1.0, "h"),
    ):
        t.add_row(label, f"{tt[key] / scale:,.1f} {unit}")
    rel = tt["energy_balance_residual_j"] / max(abs(tt["heat_produced_j"]), 1.0)
    t.add_row("energy balance residual 能量平衡残差", f"{rel:.1e} (relative)")
    t.add_row("time 用时", f"{res.elapsed_s:.1f} s")
    console.print(t)
    if res.interrupted:
        console.print("[yellow]interrupted 已中断: partial result 部分结果[/yellow]")
    if output is not None:
        write_season(res, output)
        console.print(f"results written 结果已写入: {output}")


def ensemble(
    file: str = typer.Argument(..., help="Network file or example name."),
    weather: str = typer.Option("hohhot", "--weather", help="EPW file or shipped name."),
    start: str = typer.Option(..., "--start"),
    end: str = typer.Option(..., "--end"),
    step: str = typer.Option("1h", "--step"),
    offsets: str = typer.Option("0", "--outdoor-offsets", help="K, e.g. -4,-2,0,2"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="tcp://HOST:8786"),
    workers: int = typer.Option(2, "--workers", help="local Dask workers (0: in-process)"),
    output: Path | None = typer.Option(None, "-o", "--output", help="Totals per case (CSV)"),
) -> None:
    """Run what-if season variants on Dask (多情景仿真): one case per outdoor offset."""
    from nuanliu.sim.cli import _load
    from nuanliu.sim.ensemble import SeasonCase, run_ensemble

    console = Console()
    try:
        net = _load(file)
        cases = [
            SeasonCase(f"offset {v:+g} K", weather=weather, outdoor_offset_k=v)
            for v in _floats(offsets, "--outdoor-offsets")
        ]
        df = run_ensemble(
            net, cases, start=start, end=end, step=step, scheduler=scheduler, workers=workers
        )
    except (NuanliuError, OSError, ValueError) as exc:
        msg = exc.message if isinstance(exc, NuanliuError) else str(exc)
        console.print(f"[red]error 错误:[/red] {escape(msg)}")
        raise typer.Exit(EXIT_INVALID) from None
    t = Table(title="ensemble 多情景")
    for c in ("case", "heat produced GJ", "heat lost GJ", "pump kWh", "cold household-h"):
        t.add_column(c, justify="right")
    for r in df.itertuples(index=False):
        t.add_row(
            r.label,
            f"{r.heat_produced_j / 1e9:,.0f}",
            f"{r.heat_lost_j / 1e9:,.0f}",
            f"{r.pump_electricity_j / 3.6e6:,.0f}",
            f"{r.cold_household_hours:,.0f}",
        )
    console.print(t)
    if output is not None:
        df.to_csv(output, index=False)
        console.print(f"written 已写入: {output}")


def calibrate_cmd(
    file: str = typer.Argument(..., help="Network file or example name."),
    measurements: Path = typer.Option(
        ..., "--measurements", help="CSV or Parquet (site_id, ts, …)"
    ),
    parameters: str = typer.Option("heat_loss,station_ua", "--parameters"),
    start: str | None = typer.Option(None, "--start"),
    end: str | None = typer.Option(None, "--end"),
    per_station: bool = typer.Option(False, "--per-station", help="Fit each station's UA too"),
    db: str | None = typer.Option(None, "--db", help="Store the fit as a new network version"),
    scheduler: str | None = typer.Option(None, "--scheduler", help="tcp://HOST:8786"),
    workers: int = typer.Option(0, "--workers", help="Dask workers for per-station fits"),
) -> None:
    """Calibrate heat loss, station UA, roughness against measurements (模型校准)."""
    import pandas as pd

    from nuanliu.sim.calibrate import calibrate
    from nuanliu.sim.cli import _load

    console = Console()
    try:
        net = _load(file)
        if measurements.suffix.lower() == ".parquet":
            meas = pd.read_parquet(measurements)
        else:
            meas = pd.read_csv(measurements)
            meas["ts"] = pd.to_datetime(meas["ts"], utc=True)
        res = calibrate(
            net,
            meas,
            parameters=[p.strip() for p in parameters.split(",") if p.strip()],
            start=start,
            end=end,
            per_station_ua=per_station,
            scheduler=scheduler,
            workers=workers,
        )
        version = None
        if db:
            from nuanliu.sim.versions import save_network_version
            from nuanliu.store import open_store

            params = {"multipliers": res.multipliers, "fit": res.fit.to_dict(orient="records")}
            with open_store(db) as store:
                version = save_network_version(
                    store, res.network, origin="calibration", params=params
                )
    except (NuanliuError, OSError, ValueError, KeyError) as exc:
        msg = exc.message if isinstance(exc, NuanliuError) else str(exc)
        console.print(f"[red]error 错误:[/red] {escape(msg)}")
        raise typer.Exit(EXIT_INVALID) from None
    t = Table(title="calibration 校准: fit before → after 拟合前后")
    for c in ("quantity", "samples", "RMSE before", "RMSE after"):
        t.add_column(c, justify="right")
    for r in res.fit.itertuples(index=False):
        t.add_row(r.quantity, str(r.samples), f"{r.rmse_before:.4g}", f"{r.rmse_after:.4g}")
    console.print(t)
    for k, v in res.multipliers.items():
        console.print(f"{k}: × {v:.4f}")
    if version is not None:
        console.print(f"stored as version {version} of {res.network.name!r} 已存为新版本")


def register(app: typer.Typer) -> None:
    """Add the dynamic commands to the ``simulate`` group."""
    app.command("pipe-test")(pipe_test)
    app.command("season")(season)
    app.command("ensemble")(ensemble)
    app.command("calibrate")(calibrate_cmd)


__all__ = ["register"]
