"""Compile a :class:`~nuanliu.network.model.Network` into arrays for the steady solver.

Hydraulic formulation (see docs/solver.md). Elements split into

* *resistive* edges whose flow is unknown and whose pressure difference is a law of the
  flow: pipes, valves, pumps, and the circulation "lift" of every pressure-holding
  element (pressure sources; isolation stations on their secondary side);
* *fixed-flow* edges whose flow is set by heat demand or control: consumers, station
  primaries, flow and heat sources — they enter the hydraulics as nodal injections;
* one *reference* edge per hydraulic component from a virtual ground node to the
  outlet of its first pressure-holding element, which fixes the absolute pressure.

A spanning tree of the resistive graph (rooted at ground) is found once; its incidence
matrix, ordered breadth-first, is triangular and is factorised once. Tree flows then
follow from mass conservation, pressures from one back-substitution, and only the
chords (one per independent loop or extra pressure-holding element) need a Newton
iteration. Everything here is reused across time steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse import csgraph
from scipy.sparse.linalg import SuperLU, splu

from nuanliu.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

BAR_PA = 1e5

# Kinds of resistive edges.
K_PIPE, K_VALVE, K_PUMP, K_LIFT, K_REF = 0, 1, 2, 3, 4
# Kinds of fixed-flow edges.
F_CONSUMER, F_STATION, F_SOURCE = 0, 1, 2


def _f(df: pd.DataFrame, col: str, default: float = np.nan) -> FloatArray:
    if col not in df.columns:
        return np.full(len(df), default, dtype=np.float64)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)


def _s(df: pd.DataFrame, col: str) -> NDArray[np.object_]:
    if col not in df.columns:
        return np.full(len(df), "", dtype=object)
    return df[col].fillna("").astype(str).to_numpy(dtype=object)


def _in_service(df: pd.DataFrame) -> NDArray[np.bool_]:
    if "in_service" not in df.columns:
        return np.ones(len(df), dtype=bool)
    return df["in_service"].fillna(True).astype(bool).to_numpy()


@dataclass
class CompiledNetwork:
    """Arrays and factorisations of one network; reuse across time steps."""

    name: str
    meta: dict[str, Any]
    junction_ids: NDArray[np.object_]  # all junctions, table order
    node_of_junction: IntArray  # junction → hydraulic node (−1 = not connected)
    node_junction: IntArray  # hydraulic node → junction index
    n_nodes: int  # hydraulic nodes (ground excluded; ground index = n_nodes)
    elevation_m: FloatArray  # per node

    # resistive edges (pipes | valves | pumps | lifts | references)
    e_kind: NDArray[np.int8]
    e_from: IntArray
    e_to: IntArray
    e_elem: IntArray  # row in the element's table (or in lift table)
    pipe_slice: slice
    valve_slice: slice
    pump_slice: slice
    lift_slice: slice
    ref_slice: slice

    # fixed-flow edges (consumers | stations | sources with flow/heat control)
    f_kind: NDArray[np.int8]
    f_from: IntArray
    f_to: IntArray
    f_elem: IntArray
    cons_slice: slice
    stat_slice: slice
    fsrc_slice: slice

    # element parameters (in-service rows only, in the order of their edges)
    pipes: dict[str, Any]
    valves: dict[str, Any]
    pumps: dict[str, Any]
    lifts: dict[str, Any]
    refs: dict[str, Any]
    consumers: dict[str, Any]
    stations: dict[str, Any]
    sources: dict[str, Any]

    # spanning tree and loops
    tree_edges: IntArray  # resistive edge of each row of the tree matrix
    tree_rows_node: IntArray  # hydraulic node of each row (breadth-first order)
    row_of_node: IntArray
    chord_edges: IntArray
    lu_tree: SuperLU = field(repr=False)
    a_chord: sp.csc_matrix = field(repr=False)  # rows in tree order
    m_chord: sp.csc_matrix = field(repr=False)  # A_T⁻¹ A_C
    loop_rows: IntArray = field(repr=False)  # tree rows on some fundamental loop
    m_loop: sp.csc_matrix = field(repr=False)  # m_chord restricted to loop_rows
    component_of_node: IntArray = field(repr=False)
    tables: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)
    #: compiled ``controls`` (nuanliu.sim.regulation.Regulation), None without controls
    regulation: Any = field(repr=False, default=None)
    #: structure-only arrays the solvers derive once (never parameters: those may be
    #: changed in place); not copied by ``dataclasses.replace``
    solver_cache: dict[str, Any] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    @property
    def n_chords(self) -> int:
        return len(self.chord_edges)

    @property
    def n_resistive(self) -> int:
        return len(self.e_kind)


def compile_network(net: Any) -> CompiledNetwork:
    """Turn network tables into arrays, incidence and the factorised spanning tree.

    Raises :class:`InvalidInput` when an element refers to an unknown junction or a
    connected part of the network has no pressure-holding element.
    """
    junctions = net.junctions
    jids = _s(junctions, "junction_id")
    if len(set(jids)) != len(jids):
        raise InvalidInput("junction ids are not unique", details=[{"kind": "junctions"}])
    jindex = pd.Index(jids)

    def lookup(kind: str, df: pd.DataFrame, col: str, ids_col: str) -> IntArray:
        names = _s(df, col)
        idx = jindex.get_indexer(names)
        bad = idx < 0
        if bad.any():
            ids = _s(df, ids_col)
            raise InvalidInput(
                f"{kind}: {int(bad.sum())} element(s) refer to unknown junctions "
                f"(first: {ids[bad][0]} → {col}={names[bad][0]!r})",
                details=[
                    {"kind": kind, "id": i, "problem": f"unknown {col} {n!r}"}
                    for i, n in zip(ids[bad][:20], names[bad][:20], strict=True)
                ],
            )
        return idx.astype(np.int64)

    pipes = net.pipes[_in_service(net.pipes)].reset_index(drop=True)
    valves = net.valves[_in_service(net.valves)].reset_index(drop=True)
    valves = valves[_f(valves, "opening", 1.0) > 0].reset_index(drop=True)
    pumps = net.pumps[_in_service(net.pumps)].reset_index(drop=True)
    sources = net.sources[_in_service(net.sources)].reset_index(drop=True)
    stations = net.stations[_in_service(net.stations)].reset_index(drop=True)
    consumers = net.consumers[_in_service(net.consumers)].reset_index(drop=True)

    src_control = _s(sources, "control")
    p_src = sources[src_control == "pressure"].reset_index(drop=True)
    f_src = sources[src_control != "pressure"].reset_index(drop=True)
    sec_sup = _s(stations, "secondary_supply_junction_id")
    modelled = (sec_sup != "") & (_s(stations, "secondary_return_junction_id") != "")
    iso = stations[modelled].reset_index(drop=True)

    # --- resistive edges --------------------------------------------------------------
    froms: list[IntArray] = []
    tos: list[IntArray] = []
    kinds: list[NDArray[np.int8]] = []
    elems: list[IntArray] = []

    def add(kind: int, f: IntArray, t: IntArray) -> slice:
        start = sum(len(x) for x in froms)
        froms.append(f)
        tos.append(t)
        kinds.append(np.full(len(f), kind, dtype=np.int8))
        elems.append(np.arange(len(f), dtype=np.int64))
        return slice(start, start + len(f))

    pipe_sl = add(
        K_PIPE,
        lookup("pipes", pipes, "from_junction_id", "pipe_id"),
        lookup("pipes", pipes, "to_junction_id", "pipe_id"),
    )
    valve_sl = add(
        K_VALVE,
        lookup("valves", valves, "from_junction_id", "valve_id"),
        lookup("valves", valves, "to_junction_id", "valve_id"),
    )
    pump_sl = add(
        K_PUMP,
        lookup("pumps", pumps, "from_junction_id", "pump_id"),
        lookup("pumps", pumps, "to_junction_id", "pump_id"),
    )
    # Lifts: pressure sources (return → supply) then isolation stations' secondary sides.
    lift_from = np.concatenate(
        [
            lookup("sources", p_src, "return_junction_id", "source_id"),
            lookup("stations", iso, "secondary_return_junction_id", "station_id"),
        ]
    )
    lift_to = np.concatenate(
        [
            lookup("sources", p_src, "supply_junction_id", "source_id"),
            lookup("stations", iso, "secondary_supply_junction_id", "station_id"),
        ]
    )
    lift_sl = add(K_LIFT, lift_from, lift_to)
    lift_sup_p = np.concatenate(
        [_f(p_src, "supply_pressure_bar"), _f(iso, "secondary_supply_pressure_bar")]
    )
    lift_ret_p = np.concatenate(
        [_f(p_src, "return_pressure_bar"), _f(iso, "secondary_return_pressure_bar")]
    )
    lift_ids = np.concatenate([_s(p_src, "source_id"), _s(iso, "station_id")])
    missing = np.isnan(lift_sup_p) | np.isnan(lift_ret_p)
    if missing.any():
        raise InvalidInput(
            "pressure-holding elements need supply and return pressures: "
            + ", ".join(lift_ids[missing][:10]),
            details=[
                {"kind": "sources/stations", "id": i, "problem": "supply/return pressure missing"}
                for i in lift_ids[missing]
            ],
        )
    lift_is_station = np.concatenate([np.zeros(len(p_src), bool), np.ones(len(iso), bool)])
    lift_temp_c = np.concatenate([_f(p_src, "supply_temp_c"), _f(iso, "secondary_supply_temp_c")])

    # --- fixed-flow edges -------------------------------------------------------------
    c_from = lookup("consumers", consumers, "supply_junction_id", "consumer_id")
    c_to = lookup("consumers", consumers, "return_junction_id", "consumer_id")
    s_from = lookup("stations", stations, "primary_supply_junction_id", "station_id")
    s_to = lookup("stations", stations, "primary_return_junction_id", "station_id")
    fs_from = lookup("sources", f_src, "return_junction_id", "source_id")
    fs_to = lookup("sources", f_src, "supply_junction_id", "source_id")
    nc, ns, nf = len(c_from), len(s_from), len(fs_from)
    f_from_j = np.concatenate([c_from, s_from, fs_from])
    f_to_j = np.concatenate([c_to, s_to, fs_to])

    # --- hydraulic nodes ----------------------------------------------------------------
    r_from_j = np.concatenate(froms)
    r_to_j = np.concatenate(tos)
    nj = len(jids)
    used = np.zeros(nj, dtype=bool)
    used[r_from_j] = True
    used[r_to_j] = True
    dangling = np.zeros(nj, dtype=bool)
    dangling[f_from_j] = True
    dangling[f_to_j] = True
    dangling &= ~used
    if dangling.any():
        raise InvalidInput(
            "junctions used by consumers/stations/sources are connected to no pipe: "
            + ", ".join(jids[dangling][:10]),
            details=[
                {"kind": "junctions", "id": j, "problem": "not connected to the network"}
                for j in jids[dangling][:50]
            ],
        )
    node_of_j = np.full(nj, -1, dtype=np.int64)
    node_j = np.flatnonzero(used)
    node_of_j[node_j] = np.arange(len(node_j))
    n = len(node_j)
    ground = n
    r_from = node_of_j[r_from_j]
    r_to = node_of_j[r_to_j]

    # Components of the resistive graph; each needs a pressure reference.
    g = sp.coo_matrix((np.ones(len(r_from)), (r_from, r_to)), shape=(n, n)).tocsr()
    ncomp, comp = csgraph.connected_components(g, directed=False)
    lift_node_to = r_to[lift_sl]
    ref_nodes: list[int] = []
    ref_lift: list[int] = []
    seen: set[int] = set()
    for i, node in enumerate(lift_node_to):  # few elements: a loop is fine here
        c = int(comp[node])
        if c not in seen:
            seen.add(c)
            ref_nodes.append(int(node))
            ref_lift.append(i)
    # A part without one: a flow/heat source holding its outlet pressure is the reference
    # (pandapipes' circ_pump_mass); with a pressure-holding element its pressure is unused.
    held_p = _f(f_src, "supply_pressure_bar")
    ref_held_pa = [np.nan] * len(ref_nodes)
    for i in np.flatnonzero(np.isfinite(held_p)):
        node = int(node_of_j[fs_to[i]])
        c = int(comp[node])
        if c not in seen:
            seen.add(c)
            ref_nodes.append(node)
            ref_lift.append(-1)
            ref_held_pa.append(float(held_p[i]) * BAR_PA)
    no_ref = np.setdiff1d(np.arange(ncomp), np.array(sorted(seen), dtype=np.int64))
    if len(no_ref):
        bad_nodes = np.flatnonzero(np.isin(comp, no_ref))
        raise InvalidInput(
            f"{len(no_ref)} hydraulically separate part(s) have no pressure-holding element "
            "(a `pressure` source, an isolation station or a source holding "
            "supply_pressure_bar): junctions " + ", ".join(jids[node_j[bad_nodes[:10]]]),
            details=[
                {"kind": "junctions", "id": j, "problem": "no pressure reference in its part"}
                for j in jids[node_j[bad_nodes[:50]]]
            ],
        )
    ref_nodes_a = np.array(ref_nodes, dtype=np.int64)
    start = len(r_from)
    ref_sl = slice(start, start + len(ref_nodes_a))
    e_from = np.concatenate([r_from, np.full(len(ref_nodes_a), ground)])
    e_to = np.concatenate([r_to, ref_nodes_a])
    e_kind = np.concatenate(kinds + [np.full(len(ref_nodes_a), K_REF, dtype=np.int8)])
    e_elem = np.concatenate(elems + [np.arange(len(ref_nodes_a), dtype=np.int64)])

    # --- spanning tree by breadth-first search from ground --------------------------------
    ne = len(e_from)
    gg = sp.coo_matrix(
        (np.ones(2 * ne), (np.r_[e_from, e_to], np.r_[e_to, e_from])), shape=(n + 1, n + 1)
    ).tocsr()
    order, pred = csgraph.breadth_first_order(gg, ground, directed=False, return_predecessors=True)
    # csgraph returns int32: widen before forming n²-sized keys
    order = order[order != ground].astype(np.int64)
    pred = pred.astype(np.int64)
    # Edge for each (pred, node) pair: first edge with that unordered key.
    key = np.minimum(e_from, e_to) * (n + 1) + np.maximum(e_from, e_to)
    sort = np.argsort(key, kind="stable")
    skey = key[sort]
    want = np.minimum(pred[order], order) * (n + 1) + np.maximum(pred[order], order)
    pos = np.searchsorted(skey, want)
    tree_edges = sort[pos]
    is_tree = np.zeros(ne, dtype=bool)
    is_tree[tree_edges] = True
    chord_edges = np.flatnonzero(~is_tree)

    row_of_node = np.full(n + 1, -1, dtype=np.int64)
    row_of_node[order] = np.arange(n)

    def incidence(edges: IntArray) -> sp.csc_matrix:
        f = row_of_node[e_from[edges]]
        t = row_of_node[e_to[edges]]
        cols = np.arange(len(edges))
        keep_f = f >= 0
        keep_t = t >= 0
        rows = np.r_[f[keep_f], t[keep_t]]
        cc = np.r_[cols[keep_f], cols[keep_t]]
        vals = np.r_[np.ones(keep_f.sum()), -np.ones(keep_t.sum())]
        return sp.csc_matrix((vals, (rows, cc)), shape=(n, len(edges)))

    a_tree = incidence(tree_edges)
    lu = splu(a_tree, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    a_chord = incidence(chord_edges)
    m_chord = _loop_paths(e_from, e_to, chord_edges, tree_edges, row_of_node, pred, gg, ground, n)
    loop_rows = np.unique(m_chord.tocsc().indices).astype(np.int64)

    elevation = _f(junctions, "elevation_m", 0.0)
    elevation = np.where(np.isnan(elevation), 0.0, elevation)

    pipe_par = {
        "ids": _s(pipes, "pipe_id"),
        "length_m": _f(pipes, "length_m"),
        "diameter_m": _f(pipes, "inner_diameter_m"),
        "roughness_m": np.nan_to_num(_f(pipes, "roughness_mm", 0.05), nan=0.05) / 1000.0,
        "u_w_per_m_k": np.nan_to_num(_f(pipes, "u_w_per_m_k", 0.0)),
        "ambient_temp_c": np.nan_to_num(_f(pipes, "ambient_temp_c", 10.0), nan=10.0),
        "zeta": np.nan_to_num(_f(pipes, "minor_loss_zeta", 0.0)),
        "side": _s(pipes, "side"),
    }
    valve_par = {
        "ids": _s(valves, "valve_id"),
        "kv_m3_h": _f(valves, "kv_m3_h"),
        "opening": np.nan_to_num(_f(valves, "opening", 1.0), nan=1.0),
    }
    pump_par = {
        "ids": _s(pumps, "pump_id"),
        "curve": _s(pumps, "control") == "curve",
        "lift_pa": np.nan_to_num(_f(pumps, "lift_bar")) * BAR_PA,
        "a0": np.nan_to_num(_f(pumps, "head_a0_m")),
        "a1": np.nan_to_num(_f(pumps, "head_a1_s_per_m2")),
        "a2": np.nan_to_num(_f(pumps, "head_a2_s2_per_m5")),
        "speed": np.nan_to_num(_f(pumps, "speed_ratio", 1.0), nan=1.0),
        "rho": _f(pumps, "curve_density_kg_m3"),  # NaN: the water's density at the pump
        "efficiency": np.nan_to_num(_f(pumps, "efficiency", 0.75), nan=0.75),
        # set per solve by part-load control (staging): 1 runs, 0 stopped (its check
        # valve closed), 2 stopped with the group's bypass open (this edge carries its
        # share of the bypass, Kv below)
        "state": np.ones(len(pumps), dtype=np.int8),
        "bypass_kv_m3_h": np.full(len(pumps), np.nan),
    }
    lift_par = {
        "ids": lift_ids,
        "is_station": lift_is_station,
        "lift_pa": (lift_sup_p - lift_ret_p) * BAR_PA,
        "supply_pressure_pa": lift_sup_p * BAR_PA,
        "supply_temp_c": lift_temp_c,
        "station_row": np.concatenate([np.full(len(p_src), -1), np.flatnonzero(modelled)]).astype(
            np.int64
        ),
        "source_row": np.concatenate([np.arange(len(p_src)), np.full(len(iso), -1)]).astype(
            np.int64
        ),
        # the source's own circulation pump efficiency is not in the schema: use the default
        "efficiency": np.full(len(lift_ids), 0.75),
    }
    ref_par = {
        "lift": np.array(ref_lift, dtype=np.int64),
        "node": ref_nodes_a,
        "held_pa": np.array(ref_held_pa, dtype=np.float64),
    }
    cons_par = {
        "ids": _s(consumers, "consumer_id"),
        "heat_demand_w": np.nan_to_num(_f(consumers, "heat_demand_w")),
        "flow_control": _s(consumers, "control") == "flow",
        "return_temp_c": _f(consumers, "return_temp_c"),
        "mdot_kg_s": _f(consumers, "mdot_kg_s"),
        "min_dp_pa": np.nan_to_num(_f(consumers, "min_dp_bar", 0.0)) * BAR_PA,
    }
    stat_par = {
        "ids": _s(stations, "station_id"),
        "modelled": modelled,
        "heat_demand_w": np.nan_to_num(_f(stations, "heat_demand_w")),
        "sec_supply_c": _f(stations, "secondary_supply_temp_c"),
        "sec_return_c": _f(stations, "secondary_return_temp_c"),
        "ua_w_per_k": _f(stations, "ua_w_per_k"),
        "effectiveness": _f(stations, "effectiveness"),
        # lift row of the modelled secondary (−1 for unmodelled)
        "lift_row": np.full(len(stations), -1, dtype=np.int64),
    }
    stat_par["lift_row"][np.flatnonzero(modelled)] = len(p_src) + np.arange(len(iso))
    fsrc_control = _s(f_src, "control")
    src_par = {
        "ids": _s(f_src, "source_id"),
        "heat_control": fsrc_control == "heat",
        "mdot_kg_s": _f(f_src, "mdot_kg_s"),
        "heat_w": _f(f_src, "heat_w"),
        "supply_temp_c": _f(f_src, "supply_temp_c"),
        "capacity_w": _f(f_src, "capacity_w"),
    }
    bad_temp = np.isnan(lift_temp_c)
    if bad_temp.any() or np.isnan(src_par["supply_temp_c"]).any():
        raise InvalidInput("sources and isolation stations need a supply temperature set-point")

    f_kind = np.concatenate(
        [
            np.full(nc, F_CONSUMER, np.int8),
            np.full(ns, F_STATION, np.int8),
            np.full(nf, F_SOURCE, np.int8),
        ]
    )
    cn = CompiledNetwork(
        name=str(getattr(net, "name", "network")),
        meta=dict(getattr(net, "meta", {}) or {}),
        junction_ids=jids,
        node_of_junction=node_of_j,
        node_junction=node_j,
        n_nodes=n,
        elevation_m=elevation[node_j],
        e_kind=e_kind,
        e_from=e_from,
        e_to=e_to,
        e_elem=e_elem,
        pipe_slice=pipe_sl,
        valve_slice=valve_sl,
        pump_slice=pump_sl,
        lift_slice=lift_sl,
        ref_slice=ref_sl,
        f_kind=f_kind,
        f_from=node_of_j[f_from_j],
        f_to=node_of_j[f_to_j],
        f_elem=np.concatenate([np.arange(nc), np.arange(ns), np.arange(nf)]).astype(np.int64),
        cons_slice=slice(0, nc),
        stat_slice=slice(nc, nc + ns),
        fsrc_slice=slice(nc + ns, nc + ns + nf),
        pipes=pipe_par,
        valves=valve_par,
        pumps=pump_par,
        lifts=lift_par,
        refs=ref_par,
        consumers=cons_par,
        stations=stat_par,
        sources=src_par,
        tree_edges=tree_edges,
        tree_rows_node=order,
        row_of_node=row_of_node,
        chord_edges=chord_edges,
        lu_tree=lu,
        a_chord=a_chord,
        m_chord=m_chord,
        loop_rows=loop_rows,
        m_loop=m_chord[loop_rows, :].tocsc(),
        component_of_node=comp,
        tables={
            "junctions": junctions,
            "p_sources": p_src,
            "f_sources": f_src,
            "stations": stations,
            "consumers": consumers,
            "pipes": pipes,
            "valves": valves,
            "pumps": pumps,
        },
    )
    from nuanliu.sim.regulation import compile_controls  # local: regulation imports this

    cn.regulation = compile_controls(getattr(net, "controls", None), cn)
    return cn


def _tree_solve_columns(lu: SuperLU, a: sp.csc_matrix, block: int = 256) -> sp.csc_matrix:
    """A_T⁻¹ A_C as a sparse matrix (each column is a tree path: entries 0 or ±1)."""
    n, k = a.shape
    if k == 0:
        return sp.csc_matrix((n, 0))
    parts = []
    for j in range(0, k, block):  # loop over blocks of chords, not over pipes
        dense = lu.solve(a[:, j : j + block].toarray())
        dense[np.abs(dense) < 0.5] = 0.0
        parts.append(sp.csc_matrix(np.rint(dense)))
    return sp.hstack(parts, format="csc")


def _loop_paths(
    e_from: IntArray,
    e_to: IntArray,
    chords: IntArray,
    tree_edges: IntArray,
    row_of_node: IntArray,
    pred: IntArray,
    graph: sp.csr_matrix,
    ground: int,
    n: int,
) -> sp.csc_matrix:
    """M = A_T⁻¹ A_C from the tree paths: column c carries a unit flow from the chord's
    start to its end along the tree (±1 by edge orientation).

    All chords climb towards their lowest common ancestor together, one tree level per
    step: the loop runs over tree depth, never over pipes.
    """
    k = len(chords)
    if k == 0:
        return sp.csc_matrix((n, 0))
    depth = csgraph.dijkstra(graph, indices=ground, unweighted=True).astype(np.int64)
    a = e_from[chords].copy()
    b = e_to[chords].copy()
    cols = np.arange(k)
    rr: list[IntArray] = []
    cc: list[IntArray] = []
    vv: list[NDArray[np.float64]] = []

    def climb(nodes: IntArray, which: NDArray[np.bool_], sign: float) -> None:
        w = nodes[which]
        row = row_of_node[w]
        up = np.where(e_from[tree_edges[row]] == w, 1.0, -1.0)
        rr.append(row)
        cc.append(cols[which])
        vv.append(sign * up)
        nodes[which] = pred[w]

    while True:
        differ = a != b
        if not differ.any():
            break
        da, db = depth[a], depth[b]
        climb(a, differ & (da >= db), 1.0)
        differ = a != b
        climb(b, differ & (depth[b] > depth[a]) | (differ & (depth[b] == depth[a])), -1.0)
    rows = np.concatenate(rr)
    return sp.csc_matrix((np.concatenate(vv), (rows, np.concatenate(cc))), shape=(n, k))
