"""The ``nuanliu`` command. Each capability owns its sub-commands in its own module.

Start-up is lazy: a capability's CLI module (and whatever it imports — pandas, the
solver, the web stack) is imported only when one of its commands runs, so
``nuanliu --help`` and ``nuanliu simulate`` never load FastAPI, uvicorn, psycopg or
paho. The one thing declared here is :data:`SUBCOMMANDS`: for each top-level name, the
module whose Typer ``app`` provides it and the one-line help that ``nuanliu --help``
shows without importing the module (``tests/test_cli_startup.py`` checks that each
line matches the module's own help, so the two cannot drift apart).

A module's ``app`` provides a top-level name either as one of its own commands or
groups of that name (``nuanliu.sim.cli`` → ``simulate``; ``nuanliu.api.cli`` →
``serve`` and ``users``), or else, whole, as the group of that name
(``nuanliu.network.cli`` → ``nuanliu network …``).
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

try:  # recent typer vendors click; its groups raise and expect that copy's classes
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer uses click itself
    import click  # type: ignore[no-redef]


class Subcommand(NamedTuple):
    """A top-level command or group, provided by ``module``'s Typer ``app``."""

    name: str
    module: str
    help: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "simulate",
        "nuanliu.sim.cli",
        "Simulate a network: steady state, seasons, pipe tests, calibration (稳态/动态仿真).",
    ),
    Subcommand("serve", "nuanliu.api.cli", "Serve the API and the dashboard (运行服务)."),
    Subcommand(
        "demo",
        "nuanliu.web.cli",
        "Run Nuanliu locally: demo city, simulated sensors, dashboard. 运行演示平台。",
    ),
    Subcommand(
        "network", "nuanliu.network.cli", "Network model: check, convert, generate, examples."
    ),
    Subcommand("db", "nuanliu.store.cli", "The database: migrations and status."),
    Subcommand("registry", "nuanliu.registry.cli", "The registry: regions to sensors (登记信息)."),
    Subcommand(
        "ingest",
        "nuanliu.ingest.cli",
        "Ingest sensor readings from files or MQTT; refused rows go to quarantine.",
    ),
    Subcommand(
        "sensors", "nuanliu.sensors.cli", "Sensor simulator (传感器模拟): readings with faults."
    ),
    Subcommand("monitor", "nuanliu.monitor.cli", "Indoor-temperature monitoring (室温监测)."),
    Subcommand("users", "nuanliu.api.cli", "Accounts and roles (用户与角色)."),
    Subcommand("hotline", "nuanliu.hotline.cli", "Heating service hotline (供热服务热线)."),
    Subcommand(
        "scheduler",
        "nuanliu.scheduler.cli",
        "Periodic jobs: run the scheduler, list jobs (定时任务).",
    ),
    Subcommand(
        "telemetry",
        "nuanliu.telemetry.cli",
        "Station and source telemetry (站源遥测): ingest, simulate, fault detection.",
    ),
    # control: forecast, schedule, balance
    Subcommand(
        "forecast",
        "nuanliu.control.cli",
        "Load forecasts (负荷预测): backtest, import, train, predict.",
    ),
    Subcommand(
        "schedule",
        "nuanliu.control.cli",
        "Supply-temperature schedules (供水温度调度): propose, what-if.",
    ),
    Subcommand(
        "balance",
        "nuanliu.control.cli",
        "Hydraulic balancing (水力平衡): set-points and valve settings with their effect.",
    ),
    # regulator oversight (issue #9)
    Subcommand(
        "reports",
        "nuanliu.reports.cli",
        "Regulator reports: daily analysis and weekly dispatch (日研判、周调度).",
    ),
    Subcommand(
        "oversight",
        "nuanliu.oversight.cli",
        "Regulator oversight: orders, licences, evaluation (监管督办与考核).",
    ),
    # billing (issue 11)
    Subcommand(
        "meters", "nuanliu.meters.cli", "Heat meters (热量表): decode M-Bus and CJ/T 188 frames."
    ),
    Subcommand(
        "billing",
        "nuanliu.billing.cli",
        "Heat billing (供热收费): tariffs, billing runs, payments, statements.",
    ),
)

_BY_NAME: dict[str, Subcommand] = {s.name: s for s in SUBCOMMANDS}


def load_subcommand(name: str) -> click.Command:
    """Import the module that provides ``name`` and return its click command or group."""
    sub = _BY_NAME[name]
    module_app = importlib.import_module(sub.module).app
    # get_group, unlike get_command, adds no --install-completion options to a sub-group
    group = typer.main.get_group(module_app)
    cmd = group.commands.get(name)
    if cmd is None:  # the module's whole app is the group `name`
        cmd = group
        cmd.name = name
    return cmd


class _Listed(TyperCommand):
    """Stand-in for a not-yet-imported command in the ``nuanliu --help`` listing."""

    def __init__(self, sub: Subcommand) -> None:
        super().__init__(sub.name, help=sub.help, short_help=sub.help)


class LazyGroup(TyperGroup):
    """A Typer group whose :data:`SUBCOMMANDS` are imported when they are run."""

    _listing = False  # True while the help text is rendered

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in _BY_NAME if n not in self.commands)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in _BY_NAME:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return _Listed(_BY_NAME[cmd_name])
        cmd = load_subcommand(cmd_name)
        self.commands[cmd_name] = cmd
        return cmd

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return self._click_resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            # TyperGroup suggests from self.commands, which holds only what was imported
            from difflib import get_close_matches

            matches = get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches:
                exc.message = (
                    exc.message.rstrip(".")
                    + ". Did you mean "
                    + (", ".join(repr(m) for m in matches) + "?")
                )
            raise


app = typer.Typer(
    name="nuanliu",
    cls=LazyGroup,
    help="Nuanliu (暖流) smart district heating: network twin, monitoring, dispatch.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root() -> None:
    # a callback makes the app a group even though it registers no command itself
    pass


def main(argv: list[str] | None = None) -> Any:
    return app(args=argv)


if __name__ == "__main__":
    main()
