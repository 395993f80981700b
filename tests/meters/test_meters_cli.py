"""``nuanliu meters decode``: table or JSON for a good frame, exit 1 for a bad one."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from nuanliu.meters.cli import app

FRAME = Path("/work/shared/data/meters/mbus/engelmann_sensostar2c.hex")
runner = CliRunner()


def test_decode_file_as_json() -> None:
    out = runner.invoke(app, ["decode", str(FRAME), "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["energy_gj"] == "2.88" and doc["meter_address"] == "10380010"


def test_decode_hex_table_and_cjt188() -> None:
    from datetime import datetime
    from decimal import Decimal

    from nuanliu.meters import cjt188

    d = cjt188.HeatMeterData(
        *(cjt188.Quantity(Decimal("1.00"), u) for u in ("GJ", "GJ", "kW", "m³/h", "m³")),
        Decimal("50.00"), Decimal("40.00"), 10, datetime(2026, 12, 1), 0,
    )  # fmt: skip
    hexed = cjt188.build_answer("12345678901234", d).hex(" ")
    out = runner.invoke(app, ["decode", hexed, "--protocol", "cjt188"])
    assert out.exit_code == 0, out.output
    assert "12345678901234" in out.output and "energy_gj" in out.output


def test_bad_frame_exits_non_zero_with_offset(tmp_path: Path) -> None:
    bad = tmp_path / "cut.hex"
    bad.write_text(FRAME.read_text()[:60])
    out = runner.invoke(app, ["decode", str(bad)])
    assert out.exit_code == 1
    assert "byte" in out.output and "truncated" in out.output
    out = runner.invoke(app, ["decode", "68 zz", "--json"])
    assert out.exit_code == 1 and json.loads(out.output)["error"]["code"] == "bad_frame"
