"""The resolved bench model: film coefficient, steady limit, stored heat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nuanliu.physics.film import film_coefficient_w_m2_k, water_conductivity_w_m_k
from nuanliu.physics.water import WATER
from nuanliu.sim.pipe_resolved import outlet_resolved, replay_resolved
from nuanliu.sim.pipe_test import PipeSegment

ULG = PipeSegment(39.0, 0.05248, 0.0039, 0.013, wall_density_kg_m3=8000, wall_cp_j_kg_k=500)


def test_film_coefficient_laminar_limit_and_turbulent_magnitude() -> None:
    d = 0.05248
    lam = film_coefficient_w_m2_k(1e-4, d, 40.0)[0]
    assert lam == pytest.approx(3.66 * water_conductivity_w_m_k(40.0) / d, rel=1e-9)
    # turbulent: within 20 % of Dittus–Boelter (Nu = 0.023 Re^0.8 Pr^0.4) at Re ≈ 5e4
    mdot, t = 1.245, 40.0
    mu, cp, k = WATER.viscosity(t)[0], WATER.cp(t)[0], water_conductivity_w_m_k(t)
    re, pr = 4 * mdot / (np.pi * d * mu), mu * cp / k
    dittus = 0.023 * re**0.8 * pr**0.4 * k / d
    assert film_coefficient_w_m2_k(mdot, d, t)[0] == pytest.approx(dittus, rel=0.2)
    flows = np.array([0.01, 0.1, 0.3, 1.0, 3.0])
    assert np.all(np.diff(film_coefficient_w_m2_k(flows, d, t)) > 0)


def test_constant_inlet_settles_to_the_steady_heat_loss_law() -> None:
    t = np.arange(0.0, 4 * 3600.0 + 1, 60.0)
    mdot, t_in, amb = 0.6, 70.0, 10.0
    n = len(t)
    _, out = outlet_resolved(
        t, np.full(n, mdot), np.full(n, t_in), ULG, ambient_c=amb, start_outlet_c=t_in
    )
    cp = WATER.cp(t_in)[0]
    steady = amb + (t_in - amb) * np.exp(-ULG.u_w_per_m_k * ULG.length_m / (mdot * cp))
    # film and steel add < 0.2 % to the thermal resistance of the insulation
    assert out[-1] == pytest.approx(steady, abs=0.002)
    assert out[-1] < t_in - 0.05  # the loss is there


def test_step_response_stores_the_wall_heat_before_it_arrives() -> None:
    """Adiabatic pipe: the step's mean arrival is (water + wall heat capacity)/(ṁ c_p)."""
    seg = PipeSegment(
        39.0, 0.05248, 0.0039, 0.013, insulation_conductivity_w_m_k=1e-9,
        outer_surface_w_m2_k=0.0, insulation_density_kg_m3=1e-6,
        wall_density_kg_m3=8000, wall_cp_j_kg_k=500,
    )  # fmt: skip
    t = np.arange(0.0, 600.0, 1.0)
    mdot = 1.2
    inlet = np.where(t < 1.0, 20.0, 50.0)
    mid, out = outlet_resolved(
        t, np.full(len(t), mdot), inlet, seg, ambient_c=20.0, start_outlet_c=20.0, cells=200
    )
    share = (out - 20.0) / 30.0
    arrival = np.trapezoid(1.0 - share, mid) - 0.5  # inlet step at 0.5 s (linear 0→1 s)
    t_ref = float(np.mean(inlet))
    rho, cp = WATER.density(t_ref)[0], WATER.cp(t_ref)[0]
    water = rho * np.pi / 4 * seg.inner_diameter_m**2 * seg.length_m
    expected = (water + seg.wall_capacity_j_m_k * seg.length_m / cp) / mdot
    assert arrival == pytest.approx(expected, rel=0.01)
    assert share[-1] == pytest.approx(1.0, abs=1e-3)
    # the front is not a sharp step: the film lets part of it through early
    transit = water / mdot
    assert 0.0 < np.interp(transit + 2, mid, share) < 0.5


def test_replay_resolved_chain_and_reverse_flow_refused() -> None:
    t = np.arange(0.0, 400.0, 3.0)
    series = pd.DataFrame(
        {"time_s": t, "mdot_kg_s": 1.0, "inlet_c": np.where(t < 3, 20.0, 40.0), "measured_0": 20.0}
    )
    half = PipeSegment(19.5, 0.05248, 0.0039, 0.013, wall_density_kg_m3=8000, wall_cp_j_kg_k=500)
    one = replay_resolved(series, [ULG], ambient_c=20.0)[0]
    two = replay_resolved(series, [half, half], ambient_c=20.0)
    assert len(two) == 2 and np.all(two[0] >= two[1] - 1e-9)
    # two halves in a chain = the whole pipe (up to the grid at the joint)
    assert np.max(np.abs(two[1] - one)) < 0.05
    from nuanliu.errors import InvalidInput

    series["mdot_kg_s"] = -1.0
    with pytest.raises(InvalidInput):
        replay_resolved(series, [ULG], ambient_c=20.0)
