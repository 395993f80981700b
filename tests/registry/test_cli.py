"""The registry and db commands, end to end on a DuckDB file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.store import open_store

runner = CliRunner()


def test_demo_export_and_reimport_round_trip(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'city.duckdb'}"
    result = runner.invoke(app, ["registry", "demo", "--households", "120", "--db", db])
    assert result.exit_code == 0, result.output
    out = tmp_path / "registry.xlsx"
    result = runner.invoke(app, ["registry", "export", "--out", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    other = f"duckdb:///{tmp_path / 'copy.duckdb'}"
    result = runner.invoke(app, ["registry", "import", str(out), "--db", other])
    assert result.exit_code == 0, result.output
    tables = ("regions", "stations", "communities", "households", "sensors")
    snapshots = []
    for url in (db, other):
        with open_store(url) as store, store.read() as q:
            snapshots.append({t: q.all(f"SELECT * FROM {t} ORDER BY 1") for t in tables})
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["households"]) == 120


def test_import_with_bad_rows_lists_them_and_exits_1(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'x.duckdb'}"
    csv = tmp_path / "regions.csv"
    csv.write_text(
        "region_id,parent_id,level,name_zh\n150000,,region,内蒙古\n150100,150000,town,呼和浩特市\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["registry", "import", str(csv), "--db", db])
    assert result.exit_code == 1
    assert "level" in result.output and "refused rows" in result.output
    result = runner.invoke(app, ["db", "info", "--db", db])
    assert result.exit_code == 0, result.output
    assert "duckdb" in result.output and "regions" in result.output


def test_migrate_command_reports_the_version(tmp_path: Path) -> None:
    db = f"duckdb:///{tmp_path / 'm.duckdb'}"
    result = runner.invoke(app, ["db", "migrate", "--to", "1", "--db", db])
    assert result.exit_code == 0 and "0001" in result.output
    result = runner.invoke(app, ["db", "migrate", "--db", db])
    assert result.exit_code == 0 and "0002" in result.output
