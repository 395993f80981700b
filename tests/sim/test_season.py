"""Season simulation: energy balance, schedules, outputs, interruption, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from nuanliu.cli import app
from nuanliu.network.generate import generate_city
from nuanliu.network.io import write_network
from nuanliu.sim.season import simulate_season

START = pd.Timestamp("2025-12-20", tz="Asia/Shanghai")


@pytest.fixture(scope="module")
def city():
    return generate_city(40, seed=11)


@pytest.fixture(scope="module")
def tuoketuo_two_days():
    return simulate_season(
        "tuoketuo-hohhot", "hohhot", start=START, end=START + pd.Timedelta(days=2)
    )


@pytest.mark.slow
def test_tuoketuo_energy_balance_closes(tuoketuo_two_days) -> None:
    tt = tuoketuo_two_days.totals
    produced = tt["heat_produced_j"]
    assert produced > 0 and tt["heat_lost_j"] > 0 and tt["pump_electricity_j"] > 0
    assert abs(tt["energy_balance_residual_j"]) < 1e-6 * produced
    assert abs(tt["isolation_exchanger_residual_j"]) < 1e-6 * produced
    # every piece is there: one row per step and station, source and flat
    res = tuoketuo_two_days
    assert res.steps == 48
    assert len(res.stations) == 48 * 97
    assert res.stations["supply_temp_c"].between(40, 135).all()
    assert len(res.households) == 48 * 96 * 4
    assert res.households["indoor_temp_c"].between(5, 35).all()


@pytest.mark.slow
def test_a_colder_supply_schedule_gives_colder_flats_and_less_loss(city) -> None:
    end = START + pd.Timedelta(days=1)
    base = simulate_season(city, "hohhot", start=START, end=end)
    times = pd.date_range(START, end, freq="1h")
    cold = pd.DataFrame({"SRC1": np.full(len(times), 65.0)}, index=times)
    low = simulate_season(city, "hohhot", start=START, end=end, source_supply_schedule=cold)
    assert low.totals["cold_household_hours"] > base.totals["cold_household_hours"]
    assert low.totals["heat_lost_j"] < base.totals["heat_lost_j"]
    src = low.sources.set_index("source_id").loc["SRC1"]
    assert np.allclose(src["supply_temp_c"], 65.0)
    for r in (base, low):
        assert abs(r.totals["energy_balance_residual_j"]) < 1e-6 * r.totals["heat_produced_j"]


def test_an_unknown_source_in_the_schedule_is_refused(city) -> None:
    from nuanliu.errors import InvalidInput

    times = pd.date_range(START, periods=3, freq="1h")
    bad = pd.DataFrame({"NOPE": [80.0] * 3}, index=times)
    with pytest.raises(InvalidInput, match="NOPE"):
        simulate_season(
            city,
            "hohhot",
            start=START,
            end=START + pd.Timedelta(hours=3),
            source_supply_schedule=bad,
        )


def test_interrupting_keeps_the_steps_done(city) -> None:
    def stop_after_five(done: int, total: int) -> None:
        if done == 5:
            raise KeyboardInterrupt

    res = simulate_season(
        city, "hohhot", start=START, end=START + pd.Timedelta(hours=24), on_progress=stop_after_five
    )
    assert res.interrupted and res.steps == 5
    assert len(res.stations) == 5 * len(city.consumers)
    assert res.network["ts"].tolist() == list(pd.date_range(START, periods=5, freq="1h"))
    assert abs(res.totals["energy_balance_residual_j"]) < 1e-6 * res.totals["heat_produced_j"]


def test_season_command_writes_parquet(city, tmp_path: Path) -> None:
    path = tmp_path / "city.geojson"
    write_network(city, path)
    out = tmp_path / "out"
    args = ["simulate", "season", str(path), "--weather", "hohhot", "--start", "2025-12-20"]
    args += ["--end", "2025-12-20 06:00", "-o", str(out)]
    r = CliRunner().invoke(app, args, terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "cold household-hours" in r.output
    stations = pd.read_parquet(out / "stations.parquet")
    assert len(stations) == 6 * len(city.consumers)
    households = pd.read_parquet(out / "households.parquet")
    assert {"household_id", "indoor_temp_c", "weight"} <= set(households.columns)
    info = json.loads((out / "totals.json").read_text())
    assert info["steps"] == 6 and not info["interrupted"]


def test_season_command_rejects_a_bad_window(city, tmp_path: Path) -> None:
    path = tmp_path / "city.geojson"
    write_network(city, path)
    args = ["simulate", "season", str(path), "--start", "2025-12-20", "--end", "2025-12-19"]
    r = CliRunner().invoke(app, args, terminal_width=200)
    assert r.exit_code == 2
    assert "must be after" in r.output


@pytest.mark.slow
def test_a_higher_station_dp_setpoint_costs_pump_electricity(tuoketuo_two_days) -> None:
    from nuanliu.errors import InvalidInput

    end = START + pd.Timedelta(days=2)
    high = simulate_season(
        "tuoketuo-hohhot", "hohhot", start=START, end=end, station_dp_setpoints={"TKT-dp": 3.0}
    )
    base = tuoketuo_two_days.totals
    assert high.totals["pump_electricity_j"] > 1.02 * base["pump_electricity_j"]
    assert high.totals["heat_produced_j"] == pytest.approx(base["heat_produced_j"], rel=1e-3)
    with pytest.raises(InvalidInput, match="NOPE"):
        simulate_season(
            "tuoketuo-hohhot", "hohhot", start=START, end=end, station_dp_setpoints={"NOPE": 1.0}
        )


@pytest.mark.slow
def test_sources_can_follow_a_supply_curve(city) -> None:
    oct_start = pd.Timestamp("2025-10-20", tz="Asia/Shanghai")
    end = oct_start + pd.Timedelta(hours=12)
    flat = simulate_season(city, "hohhot", start=oct_start, end=end)
    curve = simulate_season(city, "hohhot", start=oct_start, end=end, follow_curves=True)
    assert np.allclose(flat.sources["supply_temp_c"], 120.0)
    # mild October: quality regulation runs the plant far below its 120 °C design
    assert curve.sources["supply_temp_c"].max() < 90.0
    assert curve.totals["heat_lost_j"] < 0.9 * flat.totals["heat_lost_j"]
    tt = curve.totals
    assert abs(tt["energy_balance_residual_j"]) < 1e-6 * tt["heat_produced_j"]
