"""``nuanliu hotline …``: import 12345 work orders, run the SLA sweep, print the rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from nuanliu.cli_store import cli_store

app = typer.Typer(no_args_is_help=True, help="Heating service hotline (供热服务热线).")
console = Console()
DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the data dir)")


@app.command("import")
def import_cmd(path: Path, db: str | None = DbOpt) -> None:
    """Import a 12345 export (CSV, XLSX or JSON); each order number once."""
    from nuanliu.hotline.imports import import_orders, parse_file
    from nuanliu.hotline.tickets import Actor
    from nuanliu.scope import Scope

    with cli_store(db, console) as store:
        rows = parse_file(path.read_bytes(), path.name)
        report = import_orders(
            store,
            rows,
            scope=Scope.everything(),
            actor=Actor("cli", "hotline_operator"),
            now=datetime.now(UTC),
            source=path.name,
        )
    console.print(
        f"received {report.received}: created {len(report.created)}, "
        f"duplicates {len(report.duplicates)}, rejected {len(report.rejected)}"
    )
    for r in report.rejected:
        console.print(f"  line {r['line']}: {r['reason']}")
    if report.rejected:
        raise typer.Exit(1)


@app.command("sweep")
def sweep_cmd(db: str | None = DbOpt) -> None:
    """Run the SLA sweep now: breaches, escalations, false-closure reopen."""
    from nuanliu.hotline.jobs import sla_sweep

    with cli_store(db, console) as store:
        console.print(sla_sweep(store, now=datetime.now(UTC)))


@app.command("rates")
def rates_cmd(
    level: str = typer.Option("city", help="city, county, enterprise, station, community"),
    days: int = typer.Option(30, help="the last N days"),
    db: str | None = DbOpt,
) -> None:
    """The 12345 rates and complaint rates per unit (响应率、解决率、满意率)."""
    from nuanliu.hotline.stats import rates_frame
    from nuanliu.scope import Scope

    end = datetime.now(UTC)
    with cli_store(db, console) as store:
        df = rates_frame(store, Scope.everything(), level, end - timedelta(days=days), end)
    table = Table(
        "unit",
        "opened 受理",
        "closed 办结",
        "response 响应率",
        "resolution 解决率",
        "satisfaction 满意率",
        "per 1000 homes",
        "breach 超时率",
    )
    pct = lambda v: "–" if v is None or v != v else f"{v * 100:.1f}%"  # noqa: E731
    for r in df.itertuples(index=False):
        table.add_row(
            str(r.unit_id),
            str(r.opened),
            str(r.closed),
            pct(r.response_rate),
            pct(r.resolution_rate),
            pct(r.satisfaction_rate),
            "–" if r.per_1000_households is None else f"{r.per_1000_households:.1f}",
            pct(r.breach_rate),
        )
    console.print(table)
