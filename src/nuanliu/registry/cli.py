"""``nuanliu registry import|demo|export``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from nuanliu.config import load_settings
from nuanliu.errors import NuanliuError

app = typer.Typer(no_args_is_help=True, help="The registry: regions to sensors (登记信息).")

DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the DuckDB file).")


def _open(db: str | None) -> Any:
    from nuanliu.store import open_store

    settings = load_settings()
    if not db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(db or settings.database_url)


def _fail(console: Console, exc: NuanliuError) -> None:
    console.print(f"[red]error:[/red] {exc.message}")
    raise typer.Exit(2)


@app.command("import")
def import_cmd(
    paths: list[Path] = typer.Argument(..., help="CSV files or .xlsx workbooks."),
    kind: str | None = typer.Option(
        None, "--kind", help="Kind of every CSV (default: from file name or header)."
    ),
    db: str | None = DbOpt,
) -> None:
    """Import registry rows; valid rows are stored, invalid rows listed (exit 1)."""
    from nuanliu.registry.importer import import_registry

    console = Console()
    try:
        with _open(db) as store:
            report = import_registry(store, list(paths), kind=kind)
    except NuanliuError as exc:
        _fail(console, exc)
        return
    table = Table("kind", "inserted", "updated", title=f"registry import: {report.source}")
    for name in sorted(set(report.inserted) | set(report.updated)):
        table.add_row(name, str(report.inserted.get(name, 0)), str(report.updated.get(name, 0)))
    console.print(table)
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if report.errors:
        errors = Table("file", "sheet", "row", "column", "problem", title="refused rows")
        for e in report.errors[:200]:
            errors.add_row(
                e["file"], e["sheet"] or "", str(e["row"]), e["column"] or "", e["problem"]
            )
        console.print(errors)
        if len(report.errors) > 200:
            console.print(f"… and {len(report.errors) - 200} more problems")
        raise typer.Exit(1)


@app.command("demo")
def demo_cmd(
    households: int = typer.Option(3000, "--households", help="Monitored households."),
    seed: int = typer.Option(0, "--seed"),
    baotou: bool = typer.Option(False, "--baotou", help="Add Baotou beside Hohhot."),
    network: str | None = typer.Option(
        None, "--network", help="Example network whose substations become the stations."
    ),
    db: str | None = DbOpt,
) -> None:
    """Build the demo city (Hohhot) registry; re-running refreshes it in place."""
    from nuanliu.registry.demo import build_demo_registry

    console = Console()
    try:
        net = None
        if network:
            from nuanliu.network.examples import load_example

            net = load_example(network)
        with _open(db) as store:
            demo = build_demo_registry(
                store, network=net, households=households, seed=seed, include_baotou=baotou
            )
    except NuanliuError as exc:
        _fail(console, exc)
        return
    table = Table("kind", "rows", title="demo registry")
    for name, n in demo.counts.items():
        table.add_row(name, str(n))
    console.print(table)


@app.command("export")
def export_cmd(
    out: Path = typer.Option(
        Path("registry.xlsx"), "--out", help=".xlsx workbook, or a folder for CSV files."
    ),
    db: str | None = DbOpt,
) -> None:
    """Export the whole registry in the import format."""
    from nuanliu.registry.export import export_registry

    console = Console()
    try:
        with _open(db) as store:
            counts = export_registry(store, out)
    except NuanliuError as exc:
        _fail(console, exc)
        return
    console.print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
