"""``nuanliu db migrate|info``."""

from __future__ import annotations

from pathlib import Path

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


@app.command("backup")
def backup_cmd(
    dest: Path = typer.Argument(..., help="New (or empty) directory for the backup."),
    db: str | None = DbOpt,
) -> None:
    """A consistent snapshot of the database with a manifest (recovery point, counts)."""
    from nuanliu.store import open_store
    from nuanliu.store.backup import backup_store

    console = Console()
    try:
        with open_store(_url(db), migrate=False) as store:
            info = backup_store(store, dest)
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
        if "DuckDB allows one process" in exc.message:
            console.print(
                "the platform is running on this file: its scheduler's db_backup job "
                "snapshots it into NUANLIU_BACKUP_DIR while it runs (docs/deploy.md)",
                soft_wrap=True,
            )
        raise typer.Exit(2) from exc
    console.print(f"backup     {dest} ({info.engine}, {info.method})")
    console.print(f"recovery point {info.snapshot_at.isoformat()}")
    console.print("counts     " + ", ".join(f"{k} {v:,}" for k, v in info.counts.items()))


@app.command("restore")
def restore_cmd(
    src: Path = typer.Argument(..., help="A directory written by `nuanliu db backup`."),
    db: str | None = DbOpt,
    force: bool = typer.Option(
        False, "--force", help="Restore over a non-empty database (kept aside, renamed)."
    ),
    replay_archive: Path | None = typer.Option(
        None, "--replay-archive", help="Raw MQTT archive to replay since the recovery point."
    ),
    margin_s: float = typer.Option(
        60.0, "--replay-margin-s", help="Replay from this long before the recovery point."
    ),
) -> None:
    """Restore a backup, then replay the archived ingest received since it."""
    from datetime import timedelta

    from nuanliu.store.backup import restore_backup

    console = Console()
    url = _url(db)
    try:
        info = restore_backup(src, url, force=force)
    except NuanliuError as exc:
        console.print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
        raise typer.Exit(2) from exc
    from nuanliu.store.url import parse_url

    console.print(f"restored   {src} into {parse_url(url).redacted()}")
    console.print(f"recovery point {info.snapshot_at.isoformat()}")
    console.print("counts     " + ", ".join(f"{k} {v:,}" for k, v in info.counts.items()))
    if replay_archive is None:
        return
    from nuanliu.ingest.archive import replay_archive as replay
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.monitor import open_monitored_store

    since = info.snapshot_at - timedelta(seconds=margin_s)
    with open_monitored_store(url) as store:
        report = replay(Ingestor(store), replay_archive, since)
        with store.read() as q:
            readings = int(q.scalar("SELECT count(*) FROM readings"))
    console.print(
        f"replayed   {report.messages} archived messages since {since.isoformat()}: "
        f"{report.ingest.summary()}"
    )
    console.print(f"readings   {readings:,} after replay")
