"""Steady hydraulics on a compiled network: tree flows, chord Newton, pressures.

Given the nodal injections of the fixed-flow elements, the flows on the spanning tree
follow from mass conservation (one triangular solve with the factorised tree
incidence); pressures follow from one transposed solve; the loop equations of the
chords (sum of pressure differences around each fundamental loop = 0) are solved by
Newton with the Jacobian J = D_C + Mᵀ D_T M, M = A_T⁻¹ A_C (fixed at compile time).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from nuanliu.physics.friction import FrictionModel, darcy_dp_pa, friction_factor, reynolds
from nuanliu.physics.machines import (
    GRAVITY_M_S2,
    pump_curve_ddp_dmdot,
    pump_curve_dp_pa,
    valve_dp_pa,
)
from nuanliu.sim.compile import CompiledNetwork

FloatArray = NDArray[np.float64]

#: Internal resistance of fixed-lift pumps (Pa per kg/s): negligible against any lift
#: (100 kg/s → 0.001 bar), it makes identical fixed-lift pumps in parallel share the
#: flow instead of leaving the split undetermined.
LIFT_INTERNAL_PA_PER_KG_S = 1.0


@dataclass
class EdgeLaw:
    """Pressure difference p_from − p_to of each resistive edge and its derivative."""

    dp_pa: FloatArray
    ddp_dq: FloatArray
    friction: FloatArray  # pipes only
    reynolds: FloatArray  # pipes only


@dataclass
class HydraulicResult:
    q_kg_s: FloatArray  # resistive edges
    p_pa: FloatArray  # hydraulic nodes
    law: EdgeLaw
    iterations: int
    residual_history: list[float]
    converged: bool


def edge_law(
    cn: CompiledNetwork,
    q: FloatArray,
    rho_kg_m3: FloatArray,
    mu_pa_s: FloatArray,
    friction_model: FrictionModel,
) -> EdgeLaw:
    """Vectorised pressure-difference law of every resistive edge at flows ``q``."""
    ne = cn.n_resistive
    dp = np.zeros(ne)
    dd = np.zeros(ne)
    # Elevation: p_from − p_to includes ρ g (z_to − z_from) for every physical edge.
    z = np.r_[cn.elevation_m, 0.0]
    phys = slice(0, cn.ref_slice.start)
    dz = z[cn.e_to[phys]] - z[cn.e_from[phys]]
    dp[phys] = rho_kg_m3[phys] * GRAVITY_M_S2 * dz

    sl = cn.pipe_slice
    pp = cn.pipes
    qp = q[sl]
    re = reynolds(qp, pp["diameter_m"], mu_pa_s[sl])
    lam = friction_factor(re, pp["roughness_m"] / pp["diameter_m"], friction_model)
    dpf = darcy_dp_pa(qp, pp["length_m"], pp["diameter_m"], lam, rho_kg_m3[sl], pp["zeta"])
    dp[sl] += dpf
    # Quasi-Newton slope 2Δp/q (exact for constant λ), never below the laminar slope.
    area = 0.25 * np.pi * pp["diameter_m"] ** 2
    lam_slope = 32.0 * mu_pa_s[sl] * pp["length_m"] / (rho_kg_m3[sl] * area * pp["diameter_m"] ** 2)
    absq = np.abs(qp)
    dd[sl] = np.maximum(2.0 * np.abs(dpf) / np.where(absq > 0, absq, 1.0), lam_slope)

    sl = cn.valve_slice
    if sl.stop > sl.start:
        vv = cn.valves
        dpv = valve_dp_pa(q[sl], rho_kg_m3[sl], vv["kv_m3_h"], vv["opening"])
        dp[sl] += dpv
        absq = np.abs(q[sl])
        dd[sl] = np.maximum(2.0 * np.abs(dpv) / np.where(absq > 0, absq, 1.0), 1.0)

    sl = cn.pump_slice
    if sl.stop > sl.start:
        pu = cn.pumps
        curve = pu["curve"]
        gain = np.where(
            curve,
            pump_curve_dp_pa(q[sl], rho_kg_m3[sl], pu["a0"], pu["a1"], pu["a2"], pu["speed"]),
            pu["lift_pa"],
        )
        slope = np.where(
            curve,
            -pump_curve_ddp_dmdot(q[sl], rho_kg_m3[sl], pu["a1"], pu["a2"], pu["speed"]),
            0.0,
        )
        dp[sl] += -gain + LIFT_INTERNAL_PA_PER_KG_S * q[sl]
        dd[sl] = np.maximum(slope, 0.0) + LIFT_INTERNAL_PA_PER_KG_S

    sl = cn.lift_slice
    if sl.stop > sl.start:
        # pressure-holding elements hold both pressures exactly (no internal loss)
        dp[sl] += -cn.lifts["lift_pa"]
        dd[sl] = 0.0

    sl = cn.ref_slice
    dp[sl] = -cn.lifts["supply_pressure_pa"][cn.refs["lift"]]
    dd[sl] = 0.0
    return EdgeLaw(dp_pa=dp, ddp_dq=dd, friction=lam, reynolds=re)


def nodal_injection(cn: CompiledNetwork, m_fixed: FloatArray) -> FloatArray:
    """Net inflow into each node (tree-row order) from the fixed-flow elements."""
    n = cn.n_nodes
    s = np.bincount(cn.f_to, weights=m_fixed, minlength=n) - np.bincount(
        cn.f_from, weights=m_fixed, minlength=n
    )
    return s[cn.tree_rows_node]


def solve_hydraulics(
    cn: CompiledNetwork,
    m_fixed: FloatArray,
    rho_kg_m3: FloatArray,
    mu_pa_s: FloatArray,
    q_chord0: FloatArray | None,
    *,
    friction_model: FrictionModel = "colebrook",
    tol_pa: float = 1e-2,
    max_iter: int = 50,
) -> HydraulicResult:
    """Flows on every resistive edge and pressures at every node."""
    b = nodal_injection(cn, m_fixed)
    k = cn.n_chords
    qc = np.zeros(k) if q_chord0 is None or len(q_chord0) != k else q_chord0.copy()
    lu = cn.lu_tree
    tree = cn.tree_edges
    chords = cn.chord_edges
    q = np.zeros(cn.n_resistive)
    history: list[float] = []

    def evaluate(qc_: FloatArray) -> tuple[FloatArray, EdgeLaw, FloatArray, FloatArray]:
        q_ = np.empty(cn.n_resistive)
        rhs = b - cn.a_chord @ qc_ if k else b
        q_[tree] = lu.solve(rhs)
        q_[chords] = qc_
        law_ = edge_law(cn, q_, rho_kg_m3, mu_pa_s, friction_model)
        p_rows = lu.solve(law_.dp_pa[tree], trans="T")
        r_ = law_.dp_pa[chords] - cn.a_chord.T @ p_rows if k else np.zeros(0)
        return q_, law_, p_rows, r_

    q, law, p_rows, r = evaluate(qc)
    norm = float(np.max(np.abs(r))) if k else 0.0
    history.append(norm)
    it = 0
    while norm > tol_pa and it < max_iter:
        it += 1
        d_t = law.ddp_dq[tree]
        mm = cn.m_chord
        jac = (mm.T @ sp.diags(d_t) @ mm + sp.diags(law.ddp_dq[chords])).tocsc()
        # Sparse LU even for small k: dense LAPACK spins up BLAS threads, which costs
        # more than the solve on a shared machine.
        step = splu(jac).solve(-r)
        # Backtracking: accept the step only if the loop residual decreases.
        alpha = 1.0
        for _ in range(8):
            q_try, law_try, p_try, r_try = evaluate(qc + alpha * step)
            n_try = float(np.max(np.abs(r_try)))
            if n_try < norm or alpha < 0.01:
                break
            alpha *= 0.5
        qc = qc + alpha * step
        q, law, p_rows, r, norm = q_try, law_try, p_try, r_try, n_try
        history.append(norm)

    p = np.empty(cn.n_nodes)
    p[cn.tree_rows_node] = p_rows
    return HydraulicResult(
        q_kg_s=q,
        p_pa=p,
        law=law,
        iterations=it,
        residual_history=history,
        converged=norm <= tol_pa,
    )
