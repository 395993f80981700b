"""Season simulation under a control strategy: station set-point schedules, a
controller that sees what a platform sees, the on-demand feedback strategy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nuanliu.control.ondemand import FeedbackSettings, OnDemandController
from nuanliu.errors import InvalidInput
from nuanliu.network.generate import generate_city
from nuanliu.sim.season import simulate_season
from nuanliu.sim.season_control import Observation, Setpoints

START = pd.Timestamp("2026-01-10", tz="Asia/Shanghai")
END = START + pd.Timedelta(days=2)


@pytest.fixture(scope="module")
def city():
    return generate_city(16, seed=5)


@pytest.fixture(scope="module")
def curve_run(city):
    return simulate_season(city, "hohhot", start=START, end=END)


def _per_element(res, col: str) -> pd.Series:
    return res.stations.groupby("element_id")[col].sum()


def test_a_controller_that_sets_nothing_leaves_the_default_run_unchanged(city, curve_run):
    seen: list[Observation] = []

    def watch(obs: Observation) -> None:
        seen.append(obs)
        return None

    res = simulate_season(city, "hohhot", start=START, end=END, controller=watch)
    for key in ("heat_produced_j", "heat_delivered_j", "heat_lost_j", "cold_household_hours"):
        assert res.totals[key] == pytest.approx(curve_run.totals[key], rel=1e-9)
    # the controller saw every step, last step's measurements, no future
    assert len(seen) == curve_run.steps
    assert np.isnan(seen[0].indoor_c).all()
    assert np.isfinite(seen[5].indoor_c).all() and np.isfinite(seen[5].heat_w).any()
    first = curve_run.households[curve_run.households["ts"] == curve_run.times[4]]
    true_c = first["indoor_temp_c"].to_numpy()
    # measured = true + the sensor's fixed offset (a few tenths of a kelvin)
    assert np.abs(seen[5].indoor_c - true_c).max() < 1.5
    assert not np.allclose(seen[5].indoor_c, true_c)


def test_a_lower_station_setpoint_gives_less_heat_and_colder_flats_there_only(city, curve_run):
    target = str(city.consumers["consumer_id"].iloc[0])
    other = str(city.consumers["consumer_id"].iloc[1])
    sched = pd.DataFrame({target: [35.0, 35.0]}, index=[START, END])
    res = simulate_season(city, "hohhot", start=START, end=END, station_supply_schedule=sched)
    heat, base = _per_element(res, "heat_w"), _per_element(curve_run, "heat_w")
    assert heat[target] < 0.8 * base[target]
    assert heat[other] == pytest.approx(base[other], rel=1e-3)  # coupled by the pipes only
    sp = res.stations[res.stations["element_id"] == target]["secondary_supply_setpoint_c"]
    assert np.allclose(sp.dropna(), 35.0)
    hh, hb = res.households, curve_run.households
    mean_t = hh[hh["element_id"] == target]["indoor_temp_c"].mean()
    mean_b = hb[hb["element_id"] == target]["indoor_temp_c"].mean()
    assert mean_t < mean_b - 0.5
    assert res.totals["heat_delivered_j"] < curve_run.totals["heat_delivered_j"]
    tt = res.totals
    assert abs(tt["energy_balance_residual_j"]) < 1e-6 * tt["heat_produced_j"]


def test_a_controller_mapping_overrides_the_curve(city, curve_run):
    target = str(city.consumers["consumer_id"].iloc[2])
    res = simulate_season(
        city,
        "hohhot",
        start=START,
        end=END,
        controller=lambda obs: Setpoints(station_supply_c={target: 75.0}),
    )
    heat, base = _per_element(res, "heat_w"), _per_element(curve_run, "heat_w")
    assert heat[target] > 1.05 * base[target]


@pytest.mark.parametrize(
    ("frame", "needle"),
    [
        (pd.DataFrame({"nope": [50.0, 50.0]}, index=[START, END]), "unknown station"),
        (pd.DataFrame({"C": [np.nan, np.nan]}, index=[START, END]), "NaN"),
        (
            pd.DataFrame(
                {"C": [50.0, 50.0]}, index=[START.tz_localize(None), END.tz_localize(None)]
            ),
            "timezone-aware",
        ),
    ],
)
def test_invalid_station_schedules_are_refused_naming_the_field(city, frame, needle):
    if "C" in frame.columns:
        frame = frame.rename(columns={"C": str(city.consumers["consumer_id"].iloc[0])})
    with pytest.raises(InvalidInput, match="station_supply_schedule") as err:
        simulate_season(city, "hohhot", start=START, end=END, station_supply_schedule=frame)
    assert needle in str(err.value)


def test_a_controller_naming_an_unknown_station_is_refused(city):
    with pytest.raises(InvalidInput, match="controller: station_supply_c: unknown"):
        simulate_season(
            city,
            "hohhot",
            start=START,
            end=START + pd.Timedelta(hours=2),
            controller=lambda obs: Setpoints(station_supply_c={"no-such-station": 50.0}),
        )
    with pytest.raises(InvalidInput, match="controller: supply_c"):
        simulate_season(
            city,
            "hohhot",
            start=START,
            end=START + pd.Timedelta(hours=2),
            controller=lambda obs: Setpoints(supply_c={"no-such-source": 80.0}),
        )


@pytest.mark.slow
def test_feedback_keeps_sample_flats_warm_with_less_heat_than_the_curve(city):
    end = START + pd.Timedelta(days=5)
    curve = simulate_season(city, "hohhot", start=START, end=end)
    ctl = OnDemandController(FeedbackSettings(target_c=18.5))
    fb = simulate_season(city, "hohhot", start=START, end=end, controller=ctl, sensor_noise_k=0.1)
    c, f = curve.totals, fb.totals
    assert f["heat_produced_j"] < 0.995 * c["heat_produced_j"]
    assert f["cold_household_hours"] <= c["cold_household_hours"]
    assert f["indoor_p5_c"] >= 18.0
    assert abs(f["energy_balance_residual_j"]) < 1e-6 * f["heat_produced_j"]
    assert len(ctl.log) == 4  # one correction per local midnight after the first day


@pytest.mark.slow
def test_the_isolation_station_is_schedulable_and_a_cold_plant_is_a_counted_shortfall():
    start = pd.Timestamp("2027-01-10", tz="Asia/Shanghai")
    end = start + pd.Timedelta(hours=6)
    idx = [start, end]
    plant = pd.DataFrame(
        {"TKT": [128.0, 128.0, 128.0]}, index=[start, start + pd.Timedelta(hours=3), end]
    )
    city = pd.DataFrame({"ISO": [100.0, 100.0]}, index=idx)  # the city side, by station id
    res = simulate_season(
        "tuoketuo-hohhot",
        "hohhot",
        start=start,
        end=end,
        source_supply_schedule=plant,
        station_supply_schedule=city,
    )
    iso = res.stations[res.stations["element_id"] == "ISO"]
    assert np.isfinite(res.totals["heat_produced_j"])
    assert res.totals["isolation_shortfall_hours"] == 0.0
    sent = res.meta["supply_setpoints_c"]
    assert np.allclose(sent["ISO"], 100.0) and np.allclose(sent["TKT"], 128.0)
    # the plant asked for less than the city set-point needs: the city gets what passes
    cold = pd.DataFrame({"TKT": [128.0, 128.0], "ISO": [125.0, 125.0]}, index=idx)
    short = simulate_season(
        "tuoketuo-hohhot", "hohhot", start=start, end=end, source_supply_schedule=cold
    )
    assert np.isfinite(short.totals["heat_produced_j"])
    assert short.totals["isolation_shortfall_hours"] >= 5.0
    assert short.totals["isolation_shortfall_kh"] > 0.0
    assert (short.meta["supply_setpoints_c"]["ISO"] < 125.0).all()
    assert len(iso) == 6
