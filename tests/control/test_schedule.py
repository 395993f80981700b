"""The schedule optimiser: the hand-worked optimum, every constraint on the real
example, and a clear refusal when the demand is beyond what the network can carry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nuanliu.control.problem import CP_MJ_PER_KG_K, PumpModel, ScheduleProblem
from nuanliu.control.schedule import evaluate_fixed, optimise
from nuanliu.errors import Infeasible

FORECAST_MW = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 2.0, 1.0, 0.5, 0.5, 1.0, 2.0, 3.0])


def one_station(
    forecast: np.ndarray = FORECAST_MW,
    *,
    delay_h: float = 2.0,
    pumps: PumpModel | None = None,
    max_c: float = 120.0,
    tau_h: float = 1e-4,
    ramp: float = 100.0,
    indoor_min_c: float = 20.0,
) -> ScheduleProblem:
    h = len(forecast)
    return ScheduleProblem(
        start=pd.Timestamp("2026-12-01", tz="UTC"),
        hours=h,
        sp_ids=["S"],
        sp_parent=np.array([-1]),
        sp_delay_h=np.zeros(1),
        sp_drop_k=np.zeros(1),
        sp_approach_k=np.zeros(1),
        sp_return_c=np.zeros(1),
        sp_max_flow_kg_s=np.array([np.inf]),
        sp_min_c=np.array([50.0]),
        sp_max_c=np.array([max_c]),
        sp_loss_mw_per_k=np.array([0.001]),
        sp_history_c=np.full((1, 6), 90.0),
        pumps=[pumps or PumpModel()],
        st_ids=np.array(["A"], dtype=object),
        st_sp=np.array([0]),
        st_delay_h=np.array([delay_h]),
        st_drop_k=np.array([1.0]),
        st_return_c=np.array([40.0]),
        st_max_flow_kg_s=np.array([10.0]),
        st_min_supply_c=np.full((1, h), 50.0),
        st_forecast_mw=forecast[None, :],
        st_h_mw_per_k=np.array([0.1]),
        st_tau_h=np.array([tau_h]),
        st_indoor_start_c=np.array([20.0]),
        forecast_indoor_c=20.0,
        indoor_min_c=indoor_min_c,
        ramp_k_per_h=ramp,
    )


def test_hand_worked_optimum_heats_ahead_by_the_transport_delay() -> None:
    # Buildings without storage must get their forecast every hour; the only cost that
    # depends on the supply temperature is the pipe loss, so the cheapest supply is the
    # lowest that passes the load at the station's flow limit, sent 2 h early:
    #   T(t) = max(T_min + drop, T_return + drop + Q(t + 2) / (c_p ṁ_max))
    res = optimise(one_station())
    got = res.hourly["supply_temp_c[S]"].to_numpy()
    cm = CP_MJ_PER_KG_K * 10.0
    expected = np.maximum(51.0, 41.0 + FORECAST_MW[2:] / cm)
    np.testing.assert_allclose(got[:-2], expected, atol=1e-6)
    np.testing.assert_allclose(got[-2:], 50.0, atol=1e-6)  # water that arrives after the horizon
    st = res.stations
    np.testing.assert_allclose(st["heat_mw"][2:], FORECAST_MW[2:], atol=1e-6)
    assert (st["indoor_c"] >= 20.0 - 1e-6).all()


def test_fractional_delays_mix_two_hours() -> None:
    res = optimise(one_station(delay_h=2.5))
    st = res.stations.set_index("ts")
    cap = CP_MJ_PER_KG_K * 10.0 * (st["arrival_temp_c"] - 40.0)
    assert (st["heat_mw"] <= cap + 1e-6).all()
    # water mixed from two hours is just warm enough where the load must be met
    assert np.isclose(st["heat_mw"].iloc[5], FORECAST_MW[5], atol=1e-6)


def test_ramp_limit_and_supply_range_hold() -> None:
    res = optimise(one_station(ramp=5.0, tau_h=30.0, indoor_min_c=19.5))
    t = res.hourly["supply_temp_c[S]"].to_numpy()
    assert np.all(np.abs(np.diff(np.r_[90.0, t])) <= 5.0 + 1e-6)
    assert t.min() >= 50.0 - 1e-9 and t.max() <= 120.0 + 1e-9
    assert (res.stations["indoor_c"] >= 19.5 - 1e-6).all()


def test_pump_cost_raises_the_supply_temperature() -> None:
    cheap = optimise(one_station())
    pumps = PumpModel(k2=0.0, k3=2e-4)  # MW at kg/s: pumping now dominates the loss
    dear = optimise(one_station(pumps=pumps))
    t0 = cheap.hourly["supply_temp_c[S]"].to_numpy()[:-2]
    t1 = dear.hourly["supply_temp_c[S]"].to_numpy()[:-2]
    assert (t1 >= t0 - 1e-6).all() and (t1 > t0 + 1.0).any()
    at_cheap = evaluate_fixed(one_station(pumps=pumps), np.r_[t0, 50.0, 50.0][None, :])
    assert dear.cost["pump_mwh"] < at_cheap.cost["pump_mwh"]
    assert dear.cost["total_cost"] < at_cheap.cost["total_cost"]


def test_demand_beyond_capacity_is_reported_with_station_and_hour() -> None:
    too_much = FORECAST_MW.copy()
    too_much[6:] = 4.0  # 4 MW needs ΔT 95 K at 10 kg/s: above the 120 °C cap
    with pytest.raises(Infeasible, match=r"A at 2026-12-01 0[6-9]:00Z"):
        optimise(one_station(too_much))


def test_shortfall_from_water_already_in_the_pipes_is_a_warning_not_an_error() -> None:
    res = optimise(one_station(np.r_[3.5, 3.5, FORECAST_MW[2:]], tau_h=1e-4))
    assert any("water already" in w for w in res.warnings)


def test_the_heating_curve_is_scored_on_the_same_model() -> None:
    p = one_station()
    flat = np.full((1, p.hours), 120.0)
    curve = evaluate_fixed(p, flat)
    best = optimise(p)
    assert curve.cost["supply_loss_mwh"] > best.cost["supply_loss_mwh"]
    np.testing.assert_allclose(curve.stations["heat_mw"][2:], FORECAST_MW[2:])


def test_a_capped_curve_leaves_the_station_cold_and_says_so() -> None:
    p = one_station()
    curve = evaluate_fixed(p, np.full((1, p.hours), 100.0))  # passes at most 2.47 MW
    cold = curve.stations[curve.stations["comfort_shortfall_k"] > 1e-3]
    assert len(cold) and cold["heat_mw"].max() <= CP_MJ_PER_KG_K * 10 * 59 + 1e-9
    assert any("A at" in w for w in curve.warnings)
