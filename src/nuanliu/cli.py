"""The ``nuanliu`` command. Each capability owns its sub-commands in its own module."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="nuanliu",
    help="Nuanliu (暖流) smart district heating: network twin, monitoring, dispatch.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# (module, attribute, command group name or None to merge its commands at top level)
_SUBCOMMANDS: list[tuple[str, str, str | None]] = [
    ("nuanliu.network.cli", "app", "network"),
    ("nuanliu.sim.cli", "app", None),  # nuanliu simulate
    ("nuanliu.store.cli", "app", "db"),
    ("nuanliu.registry.cli", "app", "registry"),
    ("nuanliu.ingest.cli", "app", "ingest"),
    ("nuanliu.sensors.cli", "app", "sensors"),
    ("nuanliu.monitor.cli", "app", "monitor"),
    ("nuanliu.api.cli", "app", None),  # nuanliu serve
    ("nuanliu.web.cli", "app", None),  # nuanliu demo
]


def _register() -> None:
    for module_name, attr, group in _SUBCOMMANDS:
        sub = getattr(importlib.import_module(module_name), attr)
        if group is None:
            app.registered_commands.extend(sub.registered_commands)
            app.registered_groups.extend(sub.registered_groups)
        else:
            app.add_typer(sub, name=group)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
