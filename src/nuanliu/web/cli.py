"""``nuanliu demo``: the whole platform on this machine with simulated sensors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("demo")
def demo(
    data_dir: Path = typer.Option(Path("data"), help="Where the embedded database lives."),
    host: str = typer.Option("127.0.0.1", help="Address the dashboard listens on."),
    port: int = typer.Option(8000, help="Port of the dashboard."),
    households: int = typer.Option(3000, min=1, help="Monitored households of the demo city."),
    history_days: float = typer.Option(7.0, min=0.0, help="Days of simulated history."),
    live_step_s: int = typer.Option(60, min=5, help="Seconds between live readings."),
    prepare_only: bool = typer.Option(False, help="Build the data, print logins, do not serve."),
    db: str = typer.Option(
        "", "--db", help="Store URL, e.g. postgresql://host/db (default: DuckDB in data-dir)."
    ),
    ingest_workers: int = typer.Option(
        2, min=0, help="PostgreSQL: MQTT ingest worker processes sharing one subscription."
    ),
) -> None:
    """Run Nuanliu locally: demo city, simulated sensors, dashboard. 运行演示平台。"""
    from nuanliu.web.demo import DemoOptions, prepare, run, where_to_click

    opts = DemoOptions(
        data_dir=data_dir,
        host=host,
        port=port,
        households=households,
        history_days=history_days,
        live_step=timedelta(seconds=live_step_s),
        db_url=db,
        ingest_workers=ingest_workers,
    )
    if prepare_only:
        prepared = prepare(opts, typer.echo)
        for login in prepared.logins:
            typer.echo(f"  {login.role:<20} {login.username:<26} {login.password}")
        for what, url in where_to_click(f"http://{host}:{port}", prepared.clicks):
            typer.echo(f"  {what:<24} {url}")
        prepared.store.close()
        return
    try:
        run(opts, typer.echo)
    except KeyboardInterrupt:
        typer.echo("stopped")
