"""Steady solver behaviour a heating engineer relies on."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from nuanliu.errors import InvalidInput, NotConverged
from nuanliu.network.examples import load_example
from nuanliu.network.generate import generate_city
from nuanliu.network.model import Network
from nuanliu.sim import SolverOptions, compile_network, demand_scale, solve_steady

from .networks import (
    energy_residual,
    isolation_network,
    line_network,
    relay_network,
    reverse_flow_city,
)

CURVE = {
    "control": "curve",
    "head_a0_m": 60.0,
    "head_a1_s_per_m2": 0.0,
    "head_a2_s2_per_m5": -60.0 / 0.25**2,
}


def _check_physical(res) -> None:
    c = res.consumers
    assert np.all(np.isfinite(c["mdot_kg_s"])) and np.all(c["mdot_kg_s"] >= 0)
    assert np.all(c["return_temp_c"] <= c["supply_temp_c"] + 1e-9)
    assert np.all(np.isfinite(res.junctions["temp_c"].dropna()))
    assert energy_residual(res) < 1e-6


@pytest.mark.parametrize(
    "make",
    [
        lambda: line_network(),
        lambda: generate_city(300, seed=1, mesh_fraction=0.0),
        lambda: generate_city(400, seed=3, mesh_fraction=1.0),
        lambda: reverse_flow_city(),
        lambda: generate_city(300, seed=4, sources=3),
        lambda: generate_city(300, seed=6, zero_demand_fraction=0.3),
        lambda: relay_network(pumps=[{"pump_id": "P1", **CURVE}, {"pump_id": "P2", **CURVE}]),
        lambda: isolation_network(),
        lambda: isolation_network(ua_w_per_k=9e5),
        lambda: load_example("jiexiu"),
    ],
    ids=[
        "line",
        "tree",
        "meshed",
        "reverse",
        "three-sources",
        "zero-demand",
        "relay",
        "iso-eps",
        "iso-ua",
        "jiexiu",
    ],
)
def test_energy_balance_closes(make) -> None:
    # reverse, relay and jiexiu (at its design load) exceed the default velocity limit
    # somewhere: the balance must close all the same
    res = solve_steady(make(), raise_on_failure=False)
    assert res.solved, res.status
    assert res.summary["heat_lost_w"] > 0
    _check_physical(res)


def test_several_sources_feed_their_set_heat() -> None:
    net = generate_city(300, seed=4, sources=3)
    res = solve_steady(net)
    src = res.sources.set_index("source_id")
    heat_rows = net.sources[net.sources["control"] == "heat"].set_index("source_id")
    assert len(heat_rows) == 2
    for sid, row in heat_rows.iterrows():
        assert abs(src.loc[sid, "heat_w"] - row["heat_w"]) < 1e-6 * row["heat_w"]
        assert abs(src.loc[sid, "supply_temp_c"] - row["supply_temp_c"]) < 1e-9
    # the pressure-holding plant covers the rest: demand + losses − the others' heat
    s = res.summary
    main = src[src["control"] == "pressure"]["heat_w"].sum()
    assert abs(main - (s["heat_delivered_w"] + s["heat_lost_w"] - heat_rows["heat_w"].sum())) < (
        1e-6 * s["heat_produced_w"]
    )


def test_zero_demand_consumers_take_no_flow() -> None:
    net = generate_city(300, seed=6, zero_demand_fraction=0.3)
    res = solve_steady(net)
    c = res.consumers.set_index("consumer_id")
    zero = net.consumers.set_index("consumer_id")["heat_demand_w"] == 0
    assert zero.sum() > 50
    assert np.all(c.loc[zero[zero].index, "mdot_kg_s"] == 0.0)
    assert np.all(c.loc[zero[~zero].index, "mdot_kg_s"] > 0.0)
    assert abs(c["heat_w"].sum() - net.consumers["heat_demand_w"].sum()) < 1e-6 * c["heat_w"].sum()


@pytest.mark.parametrize("control", ["curve", "lift"])
def test_parallel_relay_pumps_share_the_flow(control: str) -> None:
    spec = CURVE if control == "curve" else {"control": "lift", "lift_bar": 4.0}
    net = relay_network(pumps=[{"pump_id": f"P{i}", **spec} for i in range(3)])
    res = solve_steady(net, raise_on_failure=False)  # D0S runs at 2.5 m/s (DN200 limit 2)
    assert res.solved, res.status
    p = res.pumps
    line = res.pipes.set_index("pipe_id").loc["T1S", "mdot_kg_s"]
    assert abs(p["mdot_kg_s"].sum() - line) < 1e-9 * line
    assert np.allclose(p["mdot_kg_s"], line / 3, rtol=1e-5)
    if control == "curve":
        # each pump sits on its curve at a third of the flow
        q = line / 3 / 1000.0
        rho = (
            1e5
            * p["lift_bar"].iloc[0]
            / (9.80665 * (60.0 + CURVE["head_a2_s2_per_m5"] * (q * 1000 / 1000) ** 2))
        )
        assert 930 < rho < 1000  # ρ at the pump temperature
    else:
        assert np.allclose(p["lift_bar"], 4.0, atol=1e-3)
    assert res.summary["pump_electricity_w"] > p["electric_power_w"].sum() > 0
    assert energy_residual(res) < 1e-6


def test_series_pumps_add_their_lift() -> None:
    # one 2-bar pump leaves the far consumers without differential pressure: infeasible
    one = solve_steady(
        relay_network(pumps=[{"pump_id": "P0", "control": "lift", "lift_bar": 2.0}]),
        raise_on_failure=False,
    )
    assert one.status == "infeasible"
    assert set(one.violations.query("check == 'differential_pressure'")["element_id"]) == {
        "C1",
        "C2",
        "C3",
    }
    two = solve_steady(
        relay_network(
            pumps=[{"pump_id": f"P{i}", "control": "lift", "lift_bar": 2.0} for i in range(2)],
            series=True,
        ),
        raise_on_failure=False,
    )
    p1 = one.junctions.set_index("junction_id")["pressure_bar"]
    p2 = two.junctions.set_index("junction_id")["pressure_bar"]
    # same flows (consumers fix them), 2 bar more downstream of the station
    assert abs((p2["RB"] - p2["RA"]) - 4.0) < 2e-3  # minus the 1 Pa/(kg/s) internal loss
    assert abs((p2["TS"] - p1["TS"]) - 2.0) < 2e-3


def test_low_supply_temperature_keeps_consumers_physical() -> None:
    # 58 °C at the plant, long lossy pipes, return set-point 50 °C: the far consumers
    # receive water at or below their set-point.
    net = line_network(
        consumers=6,
        length_m=2500.0,
        u_w_per_m_k=1.5,
        demand_w=150e3,
        supply_temp_c=58.0,
        return_temp_c=50.0,
    )
    # the capped flows overload the DN100 line: a real network could not carry them
    res = solve_steady(net, raise_on_failure=False)
    assert res.status == "infeasible"
    assert {"velocity", "differential_pressure"} <= set(res.violations["check"])
    c = res.consumers
    cold = c["supply_temp_c"] <= 50.0
    assert cold.any() and (~cold).any()
    _check_physical(res)
    assert np.all(c.loc[cold, "heat_w"].abs() < 1e-6)  # nothing to give
    assert np.all(c.loc[cold, "return_temp_c"] == c.loc[cold, "supply_temp_c"])
    assert res.summary["shortfall_w"] > 0
    assert res.summary["consumers_short"] >= int(cold.sum())
    # capped flow: at most the flow that carries the demand at 5 K
    assert np.all(c["mdot_kg_s"] <= 150e3 / (4150 * 5.0))


def test_isolation_station_couples_two_networks() -> None:
    res = solve_steady(isolation_network())
    st = res.stations.set_index("station_id")
    iso = st.loc["ISO"]
    secondary = (
        res.consumers["heat_w"].sum()
        + res.pipes[res.pipes["pipe_id"].str.startswith("K")]["heat_loss_w"].sum()
    )
    # the primary side passes exactly what the secondary network needs (demand + losses)
    assert abs(iso["heat_w"] - secondary) < 1e-6 * secondary
    assert abs(iso["secondary_supply_temp_c"] - 95.0) < 1e-9
    # ε = 0.9 on the primary side
    expected = iso["temp_in_c"] - 0.9 * (iso["temp_in_c"] - iso["secondary_return_temp_c"])
    assert abs(iso["temp_out_c"] - expected) < 1e-6
    # the station holds the secondary pressures
    p = res.junctions.set_index("junction_id")["pressure_bar"]
    assert abs(p["HS"] - 6.0) < 1e-9 and abs(p["HR"] - 2.0) < 1e-3


def test_substation_with_ua_obeys_lmtd() -> None:
    from nuanliu.physics.heat_exchanger import lmtd_k

    res = solve_steady(isolation_network())
    sub = res.stations.set_index("station_id").loc["SUB"]
    assert abs(sub["heat_w"] - 3e6) < 1e-6 * 3e6
    q_ua = 1.2e5 * lmtd_k(sub["temp_in_c"] - 70.0, sub["temp_out_c"] - 45.0)
    assert abs(q_ua - 3e6) < 1e-4 * 3e6


def test_outdoor_temperature_scales_demand() -> None:
    net = line_network()
    meta = {"design_outdoor_temp_c": -19.0}
    opts = SolverOptions()
    assert demand_scale(-19.0, meta, opts) == 1.0
    assert demand_scale(18.0, meta, opts) == 0.0
    assert demand_scale(25.0, meta, opts) == 0.0
    res = solve_steady(net, outdoor_temp_c=0.0)
    design = net.consumers["heat_demand_w"].sum()
    assert abs(res.summary["heat_delivered_w"] - design * 18.0 / 37.0) < 1e-6 * design


def test_warm_start_reuses_the_compiled_network() -> None:
    cn = compile_network(generate_city(400, seed=3, mesh_fraction=1.0))
    cold = solve_steady(cn)
    demands = cn.consumers["heat_demand_w"] * 0.8
    a = solve_steady(cn, demands=demands)
    b = solve_steady(cn, demands=demands, warm_start=a)
    assert b.iterations < a.iterations
    assert np.allclose(a.pipes["mdot_kg_s"], b.pipes["mdot_kg_s"], rtol=1e-5, atol=1e-9)
    assert a.summary["heat_delivered_w"] < cold.summary["heat_delivered_w"]


def test_closed_valve_reroutes_flow_in_a_ring() -> None:
    # a ring: the source feeds consumer C through two parallel paths, one with a valve
    def ring(opening: float) -> Network:
        pipes = [
            {
                "pipe_id": "A",
                "from_junction_id": "SS",
                "to_junction_id": "X",
                "length_m": 500,
                "inner_diameter_m": 0.15,
            },
            {
                "pipe_id": "B",
                "from_junction_id": "V2",
                "to_junction_id": "X",
                "length_m": 500,
                "inner_diameter_m": 0.15,
            },
            {
                "pipe_id": "R",
                "from_junction_id": "Y",
                "to_junction_id": "SR",
                "length_m": 500,
                "inner_diameter_m": 0.15,
                "side": "return",
            },
        ]
        return Network.from_tables(
            junctions=[{"junction_id": j} for j in ("SS", "SR", "X", "Y", "V2")],
            pipes=pipes,
            valves=[
                {
                    "valve_id": "V",
                    "from_junction_id": "SS",
                    "to_junction_id": "V2",
                    "kv_m3_h": 200.0,
                    "opening": opening,
                }
            ],
            sources=[
                {
                    "source_id": "S",
                    "supply_junction_id": "SS",
                    "return_junction_id": "SR",
                    "control": "pressure",
                    "supply_temp_c": 90.0,
                    "supply_pressure_bar": 6.0,
                    "return_pressure_bar": 2.0,
                }
            ],
            consumers=[
                {
                    "consumer_id": "C",
                    "supply_junction_id": "X",
                    "return_junction_id": "Y",
                    "heat_demand_w": 2e6,
                    "control": "flow",
                    "mdot_kg_s": 15.0,
                }
            ],
        )

    open_ = solve_steady(ring(1.0))
    v = open_.valves.iloc[0]
    rho = 965.3  # water at 90 °C
    assert (
        abs(v["dp_bar"] - (v["mdot_kg_s"] / rho * 3600 / 200.0) ** 2 * rho / 1000)
        < 1e-3 * v["dp_bar"]
    )
    assert 0 < v["mdot_kg_s"] < 15.0
    closed = solve_steady(ring(0.0))
    assert closed.valves.empty
    assert abs(closed.pipes.set_index("pipe_id").loc["A", "mdot_kg_s"] - 15.0) < 1e-9


def test_non_convergence_is_a_clear_error_in_bounded_time() -> None:
    net = generate_city(300, seed=1)
    t0 = time.perf_counter()
    with pytest.raises(NotConverged) as err:
        solve_steady(net, options=SolverOptions(max_iter_coupling=2))
    assert time.perf_counter() - t0 < 10
    assert "did not converge" in str(err.value)
    assert err.value.result is not None and err.value.result.status == "not_converged"
    assert len(err.value.result.residual_history) == 2
    # partial results on request
    res = solve_steady(net, options=SolverOptions(time_limit_s=0.0), raise_on_failure=False)
    assert res.status == "time_limit" and res.iterations == 1
    assert len(res.pipes) == len(net.pipes)


def test_part_without_pressure_reference_is_rejected() -> None:
    net = line_network()
    tables = net.tables
    tables["sources"] = pd.DataFrame(columns=net.sources.columns)
    with pytest.raises(InvalidInput, match="pressure-holding"):
        solve_steady(Network.from_tables(**tables))


def test_loop_paths_equal_the_tree_solve() -> None:
    """The combinatorial fundamental loops equal A_T⁻¹ A_C from the factorised tree."""
    from nuanliu.sim.compile import _tree_solve_columns

    cn = compile_network(reverse_flow_city())
    assert cn.n_chords >= 2
    dense = _tree_solve_columns(cn.lu_tree, cn.a_chord)
    assert abs(dense - cn.m_chord).max() == 0.0


def test_supply_temperature_override_for_schedules() -> None:
    cn = compile_network(generate_city(300, seed=4, sources=3))
    base = solve_steady(cn)
    # 95 °C needs 70 % more flow than the network was sized for: infeasible, still solved
    cool = solve_steady(cn, supply_temp_c=95.0, warm_start=base, raise_on_failure=False)
    assert cool.status == "infeasible"
    assert np.allclose(cool.sources["supply_temp_c"], 95.0)
    # lower supply temperature → more flow for the same heat
    assert cool.consumers["mdot_kg_s"].sum() > 1.2 * base.consumers["mdot_kg_s"].sum()
    assert abs(cool.summary["heat_delivered_w"] - base.summary["heat_delivered_w"]) < (
        1e-6 * base.summary["heat_delivered_w"]
    )
    one = solve_steady(cn, supply_temp_c={"SRC1": 110.0}, raise_on_failure=False)
    assert one.sources.set_index("source_id").loc["SRC1", "supply_temp_c"] == 110.0
    with pytest.raises(InvalidInput, match="unknown source"):
        solve_steady(cn, supply_temp_c={"nope": 90.0})
