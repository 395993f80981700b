"""``nuanliu forecast …``, ``nuanliu schedule …`` and ``nuanliu balance``.

Exit codes: 0 done, 2 invalid input, 3 infeasible (a schedule that cannot meet its
constraints; the message names stations and hours).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from nuanliu.errors import Infeasible, NuanliuError

FORECAST_HELP = "Load forecasts (负荷预测): backtest, import, train, predict."
SCHEDULE_HELP = "Supply-temperature schedules (供水温度调度): propose, what-if."
BALANCE_HELP = "Hydraulic balancing (水力平衡): set-points and valve settings with their effect."

app = typer.Typer(no_args_is_help=True)
forecast_app = typer.Typer(no_args_is_help=True, help=FORECAST_HELP)
schedule_app = typer.Typer(no_args_is_help=True, help=SCHEDULE_HELP)
app.add_typer(forecast_app, name="forecast", help=FORECAST_HELP)
app.add_typer(schedule_app, name="schedule", help=SCHEDULE_HELP)
console = Console()

DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the data dir)")
NetOpt = typer.Option("tuoketuo-hohhot", "--network", help="Example name or network file")


def _fail(exc: NuanliuError) -> typer.Exit:
    console.print(f"[red]{exc.message}[/red]")
    return typer.Exit(3 if isinstance(exc, Infeasible) else 2)


@contextmanager
def _store(db: str | None) -> Iterator[Any]:
    from nuanliu.config import load_settings
    from nuanliu.store import open_store

    url = db or load_settings().database_url
    try:
        store = open_store(url)
    except NuanliuError as exc:
        raise _fail(exc) from exc
    try:
        yield store
    finally:
        store.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _table(df: Any, title: str) -> Table:
    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.kind in "fi" else "left")
    for row in df.itertuples(index=False):
        t.add_row(*[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
    return t


# ------------------------------------------------------------------ forecast

SHORT_NAMES = {
    "horizon": "horizon",
    "forecaster": "forecaster",
    "hourly_mape_pct": "MAPE h %",
    "hourly_cvrmse_pct": "CV(RMSE) h %",
    "hourly_bias_pct": "bias h %",
    "daily_mape_pct": "MAPE day %",
    "daily_cvrmse_pct": "CV(RMSE) day %",
    "daily_bias_pct": "bias day %",
    "hours": "hours",
    "days": "days",
}


def short_table(table: Any) -> Any:
    """The metrics table with the short column names printed and written to docs."""
    return table[list(SHORT_NAMES)].rename(columns=SHORT_NAMES)


@forecast_app.command("backtest")
def backtest_cmd(
    load: Path = typer.Option(
        None, "--load", help="Hourly series CSV: a timestamp and a load column"
    ),
    weather: Path = typer.Option(
        None, "--weather", help="Weather CSV (timestamp + outdoor temperature)"
    ),
    dataset: str = typer.Option(
        None, "--dataset", help="Shipped real data instead: bronderslev | tartu"
    ),
    train_until: str = typer.Option(..., "--train-until", help="First test hour (train before it)"),
    test_until: str = typer.Option(
        None, "--test-until", help="End of the test period (default: data end)"
    ),
    days_ahead: str = typer.Option("1,7", "--days-ahead", help="Bands to test, e.g. 1,2,7"),
    tz: str = typer.Option("UTC", "--tz", help="Zone of naive timestamps and of the local day"),
    country: str = typer.Option(
        None, "--country", help="Holidays of this country (ISO code, e.g. CN)"
    ),
    ts_column: str = typer.Option(None, "--ts-column"),
    load_column: str = typer.Option(None, "--load-column"),
    temp_column: str = typer.Option(None, "--temp-column"),
    refit_days: int = typer.Option(
        None, "--refit-days", help="Retrain every N days (expanding window)"
    ),
    out: Path = typer.Option(None, "--out", help="Write the metrics table (CSV) here"),
) -> None:
    """Rolling-origin backtest of the forecaster against the baselines; prints the metrics table."""
    from nuanliu.control import datasets
    from nuanliu.control.backtest import run_backtest
    from nuanliu.control.series import prepare

    try:
        if dataset:
            frames = {"bronderslev": datasets.bronderslev, "tartu": datasets.tartu}
            if dataset not in frames:
                raise typer.BadParameter(f"--dataset: bronderslev or tartu, not {dataset!r}")
            frame = frames[dataset]()
            tz = (
                {"bronderslev": "Europe/Copenhagen", "tartu": "Europe/Tallinn"}[dataset]
                if tz == "UTC"
                else tz
            )
            country = country or {"bronderslev": "DK", "tartu": "EE"}[dataset]
        elif load is not None:
            frame = datasets.read_load_csv(
                load,
                weather=weather,
                ts_column=ts_column,
                load_column=load_column,
                temp_column=temp_column,
                tz=tz,
                site_id=load.stem,
            )
        else:
            raise typer.BadParameter("give --load CSV (or --dataset)")
        bands = tuple(int(x) for x in days_ahead.split(",") if x.strip())
        results = []
        series = prepare(frame)
        with _progress() as prog:
            for s in series.values():
                task = prog.add_task(f"backtest {s.site_id}", total=1)
                bt = run_backtest(
                    s,
                    train_until=train_until,
                    test_until=test_until,
                    days_ahead=bands,
                    tz=tz,
                    country=country,
                    refit_days=refit_days,
                    on_progress=lambda d, n, task=task: prog.update(task, completed=d, total=n),
                )
                results.append(bt)
    except NuanliuError as exc:
        raise _fail(exc) from exc
    for bt in results:
        console.print(
            _table(
                short_table(bt.table), f"{bt.site_id}: backtest 回测 (trained before {train_until})"
            )
        )
        for n in bt.notes:
            console.print(f"• {n}")
        if out is not None:
            bt.table.to_csv(out, index=False)
            console.print(f"metrics → {out}")


@forecast_app.command("import")
def import_cmd(
    load: Path = typer.Option(..., "--load", help="Hourly series CSV"),
    site: str = typer.Option(..., "--site", help="Station or source id the series belongs to"),
    weather: Path = typer.Option(None, "--weather"),
    tz: str = typer.Option("Asia/Shanghai", "--tz"),
    db: str | None = DbOpt,
) -> None:
    """Store an hourly load series as training history for a station or source."""
    from nuanliu.control import datasets
    from nuanliu.control import store as cstore

    try:
        frame = datasets.read_load_csv(load, weather=weather, tz=tz, site_id=site)
        with _store(db) as store:
            n = cstore.save_history(store, frame)
    except NuanliuError as exc:
        raise _fail(exc) from exc
    console.print(f"{n} hour(s) stored for {site}")


def _train_one(args: tuple[Any, ...]) -> dict[str, Any]:
    """Train one site's model (runs on a Dask worker); returns the model bytes.

    ``args``: site, frame, train-until, zone, holiday country[, bands (default 1…7)]."""
    from nuanliu.control import forecaster
    from nuanliu.control.series import prepare

    site, frame, until, tz, country, *rest = args
    bands = tuple(rest[0]) if rest else (1, 2, 3, 4, 5, 6, 7)
    s = prepare(frame)[site]
    try:
        m = forecaster.train(s, train_until=until, tz=tz, country=country, days_ahead=bands)
    except NuanliuError as exc:
        return {"site": site, "error": exc.message}
    return {"site": site, "blob": m.to_bytes(), "notes": s.report.messages}


def train_sites(
    store: Any,
    *,
    sites: list[str] | None,
    train_until: datetime,
    tz: str,
    country: str | None,
    workers: int,
    scheduler: str | None,
    on_done: Any = None,
) -> list[dict[str, Any]]:
    """Train a model per site from the store's history, fanned out on Dask; store them."""
    import pandas as pd

    from nuanliu.control import store as cstore
    from nuanliu.control.forecaster import ForecastModel
    from nuanliu.distributed import run_tasks

    start = pd.Timestamp(train_until) - pd.Timedelta(days=3 * 365)
    hist = cstore.load_history(store, start=start, end=train_until, site_ids=sites)
    items = [(str(s), part, str(train_until), tz, country) for s, part in hist.groupby("site_id")]
    done = run_tasks(_train_one, items, workers=workers, scheduler=scheduler, on_done=on_done)
    out = []
    for r in done:
        if "blob" in r:
            model = ForecastModel.from_bytes(r["blob"])
            r["model_id"] = cstore.save_model(store, model, r["notes"])
            del r["blob"]
        out.append(r)
    missing = sorted(set(sites or []) - {r["site"] for r in out})
    out += [
        {
            "site": s,
            "error": "no history in the store (forecast falls back to the design-heat estimate)",
        }
        for s in missing
    ]
    return out


@forecast_app.command("train")
def train_cmd(
    train_until: str = typer.Option(None, "--train-until", help="Default: now"),
    site: list[str] = typer.Option(
        None, "--site", help="Sites to train (default: every site with history)"
    ),
    tz: str = typer.Option("Asia/Shanghai", "--tz"),
    country: str = typer.Option("CN", "--country"),
    workers: int = typer.Option(2, "--workers", help="Dask worker processes (0: in this process)"),
    scheduler: str = typer.Option(
        None, "--scheduler", help="An existing Dask scheduler, tcp://host:8786"
    ),
    db: str | None = DbOpt,
) -> None:
    """Train one versioned model per station/source from the stored history (on Dask)."""
    import pandas as pd

    until = pd.Timestamp(train_until or datetime.now(UTC))
    until = until.tz_localize("UTC") if until.tzinfo is None else until
    try:
        with _store(db) as store, _progress() as prog:
            task = prog.add_task("training", total=None)
            res = train_sites(
                store,
                sites=site or None,
                train_until=until,
                tz=tz,
                country=country,
                workers=workers,
                scheduler=scheduler,
                on_done=lambda d, n: prog.update(task, completed=d, total=n),
            )
    except NuanliuError as exc:
        raise _fail(exc) from exc
    t = Table(title="models 预测模型")
    for c in ("site", "model", "note"):
        t.add_column(c)
    for r in res:
        t.add_row(r["site"], r.get("model_id", "—"), r.get("error", ""))
    console.print(t)


@forecast_app.command("predict")
def predict_cmd(
    site: str = typer.Option(..., "--site"),
    start: str = typer.Option(None, "--start", help="Origin (default: today 00:00 Asia/Shanghai)"),
    hours: int = typer.Option(48, "--hours"),
    weather: Path = typer.Option(
        None, "--weather", help="Weather forecast CSV for the hours ahead"
    ),
    db: str | None = DbOpt,
) -> None:
    """Forecast a site's next hours with its latest model and store the forecast."""
    import numpy as np
    import pandas as pd

    from nuanliu.control import datasets, forecaster
    from nuanliu.control import store as cstore
    from nuanliu.control.series import prepare

    origin = pd.Timestamp(start) if start else pd.Timestamp.now(tz="Asia/Shanghai").normalize()
    origin = origin.tz_localize("Asia/Shanghai") if origin.tzinfo is None else origin
    try:
        with _store(db) as store:
            model = cstore.latest_model(store, site)
            if model is None:
                raise typer.BadParameter(
                    f"no model for {site!r}: run `nuanliu forecast train --site {site}` first"
                )
            hist = cstore.load_history(
                store, start=origin - pd.Timedelta(days=21), end=origin, site_ids=[site]
            )
            idx = pd.date_range(origin.tz_convert("UTC"), periods=hours, freq="h")
            fut = pd.DataFrame({"site_id": site, "ts": idx, "heat_kw": np.nan})
            if weather is not None:
                w = datasets.read_weather_csv(weather, tz="Asia/Shanghai")
                fut = fut.merge(w, on="ts", how="left")
            s = prepare(pd.concat([hist, fut], ignore_index=True))[site]
            days = (
                idx.tz_convert(model.tz).normalize() - origin.tz_convert(model.tz).normalize()
            ).days + 1
            out = pd.DataFrame(index=idx, columns=["forecast_kw", "fallback", "days_ahead"])
            for k in sorted(set(days)):
                band = min(max(k, 1), max(model.days_ahead))
                p = forecaster.predict(model, s, band).reindex(idx)
                sel = days == k
                out.loc[sel, "forecast_kw"] = p.loc[sel, "forecast_kw"]
                out.loc[sel, "fallback"] = p.loc[sel, "fallback"]
                out.loc[sel, "days_ahead"] = band
            out["forecast_kw"] = out["forecast_kw"].astype(float)
            n = cstore.save_forecasts(store, site, origin.to_pydatetime(), model.version, out)
    except NuanliuError as exc:
        raise _fail(exc) from exc
    missing = int(out["forecast_kw"].isna().sum())
    console.print(f"{n} hour(s) forecast and stored for {site} (model {model.version})")
    if missing:
        console.print(
            f"[yellow]{missing} hour(s) without a forecast"
            " (no load in the week before the origin)[/yellow]"
        )


# ------------------------------------------------------------------ schedule


@schedule_app.command("propose")
def propose_cmd(
    network: str = NetOpt,
    start: str = typer.Option(None, "--start", help="First hour (default: next local midnight)"),
    hours: int = typer.Option(48, "--hours"),
    weather: str = typer.Option(
        "hohhot", "--weather", help="Shipped weather name or EPW file (forecast stand-in)"
    ),
    save: bool = typer.Option(False, "--save", help="Store the proposal for the dispatch page"),
    db: str | None = DbOpt,
) -> None:
    """Propose a supply-temperature schedule beside the heating curve; print savings."""
    import time

    import pandas as pd

    from nuanliu.control import service

    t0 = (
        pd.Timestamp(start)
        if start
        else pd.Timestamp.now(tz="Asia/Shanghai").normalize() + pd.Timedelta(days=1)
    )
    t0 = t0.tz_localize("Asia/Shanghai") if t0.tzinfo is None else t0
    try:
        with _progress() as prog:
            prog.add_task("twin, forecast, optimisation…", total=None)
            c0 = time.perf_counter()
            prop = service.propose(network, start=t0, hours=hours, weather=weather)
            elapsed = time.perf_counter() - c0
        if save:
            from nuanliu.control import store as cstore

            with _store(db) as store:
                sid = cstore.save_schedule(
                    store,
                    network=network,
                    enterprise_id=None,
                    hourly=prop.schedule.hourly,
                    sp_ids=prop.problem.sp_ids,
                    curve=prop.curve_c,
                    cost=prop.schedule.cost,
                    curve_cost=prop.curve.cost,
                    status="proposed",
                    now=datetime.now(UTC),
                )
            console.print(f"saved as schedule {sid}")
    except NuanliuError as exc:
        raise _fail(exc) from exc
    h = prop.schedule.hourly
    show = pd.DataFrame(
        {
            "local time": h.index.tz_convert("Asia/Shanghai").strftime("%m-%d %H:%M"),
            "outdoor °C": prop.outdoor_c,
        }
    )
    for k, sp in enumerate(prop.problem.sp_ids):
        show[f"{sp} schedule °C"] = h[f"supply_temp_c[{sp}]"].to_numpy()
        show[f"{sp} curve °C"] = prop.curve_c[k]
    show["heat MW"] = h["heat_delivered_mw"].to_numpy()
    console.print(_table(show.iloc[::3], f"{network}: proposed schedule 调度方案 (every 3rd hour)"))
    sv = prop.savings
    console.print(
        f"heat {sv['heat_mwh']:,.0f} MWh ({sv['heat_pct']:.1f} %), "
        f"losses {sv['loss_mwh']:,.0f} MWh, pumps {sv['pump_mwh']:,.0f} MWh, "
        f"cost {sv['cost_yuan']:,.0f} 元 saved against the heating curve; cold station-hours: "
        f"curve {sv['curve_cold_station_hours']:.0f}, "
        f"schedule {sv['schedule_cold_station_hours']:.0f}"
    )
    console.print(f"solved in {elapsed:.1f} s ({prop.schedule.iterations} LP iterations, HiGHS)")
    for w in prop.schedule.warnings:
        console.print(f"[yellow]• {w}[/yellow]")


def _whatif_day(args: tuple[str, str, int, str]) -> dict[str, Any]:
    from nuanliu.control import service

    network, start, hours, weather = args
    try:
        prop = service.propose(network, start=start, hours=hours, weather=weather)
    except NuanliuError as exc:
        return {"start": start, "error": exc.message}
    return {"start": start, **{k: round(v, 1) for k, v in prop.savings.items()}}


@schedule_app.command("whatif")
def whatif_cmd(
    network: str = NetOpt,
    start: str = typer.Option(..., "--start", help="First day (local date, e.g. 2027-01-05)"),
    days: int = typer.Option(7, "--days"),
    hours: int = typer.Option(48, "--hours"),
    weather: str = typer.Option("hohhot", "--weather"),
    workers: int = typer.Option(2, "--workers", help="Dask worker processes (0: in this process)"),
    scheduler: str = typer.Option(
        None, "--scheduler", help="An existing Dask scheduler, tcp://host:8786"
    ),
) -> None:
    """What-if schedules for many days at once, fanned out on Dask; savings per day."""
    import pandas as pd

    from nuanliu.distributed import run_tasks

    first = pd.Timestamp(start).tz_localize("Asia/Shanghai")
    items = [(network, str(first + pd.Timedelta(days=d)), hours, weather) for d in range(days)]
    with _progress() as prog:
        task = prog.add_task("what-if days", total=len(items))
        rows = run_tasks(
            _whatif_day,
            items,
            workers=workers,
            scheduler=scheduler,
            on_done=lambda d, n: prog.update(task, completed=d),
        )
    console.print(_table(pd.DataFrame(rows), f"{network}: what-if schedules 情景调度"))


# ------------------------------------------------------------------ balance


@app.command("balance", help=BALANCE_HELP)
def balance_cmd(
    network: str = NetOpt,
    outdoor: float = typer.Option(None, "--outdoor-temp", help="Outdoor °C (default: design)"),
    out: Path = typer.Option(None, "--out", help="Write the valve pre-settings (CSV) here"),
) -> None:
    from nuanliu.control import service
    from nuanliu.control.balance import recommend

    try:
        res = recommend(service.load_network(network), outdoor_temp_c=outdoor)
    except NuanliuError as exc:
        raise _fail(exc) from exc
    console.print(_table(res.setpoints, "Δp set-points 压差设定"))
    console.print(_table(res.effect.astype(str), "expected effect (twin) 预期效果"))
    v = res.valves.sort_values("excess_bar", ascending=False).head(15)
    console.print(_table(v, "balancing-valve pre-settings 平衡阀预设 (15 largest excess)"))
    for n in res.notes:
        console.print(f"[yellow]• {n}[/yellow]")
    if out is not None:
        res.valves.to_csv(out, index=False)
        console.print(f"valve pre-settings → {out}")
