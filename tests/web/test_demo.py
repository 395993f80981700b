"""``nuanliu demo`` prepares a working platform and reuses it on a second run."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from nuanliu.web.demo import DemoOptions, LiveFeed, prepare


def test_demo_prepares_once_then_reuses_the_data_and_streams_live(tmp_path: Path) -> None:
    opts = DemoOptions(
        data_dir=tmp_path / "data",
        households=60,
        history_days=0.5,
        history_step=timedelta(minutes=30),
        live_step=timedelta(seconds=2),
        live_spinup=timedelta(minutes=10),
    )
    first = prepare(opts)
    try:
        assert first.registry_built
        assert (tmp_path / "data" / "nuanliu.duckdb").exists()
        roles = {login.role for login in first.logins}
        assert {"regulator", "enterprise_operator", "steward", "resident"} <= roles
        sensors = len(first.sensors)
        assert sensors >= 60
        # Half a day every 30 min for every sensor (a few may be simulated offline).
        assert first.history_rows > 0.8 * sensors * 24
        feed = LiveFeed(first.store, first.sensors, opts)
        feed.start()
        deadline = time.monotonic() + 30
        while feed.stored == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        feed.close()
        assert feed.stored > 0 and feed.rejected == 0
        with first.store.read() as q:
            quarantined = q.all("SELECT COUNT(*) FROM quarantine", [])[0][0]
        assert quarantined == 0
    finally:
        first.store.close()

    # Second run, through the command: the data is reused, nothing is built again.
    from nuanliu.cli import app

    result = CliRunner().invoke(
        app, ["demo", "--data-dir", str(opts.data_dir), "--households", "60",
              "--history-days", "0.5", "--prepare-only", "--port", "8123"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "building the demo city" not in result.output
    for login in first.logins:
        assert login.username in result.output
    assert "nuanliu-demo" in result.output and "http://127.0.0.1:8123/login" in result.output
    second = prepare(opts)
    try:
        assert not second.registry_built
        assert len(second.sensors) == sensors
        # Only the gap since the newest reading is simulated again (seconds, not hours).
        assert second.history_rows <= sensors * 2
    finally:
        second.store.close()
