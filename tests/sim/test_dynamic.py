"""The dynamic model: plug-flow transport, steady limit, energy balance, delays."""

from __future__ import annotations

import numpy as np
import pytest

from nuanliu.network.generate import generate_city
from nuanliu.sim import SolverOptions, compile_network, solve_steady
from nuanliu.sim.delays import transport_delays
from nuanliu.sim.dynamic import DynamicNetwork, constant_cp_water
from nuanliu.sim.pipe_transport import PlugFlowPipes

from .networks import isolation_network, line_network

CP = 4190.0


def _pipes(mass_kg: float = 100.0, tau_s: float = np.inf, volume: float = 0.0) -> PlugFlowPipes:
    return PlugFlowPipes(
        np.array([mass_kg]), np.array([tau_s]), np.array([10.0]), CP, np.array([volume])
    )


def _run(p: PlugFlowPipes, mdot: float, inlet: list[float], dt: float) -> list[float]:
    out = []
    t = 0.0
    for temp in inlet:
        plan = p.plan(np.array([mdot]), t, dt)
        out.append(float(p.commit(plan, np.array([temp]))[0]))
        t += dt
    return out


def test_a_step_arrives_after_the_transit_time_without_loss() -> None:
    p = _pipes(mass_kg=100.0)  # 100 kg at 1 kg/s: 100 s
    p.fill(np.array([20.0]), 0.0, mdot_kg_s=np.array([1.0]))
    out = _run(p, 1.0, [60.0] * 20, dt=15.0)
    # steps ending at 15…90 s still deliver the old water, the step 90–105 s is 2/3 new
    assert out[:6] == pytest.approx([20.0] * 6)
    assert out[6] == pytest.approx(20.0 + 40.0 * (5.0 / 15.0))
    assert out[7:] == pytest.approx([60.0] * 13)


def test_reversed_flow_brings_back_what_went_in() -> None:
    p = _pipes(mass_kg=100.0)
    p.fill(np.array([20.0]), 0.0, mdot_kg_s=np.array([1.0]))
    _run(p, 1.0, [50.0] * 3, dt=10.0)  # 30 kg of 50 °C water at the `from` end
    back = _run(p, -1.0, [5.0] * 5, dt=10.0)
    assert back[:3] == pytest.approx([50.0] * 3)
    assert back[3:] == pytest.approx([20.0] * 2)


def test_pipe_heat_is_conserved_and_losses_are_positive() -> None:
    p = _pipes(mass_kg=500.0, tau_s=4 * 3600.0, volume=300.0 * CP)
    p.fill(np.array([70.0]), 0.0, mdot_kg_s=np.array([0.8]))
    t, dt = 0.0, 600.0
    rng = np.random.default_rng(3)
    for _ in range(50):
        m = float(rng.uniform(0.05, 2.0))
        t_in = float(rng.uniform(40.0, 90.0))
        before = p.heat_content_j(t)[0]
        plan = p.plan(np.array([m]), t, dt)
        t_out = float(p.commit(plan, np.array([t_in]))[0])
        t += dt
        after = p.heat_content_j(t)[0]
        loss = before - after + m * CP * (t_in - t_out) * dt
        assert loss >= -1e-6 * before  # never gains heat from 10 °C surroundings


def _settle(net, outdoor_from: float, outdoor_to: float, hours: int, wall: bool = True):
    cn = compile_network(net)
    opts = SolverOptions(water=constant_cp_water(), tol_temp_k=1e-9, tol_mdot_rel=1e-10)
    start = solve_steady(cn, outdoor_temp_c=outdoor_from, options=opts)
    target = solve_steady(cn, outdoor_temp_c=outdoor_to, options=opts)
    dyn = DynamicNetwork(cn, options=opts, wall=wall)
    dyn.start_from(start)
    scale = target.summary["demand_scale"]
    for _ in range(hours):
        res = dyn.step(
            3600.0,
            consumer_demand_w=cn.consumers["heat_demand_w"] * scale,
            station_demand_w=cn.stations["heat_demand_w"] * scale,
        )
    return res, target


@pytest.mark.parametrize("wall", [True, False])
def test_constant_inputs_converge_to_the_steady_answer(wall: bool) -> None:
    net = line_network(consumers=4, length_m=1500.0, diameter_m=0.15)
    res, target = _settle(net, -15.0, 0.0, 96, wall)
    assert np.max(np.abs(res.node_temp_c - target.state.node_temp_c)) < 0.01


def test_a_meshed_city_converges_to_the_steady_answer() -> None:
    res, target = _settle(generate_city(120, seed=4), -10.0, 2.0, 36)
    assert np.max(np.abs(res.node_temp_c - target.state.node_temp_c)) < 0.01
    sources = target.summary["heat_produced_w"]
    assert abs(res.source_heat_w.sum() - sources) < 1e-4 * sources


def test_isolation_station_converges_and_balances() -> None:
    res, target = _settle(isolation_network(), -10.0, -2.0, 72)  # 20 km line: slow
    assert np.max(np.abs(res.node_temp_c - target.state.node_temp_c)) < 0.01


def test_energy_balance_closes_over_changing_loads() -> None:
    cn = compile_network(generate_city(80, seed=2))
    opts = SolverOptions(water=constant_cp_water())
    dyn = DynamicNetwork(cn, options=opts)
    dyn.start_from(solve_steady(cn, outdoor_temp_c=-5.0, options=opts))
    e0 = dyn.pipe_heat_j()
    produced = delivered = lost = 0.0
    rng = np.random.default_rng(1)
    for _ in range(48):
        scale = float(rng.uniform(0.1, 1.0))
        res = dyn.step(
            3600.0,
            consumer_demand_w=cn.consumers["heat_demand_w"] * scale,
            station_demand_w=cn.stations["heat_demand_w"] * scale,
        )
        produced += res.source_heat_w.sum() * 3600.0
        delivered += res.consumer_heat_w.sum() * 3600.0
        lost += res.pipe_loss_w.sum() * 3600.0
    stored = dyn.pipe_heat_j() - e0
    assert lost > 0
    assert abs(produced - delivered - lost - stored) < 1e-9 * produced


def test_transport_delay_is_the_sum_of_pipe_transit_times() -> None:
    net = line_network(consumers=3, length_m=1000.0, diameter_m=0.1)
    res = solve_steady(net)
    d = transport_delays(net, flow_state=res, wall=False).set_index("element_id")
    flows = res.pipes.set_index("pipe_id")["mdot_kg_s"]
    water_kg = 0.25 * np.pi * 0.1**2 * 1000.0 * float(constant_cp_water().density(70.0)[0])
    expected_h = sum(water_kg / abs(flows[f"P{i}S"]) for i in range(3)) / 3600.0
    assert d.loc["C2", "delay_h"] == pytest.approx(expected_h, rel=1e-6)
    with_wall = transport_delays(net, flow_state=res).set_index("element_id")
    assert with_wall.loc["C2", "delay_h"] > d.loc["C2", "delay_h"]


def test_merging_parcels_of_a_slow_pipe_keeps_its_heat() -> None:
    from nuanliu.sim.pipe_transport import MAX_PARCELS

    p = _pipes(mass_kg=3000.0)  # no loss: heat in − heat out = change in content
    p.fill(np.array([20.0]), 0.0, mdot_kg_s=np.array([0.5]))
    t, dt = 0.0, 60.0
    e0 = p.heat_content_j(t)[0]
    moved = 0.0
    for k in range(400):  # 30 kg parcels in a 3000 kg pipe: more than MAX_PARCELS
        t_in = 40.0 + 20.0 * np.sin(k / 7.0)
        plan = p.plan(np.array([0.5]), t, dt)
        t_out = float(p.commit(plan, np.array([t_in]))[0])
        moved += 0.5 * dt * CP * (t_in - t_out)
        t += dt
        assert p.count[0] <= MAX_PARCELS
    assert p.heat_content_j(t)[0] - e0 == pytest.approx(moved, rel=1e-9)
