"""``nuanliu hotline import`` twice stores each order once and reports bad lines."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nuanliu.hotline.cli import app
from nuanliu.monitor import open_monitored_store
from nuanliu.registry import build_demo_registry


def test_import_twice_from_the_command_line(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    store = open_monitored_store(url)
    build_demo_registry(store, households=20, seed=1)
    with store.read() as q:
        hid = q.scalar("SELECT MIN(household_id) FROM households")
    store.close()
    orders = tmp_path / "orders.csv"
    orders.write_text(f"工单编号,诉求内容,户号\nC1,冷,{hid}\nC2,冷,nowhere\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(app, ["import", str(orders), "--db", url])
    assert first.exit_code == 1 and "created 1" in first.output and "line 3" in first.output
    second = runner.invoke(app, ["import", str(orders), "--db", url])
    assert "created 0, duplicates 1, rejected 1" in second.output
    sweep = runner.invoke(app, ["sweep", "--db", url])
    assert sweep.exit_code == 0 and "breached" in sweep.output
