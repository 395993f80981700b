"""The ``nuanliu`` command starts fast: it imports a capability only when it runs."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nuanliu.cli import SUBCOMMANDS, app, load_subcommand

SRC = Path(__file__).resolve().parents[1] / "src"

#: what the dashboard, the API server, PostgreSQL and MQTT bring in
WEB_AND_SERVICES = ("fastapi", "starlette", "uvicorn", "jinja2", "psycopg", "psycopg_pool", "paho")

_RUN = """
import json, sys
from nuanliu.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    code = exc.code
else:
    code = 0
json.dump({{"code": code, "modules": sorted(sys.modules)}}, open({out!r}, "w"))
"""


def _run(argv: list[str], tmp_path: Path) -> tuple[int, set[str], str]:
    """``nuanliu *argv`` in a fresh interpreter: exit code, imported modules, output."""
    out = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", _RUN.format(argv=argv, out=str(out))],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(SRC), "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert out.exists(), proc.stderr
    doc = json.loads(out.read_text())
    return doc["code"], set(doc["modules"]), proc.stdout + proc.stderr


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_help_lists_every_command_without_importing_any(tmp_path: Path) -> None:
    code, modules, output = _run(["--help"], tmp_path)
    assert code == 0, output
    for sub in SUBCOMMANDS:
        assert sub.name in output and sub.help in output, sub.name
    assert not _top(modules) & {*WEB_AND_SERVICES, "pandas", "numpy", "scipy", "pyarrow"}
    assert not {m for m in modules if m.startswith("nuanliu.")} - {"nuanliu.cli"}


def test_simulate_imports_neither_the_web_stack_nor_other_capabilities(tmp_path: Path) -> None:
    from nuanliu.network.generate import generate_city
    from nuanliu.network.io import write_network

    path = write_network(generate_city(300, seed=7), tmp_path / "city.geojson")
    code, modules, output = _run(["simulate", str(path)], tmp_path)
    assert code == 0, output
    assert "heat delivered" in output
    assert not _top(modules) & set(WEB_AND_SERVICES)
    others = {"api", "web", "store", "ingest", "monitor", "registry", "sensors"}
    assert not {m.split(".")[1] for m in modules if m.startswith("nuanliu.")} & others
    assert "pandapipes" not in _top(modules) and "numba" not in _top(modules)


def test_each_declared_help_line_is_the_modules_own() -> None:
    """The listing in cli.py cannot drift from what each capability declares."""
    for sub in SUBCOMMANDS:
        cmd = load_subcommand(sub.name)
        first_line = inspect.cleandoc(cmd.help or "").splitlines()[0]
        assert first_line == sub.help, sub.name


def test_every_capability_cli_module_is_registered() -> None:
    registered = {sub.module for sub in SUBCOMMANDS}
    on_disk = {
        "nuanliu." + ".".join(p.relative_to(SRC / "nuanliu").with_suffix("").parts)
        for p in (SRC / "nuanliu").glob("*/cli.py")
    }
    assert on_disk == registered


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["network", "--help"], "check"),  # a group
        (["users", "--help"], "create"),  # a group inside another module's app
        (["simulate", "--help"], "--outdoor-temp"),  # a command merged at top level
    ],
)
def test_lazy_commands_run_as_before(argv: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, argv, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_a_mistyped_command_gets_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["netwrk"])
    assert result.exit_code == 2
    assert "Did you mean 'network'?" in result.output
