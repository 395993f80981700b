"""Physics functions against closed forms and their defining equations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from nuanliu.physics.friction import colebrook, friction_factor, swamee_jain
from nuanliu.physics.heat_exchanger import (
    lmtd_k,
    max_heat_ua_w,
    primary_return_ua_c,
    primary_return_ua_newton_c,
)
from nuanliu.physics.heat_loss import pipe_outlet_temp_c
from nuanliu.physics.machines import pump_curve_dp_pa, valve_dp_pa
from nuanliu.physics.water import WATER


def test_water_properties_match_reference_values() -> None:
    # IAPWS values at 20 °C and 100 °C (saturated liquid).
    assert abs(WATER.density(20.0)[0] - 998.21) < 0.05
    assert abs(WATER.density(100.0)[0] - 958.35) < 0.05
    assert abs(WATER.viscosity(20.0)[0] - 1.0016e-3) < 1e-6
    assert abs(WATER.cp(100.0)[0] - 4215.6) < 0.5
    t = np.linspace(5, 145, 50)
    assert np.all(np.diff(WATER.density(t)) < 0)  # water expands when heated above 4 °C
    assert np.all(np.diff(WATER.viscosity(t)) < 0)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 160.0), st.floats(0.0, 160.0))
def test_enthalpy_is_the_integral_of_heat_capacity(a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    kinks = [t for t in np.arange(0.0, 160.0, 10.0) if lo < t < hi]  # the cp table's grid
    exact, _ = quad(lambda t: WATER.cp(t)[0], lo, hi, points=kinks or None, limit=200)
    exact = exact if b >= a else -exact
    assert abs((WATER.h(b) - WATER.h(a))[0] - exact) < 1e-6 * max(1.0, abs(exact))
    # the secant heat capacity reproduces the enthalpy difference
    assert abs((WATER.mean_cp(b, a) * (b - a))[0] - exact) < 1e-6 * max(1.0, abs(exact))


@settings(max_examples=80, deadline=None)
@given(st.floats(4.5e3, 1e8), st.floats(1e-6, 0.05))
def test_colebrook_solves_its_implicit_equation(re: float, rel: float) -> None:
    lam = colebrook(np.array([re]), np.array([rel]))[0]
    lhs = 1.0 / np.sqrt(lam)
    rhs = -2.0 * np.log10(rel / 3.71 + 2.51 / (re * np.sqrt(lam)))
    assert abs(lhs - rhs) < 1e-9 * lhs
    # Swamee–Jain, the explicit approximation, within a few per cent in its valid range
    if re >= 5e3 and rel <= 0.01:
        assert abs(swamee_jain(np.array([re]), np.array([rel]))[0] / lam - 1.0) < 0.03


def test_friction_factor_laminar_and_continuous() -> None:
    re = np.array([10.0, 500.0, 1999.0])
    assert np.allclose(friction_factor(re, np.full(3, 1e-4)), 64.0 / re)
    # no jumps across the laminar–turbulent transition
    grid = np.linspace(1500, 5000, 3501)
    lam = friction_factor(grid, np.full(grid.shape, 5e-4))
    assert np.max(np.abs(np.diff(lam))) < 1e-4


def test_pipe_outlet_temperature_closed_form() -> None:
    t = pipe_outlet_temp_c(
        np.array([110.0]),
        np.array([8.0]),
        np.array([0.5]),
        np.array([2000.0]),
        np.array([10.0]),
        np.array([4200.0]),
    )[0]
    assert abs(t - (8.0 + 102.0 * np.exp(-0.5 * 2000.0 / (10.0 * 4200.0)))) < 1e-12
    # zero flow: the water has cooled to ambient
    t0 = pipe_outlet_temp_c(
        np.array([110.0]),
        np.array([8.0]),
        np.array([0.5]),
        np.array([20.0]),
        np.array([0.0]),
        np.array([4200.0]),
    )[0]
    assert t0 == 8.0


def test_heat_exchanger_ua_meets_lmtd() -> None:
    q = np.array([1.0e6, 2.0e6])
    tpi, tss, tsr, ua = (
        np.array([110.0, 95.0]),
        np.array([70.0, 60.0]),
        np.array([45.0, 40.0]),
        np.array([6e4, 9e4]),
    )
    tpr = primary_return_ua_c(q, tpi, tss, tsr, ua)
    assert np.allclose(ua * lmtd_k(tpi - tss, tpr - tsr), q, rtol=1e-9)
    assert np.all(max_heat_ua_w(tpi, tss, tsr, ua) > q)


def test_heat_exchanger_ua_newton_matches_bisection() -> None:
    """The closed-form-plus-Newton primary return is the bisection's root, including
    balanced exchangers (ΔT1 = ΔT2), heats at the exchanger's limit, zero heat and a
    primary too cold to pass anything."""
    rng = np.random.default_rng(3)
    n = 5000
    tpi = rng.uniform(30.0, 130.0, n)
    tss = rng.uniform(35.0, 80.0, n)
    tsr = tss - rng.uniform(0.5, 30.0, n)
    ua = rng.uniform(1e3, 1e6, n)
    qmax = max_heat_ua_w(tpi, tss, tsr, ua)
    share = rng.choice([0.0, 1e-9, 1e-3, 0.5, 0.999999, 1.0], n)
    q = qmax * share
    balanced = slice(0, 500)  # Q = UA·(T_pi − T_ss): T_pr − T_sr = T_pi − T_ss
    q[balanced] = np.minimum(ua[balanced] * (tpi - tss)[balanced], qmax[balanced])
    ref = primary_return_ua_c(q, tpi, tss, tsr, ua, 200)
    new = primary_return_ua_newton_c(q, tpi, tss, tsr, ua)
    assert np.all(np.isfinite(new))
    # the LMTD's own round-off near ΔT1 = ΔT2 limits both to ~1e-8 K
    assert np.max(np.abs(new - ref)) < 1e-7
    assert np.any(tpi < tss)  # primaries too cold to pass heat are in the sample


def test_valve_and_pump_laws() -> None:
    # Kv is the flow in m³/h at 1 bar: 36 m³/h through Kv 36 → 1 bar (water at 1000 kg/m³)
    dp = valve_dp_pa(np.array([10.0]), np.array([1000.0]), np.array([36.0]), np.array([1.0]))[0]
    assert abs(dp - 1e5) < 1e-6
    # half open: Kv halves, Δp quadruples
    dp2 = valve_dp_pa(np.array([10.0]), np.array([1000.0]), np.array([36.0]), np.array([0.5]))[0]
    assert abs(dp2 - 4e5) < 1e-6
    # affinity: at zero flow the head scales with speed²
    h1 = pump_curve_dp_pa(
        np.zeros(1), np.full(1, 1000.0), np.full(1, 40.0), np.zeros(1), np.full(1, -1e3), np.ones(1)
    )
    h2 = pump_curve_dp_pa(
        np.zeros(1),
        np.full(1, 1000.0),
        np.full(1, 40.0),
        np.zeros(1),
        np.full(1, -1e3),
        np.full(1, 0.8),
    )
    assert abs(h2[0] / h1[0] - 0.64) < 1e-12
