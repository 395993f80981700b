"""Steady temperatures for given flows: one sparse solve in flow order.

Every edge that carries water (pipes, valves, pumps, lifts, consumers, stations,
sources) maps its inlet-node temperature to an outlet temperature by an affine law
T_out = α T_in + β (pipes: exponential heat loss; set-point outlets: α = 0). Each node
mixes its inflows: Σ ṁ c (T_out − T_node) = 0 with c the secant heat capacity, so
that at convergence the mixing conserves enthalpy exactly. The system is triangular in
flow order; a node without inflow takes the ambient temperature of its pipes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import spsolve

from nuanliu.physics.water import WaterProperties

FloatArray = NDArray[np.float64]

#: Flows below this (kg/s) count as stagnant for mixing.
STAGNANT_KG_S = 1e-12
#: wave plans kept per cache (flow-direction patterns seen recently)
PLAN_CACHE_SIZE = 16


@dataclass
class ThermalEdges:
    """All water-carrying edges in one array set (resistive + fixed-flow)."""

    frm: NDArray[np.int64]
    to: NDArray[np.int64]
    m_kg_s: FloatArray  # signed, positive from → to
    alpha: FloatArray
    beta: FloatArray


def solve_temperatures(
    n_nodes: int,
    edges: ThermalEdges,
    node_temp_prev_c: FloatArray,
    edge_out_prev_c: FloatArray,
    stagnant_temp_c: FloatArray,
    water: WaterProperties,
    cache: dict | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Node temperatures, edge inlet and outlet temperatures (°C).

    ``cache`` (a dict kept by the caller) holds the wave plans of the last few flow
    direction and dependency patterns; a plan is reused whenever its pattern recurs.
    """
    m = edges.m_kg_s
    fwd = m >= 0
    inlet = np.where(fwd, edges.frm, edges.to)
    outlet = np.where(fwd, edges.to, edges.frm)
    am = np.abs(m)
    flowing = am > STAGNANT_KG_S
    # Secant heat capacity between the edge outlet and the receiving node (previous
    # iterate): enthalpy-exact mixing at convergence.
    c = water.mean_cp(edge_out_prev_c, node_temp_prev_c[outlet])
    w = np.where(flowing, am * c, 0.0)
    inflow_w = np.bincount(outlet, weights=w, minlength=n_nodes)
    stagnant = inflow_w <= 0.0
    diag = np.where(stagnant, 1.0, inflow_w)
    rhs = np.bincount(outlet, weights=w * edges.beta, minlength=n_nodes)
    rhs = np.where(stagnant, stagnant_temp_c, rhs)
    off = w * edges.alpha
    dep = (off != 0.0) & ~stagnant[outlet]
    dep_idx = np.flatnonzero(dep)
    src, dst = inlet[dep_idx], outlet[dep_idx]
    # several plans are kept: a stopped pump's leak flow flips direction back and forth
    key = dep_idx.tobytes() + fwd[dep_idx].tobytes()
    plans = cache.setdefault("plans", {}) if cache is not None else {}
    plan = plans.get(key)
    if plan is None:
        plan = plan_waves(n_nodes, src, dst, (dep_idx, fwd[dep_idx]))
        if len(plans) >= PLAN_CACHE_SIZE:
            plans.pop(next(iter(plans)))  # the oldest
        plans[key] = plan
    t_node = _forward_substitution(n_nodes, src, dst, off[dep_idx], diag, rhs, plan)
    if t_node is None:  # a closed flow cycle (rare): general sparse solve
        rows = np.r_[np.arange(n_nodes), outlet[dep]]
        cols = np.r_[np.arange(n_nodes), inlet[dep]]
        vals = np.r_[diag, -off[dep]]
        a = sp.csc_matrix((vals, (rows, cols)), shape=(n_nodes, n_nodes))
        t_node = spsolve(a, rhs, permc_spec="COLAMD")
    t_in = t_node[inlet]
    t_out = edges.alpha * t_in + edges.beta
    # A stagnant edge holds the water temperature of its (stagnant) surroundings.
    t_out = np.where(flowing, t_out, t_node[outlet])
    t_in = np.where(flowing, t_in, t_node[outlet])
    return t_node, t_in, t_out


def _gather(indptr: NDArray[np.int64], nodes: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions of the CSR rows ``nodes`` concatenated (vectorised ranges)."""
    starts = indptr[nodes]
    lens = indptr[nodes + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - np.cumsum(np.r_[0, lens[:-1]]), lens)
    return shift + np.arange(total)


#: largest strongly connected set of nodes (a flow cycle) solved densely within the
#: wave plan; larger cycles take the general sparse solve
MAX_CYCLE_NODES = 64


@dataclass
class FlowSchedule:
    """Topological waves of the dependency graph (reusable while flow directions hold).

    A flow cycle (e.g. the leak flow of a stopped pump circulating back through its
    running neighbours) is one strongly connected set of nodes: its wave solves the
    set's small dense system once all its inflows from outside are known.
    """

    key_edges: NDArray[np.int64]
    key_fwd: NDArray[np.bool_]
    first: NDArray[np.int64]  # nodes solvable at once
    #: per wave: the nodes that become known, the dependency edges into them from
    #: earlier waves, the position of each edge's target among those nodes and each
    #: edge's source node; for a cycle also its internal edges (targets, sources local)
    waves: list[tuple]
    complete: bool


def plan_waves(
    n: int, src: NDArray[np.int64], dst: NDArray[np.int64], key: tuple[NDArray, NDArray]
) -> FlowSchedule:
    """Plan the waves of the forward substitution: the nodes each wave solves and the
    dependency edges into them (all from nodes of earlier waves, or within a cycle)."""
    from scipy.sparse.csgraph import connected_components

    order = np.argsort(src, kind="stable")
    src_s, dst_s = src[order], dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src_s, minlength=n), out=indptr[1:])
    remaining = np.bincount(dst, minlength=n)
    frontier = np.flatnonzero(remaining == 0)
    first = frontier
    solved = np.zeros(n, dtype=bool)
    solved[first] = True
    fronts: list[tuple[NDArray[np.int64], bool]] = []  # (nodes, is a cycle)
    complete = True
    while True:
        while len(frontier):  # one pass per wave of the flow, not per pipe
            pos = _gather(indptr, frontier)
            if not len(pos):
                break
            uniq, inv = np.unique(dst_s[pos], return_inverse=True)
            remaining[uniq] -= np.bincount(inv, minlength=len(uniq))
            frontier = uniq[(remaining[uniq] == 0) & ~solved[uniq]]
            if len(frontier):
                solved[frontier] = True
                fronts.append((frontier, False))
        if solved.all():
            break
        # stalled on flow cycles: solve the cycles no other unsolved node feeds
        inner = ~solved[src] & ~solved[dst]
        g = sp.csr_matrix((np.ones(int(inner.sum())), (src[inner], dst[inner])), shape=(n, n))
        _, comp = connected_components(g, directed=True, connection="strong")
        fed = np.zeros(n, dtype=bool)
        cross = inner & (comp[src] != comp[dst])
        fed[comp[dst[cross]]] = True
        unsolved = np.flatnonzero(~solved)
        start = unsolved[~fed[comp[unsolved]]]
        if not len(start):
            complete = False
            break
        frontier = np.zeros(0, dtype=np.int64)
        for c in np.unique(comp[start]):
            nodes = unsolved[comp[unsolved] == c]
            if len(nodes) > MAX_CYCLE_NODES:
                complete = False
                break
            solved[nodes] = True
            fronts.append((nodes, True))
            frontier = np.r_[frontier, nodes]
        if not complete:
            break
        frontier = np.unique(frontier)
    if not complete:
        return FlowSchedule(key[0], key[1], first, [], False)
    # the edges into each wave's nodes (grouped by target wave, stable within)
    wave_of = np.full(n, -1, dtype=np.int64)
    for w, (nodes, _) in enumerate(fronts):
        wave_of[nodes] = w
    edge_wave = wave_of[dst]
    by_wave = np.argsort(edge_wave, kind="stable")
    bounds = np.searchsorted(edge_wave[by_wave], np.arange(len(fronts) + 1))
    waves: list[tuple] = []
    for w, (nodes, cycle) in enumerate(fronts):
        e = by_wave[bounds[w] : bounds[w + 1]]
        if not cycle:
            local = np.searchsorted(nodes, dst[e])  # nodes are sorted (np.unique)
            waves.append((nodes, e, local, src[e], None))
            continue
        own = wave_of[src[e]] == w
        ext, cyc = e[~own], e[own]
        local = np.searchsorted(nodes, dst[ext])
        inner_pos = np.searchsorted(nodes, dst[cyc]) * len(nodes) + np.searchsorted(nodes, src[cyc])
        waves.append((nodes, ext, local, src[ext], (cyc, inner_pos)))
    return FlowSchedule(key[0], key[1], first, waves, True)


def _forward_substitution(
    n: int,
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    weight: FloatArray,
    diag: FloatArray,
    rhs: FloatArray,
    plan: FlowSchedule,
) -> FloatArray | None:
    """Solve diag·T − Σ weight·T[src] (into dst) = rhs in topological waves.

    Each wave solves every node whose upstream nodes are all known, from all its
    inflows at once (a flow cycle: its small dense system), so the work is linear in
    the number of edges; the number of waves is the longest flow path (counting only
    edges whose outlet depends on their inlet). Returns None when the plan could not
    order the nodes (a large flow cycle).
    """
    if not plan.complete:
        return None
    t = np.full(n, np.nan)
    first = plan.first
    t[first] = rhs[first] / diag[first]
    for nodes, e, local, e_src, cycle in plan.waves:
        inflow = np.bincount(local, weights=weight[e] * t[e_src], minlength=len(nodes))
        b = rhs[nodes] + inflow
        if cycle is None:
            t[nodes] = b / diag[nodes]
            continue
        k = len(nodes)
        cyc, inner_pos = cycle
        a = -np.bincount(inner_pos, weights=weight[cyc], minlength=k * k).reshape(k, k)
        a[np.diag_indices(k)] += diag[nodes]
        t[nodes] = np.linalg.solve(a, b)
    return t
