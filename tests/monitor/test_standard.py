"""The standard the platform reports against: household status from the daily mean,
and a per-city compliance target shared by colours, charts and the station rule."""

from __future__ import annotations

from typing import Any

import pytest

from nuanliu.errors import InvalidInput
from nuanliu.monitor.standard import (
    DEFAULT_TARGET_PCT,
    household_status,
    rate_band,
    set_compliance_target,
    target_pct,
)


def fact(reporting: int, compliant: int = 0, cold: int = 0, hot: int = 0) -> dict[str, Any]:
    return {"reporting_households": reporting, "compliant_households": compliant,
            "cold_households": cold, "overheated_households": hot}  # fmt: skip


def test_status_follows_the_daily_facts() -> None:
    assert household_status(fact(0)) == "offline"
    assert household_status(fact(1, cold=1)) == "cold"
    assert household_status(fact(1, compliant=1, hot=1)) == "overheated"
    assert household_status(fact(1, compliant=1)) == "ok"
    assert household_status(fact(1)) == "low"


def test_bands_follow_the_target() -> None:
    assert rate_band(98.0) == "good" and rate_band(95.0) == "warn" and rate_band(80.0) == "bad"
    assert rate_band(91.0, target=90.0) == "good"
    assert rate_band(None) == "none"


def test_a_city_target_drives_the_station_rule(db_url: str) -> None:
    from datetime import UTC, datetime

    from nuanliu.monitor import open_monitored_store
    from nuanliu.monitor.alerts import evaluate_alerts, list_alerts
    from nuanliu.scope import Scope
    from tests.web.world import World, plan_temperatures, raise_alerts, seed_readings, seed_registry

    w = World(store=open_monitored_store(db_url), now=datetime.now(UTC))
    try:
        seed_registry(w.store, w)
        plan_temperatures(w)
        seed_readings(w.store, w)
        raise_alerts(w)

        def failing() -> set[str]:
            df = list_alerts(w.store, Scope.everything())
            return set(df[df["rule_id"] == "station-compliance-target"]["subject_id"])

        assert target_pct(w.store, ["HHHT", "NM"]) == DEFAULT_TARGET_PCT
        assert failing() == {"SEB2"}  # its homes are cold: 0 % against 98 %
        set_compliance_target(w.store, "NM", 0.0)  # the region's; the city has none
        assert target_pct(w.store, ["HHHT", "NM"]) == 0.0
        evaluate_alerts(w.store, w.now, deliver=False)
        assert failing() == set()  # nothing is below 0 %
        set_compliance_target(w.store, "HHHT", 99.0)  # the city's wins over the region's
        evaluate_alerts(w.store, w.now, deliver=False)
        assert failing() == {"SEB2"}
        with pytest.raises(InvalidInput):
            set_compliance_target(w.store, "HHHT", 120.0)
    finally:
        w.store.close()


def test_target_command_sets_and_shows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from nuanliu.monitor.cli import app

    url = f"duckdb:///{tmp_path / 't.duckdb'}"
    runner = CliRunner()
    shown = runner.invoke(app, ["target", "150100", "--db", url])
    assert shown.exit_code == 0 and "150100: 98 %" in shown.output
    changed = runner.invoke(app, ["target", "150100", "95.5", "--db", url])
    assert changed.exit_code == 0 and "95.5 %" in changed.output
    bad = runner.invoke(app, ["target", "150100", "150", "--db", url])
    assert bad.exit_code == 2 and "0–100" in bad.output
