"""Steady hydraulics on a compiled network: tree flows, chord Newton, pressures.

Given the nodal injections of the fixed-flow elements, the flows on the spanning tree
follow from mass conservation (one triangular solve with the factorised tree
incidence); pressures follow from one transposed solve; the loop equations of the
chords (sum of pressure differences around each fundamental loop = 0) are solved by
Newton with the Jacobian J = D_C + Mᵀ D_T M, M = A_T⁻¹ A_C (fixed at compile time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.linalg import splu

from nuanliu.physics.friction import (
    RE_LAMINAR,
    RE_TURBULENT,
    FrictionModel,
    colebrook_re_slope,
    darcy_dp_pa,
    friction_factor,
    reynolds,
)
from nuanliu.physics.machines import (
    GRAVITY_M_S2,
    pump_curve_ddp_dmdot,
    pump_curve_dp_pa,
    valve_dp_pa,
)
from nuanliu.sim.compile import K_LIFT, K_PIPE, K_PUMP, K_REF, K_VALVE, CompiledNetwork

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Internal resistance of fixed-lift pumps (Pa per kg/s): negligible against any lift
#: (100 kg/s → 0.001 bar), it makes identical fixed-lift pumps in parallel share the
#: flow instead of leaving the split undetermined.
LIFT_INTERNAL_PA_PER_KG_S = 1.0
#: pump states (``cn.pumps["state"]``, set by part-load staging)
PUMP_STOPPED, PUMP_RUNNING, PUMP_BYPASSED = 0, 1, 2
#: A stopped pump is its closed check valve: a linear resistance (Pa per kg/s) that
#: leaves ~1e-3 kg/s per bar across it. Much higher would put the loop residual's
#: round-off floor (flow round-off × resistance) above the pressure tolerance when the
#: stopped pump is a tree edge carrying a long line's flow.
STOPPED_PA_PER_KG_S = 1e8


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
    law: EdgeLaw | None
    iterations: int
    residual_history: list[float]
    converged: bool


@dataclass
class EdgeGroups:
    """Positions of each edge kind within a set of resistive edges, their elements and
    the end nodes of the physical ones (structure only: reusable while it holds)."""

    phys: IntArray
    phys_from: IntArray
    phys_to: IntArray
    pipe: IntArray
    valve: IntArray
    pump: IntArray
    lift: IntArray
    ref: IntArray
    elem: IntArray
    #: (elevation array, z_to − z_from of the physical edges) once computed
    dz_cache: list = field(default_factory=list)
    #: (the pipe parameter arrays, their values on this group's pipes) once gathered
    pipe_cache: list = field(default_factory=list)


def edge_groups(cn: CompiledNetwork, idx: IntArray) -> EdgeGroups:
    """The :class:`EdgeGroups` of the resistive edges ``idx``."""
    kind = cn.e_kind[idx]
    phys = np.flatnonzero(kind != K_REF)
    return EdgeGroups(
        phys=phys,
        phys_from=cn.e_from[idx[phys]],
        phys_to=cn.e_to[idx[phys]],
        pipe=np.flatnonzero(kind == K_PIPE),
        valve=np.flatnonzero(kind == K_VALVE),
        pump=np.flatnonzero(kind == K_PUMP),
        lift=np.flatnonzero(kind == K_LIFT),
        ref=np.flatnonzero(kind == K_REF),
        elem=cn.e_elem[idx],
    )


def edge_law(
    cn: CompiledNetwork,
    idx: IntArray,
    qi: FloatArray,
    rho_kg_m3: FloatArray,
    mu_pa_s: FloatArray,
    friction_model: FrictionModel,
    groups: EdgeGroups | None = None,
) -> EdgeLaw:
    """Pressure difference law of the resistive edges ``idx`` at their flows ``qi``.

    ``rho_kg_m3`` and ``mu_pa_s`` are per edge (all edges). Vectorised per edge kind.
    ``groups``: :func:`edge_groups` of ``idx`` when the caller keeps them.
    """
    g = edge_groups(cn, idx) if groups is None else groups
    n = len(idx)
    dp = np.zeros(n)
    dd = np.zeros(n)
    elem = g.elem
    rho = rho_kg_m3[idx]
    # Elevation: p_from − p_to includes ρ g (z_to − z_from) for every physical edge.
    if g.dz_cache and g.dz_cache[0] is cn.elevation_m:
        dz = g.dz_cache[1]
    else:
        z = np.append(cn.elevation_m, 0.0)  # the ground node at 0
        dz = z[g.phys_to] - z[g.phys_from]
        g.dz_cache[:] = [cn.elevation_m, dz]
    dp[g.phys] = rho[g.phys] * GRAVITY_M_S2 * dz
    lam_full = np.full(len(cn.pipes["ids"]), np.nan)
    re_full = np.full(len(cn.pipes["ids"]), np.nan)

    m = g.pipe
    if len(m):
        pp = cn.pipes
        e = elem[m]
        # geometry is never changed in place (calibration replaces the arrays), so the
        # gathered values are kept while the arrays are the same objects
        arrays = (pp["diameter_m"], pp["length_m"], pp["roughness_m"], pp["zeta"])
        pc = g.pipe_cache
        if pc and all(a is b for a, b in zip(pc[0], arrays, strict=True)):
            d, length, rel, zeta, area = pc[1]
        else:
            d = pp["diameter_m"][e]
            length = pp["length_m"][e]
            rel = pp["roughness_m"][e] / d
            zeta = pp["zeta"][e]
            area = 0.25 * np.pi * d * d
            pc[:] = [arrays, (d, length, rel, zeta, area)]
        qp = qi[m]
        mu = mu_pa_s[idx[m]]
        re = reynolds(qp, d, mu)
        lam = friction_factor(re, rel, friction_model)
        rho_m = rho[m]
        dpf = darcy_dp_pa(qp, length, d, lam, rho_m, zeta)
        dp[m] += dpf
        # d(Δp)/dṁ = Δp/ṁ · (2 + Re dλ/dRe · λL/d / (λL/d + ζ)); laminar: Δp ∝ ṁ.
        fl = lam * length / d
        share = fl / np.maximum(fl + zeta, 1e-300)
        slope_re = np.where(
            re >= RE_TURBULENT,
            colebrook_re_slope(re, rel, lam) / lam if friction_model == "colebrook" else -0.0,
            np.where(re <= RE_LAMINAR, -1.0, 0.0),
        )
        absq = np.abs(qp)
        lam_slope = 32.0 * mu * length / (rho_m * area * d * d)
        exact = np.abs(dpf) / np.where(absq > 0, absq, 1.0) * (2.0 + slope_re * share)
        dd[m] = np.maximum(exact, lam_slope)
        lam_full[e] = lam
        re_full[e] = re

    m = g.valve
    if len(m):
        vv = cn.valves
        e = elem[m]
        dpv = valve_dp_pa(qi[m], rho[m], vv["kv_m3_h"][e], vv["opening"][e])
        dp[m] += dpv
        absq = np.abs(qi[m])
        dd[m] = np.maximum(2.0 * np.abs(dpv) / np.where(absq > 0, absq, 1.0), 1.0)

    m = g.pump
    if len(m):
        pu = cn.pumps
        e = elem[m]
        curve = pu["curve"][e]
        qm, rho_m = qi[m], rho[m]
        if curve.any():
            gain = np.where(
                curve,
                pump_curve_dp_pa(
                    qm, rho_m, pu["a0"][e], pu["a1"][e], pu["a2"][e], pu["speed"][e], pu["rho"][e]
                ),
                pu["lift_pa"][e],
            )
            slope = np.where(
                curve,
                -pump_curve_ddp_dmdot(
                    qm, rho_m, pu["a1"][e], pu["a2"][e], pu["speed"][e], pu["rho"][e]
                ),
                0.0,
            )
        else:  # fixed lifts only: the curve terms would be thrown away
            gain = pu["lift_pa"][e].astype(np.float64)
            slope = np.zeros(len(m))
        # curve pumps lift exactly their curve; the internal resistance stays in the slope
        # only, which keeps the Jacobian regular on a flat curve
        internal = np.where(curve, 0.0, LIFT_INTERNAL_PA_PER_KG_S)
        dp[m] += -gain + internal * qm
        dd[m] = np.maximum(slope, 0.0) + LIFT_INTERNAL_PA_PER_KG_S
        state = pu["state"][e]
        off = np.flatnonzero(state == PUMP_STOPPED)
        if len(off):
            sub = m[off]
            dp[sub] += gain[off] - internal[off] * qm[off] + STOPPED_PA_PER_KG_S * qm[off]
            dd[sub] = STOPPED_PA_PER_KG_S
        byp = np.flatnonzero(state == PUMP_BYPASSED)
        if len(byp):
            sub = m[byp]
            qb = qm[byp]
            dpb = valve_dp_pa(qb, rho_m[byp], pu["bypass_kv_m3_h"][e[byp]], 1.0)
            dp[sub] += gain[byp] - internal[byp] * qb + dpb
            absq = np.abs(qb)
            dd[sub] = np.maximum(2.0 * np.abs(dpb) / np.where(absq > 0, absq, 1.0), 1.0)

    m = g.lift
    if len(m):
        # pressure-holding elements hold both pressures exactly (no internal loss)
        dp[m] += -cn.lifts["lift_pa"][elem[m]]

    m = g.ref
    if len(m):
        # a part's reference: its first pressure-holding lift, else a flow/heat source
        # holding its outlet pressure (lift = −1)
        lift = cn.refs["lift"][elem[m]]
        held = cn.lifts["supply_pressure_pa"][np.maximum(lift, 0)] if len(cn.lifts["ids"]) else 0.0
        dp[m] = -np.where(lift >= 0, held, cn.refs["held_pa"][elem[m]])
    return EdgeLaw(dp_pa=dp, ddp_dq=dd, friction=lam_full, reynolds=re_full)


def nodal_injection(cn: CompiledNetwork, m_fixed: FloatArray) -> FloatArray:
    """Net inflow into each node (tree-row order) from the fixed-flow elements."""
    n = cn.n_nodes
    s = np.bincount(cn.f_to, weights=m_fixed, minlength=n) - np.bincount(
        cn.f_from, weights=m_fixed, minlength=n
    )
    return s[cn.tree_rows_node]


#: Small loop sets take the dense Newton step: a few dozen chords solve much faster
#: dense than through sparse assembly and SuperLU. The limits keep OpenBLAS on one
#: thread (its getrf, gemm and gemv go parallel above ~10⁴, ~2.6·10⁵ and ~9·10³ work
#: units), which on a loaded shared machine would cost far more than the solve.
DENSE_MAX_CHORDS = 64
DENSE_MAX_ENTRIES = 8_000  # loop rows × chords (gemv)
DENSE_MAX_GEMM = 250_000  # chords² × loop rows (the Jacobian product)


@dataclass
class LoopPlan:
    """Edges on some fundamental loop (tree rows then chords), their kind groups and
    the loop matrix dense when it is small (structure only)."""

    loop_idx: IntArray
    groups: EdgeGroups
    m_dense: FloatArray | None


def _loop_plan(cn: CompiledNetwork) -> LoopPlan:
    plan = cn.solver_cache.get("loop_plan")
    if plan is None:
        loop_idx = np.concatenate((cn.tree_edges[cn.loop_rows], cn.chord_edges))
        k, nl = cn.n_chords, len(cn.loop_rows)
        small = (
            0 < k <= DENSE_MAX_CHORDS
            and nl * k <= DENSE_MAX_ENTRIES
            and k * k * nl <= DENSE_MAX_GEMM
        )
        m_dense = cn.m_loop.toarray() if small else None
        plan = LoopPlan(loop_idx, edge_groups(cn, loop_idx), m_dense)
        cn.solver_cache["loop_plan"] = plan
    return plan


def _newton_step(
    m_sub: sp.csc_matrix, m_dense: FloatArray | None, ddp_dq: FloatArray, nl: int, r: FloatArray
) -> FloatArray:
    """Newton step of the chord flows: J = D_C + Mᵀ D_T M, solve J s = −r."""
    if m_dense is not None:
        jac = m_dense.T @ (ddp_dq[:nl, None] * m_dense)
        jac[np.diag_indices_from(jac)] += ddp_dq[nl:]
        try:
            return np.linalg.solve(jac, -r)
        except np.linalg.LinAlgError:
            pass  # singular: the sparse LU below reports it as before
    jac = (m_sub.T @ m_sub.multiply(ddp_dq[:nl, None]) + sp.diags(ddp_dq[nl:])).tocsc()
    # Sparse LU for larger loop sets: dense LAPACK would spin up BLAS threads, which
    # costs more than the solve on a shared machine.
    return splu(jac).solve(-r)


def solve_hydraulics(
    cn: CompiledNetwork,
    m_fixed: FloatArray,
    rho_kg_m3: FloatArray,
    mu_pa_s: FloatArray,
    q_chord0: FloatArray | None,
    *,
    friction_model: FrictionModel = "colebrook",
    tol_pa: float = 1e-4,
    max_iter: int = 50,
    with_pressures: bool = True,
) -> HydraulicResult:
    """Flows on every resistive edge (and pressures at every node if asked).

    Tree flows are q_T = q_T0 − M q_C with q_T0 = A_T⁻¹ b (one triangular solve). The
    loop residual r = Δp_C − Mᵀ Δp_T only involves the edges on some fundamental loop,
    so Newton evaluates flows and pressure laws there only; pressures (one transposed
    solve and all laws) are computed once, when asked.
    """
    b = nodal_injection(cn, m_fixed)
    k = cn.n_chords
    qc = np.zeros(k) if q_chord0 is None or len(q_chord0) != k else q_chord0.copy()
    lu = cn.lu_tree
    tree = cn.tree_edges
    chords = cn.chord_edges
    plan = _loop_plan(cn)
    loop_rows = cn.loop_rows  # tree rows on some loop
    m_sub = cn.m_loop  # M restricted to those rows
    m_dense = plan.m_dense  # the same, dense, when small
    loop_idx = plan.loop_idx
    nl = len(loop_rows)
    q_t0 = lu.solve(b)
    q_t0_loop = q_t0[loop_rows]
    history: list[float] = []

    def loop_state(qc_: FloatArray) -> tuple[EdgeLaw, FloatArray]:
        m_q = m_sub @ qc_ if m_dense is None else m_dense @ qc_
        q_loop = np.concatenate((q_t0_loop - m_q, qc_))
        law_ = edge_law(cn, loop_idx, q_loop, rho_kg_m3, mu_pa_s, friction_model, plan.groups)
        m_t_dp = m_sub.T @ law_.dp_pa[:nl] if m_dense is None else law_.dp_pa[:nl] @ m_dense
        return law_, law_.dp_pa[nl:] - m_t_dp

    it = 0
    norm = 0.0
    if k:
        law, r = loop_state(qc)
        norm = float(np.max(np.abs(r)))
        history.append(norm)
        while norm > tol_pa and it < max_iter:
            it += 1
            step = _newton_step(m_sub, m_dense, law.ddp_dq, nl, r)
            # Backtracking: accept the step only if the loop residual decreases.
            alpha = 1.0
            for _ in range(8):
                law_try, r_try = loop_state(qc + alpha * step)
                n_try = float(np.max(np.abs(r_try)))
                if n_try < norm or alpha < 0.01:
                    break
                alpha *= 0.5
            qc = qc + alpha * step
            law, r, norm = law_try, r_try, n_try
            history.append(norm)
    else:
        history.append(0.0)

    q = np.empty(cn.n_resistive)
    q[tree] = q_t0 - cn.m_chord @ qc if k else q_t0
    q[chords] = qc
    res = HydraulicResult(
        q_kg_s=q,
        p_pa=np.full(cn.n_nodes, np.nan),
        law=None,
        iterations=it,
        residual_history=history,
        converged=norm <= tol_pa,
    )
    if with_pressures:
        add_pressures(cn, res, rho_kg_m3, mu_pa_s, friction_model)
    return res


def add_pressures(
    cn: CompiledNetwork,
    res: HydraulicResult,
    rho_kg_m3: FloatArray,
    mu_pa_s: FloatArray,
    friction_model: FrictionModel,
) -> None:
    """All edge laws at the solved flows and the node pressures (one transposed solve)."""
    law = edge_law(cn, np.arange(cn.n_resistive), res.q_kg_s, rho_kg_m3, mu_pa_s, friction_model)
    p_rows = cn.lu_tree.solve(law.dp_pa[cn.tree_edges], trans="T")
    p = np.empty(cn.n_nodes)
    p[cn.tree_rows_node] = p_rows
    res.p_pa = p
    res.law = law
