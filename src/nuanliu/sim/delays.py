"""Transport delays: how long a supply-temperature change needs from each source to
each station at a given flow state.

A temperature signal crosses a pipe in ``(water mass + wall heat capacity / c_p) / ṁ``
(the wall is heated on the way, see :mod:`nuanliu.sim.pipe_transport`). Delays are
the earliest arrival along the flow direction (Dijkstra on the supply side); an
isolation station passes the signal from its primary inlet to its secondary supply
without delay, so city stations behind it get the whole chain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from nuanliu.errors import InvalidInput
from nuanliu.sim.compile import CompiledNetwork, compile_network
from nuanliu.sim.dynamic import WATER_CP_J_KG_K, constant_cp_water
from nuanliu.sim.pipe_transport import default_wall_thickness_m, wall_heat_capacity_j_per_m_k
from nuanliu.sim.steady import SteadyResult, solve_steady


def transport_delays(
    network: Any,
    *,
    flow_state: SteadyResult | None = None,
    outdoor_temp_c: float | None = None,
    wall: bool = True,
) -> pd.DataFrame:
    """Delay (hours) from every source to every station and consumer it feeds.

    ``flow_state``: a steady result on the same network (its flows are used); otherwise
    the steady state at ``outdoor_temp_c`` (design load when None) is solved. Returns
    columns ``source_id, element_id, kind, delay_h`` (unreached pairs are left out).
    """
    cn = network if isinstance(network, CompiledNetwork) else compile_network(network)
    if flow_state is None:
        flow_state = solve_steady(cn, outdoor_temp_c=outdoor_temp_c, raise_on_failure=False)
    if flow_state.state is None:
        raise InvalidInput("flow_state has no solved state to take the flows from")
    from nuanliu.sim.hydraulics import solve_hydraulics

    water = constant_cp_water()
    st = flow_state.state
    rho = water.density(np.full(cn.n_resistive, 70.0))
    mu = water.viscosity(np.full(cn.n_resistive, 70.0))
    q = solve_hydraulics(cn, st.m_fixed, rho, mu, st.q_chord, with_pressures=False).q_kg_s
    n = cn.n_nodes
    pp = cn.pipes
    psl = cn.pipe_slice
    d = pp["diameter_m"]
    c_wall = wall_heat_capacity_j_per_m_k(d, default_wall_thickness_m(d)) if wall else 0.0 * d
    mass = pp["length_m"] * (float(rho[0]) * 0.25 * np.pi * d * d + c_wall / WATER_CP_J_KG_K)
    qp = q[psl]
    flowing = np.abs(qp) > 1e-9
    t_pipe = np.where(flowing, mass / np.where(flowing, np.abs(qp), 1.0), np.inf)
    fwd = qp >= 0
    src = np.where(fwd, cn.e_from[psl], cn.e_to[psl])[flowing]
    dst = np.where(fwd, cn.e_to[psl], cn.e_from[psl])[flowing]
    w = t_pipe[flowing]
    # valves and pumps: no delay
    for sl in (cn.valve_slice, cn.pump_slice):
        qq = q[sl]
        f = qq >= 0
        src = np.r_[src, np.where(f, cn.e_from[sl], cn.e_to[sl])]
        dst = np.r_[dst, np.where(f, cn.e_to[sl], cn.e_from[sl])]
        w = np.r_[w, np.zeros(sl.stop - sl.start)]
    # isolation stations: primary inlet → secondary supply node
    stat = cn.stations
    rows = np.flatnonzero(stat["modelled"])
    if len(rows):
        prim_in = cn.f_from[cn.stat_slice][rows]
        lift_to = cn.e_to[cn.lift_slice][stat["lift_row"][rows]]
        src = np.r_[src, prim_in]
        dst = np.r_[dst, lift_to]
        w = np.r_[w, np.zeros(len(rows))]
    # tiny positive weights: csgraph drops explicit zeros
    g = sp.csr_matrix((np.maximum(w, 1e-9), (src, dst)), shape=(n, n))
    lifts = cn.lifts
    src_rows = np.flatnonzero(~lifts["is_station"])
    origin_nodes = np.r_[cn.e_to[cn.lift_slice][src_rows], cn.f_to[cn.fsrc_slice]]
    origin_ids = np.r_[lifts["ids"][src_rows], cn.sources["ids"]]
    if not len(origin_nodes):
        return pd.DataFrame(columns=["source_id", "element_id", "kind", "delay_h"])
    dist = dijkstra(g, directed=True, indices=origin_nodes)
    targets = np.r_[cn.f_from[cn.cons_slice], cn.f_from[cn.stat_slice]]
    ids = np.r_[cn.consumers["ids"], stat["ids"]]
    kinds = np.r_[
        np.full(len(cn.consumers["ids"]), "consumer"), np.full(len(stat["ids"]), "station")
    ]
    out = []
    for i, sid in enumerate(origin_ids):  # per source: a handful
        dd = dist[i, targets]
        ok = np.isfinite(dd)
        out.append(
            pd.DataFrame(
                {
                    "source_id": sid,
                    "element_id": ids[ok],
                    "kind": kinds[ok],
                    "delay_h": dd[ok] / 3600.0,
                }
            )
        )
    return pd.concat(out, ignore_index=True)
