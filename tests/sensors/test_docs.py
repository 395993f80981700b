"""docs/simulator.md stays true to the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.sensors import FaultConfig

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def test_every_documented_option_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    synopsis = text[text.index("nuanliu sensors simulate [") :]
    synopsis = synopsis[: synopsis.index("```")]
    documented = set(re.findall(r"--[a-z][a-z-]+", synopsis))
    help_text = CliRunner().invoke(app, ["sensors", "simulate", "--help"], terminal_width=200)
    assert help_text.exit_code == 0
    offered = set(re.findall(r"--[a-z][a-z-]+", help_text.output))
    assert documented and documented <= offered, documented - offered


def test_every_fault_kind_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    kinds = {
        name.removesuffix("_fraction")
        for name in FaultConfig.__dataclass_fields__
        if name.endswith("_fraction")
    } | {"cold"}
    kinds.discard("cold_building")
    for kind in kinds:
        assert f"| `{kind}` |" in text, kind


def test_climate_command_prints_the_hohhot_facts() -> None:
    result = CliRunner().invoke(app, ["sensors", "climate"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "4525" in result.output and "-17.0" in result.output and "-21.9" in result.output
    bad = CliRunner().invoke(app, ["sensors", "climate", "--weather", "/nope.epw"])
    assert bad.exit_code == 2 and "not found" in bad.output
