"""The store a command-line tool works on, and how it reports a domain error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from nuanliu.errors import NuanliuError

#: exit status of a command refused for invalid input or a domain error
EXIT_INVALID = 2


@contextmanager
def cli_store(db: str | None, console: Console, *, monitored: bool = True) -> Iterator[Any]:
    """The store at ``db`` (else ``NUANLIU_DB_URL`` or the data directory's DuckDB file),
    migrated; with ``monitored`` the monitoring aggregates follow every write. A domain
    error, opening or within the block, is printed in red and exits with status 2."""
    from nuanliu.config import load_settings

    try:
        settings = load_settings()
        if not db:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        url = db or settings.database_url
        if monitored:
            from nuanliu.monitor.aggregates import open_monitored_store

            store = open_monitored_store(url)
        else:
            from nuanliu.store import open_store

            store = open_store(url)
            store.migrate()
    except NuanliuError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_INVALID) from exc
    try:
        yield store
    except NuanliuError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(EXIT_INVALID) from exc
    finally:
        store.close()
