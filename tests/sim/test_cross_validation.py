"""Cross-validation against pandapipes (the independent oracle) on four networks.

Both engines use pandapipes' water tables and Colebrook–White; Nuanliu's
``cp_rule="trapezoid"`` adopts pandapipes' heat-capacity convention (c_p averaged over
the two end temperatures) so that differences measure the solvers, not the
conventions. Criteria: mass flows and pressures within 0.5 %, temperatures 0.1 K.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from nuanliu.network.generate import generate_city
from nuanliu.sim import SolverOptions, solve_steady

from .networks import (
    PP_AMBIENT_K,
    pp_fixed_flow_plant_net,
    pp_hills_net,
    pp_pump_stations_net,
    pp_two_sources_net,
    relative_error,
    reverse_flow_city,
    stations_as_consumers,
)
from .pp_bridge import (
    native_results,
    pandapipes_results,
    pandapipes_water,
    run_native,
    run_pandapipes,
    to_pandapipes,
)

pytest.importorskip("pandapipes")

AMBIENT_C = 8.0  # the generator's ground temperature; pandapipes' stagnant-node temperature


def _compare(net, *, expect_reverse: bool = False) -> dict[str, float]:
    water = dataclasses.replace(pandapipes_water(), cp_rule="trapezoid")
    # the reverse-flow city and Jiexiu at design exceed velocity limits: compare anyway
    res = solve_steady(net, options=SolverOptions(water=water), raise_on_failure=False)
    assert res.solved, res.status
    ppn, jix = to_pandapipes(net)
    run_pandapipes(ppn, ambient_k=AMBIENT_C + 273.15, use_numba=False)
    ref = pandapipes_results(net, ppn, jix)

    mine = res.pipes.set_index("pipe_id")
    theirs = ref["pipes"].set_index("pipe_id").loc[mine.index]
    m_max = float(np.abs(theirs["mdot_kg_s"]).max())
    err_m = relative_error(
        mine["mdot_kg_s"].to_numpy(), theirs["mdot_kg_s"].to_numpy(), floor=1e-6 * m_max
    )
    jm = res.junctions.set_index("junction_id")
    jt = ref["junctions"].set_index("junction_id").loc[jm.index]
    err_p = relative_error(jm["pressure_bar"].to_numpy(), jt["pressure_bar"].to_numpy())
    err_t = np.abs(jm["temp_c"].to_numpy() - jt["temp_c"].to_numpy())
    cm = res.consumers.set_index("consumer_id")
    ct = ref["consumers"].set_index("consumer_id").loc[cm.index]
    err_c = relative_error(
        cm["mdot_kg_s"].to_numpy(), ct["mdot_kg_s"].to_numpy(), floor=1e-6 * m_max
    )
    assert err_m.max() < 0.005, f"pipe mass flow differs by {err_m.max():.3%}"
    assert err_c.max() < 0.005, f"consumer mass flow differs by {err_c.max():.3%}"
    assert err_p.max() < 0.005, f"pressure differs by {err_p.max():.3%}"
    assert err_t.max() < 0.1, f"temperature differs by {err_t.max():.3f} K"
    n_reverse = int((theirs["mdot_kg_s"] < 0).sum())
    if expect_reverse:
        # Both engines see the same reversed pipes.
        assert n_reverse > 0
        assert (mine["mdot_kg_s"] < 0).sum() == n_reverse
    return {"m": err_m.max(), "p": err_p.max(), "t": err_t.max()}


def test_tree_matches_pandapipes() -> None:
    net = generate_city(150, seed=11, mesh_fraction=0.0)
    _compare(net)


def test_meshed_city_matches_pandapipes() -> None:
    net = generate_city(400, seed=3, mesh_fraction=1.0)
    from nuanliu.sim import compile_network

    assert compile_network(net).n_chords >= 6  # really meshed: supply and return rings
    _compare(net)


def test_reverse_flow_matches_pandapipes() -> None:
    _compare(reverse_flow_city(), expect_reverse=True)


def test_jiexiu_matches_pandapipes() -> None:
    """The real Jiexiu network (two separate trees, 500 pipes, 109 stations). pandapipes
    has no UA heat exchanger, so both engines see the stations as consumers holding a
    60 °C primary return; the UA station model is checked against the LMTD on its own."""
    from nuanliu.network.examples import load_example

    _compare(stations_as_consumers(load_example("jiexiu")))


def test_default_enthalpy_rule_stays_close_to_pandapipes() -> None:
    """With the exact enthalpy rule (the default) consumer flows move by the difference
    between ∫c_p dT and pandapipes' averaged c_p: well under the 0.5 % criterion."""
    net = generate_city(120, seed=2, mesh_fraction=0.0)
    res = solve_steady(net, options=SolverOptions(water=pandapipes_water()))
    ppn, jix = to_pandapipes(net)
    run_pandapipes(ppn, ambient_k=AMBIENT_C + 273.15, use_numba=False)
    ref = pandapipes_results(net, ppn, jix)
    cm = res.consumers.set_index("consumer_id")["mdot_kg_s"]
    ct = ref["consumers"].set_index("consumer_id")["mdot_kg_s"].loc[cm.index]
    assert relative_error(cm.to_numpy(), ct.to_numpy()).max() < 0.005


# -- networks built natively in pandapipes and imported (issue 7) ------------------------


def _compare_native(
    ppn, *, ref_junction: int = 0, pressure_limit: float = 0.005, ambient_k: float = PP_AMBIENT_K
) -> dict[str, float]:
    """Import a pandapipes net as a user would, solve both, compare every element.

    Returns the worst differences (relative for flows, lifts and pressures; K for
    temperatures) and keeps both results as ``_last`` for further checks."""
    import copy

    from nuanliu.network.io import from_pandapipes

    net = from_pandapipes(copy.deepcopy(ppn))
    water = dataclasses.replace(pandapipes_water(), cp_rule="trapezoid")
    res = solve_steady(net, options=SolverOptions(water=water))
    assert res.converged
    ran = run_native(ppn, ambient_k=ambient_k)
    ref = native_results(ran, ref_junction)

    pipes = res.pipes.set_index("pipe_id")["mdot_kg_s"]
    m_scale = float(ref["pipe_mdot"].abs().max())

    def rel(mine: pd.Series, theirs: pd.Series, floor: float = 0.0) -> float:
        theirs = theirs.loc[mine.index]
        return float(relative_error(mine.to_numpy(), theirs.to_numpy(), floor=floor).max())

    jun = res.junctions.set_index("junction_id")
    errors = {
        "pipe_mdot": rel(pipes, ref["pipe_mdot"], 1e-6 * m_scale),
        "pressure": rel(jun["pressure_bar"], ref["junction_p"]),
        "temp_k": float(np.abs(jun["temp_c"] - ref["junction_t"].loc[jun.index]).max()),
    }
    cons = res.consumers.set_index("consumer_id")["mdot_kg_s"]
    if len(cons):
        errors["consumer_mdot"] = rel(cons, ref["consumer_mdot"], 1e-6 * m_scale)
    if len(res.pumps):
        pumps = res.pumps.set_index("pump_id")
        errors["pump_mdot"] = rel(pumps["mdot_kg_s"], ref["pump_mdot"], 1e-6 * m_scale)
        errors["pump_lift"] = rel(pumps["lift_bar"], ref["pump_lift"])
    if len(res.valves):
        valves = res.valves.set_index("valve_id")["mdot_kg_s"]
        errors["valve_mdot"] = rel(valves, ref["valve_mdot"], 1e-6 * m_scale)
    for key, err in errors.items():
        limit = {"temp_k": 0.1, "pressure": pressure_limit}.get(key, 0.005)
        assert err < limit, f"{ppn.name}: {key} differs by {err:.3g} (limit {limit})"
    _last.update(mine=res, theirs=ran)
    return errors


_last: dict = {}


def test_pump_stations_and_throttled_valve_match_pandapipes() -> None:
    """Two relay pumps in series, two booster pumps in parallel, a throttled valve."""
    ppn = pp_pump_stations_net()
    errors = _compare_native(ppn)
    assert {"pump_lift", "valve_mdot"} <= set(errors)


@pytest.mark.parametrize(
    ("boiler", "boiler_id"), [("heat_consumer", "SC11"), ("circ_pump_mass", "SM0")]
)
def test_two_sources_and_a_vacant_building_match_pandapipes(boiler: str, boiler_id: str) -> None:
    """A pressure-holding plant and a fixed-flow peak boiler (a heat_consumer run
    backwards, or a circ_pump_mass holding no pressure) on a meshed district; a consumer
    with zero demand."""
    ppn = pp_two_sources_net(boiler)
    _compare_native(ppn)
    mine, theirs = _last["mine"], _last["theirs"]
    # the vacant building takes no flow in either engine
    assert mine.consumers.set_index("consumer_id").loc["C2", "mdot_kg_s"] == pytest.approx(0.0)
    assert theirs.res_heat_consumer.loc[2, "mdot_from_kg_per_s"] == pytest.approx(0.0, abs=1e-9)
    # the boiler injects its flow at 90 °C and pushes the same pipes into reverse flow
    assert set(mine.sources["source_id"]) == {"S0", boiler_id}  # ids do not collide
    boiler = mine.sources.set_index("source_id").loc[boiler_id]
    assert boiler["mdot_kg_s"] == pytest.approx(4.0) and boiler["supply_temp_c"] == 90.0
    rev_mine = set(mine.pipes["pipe_id"][mine.pipes["mdot_kg_s"] < 0])
    rev_theirs = {f"P{i}" for i in theirs.res_pipe.index[theirs.res_pipe["mdot_from_kg_per_s"] < 0]}
    assert rev_mine == rev_theirs and len(rev_mine) > 0


def test_hills_match_pandapipes(monkeypatch: pytest.MonkeyPatch) -> None:
    """±40 m around the plant, pressures compared in Nuanliu's gauge convention. What
    remains (≈ 0.08 %) is pandapipes' g = 9.81 m/s² against standard gravity 9.80665:
    with pandapipes on standard gravity the engines agree to 1e-6."""
    import pandapipes.pf.derivative_toolbox as toolbox
    from pandapipes.pf.pipeflow_setup import default_options

    # pipes without text_k: pandapipes' default ambient temperature (20 °C) in both
    ambient_k = default_options["ambient_temperature"]
    errors = _compare_native(pp_hills_net(), ambient_k=ambient_k)
    assert errors["pressure"] > 1e-4  # the gravity convention shows
    monkeypatch.setattr(toolbox, "GRAVITATION_CONSTANT", 9.80665)
    _compare_native(pp_hills_net(), ambient_k=ambient_k, pressure_limit=1e-6)


def test_fixed_flow_plant_matches_pandapipes() -> None:
    """A plant holding a fixed flow and its outlet pressure (circ_pump_mass), a bypass."""
    _compare_native(pp_fixed_flow_plant_net())


@pytest.mark.parametrize(
    "build", [pp_pump_stations_net, pp_two_sources_net, pp_fixed_flow_plant_net]
)
def test_exporting_an_imported_net_gives_pandapipes_the_same_results(build) -> None:
    """pandapipes → Nuanliu → pandapipes: pumps, valves, the fixed-flow and backwards
    heat_consumer sources and the pressure a circ_pump_mass holds come back so that
    pandapipes computes the same state."""
    import copy

    from nuanliu.network.io import from_pandapipes, to_pandapipes

    ppn = build()
    back = to_pandapipes(from_pandapipes(copy.deepcopy(ppn)))
    first = run_native(ppn, ambient_k=PP_AMBIENT_K)
    second = run_native(back, ambient_k=PP_AMBIENT_K)
    jid = back.junction["nuanliu_id"].str[1:].astype(int).to_numpy()
    p1 = first.res_junction.loc[jid, "p_bar"].to_numpy()
    p2 = second.res_junction["p_bar"].to_numpy()
    assert relative_error(p2, p1).max() < 1e-6
    t1 = first.res_junction.loc[jid, "t_k"].to_numpy()
    assert np.abs(second.res_junction["t_k"].to_numpy() - t1).max() < 1e-5
    pid = back.pipe["nuanliu_id"].str[1:].astype(int).to_numpy()
    m1 = first.res_pipe.loc[pid, "mdot_from_kg_per_s"].to_numpy()
    m2 = second.res_pipe["mdot_from_kg_per_s"].to_numpy()
    assert relative_error(m2, m1, floor=1e-6 * np.abs(m1).max()).max() < 1e-6
