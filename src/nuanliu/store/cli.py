"""``nuanliu db migrate|info``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from nuanliu.config import load_settings
from nuanliu.errors import NuanliuError

app = typer.Typer(no_args_is_help=True, help="The database: migrations and status.")

DbOpt = typer.Option(None, "--db", help="Store URL (default: NUANLIU_DB_URL or the DuckDB file).")


def _url(db: str | None) -> str:
    settings = load_settings()
    if not db:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return db or settings.database_url


@app.command("migrate")
def migrate_cmd(
    db: str | None = DbOpt,
    target: int | None = typer.Option(None, "--to", help="Stop at this version."),
) -> None:
    """Apply pending schema migrations."""
    from nuanliu.store import open_store

    console = Console()
    try:
        with open_store(_url(db), migrate=False) as store:
            applied = store.migrate(target=target)
            version = store.schema_version()
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    done = ", ".join(f"{v:04d}" for v in applied) if applied else "nothing to apply"
    console.print(f"schema version {version:04d} ({done})")


@app.command("info")
def info_cmd(
    db: str | None = DbOpt,
    read_only: bool = typer.Option(
        False, "--read-only", help="DuckDB: inspect a file another process is serving."
    ),
) -> None:
    """Engine, schema version, pending migrations and row counts."""
    from nuanliu.store import open_store
    from nuanliu.store.migrate import load_migrations

    console = Console()
    try:
        with open_store(_url(db), migrate=False, read_only=read_only) as store:
            version = store.schema_version()
            pending = [m for m in load_migrations() if m.version > version]
            with store.read() as q:
                names = [n for n in q.table_names() if n != "household_context"]
                counts = {n: q.scalar(f"SELECT count(*) FROM {n}") for n in names}
            caps = store.caps
            url = store.url.redacted()
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    console.print(f"store      {url}")
    console.print(
        f"engine     {caps.engine} (bulk append: {caps.bulk_append}, "
        f"readings idempotency: {caps.readings_idempotency})"
    )
    console.print(f"version    {version:04d}" + (f", {len(pending)} pending" if pending else ""))
    table = Table("table", "rows")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
