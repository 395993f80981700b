"""CLI commands for nuanliu.web (filled in by its capability)."""

import typer

app = typer.Typer(no_args_is_help=True)
