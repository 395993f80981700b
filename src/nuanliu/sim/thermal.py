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

    ``cache`` (a dict kept by the caller) holds the wave plan; it is reused while the
    flow directions and dependency pattern stay the same.
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
    plan = cache.get("plan") if cache is not None else None
    if (
        plan is None
        or not np.array_equal(plan.key_edges, dep_idx)
        or not np.array_equal(plan.key_fwd, fwd[dep_idx])
    ):
        plan = plan_waves(n_nodes, src, dst, (dep_idx, fwd[dep_idx]))
        if cache is not None:
            cache["plan"] = plan
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


@dataclass
class FlowSchedule:
    """Topological waves of the dependency graph (reusable while flow directions hold)."""

    key_edges: NDArray[np.int64]
    key_fwd: NDArray[np.bool_]
    order: NDArray[np.int64]  # dependency edges sorted by source node
    first: NDArray[np.int64]  # nodes solvable at once
    waves: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]]
    complete: bool


def plan_waves(
    n: int, src: NDArray[np.int64], dst: NDArray[np.int64], key: tuple[NDArray, NDArray]
) -> FlowSchedule:
    """Plan the waves of the forward substitution: per wave the edge positions (in
    source order), their distinct targets, the target of each edge and the nodes that
    become known."""
    order = np.argsort(src, kind="stable")
    src_s, dst_s = src[order], dst[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src_s, minlength=n), out=indptr[1:])
    remaining = np.bincount(dst, minlength=n)
    frontier = np.flatnonzero(remaining == 0)
    first = frontier
    solved = len(frontier)
    waves = []
    while len(frontier):  # one pass per wave of the flow, not per pipe
        pos = _gather(indptr, frontier)
        if not len(pos):
            break
        uniq, inv = np.unique(dst_s[pos], return_inverse=True)
        remaining[uniq] -= np.bincount(inv, minlength=len(uniq))
        frontier = uniq[remaining[uniq] == 0]
        waves.append((pos, uniq, inv, frontier))
        solved += len(frontier)
    return FlowSchedule(key[0], key[1], order, first, waves, solved == n)


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

    Each wave solves every node whose upstream nodes are all known, so the work is
    linear in the number of edges; the number of waves is the longest flow path
    (counting only edges whose outlet depends on their inlet). Returns None if a flow
    cycle leaves nodes unsolved.
    """
    if not plan.complete:
        return None
    src_s = src[plan.order]
    w_s = weight[plan.order]
    acc = rhs.copy()
    t = np.full(n, np.nan)
    t[plan.first] = acc[plan.first] / diag[plan.first]
    for pos, uniq, inv, frontier in plan.waves:
        acc[uniq] += np.bincount(inv, weights=w_s[pos] * t[src_s[pos]], minlength=len(uniq))
        t[frontier] = acc[frontier] / diag[frontier]
    return t
