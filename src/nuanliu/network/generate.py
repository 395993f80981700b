"""Synthetic, reproducible city district-heating networks of any size.

``generate_city(consumers, seed)`` lays out a city in local metres:

* distribution nodes scattered over a square city (one per ~2 buildings) and a coarse
  grid of mains (street spacing ~600 m); the supply tree is the Euclidean minimum
  spanning tree of the Delaunay graph with the main grid forced in, and a share
  ``mesh_fraction`` of the grid's loop-closing edges is added back (rings/meshes);
* every consumer (a building with its own substation) hangs off a distribution node by
  a service pipe pair;
* pipes are sized from the downstream design load (tree accumulation, ΔT = supply −
  return) as the smallest catalogue DN with friction gradient ≤ 50 Pa/m (grid mains,
  min DN150), ≤ 80 Pa/m (transmission), ≤ 100 Pa/m (branches) or ≤ 250 Pa/m (service
  pipes) and velocity ≤ 3 m/s (CJJ 34 recommends 30–70 Pa/m on mains); a grid main
  or transmission line whose load one DN1600 cannot carry within that is laid as
  parallel lines (cities beyond ~20,000 consumers);
* the return side mirrors the supply side (same lengths and DN, reversed direction);
* source 0 (the main plant, 400 m from the centre) holds the pressure (return 3 bar(g),
  lift from the worst path's friction loss plus the consumers' differential pressure,
  +20 %); further sources beyond the city edge feed a set heat (control ``heat``);
* junctions and pipes whose design pressure exceeds PN16 (the limit check's default)
  get ``pn_bar`` 25 (or 40): the plant's pressure plus the static head where the ground
  lies below it, minus a conservative share of the tree's friction loss (supply side).
  One-plant cities up to 20,000 consumers need none (``pn_bar`` NaN throughout).

At its design load a city with one source (the default) solves within every physical
limit of ``nuanliu.sim.limits`` (checked for 1,000–100,000 consumers, on its terrain and
flattened). The 3 m/s holds for the sizing flows (spanning-tree loads, 960 kg/m³); solved,
the water at 120 °C is ~2 % lighter and the meshes shift some flow, so the fastest pipe
runs at up to ~3.2 m/s (a DN ≥ 1000 main, limit 3.5 m/s). More plants are not added by
default: parallel mains and PN25 keep a single plant's city valid to 100,000 consumers,
while extra ``heat`` plants at the city edge are sized only approximately (see
``sources``).

Demands follow a log-normal distribution (median 70 kW, σ = 0.6, capped at 1.5 MW), a
realistic spread for residential buildings of 500–30,000 m² at ~45 W/m².
Everything is vectorised except two linear passes over the tree, so 50,000 consumers
take a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree
from scipy.spatial import Delaunay

from nuanliu.errors import InvalidInput
from nuanliu.network.model import Network
from nuanliu.network.pipe_catalog import (
    friction_gradient_pa_per_m,
    heat_loss_u_w_per_m_k,
    inner_diameter_m,
    size_dn,
)
from nuanliu.network.schema import DEFAULT_PN_BAR

CP_J_KG_K = 4190.0
_BLOCK_M = 80.0  # spacing of distribution nodes (one urban block)
_GRID_M = 600.0  # spacing of the main street grid
# largest flow of one DN1600 line at ≤ 80 Pa/m (about 3 m/s)
_MDOT_CAP_DN1600_KG_S = 5600.0
# pressure ratings to choose from (bar g); PN16 is the default of the limit check
_PN_STEPS_BAR = (16.0, 25.0, 40.0)


def _ids(prefix: str, n: int, suffix: str = "") -> list[str]:
    width = max(5, len(str(n)))
    return [f"{prefix}{i:0{width}d}{suffix}" for i in range(n)]


def _grid(side_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Main-grid node coordinates and grid edges (index pairs)."""
    g = max(2, int(round(side_m / _GRID_M)) + 1)
    ticks = np.linspace(0.0, side_m, g)
    gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    idx = np.arange(g * g).reshape(g, g)
    edges = np.vstack(
        [
            np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()]),
            np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
        ]
    )
    return xy, edges


def _n_parallel(mdot_kg_s: np.ndarray) -> np.ndarray:
    """Number of parallel lines (≤ DN1600 each, ≤ 3 m/s) that carry ``mdot_kg_s``."""
    return np.maximum(1, np.ceil(mdot_kg_s / _MDOT_CAP_DN1600_KG_S)).astype(int)


def _pn_step(p_bar: np.ndarray | float) -> np.ndarray:
    """The smallest rating of PN16 / PN25 / PN40 that holds ``p_bar`` (bar g)."""
    p = np.atleast_1d(np.asarray(p_bar, dtype=float))
    steps = np.asarray(_PN_STEPS_BAR)
    return steps[np.minimum(np.searchsorted(steps, p), len(steps) - 1)]


def _pressure_ratings(
    *,
    supply_bar: float,
    return_bar: float,
    plant_elev_m: float,
    elev_m: np.ndarray,
    friction_bar: np.ndarray,
    extra_supply_bar: np.ndarray,
    counts: tuple[int, int, int],
    friction_share: float,
    rise_bar: np.ndarray,
    near_plant: np.ndarray,
) -> np.ndarray:
    """PN (bar) of every junction, in the order supply nodes, return nodes, consumer
    supply, consumer return, source supply, source return.

    ``elev_m``, ``friction_bar`` (supply-side friction loss along the spanning tree from
    the main plant, in the flow direction), ``rise_bar`` (its rise where the extra plants'
    flows run back towards the main plant) and ``extra_supply_bar`` are given per place:
    nodes, consumers, sources. The design pressure bounds the steady one at design load
    from above: the plant's pressure, plus the static head where the ground lies below
    the plant (not minus where it lies above, so the rating also holds on flattened
    terrain), minus ``friction_share`` × the tree's loss on the supply side (the meshed
    network loses less than its spanning tree), plus 1.2 × the rise, and at least the
    pressure of the extra plant's node ``near_plant`` (node index, −1 for none) plus the
    static head below it; on the return side plus 1.5 × the loss.
    """
    n_nodes, consumers, _ = counts
    head_bar = 960.0 * 9.81 / 1e5 * np.maximum(plant_elev_m - elev_m, 0.0)
    p_sup = (
        supply_bar + head_bar - friction_share * friction_bar + 1.2 * rise_bar + extra_supply_bar
    )
    near = near_plant >= 0
    if near.any():
        nodes = near_plant[near]
        p_sup[near] = np.maximum(
            p_sup[near], p_sup[nodes] + 960.0 * 9.81 / 1e5 * (elev_m[nodes] - elev_m[near])
        )
    p_ret = return_bar + head_bar + 1.5 * friction_bar
    pn_s, pn_r = _pn_step(p_sup), _pn_step(p_ret)
    a, b = n_nodes, n_nodes + consumers
    return np.r_[pn_s[:a], pn_r[:a], pn_s[a:b], pn_r[a:b], pn_s[b:], pn_r[b:]]


def _in_set(edges: np.ndarray, keys: set[tuple[int, int]]) -> np.ndarray:
    return np.fromiter((tuple(e) in keys for e in edges.tolist()), bool, len(edges))


def _delaunay_edges(xy: np.ndarray) -> np.ndarray:
    tri = Delaunay(xy).simplices
    e = np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]])
    e.sort(axis=1)
    return np.unique(e, axis=0)


def generate_city(
    consumers: int,
    seed: int,
    *,
    mesh_fraction: float = 0.5,
    sources: int = 1,
    zero_demand_fraction: float = 0.0,
    supply_temp_c: float = 120.0,
    return_temp_c: float = 60.0,
    name: str | None = None,
) -> Network:
    """A synthetic meshed city network; the same arguments give an identical network.

    ``mesh_fraction`` is the share of the main grid's loop-closing edges kept (0 = a pure
    tree, 1 = the full grid); ``sources`` > 1 adds ``heat``-controlled sources that each
    feed 20 % / (sources − 1) of the design load; the tree is sized for the larger flow
    with and without their heat fed in, the meshes only approximately (checked within
    limits up to 20,000 consumers with 2–4 sources; at 50,000–100,000 a few DN150 meshes
    near an extra plant run at ~2 m/s, limit 1.8); ``zero_demand_fraction`` of the
    consumers have no demand (vacant buildings).
    """
    if consumers < 1:
        raise InvalidInput(f"consumers must be ≥ 1, got {consumers}")
    if not 0.0 <= mesh_fraction <= 1.0:
        raise InvalidInput(f"mesh_fraction must be within 0…1, got {mesh_fraction}")
    if not 0.0 <= zero_demand_fraction < 1.0:
        raise InvalidInput(
            f"zero_demand_fraction must be within [0, 1), got {zero_demand_fraction}"
        )
    if sources < 1:
        raise InvalidInput(f"sources must be ≥ 1, got {sources}")
    if return_temp_c >= supply_temp_c:
        raise InvalidInput("return_temp_c must be below supply_temp_c")
    rng = np.random.default_rng(seed)
    dt_k = supply_temp_c - return_temp_c

    # -- layout ------------------------------------------------------------------------
    n_dist = max(1, math.ceil(consumers / 2))
    side_m = max(_GRID_M, math.sqrt(n_dist) * _BLOCK_M)
    grid_xy, grid_edges = _grid(side_m)
    n_grid = len(grid_xy)
    dist_xy = rng.uniform(0.0, side_m, size=(n_dist, 2))
    xy = np.vstack([grid_xy, dist_xy])
    n_nodes = len(xy)
    cand = _delaunay_edges(xy)
    grid_key = set(map(tuple, np.sort(grid_edges, axis=1).tolist()))
    is_grid = _in_set(cand, grid_key)
    cand = np.vstack([cand[~is_grid], np.sort(grid_edges, axis=1)])
    is_grid = np.r_[np.zeros((~is_grid).sum(), bool), np.ones(len(grid_edges), bool)]
    length = np.hypot(*(xy[cand[:, 0]] - xy[cand[:, 1]]).T)
    # grid edges are nearly free so the spanning tree keeps the main grid connected
    weight = np.where(is_grid, length * 1e-6, length)
    graph = coo_matrix((weight, (cand[:, 0], cand[:, 1])), shape=(n_nodes, n_nodes))
    mst = minimum_spanning_tree(graph.tocsr()).tocoo()
    mst_edges = np.sort(np.column_stack([mst.row, mst.col]), axis=1)
    # Grid edges are nearly free, so Kruskal takes them first: the non-grid edges of the
    # spanning tree are the branches, each attached to the grid by exactly one edge.
    branch = mst_edges[~_in_set(mst_edges, grid_key)]

    # -- sources: the main plant near the centre, further ones beyond the city edge -------
    centre = np.array([side_m / 2, side_m / 2])
    src_angle = np.pi + 2 * np.pi * np.arange(sources) / max(1, sources - 1)
    src_radius = np.r_[400.0, np.full(sources - 1, side_m / 2 + 1500.0)]
    src_xy = centre + np.column_stack([np.cos(src_angle), np.sin(src_angle)]) * src_radius[:, None]
    src_node = np.array([int(np.argmin(np.hypot(*(grid_xy - p).T))) for p in src_xy])

    # The mains follow shortest (Manhattan) paths from the main source's grid node; the
    # remaining grid edges are the loop-closing candidates.
    gsym = coo_matrix(
        (np.ones(len(grid_edges)), (grid_edges[:, 0], grid_edges[:, 1])), shape=(n_grid, n_grid)
    ).tocsr()
    g_order, g_pred = breadth_first_order(gsym, int(src_node[0]), directed=False)
    g_tree = np.sort(np.column_stack([g_pred[g_order[1:]], g_order[1:]]), axis=1)
    tree = np.vstack([g_tree, branch])
    g_tree_key = set(map(tuple, g_tree.tolist()))
    loop_grid = np.sort(grid_edges, axis=1)
    loop_grid = loop_grid[~_in_set(loop_grid, g_tree_key)]
    keep = rng.random(len(loop_grid)) < mesh_fraction
    mesh = loop_grid[keep]

    # -- consumers ---------------------------------------------------------------------
    demand_w = np.minimum(rng.lognormal(math.log(70e3), 0.6, consumers), 1.5e6)
    vacant = rng.random(consumers) < zero_demand_fraction
    demand_w = np.where(vacant, 0.0, np.round(demand_w, -2))
    host = n_grid + np.arange(consumers) % n_dist  # two buildings per distribution node
    angle = rng.uniform(0.0, 2 * np.pi, consumers)
    svc_len = rng.uniform(15.0, 60.0, consumers)
    cons_xy = xy[host] + np.column_stack([np.cos(angle), np.sin(angle)]) * svc_len[:, None]
    cons_ret_c = np.round(rng.uniform(return_temp_c - 10.0, return_temp_c + 5.0, consumers), 1)
    cons_ret_c = np.minimum(cons_ret_c, supply_temp_c - 10.0)

    # -- downstream loads along the tree rooted at the main source -----------------------
    sym = coo_matrix(
        (np.ones(len(tree)), (tree[:, 0], tree[:, 1])), shape=(n_nodes, n_nodes)
    ).tocsr()
    order, pred = breadth_first_order(sym, int(src_node[0]), directed=False)
    design_total_w = float(demand_w.sum())
    heat_share = 0.2 / (sources - 1) if sources > 1 else 0.0
    src_heat_w = np.r_[
        design_total_w * (1.0 - heat_share * (sources - 1)),
        np.full(sources - 1, design_total_w * heat_share),
    ]
    node_load = np.bincount(host, weights=demand_w, minlength=n_nodes)
    # The extra plants feed their heat in at their grid nodes: a tree edge carries its
    # downstream load less the heat fed in downstream (negative: towards the main plant).
    node_net = node_load - np.bincount(src_node[1:], weights=src_heat_w[1:], minlength=n_nodes)
    sub_load = node_load.copy()
    sub_net = node_net.copy()
    pred_l = pred.tolist()
    for v in reversed(order[1:].tolist()):
        sub_load[pred_l[v]] += sub_load[v]
        sub_net[pred_l[v]] += sub_net[v]
    child = order[1:]
    parent = pred[child]

    # sized for the larger flow of the extra plants on and off
    mdot_tree = np.maximum(sub_load[child], np.abs(sub_net[child])) / (CP_J_KG_K * dt_k)
    mdot_flow = sub_net[child] / (CP_J_KG_K * dt_k)  # signed, the design state's
    carried = np.maximum(sub_load, np.abs(sub_net))
    mesh_load = 0.5 * np.minimum(carried[mesh[:, 0]], carried[mesh[:, 1]])
    mdot_mesh = mesh_load / (CP_J_KG_K * dt_k)
    mdot_svc = demand_w / (CP_J_KG_K * dt_k)
    mdot_src = src_heat_w / (CP_J_KG_K * dt_k)
    on_grid = child < n_grid
    # A grid main whose load one DN1600 cannot carry within 3 m/s is laid as parallel
    # lines (as the transmission lines below); only cities beyond ~20,000 consumers have one.
    n_par_tree = np.where(on_grid, _n_parallel(mdot_tree), 1)
    n_par_mesh = _n_parallel(mdot_mesh)
    mdot_tree_line = mdot_tree / n_par_tree
    dn_tree = np.where(
        on_grid,
        np.maximum(size_dn(mdot_tree_line, max_gradient_pa_per_m=50.0), 150.0),
        size_dn(mdot_tree, max_gradient_pa_per_m=100.0, min_dn_mm=50),
    )
    dn_mesh = np.maximum(size_dn(mdot_mesh / n_par_mesh, max_gradient_pa_per_m=50.0), 150.0)
    dn_svc = size_dn(mdot_svc, max_gradient_pa_per_m=250.0, min_dn_mm=32)
    # Very large loads leave the plant through parallel transmission lines (≤ DN1600 each).
    n_par = _n_parallel(mdot_src)
    line_src = np.repeat(np.arange(sources), n_par)
    mdot_line = (mdot_src / n_par)[line_src]
    dn_line = size_dn(mdot_line, max_gradient_pa_per_m=80.0)

    # pump lift: worst friction path (supply + return) + consumer Δp, 20 % margin
    d_tree = inner_diameter_m(dn_tree)
    len_tree = np.hypot(*(xy[child] - xy[parent]).T)
    dp_edge = (
        np.sign(mdot_flow) * friction_gradient_pa_per_m(mdot_flow / n_par_tree, d_tree) * len_tree
    )
    dp_l, rise_l = [0.0] * n_nodes, [0.0] * n_nodes
    for v, p, dp in zip(child.tolist(), parent.tolist(), dp_edge.tolist(), strict=True):
        dp_l[v] = dp_l[p] + dp
        rise_l[v] = rise_l[p] - min(dp, 0.0)
    dp_node = np.asarray(dp_l)  # net supply-side loss from the main plant's node
    rise_node = np.asarray(rise_l)  # its share against the tree (flows from extra plants)
    dp_svc = friction_gradient_pa_per_m(mdot_svc, inner_diameter_m(dn_svc)) * svc_len
    src_len = np.hypot(*(src_xy - grid_xy[src_node]).T)
    dp_line = friction_gradient_pa_per_m(mdot_line, inner_diameter_m(dn_line)) * src_len[line_src]
    dp_line_src = dp_line[np.searchsorted(line_src, np.arange(sources))]  # first line of each
    dp_src = dp_line[:1]
    consumer_dp_bar = 0.5
    worst_pa = float(np.max(dp_node[host] + dp_svc)) + float(dp_src[0])
    lift_bar = math.ceil((2 * worst_pa / 1e5 * 1.2 + consumer_dp_bar + 0.3) * 10) / 10
    return_bar = 3.0

    # -- tables ------------------------------------------------------------------------
    elev = 1000.0 + 0.004 * xy[:, 0] - 0.002 * xy[:, 1] + rng.normal(0.0, 1.0, n_nodes)
    node_s = _ids("N", n_nodes, "S")
    node_r = _ids("N", n_nodes, "R")
    cons_ids = _ids("C", consumers)
    cons_s = [c + "S" for c in cons_ids]
    cons_r = [c + "R" for c in cons_ids]
    src_ids = [f"SRC{i + 1}" for i in range(sources)]
    src_s = [s + "S" for s in src_ids]
    src_r = [s + "R" for s in src_ids]
    cons_elev = elev[host] + rng.normal(0.0, 0.5, consumers)
    src_elev = elev[src_node] - 2.0
    # The tree misses how an extra plant's flow spreads through the meshes: the nodes
    # around it (within 1.5 grid spacings) are rated for its node's pressure.
    near_plant = np.full(n_nodes, -1)
    for node in src_node[1:].tolist():
        near_plant[np.hypot(*(xy - xy[node]).T) <= 1.5 * _GRID_M] = node
    pn_junction = _pressure_ratings(
        supply_bar=return_bar + lift_bar,
        return_bar=return_bar,
        plant_elev_m=float(src_elev[0]),
        elev_m=np.r_[elev, cons_elev, src_elev],
        friction_bar=np.r_[
            dp_node + rise_node,
            (dp_node + rise_node)[host],
            0.0,
            (dp_node + rise_node)[src_node[1:]],
        ]
        / 1e5
        + dp_src[0] / 1e5,
        rise_bar=np.r_[rise_node, rise_node[host], rise_node[src_node]] / 1e5,
        near_plant=np.r_[near_plant, near_plant[host], np.full(sources, -1)],
        # a heat plant pushes its flow out through its own line: its supply end is higher
        extra_supply_bar=np.r_[
            np.zeros(n_nodes + consumers),
            0.0,
            (dp_line_src[1:] / 1e5) if sources > 1 else np.zeros(0),
        ],
        counts=(n_nodes, consumers, sources),
        # more loops, less of the tree's loss (solved: ≥ 0.69 of it at mesh_fraction 0.5)
        friction_share=0.6 - 0.2 * max(0.0, mesh_fraction - 0.5),
    )
    pn_junction[n_nodes + consumers] = _pn_step(return_bar + lift_bar)[0]  # the plant itself
    junctions = pd.DataFrame(
        {
            "junction_id": node_s + node_r + cons_s + cons_r + src_s + src_r,
            "elevation_m": np.round(np.r_[elev, elev, cons_elev, cons_elev, src_elev, src_elev], 2),
            "x": np.round(
                np.r_[xy[:, 0], xy[:, 0], cons_xy[:, 0], cons_xy[:, 0], src_xy[:, 0], src_xy[:, 0]],
                2,
            ),
            "y": np.round(
                np.r_[xy[:, 1], xy[:, 1], cons_xy[:, 1], cons_xy[:, 1], src_xy[:, 1], src_xy[:, 1]],
                2,
            ),
        }
    )

    node_s_a = np.asarray(node_s, dtype=object)
    node_r_a = np.asarray(node_r, dtype=object)
    # supply side: main (tree + mesh), service, source connection; return side mirrors it
    line_node = src_node[line_src]
    src_s_a, src_r_a = np.asarray(src_s, object), np.asarray(src_r, object)
    # the second and further lines of parallel mains come last, so ids of cities
    # without them stay as they were
    xt = np.repeat(np.arange(len(child)), n_par_tree - 1)
    xm = np.repeat(np.arange(len(mesh)), n_par_mesh - 1)
    len_mesh = np.hypot(*(xy[mesh[:, 0]] - xy[mesh[:, 1]]).T)

    def ends(
        node_a: np.ndarray, cons: list[str], src_a: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One side's pipe ends, upstream and downstream in the supply flow direction."""
        up = np.r_[
            node_a[parent],
            node_a[mesh[:, 0]],
            node_a[host],
            src_a[line_src],
            node_a[parent[xt]],
            node_a[mesh[xm, 0]],
        ]
        down = np.r_[
            node_a[child],
            node_a[mesh[:, 1]],
            np.asarray(cons, object),
            node_a[line_node],
            node_a[child[xt]],
            node_a[mesh[xm, 1]],
        ]
        return up, down

    s_from, s_to = ends(node_s_a, cons_s, src_s_a)
    r_to, r_from = ends(node_r_a, cons_r, src_r_a)  # the return side flows back
    lengths = np.round(
        np.r_[len_tree, len_mesh, svc_len, src_len[line_src], len_tree[xt], len_mesh[xm]], 1
    )
    lengths = np.maximum(lengths, 1.0)
    dns = np.r_[dn_tree, dn_mesh, dn_svc, dn_line, dn_tree[xt], dn_mesh[xm]]
    kinds = np.r_[
        np.full(len(child), "main"),
        np.full(len(mesh), "mesh"),
        np.full(consumers, "service"),
        np.full(len(line_src), "transmission"),
        np.full(len(xt), "main"),
        np.full(len(xm), "mesh"),
    ]
    n_p = len(dns)
    pid = _ids("P", n_p)
    pipes = pd.DataFrame(
        {
            "pipe_id": [p + "S" for p in pid] + [p + "R" for p in pid],
            "name": np.r_[kinds, kinds],
            "from_junction_id": np.r_[s_from, r_from],
            "to_junction_id": np.r_[s_to, r_to],
            "side": ["supply"] * n_p + ["return"] * n_p,
            "length_m": np.r_[lengths, lengths],
            "inner_diameter_m": np.r_[inner_diameter_m(dns), inner_diameter_m(dns)],
            "roughness_mm": 0.05,
            "u_w_per_m_k": np.r_[heat_loss_u_w_per_m_k(dns), heat_loss_u_w_per_m_k(dns)],
            "ambient_temp_c": 8.0,
            "minor_loss_zeta": np.where(np.r_[kinds, kinds] == "service", 3.0, 0.5),
            "dn_mm": np.r_[dns, dns],
        }
    )
    # elements above PN16 get their rating; a city that needs none keeps the default
    if (pn_junction > DEFAULT_PN_BAR).any():
        junctions["pn_bar"] = np.where(pn_junction > DEFAULT_PN_BAR, pn_junction, np.nan)
        pn_of = dict(zip(junctions["junction_id"], pn_junction, strict=True))
        pn_pipe = np.maximum(
            pipes["from_junction_id"].map(pn_of).to_numpy(),
            pipes["to_junction_id"].map(pn_of).to_numpy(),
        )
        pipes["pn_bar"] = np.where(pn_pipe > DEFAULT_PN_BAR, pn_pipe, np.nan)
    cons = pd.DataFrame(
        {
            "consumer_id": cons_ids,
            "name": [f"Building {i + 1}" for i in range(consumers)],
            "supply_junction_id": cons_s,
            "return_junction_id": cons_r,
            "heat_demand_w": demand_w,
            "control": "return_temp",
            "return_temp_c": cons_ret_c,
            "min_dp_bar": consumer_dp_bar,
            "floor_area_m2": np.round(demand_w / 45.0, 0),
        }
    )
    src_rows = []
    for i in range(sources):
        row = {
            "source_id": src_ids[i],
            "name": "Main CHP plant" if i == 0 else f"Peak boiler house {i}",
            "supply_junction_id": src_s[i],
            "return_junction_id": src_r[i],
            "supply_temp_c": supply_temp_c,
        }
        if i == 0:
            row |= {
                "control": "pressure",
                "supply_pressure_bar": return_bar + lift_bar,
                "return_pressure_bar": return_bar,
            }
        else:
            row |= {"control": "heat", "heat_w": round(design_total_w * heat_share, -3)}
        src_rows.append(row)
    meta = {
        "generator": "nuanliu.network.generate.generate_city",
        "consumers": consumers,
        "seed": seed,
        "mesh_fraction": mesh_fraction,
        "sources": sources,
        "zero_demand_fraction": zero_demand_fraction,
        "crs": "local metres",
        "design_supply_temp_c": supply_temp_c,
        "design_return_temp_c": return_temp_c,
        "design_heat_w": design_total_w,
        "assumptions": (
            "Synthetic city: demands log-normal (median 70 kW, σ 0.6, cap 1.5 MW); pipes sized "
            "for ≤ 50 Pa/m (grid mains) / 100 (branches) / 250 (service), ≤ 3 m/s, "
            "EN 253 dimensions, series-1 heat loss; ground 8 °C; "
            "pump lift from the worst path + 20 %."
        ),
    }
    n_parallel = int((n_par_tree - 1).sum() + (n_par_mesh - 1).sum())
    if n_parallel:
        meta["assumptions"] += (
            f" {n_parallel} extra parallel grid-main line(s) where one DN1600 would exceed 3 m/s."
        )
    if "pn_bar" in pipes.columns:
        n_rated = int(pipes["pn_bar"].notna().sum())
        meta["assumptions"] += (
            f" PN{pn_junction.max():g} on the {n_rated} pipes and "
            f"{int(junctions['pn_bar'].notna().sum())} junctions whose design pressure "
            "exceeds PN16 (plant pressure + static head below the plant − part of the "
            "tree's friction loss); PN16 elsewhere."
        )
    return Network.from_tables(
        name=name or f"city-{consumers}-s{seed}",
        meta=meta,
        junctions=junctions,
        pipes=pipes,
        consumers=cons,
        sources=src_rows,
    )
