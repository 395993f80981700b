"""CLI commands for nuanliu.registry (filled in by its capability)."""

import typer

app = typer.Typer(no_args_is_help=True)
