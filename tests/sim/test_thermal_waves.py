"""The flow-order temperature solve: waves, flow cycles, plan reuse."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

from nuanliu.sim.dynamic import constant_cp_water
from nuanliu.sim.thermal import ThermalEdges, solve_temperatures


def _direct(n: int, edges: ThermalEdges, stagnant_c: np.ndarray) -> np.ndarray:
    """The same mixing equations by one general sparse solve."""
    fwd = edges.m_kg_s >= 0
    inlet = np.where(fwd, edges.frm, edges.to)
    outlet = np.where(fwd, edges.to, edges.frm)
    w = np.abs(edges.m_kg_s) * 4190.0
    inflow = np.bincount(outlet, weights=w, minlength=n)
    diag = np.where(inflow > 0, inflow, 1.0)
    rhs = np.where(inflow > 0, np.bincount(outlet, weights=w * edges.beta, minlength=n), stagnant_c)
    a = sp.csc_matrix(
        (np.r_[diag, -w * edges.alpha], (np.r_[np.arange(n), outlet], np.r_[np.arange(n), inlet])),
        shape=(n, n),
    )
    return spsolve(a, rhs)


def test_a_leak_cycle_between_parallel_pumps_is_solved_exactly() -> None:
    """Source 0 → 1; pumps 1 → 2 (running) and 2 → 1 (a stopped pump's leak) form a
    cycle; 2 → 3 → 4 with heat loss; a consumer 4 → 0 fixes its outlet (α = 0)."""
    frm = np.array([0, 1, 2, 2, 3, 4])
    to = np.array([1, 2, 1, 3, 4, 0])
    m = np.array([10.0, 10.001, 0.001, 10.0, 10.0, 10.0])
    alpha = np.array([0.0, 1.0, 1.0, 0.99, 0.98, 0.0])
    beta = np.array([90.0, 0.0, 0.0, 0.1, 0.2, 45.0])
    edges = ThermalEdges(frm, to, m, alpha, beta)
    n = 5
    stagnant = np.full(n, 10.0)
    cache: dict = {}
    t, _, _ = solve_temperatures(
        n, edges, np.full(n, 50.0), np.full(6, 50.0), stagnant, constant_cp_water(), cache
    )
    assert np.allclose(t, _direct(n, edges, stagnant), rtol=0, atol=1e-12)
    assert abs(t[1] - 90.0) < 1e-9  # the cycle only carries source water around
    # the leak reversing gives a second plan; the first is reused when it recurs
    edges_rev = ThermalEdges(frm, to, m * np.array([1, 1, -1, 1, 1, 1]), alpha, beta)
    for e in (edges_rev, edges):
        t2, _, _ = solve_temperatures(
            n, e, np.full(n, 50.0), np.full(6, 50.0), stagnant, constant_cp_water(), cache
        )
        assert np.allclose(t2, _direct(n, e, stagnant), rtol=0, atol=1e-12)
    assert len(cache["plans"]) == 2


def test_waves_match_the_direct_solve_on_a_random_tree() -> None:
    rng = np.random.default_rng(5)
    n = 200
    parent = np.array([rng.integers(0, k) for k in range(1, n)])
    frm, to = parent, np.arange(1, n)
    m = rng.uniform(0.1, 5.0, n - 1)
    alpha = rng.uniform(0.9, 1.0, n - 1)
    beta = rng.uniform(0.0, 1.0, n - 1)
    # the root is fed by a source edge from a dummy node with a set outlet temperature
    frm, to = np.r_[n, frm], np.r_[0, to]
    m, alpha, beta = np.r_[m.sum(), m], np.r_[0.0, alpha], np.r_[95.0, beta]
    edges = ThermalEdges(frm, to, m, alpha, beta)
    stagnant = np.full(n + 1, 10.0)
    t, _, _ = solve_temperatures(
        n + 1, edges, np.full(n + 1, 50.0), np.full(n, 50.0), stagnant, constant_cp_water(), {}
    )
    assert np.allclose(t, _direct(n + 1, edges, stagnant), rtol=0, atol=1e-10)
