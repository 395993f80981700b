"""``nuanliu billing …``: tariffs, billing runs, payment imports, statements."""

from __future__ import annotations

import typer

app = typer.Typer(
    no_args_is_help=True,
    help="Heat billing (供热收费): tariffs, billing runs, payments, statements.",
)


@app.callback()
def _group() -> None:
    """Heat billing (供热收费): tariffs, billing runs, payments, statements."""
