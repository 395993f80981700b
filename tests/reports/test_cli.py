"""``nuanliu reports daily|weekly --scope … --date …`` archives and writes the files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nuanliu.monitor import open_monitored_store
from nuanliu.reports.archive import list_reports
from nuanliu.reports.cli import app
from tests.reports.town import build_town


def test_daily_and_weekly_from_the_command_line(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'cli.duckdb'}"
    store = open_monitored_store(url)
    build_town(store)
    store.close()
    runner = CliRunner()
    out = tmp_path / "out"
    r = runner.invoke(
        app, ["daily", "--scope", "city:C", "--date", "2026-11-30", "--db", url, "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "暖城供热日研判" in r.output and "热力2室温达标率50.0%" in r.output
    assert (out / "daily-city-C-2026-11-30.pdf").read_bytes().startswith(b"%PDF")
    r = runner.invoke(app, ["weekly", "--scope", "city:C", "--date", "2026-11-30", "--db", url])
    assert r.exit_code == 0, r.output
    bad = runner.invoke(app, ["daily", "--scope", "town:C", "--date", "2026-11-30", "--db", url])
    assert bad.exit_code == 2 and "level:id" in bad.output
    store = open_monitored_store(url)
    try:
        assert {(x.kind, x.scope_key) for x in list_reports(store)} == {
            ("daily", "city:C"),
            ("weekly", "city:C"),
        }
    finally:
        store.close()


@pytest.mark.parametrize(
    "args", [["daily", "--scope", "city:C"], ["weekly", "--date", "2026-11-30"]]
)
def test_missing_options_are_usage_errors(args: list[str]) -> None:
    assert CliRunner().invoke(app, args).exit_code == 2
