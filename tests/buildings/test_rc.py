"""The 2R2C room model: heat balance at rest, stability, and the physics engineers expect."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.buildings import (
    HeatingCurve,
    default_heating_curve,
    draw_params,
    radiator_heat_w,
    specific_heat_loss_w_m2k,
    steady_state,
    step,
)
from nuanliu.buildings.rc import (
    advance,
    gains_w,
    internal_gain_multiplier,
    radiator_conductance_w_k,
    step_matrix,
)
from nuanliu.errors import InvalidInput

CURVE = default_heating_curve()


def _units(n: int = 400, **cols: object) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "unit_id": [f"S{i}" for i in range(n)],
            "household_id": [f"H{i}" for i in range(n)],
            "building_id": [f"B{i // 40}" for i in range(n)],
        }
    )
    for k, v in cols.items():
        df[k] = v
    return df


def _balance_residual(p, s, t_o, t_s, ghi=0.0, mult=1.0):  # type: ignore[no-untyped-def]
    """Net heat into air and mass (W), from the physical law, independent of the solver."""
    phi_a, phi_m = gains_w(p, ghi, mult)
    q_rad = radiator_heat_w(p, t_s, s.t_air_c)
    air = (
        p.h_air_out_w_k * (t_o - s.t_air_c)
        + p.h_air_mass_w_k * (s.t_mass_c - s.t_air_c)
        + q_rad
        + phi_a
    )
    mass = p.h_mass_out_w_k * (t_o - s.t_mass_c) + p.h_air_mass_w_k * (s.t_air_c - s.t_mass_c)
    return air, mass + phi_m


def test_steady_state_meets_the_heat_balance() -> None:
    p = draw_params(_units(), CURVE, seed=1)
    t_o = -10.0
    t_s = float(CURVE.supply_temp_c(t_o))
    s = steady_state(p, t_o, t_s, ghi_w_m2=50.0, gain_multiplier=1.0)
    air, mass = _balance_residual(p, s, t_o, t_s, 50.0, 1.0)
    scale = p.h_total_w_k * 30.0  # heat loss at design: the size of the terms
    assert np.max(np.abs(air) / scale) < 1e-3
    assert np.max(np.abs(mass) / scale) < 1e-6


def test_time_stepping_converges_to_the_steady_state_from_far_away() -> None:
    p = draw_params(_units(), CURVE, seed=2)
    t_o, t_s = -5.0, float(CURVE.supply_temp_c(-5.0))
    target = steady_state(p, t_o, t_s)
    s = steady_state(p, 10.0, 30.0)  # start from a mild-weather state
    s.t_air_c = s.t_air_c - 8.0
    for _ in range(24 * 6 * 40):  # 40 days of 10-minute steps
        s = step(p, s, 600.0, t_o, t_s)
    np.testing.assert_allclose(s.t_air_c, target.t_air_c, atol=0.02)
    np.testing.assert_allclose(s.t_mass_c, target.t_mass_c, atol=0.02)


@pytest.mark.parametrize("dt_s", [60.0, 600.0, 3600.0, 6 * 3600.0])
def test_stable_and_consistent_for_any_step(dt_s: float) -> None:
    """Exact exponential stepping: no oscillation, and a long step equals many short ones
    (with the radiator held linear, as the simulator does within an hour)."""
    p = draw_params(_units(100), CURVE, seed=3)
    s0 = steady_state(p, 0.0, float(CURVE.supply_temp_c(0.0)))
    s0.t_air_c = s0.t_air_c + 5.0
    one = step(p, s0, dt_s, -15.0, 55.0)
    assert np.all(np.isfinite(one.t_air_c))
    # A perturbation decays monotonically towards equilibrium, without overshoot below it.
    eq = steady_state(p, -15.0, 55.0)
    assert np.all(np.abs(one.t_air_c - eq.t_air_c) <= np.abs(s0.t_air_c - eq.t_air_c) + 1e-9)
    # Exactness: with the radiator linearisation held, one long step equals k short ones.
    g = radiator_conductance_w_k(p, s0.dt_mean_k)
    phi_a, phi_m = gains_w(p, 0.0, 1.0)
    long = advance(p, step_matrix(p, g, dt_s), s0, -15.0, 55.0, phi_a, phi_m)
    short = s0
    m = step_matrix(p, g, dt_s / 6)
    for _ in range(6):
        short = advance(p, m, short, -15.0, 55.0, phi_a, phi_m)
    np.testing.assert_allclose(long.t_air_c, short.t_air_c, atol=1e-9)
    np.testing.assert_allclose(long.t_mass_c, short.t_mass_c, atol=1e-9)


def test_colder_outdoor_makes_colder_rooms_at_fixed_supply() -> None:
    p = draw_params(_units(), CURVE, seed=4)
    warm = steady_state(p, 0.0, 50.0)
    cold = steady_state(p, -20.0, 50.0)
    assert np.all(cold.t_air_c < warm.t_air_c - 1.0)


def test_more_supply_makes_warmer_rooms() -> None:
    p = draw_params(_units(), CURVE, seed=5)
    low = steady_state(p, -10.0, 45.0)
    high = steady_state(p, -10.0, 60.0)
    assert np.all(high.t_air_c > low.t_air_c + 1.0)
    # and the dynamic response goes the same way
    s_low = s_high = steady_state(p, -10.0, 50.0)
    for _ in range(36):
        s_low = step(p, s_low, 600.0, -10.0, 45.0)
        s_high = step(p, s_high, 600.0, -10.0, 60.0)
    assert np.all(s_high.t_air_c > s_low.t_air_c)


def test_heating_curve_holds_homes_near_20c_in_all_weather() -> None:
    """Quality regulation + radiators sized at the design point: rooms stay 18–24 °C."""
    p = draw_params(_units(2000), CURVE, seed=6)
    medians = []
    for t_o in (-17.0, -10.0, 0.0, 5.0):
        s = steady_state(p, t_o, float(CURVE.supply_temp_c(t_o)) + p.supply_offset_k)
        share = np.mean((s.t_air_c >= 18.0) & (s.t_air_c <= 24.0))
        assert share > 0.9, (t_o, share)
        medians.append(np.median(s.t_air_c))
    assert min(medians) > 19.5 and max(medians) < 23.0


def test_top_floor_and_corner_flats_are_colder() -> None:
    n = 600
    base = _units(n, floors=6, floor=3, corner=False, year_built=2000, floor_area_m2=80.0)
    top = base.assign(floor=6)
    corner = base.assign(corner=True)
    res = {}
    for name, df in (("mid", base), ("top", top), ("corner", corner)):
        p = draw_params(df, CURVE, seed=7)
        # same radiators as a mid-floor flat: compare at fixed radiator size
        p_mid = draw_params(base, CURVE, seed=7)
        p.rad_k_w_k13, p.mcp_w_k = p_mid.rad_k_w_k13, p_mid.mcp_w_k
        res[name] = steady_state(p, -15.0, float(CURVE.supply_temp_c(-15.0))).t_air_c
    assert np.all(res["top"] < res["mid"] - 0.5)
    assert np.all(res["corner"] < res["mid"] - 0.3)


def test_older_buildings_lose_more_heat() -> None:
    years = np.array([1985, 2000, 2012, 2020])
    h = specific_heat_loss_w_m2k(years)
    assert list(h) == sorted(h, reverse=True)
    p = draw_params(
        _units(4, year_built=years, floor_area_m2=80.0, floors=6, floor=3, corner=False),
        CURVE,
        seed=0,
    )
    assert p.h_total_w_k[0] > 2 * p.h_total_w_k[3]


def test_parameters_are_stable_per_id() -> None:
    """A flat keeps its parameters whatever else is simulated with it."""
    all_units = _units(300)
    p_all = draw_params(all_units, CURVE, seed=9)
    some = all_units.iloc[100:120].reset_index(drop=True)
    p_some = draw_params(some, CURVE, seed=9)
    np.testing.assert_array_equal(p_some.c_mass_j_k, p_all.c_mass_j_k[100:120])
    np.testing.assert_array_equal(p_some.mcp_w_k, p_all.mcp_w_k[100:120])
    assert not np.array_equal(draw_params(some, CURVE, seed=10).c_mass_j_k, p_some.c_mass_j_k)


def test_internal_gains_profile_has_mean_one_and_evening_peak() -> None:
    h = np.arange(0, 24, 0.01)
    m = internal_gain_multiplier(h)
    assert m.mean() == pytest.approx(1.0, abs=0.01)
    assert internal_gain_multiplier(19.5) > internal_gain_multiplier(3.0) * 2


def test_heating_curves() -> None:
    c = default_heating_curve()
    s = c.supply_temp_c(np.array([-25.0, -17.0, -5.0, 5.0, 20.0]))
    assert s[0] == s[1] == 60.0  # clamped below the design point
    assert np.all(np.diff(s) <= 0)  # warmer weather, cooler water
    assert np.all(c.return_temp_c(np.array([-17.0, 0.0])) < c.supply_temp_c(np.array([-17.0, 0.0])))
    with pytest.raises(InvalidInput):
        HeatingCurve.quality_regulation(design_supply_c=40.0, design_return_c=45.0)


def test_operator_curve_from_jiexiu(shared_data: Path) -> None:
    path = shared_data / "networks/jiexiu/jiexiu_supply_temp_curves.csv"
    station = HeatingCurve.from_operator_csv(path, station="HS1")
    assert station.supply_temp_c(-15.0) == 50.0
    radiators = HeatingCurve.from_operator_csv(path, kind=1)
    assert radiators.supply_temp_c(-20.0) == radiators.supply_temp_c(-15.0)  # clamped
    assert radiators.supply_temp_c(-15.0) > radiators.supply_temp_c(12.0)
    with pytest.raises(InvalidInput, match="no rows"):
        HeatingCurve.from_operator_csv(path, station="nope")


def test_named_heating_curves(tmp_path: Path) -> None:
    from nuanliu.buildings import heating_curve

    assert heating_curve("default").supply_temp_c(-17.0) == 60.0
    jiexiu = heating_curve("jiexiu")
    assert jiexiu.supply_temp_c(-15.0) == 56.0 and jiexiu.supply_temp_c(12.0) == 52.0
    own = tmp_path / "curve.csv"
    own.write_text("tem,max,min\n-20,70,65\n10,40,35\n")
    assert heating_curve(str(own)).supply_temp_c(-5.0) == pytest.approx(55.0)
    with pytest.raises(InvalidInput, match="unknown heating curve"):
        heating_curve("nonsense")
    broken = tmp_path / "broken.csv"
    broken.write_text("tem,max\n-20,\n10,40\n")
    with pytest.raises(InvalidInput, match="empty cells"):
        heating_curve(str(broken))


@given(
    t_o=st.floats(min_value=-30.0, max_value=15.0),
    t_s=st.floats(min_value=25.0, max_value=90.0),
    dt_supply=st.floats(min_value=0.5, max_value=20.0),
    ghi=st.floats(min_value=0.0, max_value=800.0),
    mult=st.floats(min_value=0.3, max_value=2.5),
)
@settings(max_examples=40, deadline=None)
def test_balance_and_monotonicity_hold_everywhere(
    t_o: float, t_s: float, dt_supply: float, ghi: float, mult: float
) -> None:
    p = _PARAMS
    s = steady_state(p, t_o, t_s, ghi, mult)
    air, mass = _balance_residual(p, s, t_o, t_s, ghi, mult)
    scale = p.h_total_w_k * 40.0
    assert np.max(np.abs(air) / scale) < 1e-3 and np.max(np.abs(mass) / scale) < 1e-6
    assert np.all(s.t_air_c > t_o)  # heated and with gains: always warmer than outside
    hotter = steady_state(p, t_o, t_s + dt_supply, ghi, mult)
    heated = s.t_air_c < t_s  # rooms the sun has not already warmed above the water
    assert np.all(hotter.t_air_c[heated] > s.t_air_c[heated])
    assert np.all(hotter.t_air_c >= s.t_air_c - 1e-9)
    colder = steady_state(p, t_o - dt_supply, t_s, ghi, mult)
    assert np.all(colder.t_air_c < s.t_air_c)


_PARAMS = draw_params(_units(60), CURVE, seed=12)
