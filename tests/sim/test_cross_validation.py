"""Cross-validation against pandapipes (the independent oracle) on four networks.

Both engines use pandapipes' water tables and Colebrook–White; Nuanliu's
``cp_rule="trapezoid"`` adopts pandapipes' heat-capacity convention (c_p averaged over
the two end temperatures) so that differences measure the solvers, not the
conventions. Criteria: mass flows and pressures within 0.5 %, temperatures 0.1 K.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nuanliu.network.generate import generate_city
from nuanliu.sim import SolverOptions, solve_steady

from .networks import relative_error, reverse_flow_city, stations_as_consumers
from .pp_bridge import pandapipes_results, pandapipes_water, run_pandapipes, to_pandapipes

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
