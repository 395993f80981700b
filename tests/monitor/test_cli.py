"""``nuanliu monitor …`` on a DuckDB file holding the hand-built city."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.monitor import open_monitored_store
from tests.monitor.city import DAY, build_city, day_readings, readings_table

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    store = open_monitored_store(url)
    try:
        city = build_city(store)
        store.insert_readings(readings_table(day_readings(city)))
    finally:
        store.close()
    return url


def run(*args: str) -> str:
    result = runner.invoke(app, ["monitor", *args], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def test_compliance_table_has_bilingual_headers_and_rates(db: str) -> None:
    out = run("compliance", "--db", db, "--level", "station", "--day", DAY.isoformat())
    assert "达标率 Rate" in out and "户数 Households" in out
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if "│ S" in line}
    assert "71.4%" in lines["S1"]  # 5 of 7
    assert "100.0%" in lines["S2"]
    assert "60.0%" in lines["S3"]


def test_cold_overheated_offline_suspicious_and_alerts(db: str) -> None:
    day = DAY.isoformat()
    cold = run("cold", "--db", db, "--day", day)
    assert "B4-H5" in cold and "B2-H3" in cold and "B1-H1" not in cold
    hot = run("overheated", "--db", db, "--day", day)
    assert "B4-H4" in hot and "B2-H2" in hot
    off = run("offline", "--db", db, "--at", f"{day}T23:59:00+08:00")
    assert "无数据 / no rows" in off
    off = run("offline", "--db", db, "--at", f"{day}T23:59:00+08:00", "--silent-h", "0.1")
    assert "B1-H1-T1" in off  # last reading 23:50, silent 9 min > 6 min
    run("suspicious", "--db", db, "--day", day)
    out = run("alerts", "evaluate", "--db", db, "--at", f"{day}T23:59:00+08:00")
    assert "新增 raised" in out
    listed = run("alerts", "list", "--db", db)
    assert "B4-H5" in listed and "S3" in listed
    rules = run("alerts", "rules", "--db", db)
    assert "cold-16c-6h" in rules
    ack = run("alerts", "ack", "1", "--by", "duty-engineer", "--db", db)
    assert "duty-engineer" in ack
    acked = run("alerts", "list", "--db", db, "--state", "acknowledged")
    assert "duty-engineer" in acked
    bad = runner.invoke(app, ["monitor", "alerts", "ack", "999", "--by", "x", "--db", db])
    assert bad.exit_code != 0 and "999" in bad.output
