"""CLI commands for nuanliu.api (filled in by its capability)."""

import typer

app = typer.Typer(no_args_is_help=True)
