"""The dynamic thermal model of a network: quasi-steady hydraulics, transported heat.

Per time step the hydraulics are steady (the compiled network's tree solve and chord
Newton, warm-started from the last step), while temperatures travel along the pipes
with their transport delay, heat loss and wall capacity
(:mod:`nuanliu.sim.pipe_transport`). Consumers, stations and sources follow the same
laws as in the steady solver (:mod:`nuanliu.sim.controls`); within a step their
flows and the node temperatures are iterated to a fixed point, then the pipes'
contents move. Started from a steady state and held at constant inputs, the model
stays in that state (the pipes' outlet law at constant flow is the steady one).

Energy accounting uses one constant heat capacity of water (:func:`constant_cp_water`)
so that mixing, transport and exchange conserve energy to round-off: over any run,
heat produced = heat delivered + heat lost + change in the heat stored in the pipes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from nuanliu.errors import InvalidInput
from nuanliu.physics.water import WATER, WaterProperties
from nuanliu.sim.compile import CompiledNetwork
from nuanliu.sim.controls import FlowLaw, consumer_flows, source_flows, station_flows
from nuanliu.sim.hydraulics import nodal_injection, solve_hydraulics
from nuanliu.sim.options import SolverOptions
from nuanliu.sim.pipe_transport import (
    PlugFlowPipes,
    default_wall_thickness_m,
    wall_heat_capacity_j_per_m_k,
)
from nuanliu.sim.steady import SteadyResult, _station_inputs, _update_lift_temps
from nuanliu.sim.thermal import ThermalEdges, solve_temperatures

FloatArray = NDArray[np.float64]

#: smallest outlet-on-inlet weight of a pipe (keeps the flow-order plan; 1e-200 K/K is nothing)
DEPENDENCY_FLOOR = 1e-200
#: heat capacity of water used for the dynamic energy accounting (70 °C), J/(kg·K)
WATER_CP_J_KG_K = 4190.0


class ConstantCpWater(WaterProperties):
    """Water whose heat capacity is one constant: h = c_p·T, Δh = c_p·ΔT, mean c_p = c_p.

    Gives bit for bit what the table formulas give for a constant table (the quadratic
    term is zero), without the table look-ups — the dynamic model calls these a lot.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        values = self._cp.values
        if not np.all(values == values[0]):
            raise InvalidInput("ConstantCpWater needs a constant heat-capacity table")
        object.__setattr__(self, "_cp_const", float(values[0]))

    def cp(self, temp_c):  # type: ignore[override]
        t = np.atleast_1d(np.asarray(temp_c, dtype=np.float64))
        return np.full(t.shape, self._cp_const)

    def h(self, temp_c):  # type: ignore[override]
        return self._cp_const * np.atleast_1d(np.asarray(temp_c, dtype=np.float64))

    def mean_cp(self, t1_c, t2_c):  # type: ignore[override]
        t1 = np.atleast_1d(np.asarray(t1_c, dtype=np.float64))
        t2 = np.atleast_1d(np.asarray(t2_c, dtype=np.float64))
        return np.full(np.broadcast_shapes(t1.shape, t2.shape), self._cp_const)

    def dh(self, t1_c, t2_c):  # type: ignore[override]
        if self.cp_rule == "trapezoid":
            return super().dh(t1_c, t2_c)
        return self.h(t1_c) - self.h(t2_c)


def constant_cp_water(cp_j_kg_k: float = WATER_CP_J_KG_K) -> WaterProperties:
    """Water with the default density and viscosity tables and a constant heat capacity
    (enthalpy linear in temperature: energy balances close to round-off)."""
    rho_t, rho_v = WATER.density_table
    mu_t, mu_v = WATER.viscosity_table
    return ConstantCpWater(
        (rho_t, rho_v),
        (mu_t, mu_v),
        (np.array([0.0, 200.0]), np.array([cp_j_kg_k, cp_j_kg_k])),
        name=f"water (c_p {cp_j_kg_k:g} J/(kg·K))",
    )


_EMPTY_LAW = FlowLaw(np.zeros(0), np.zeros(0), np.zeros(0))


@dataclass
class StepResult:
    """State of one step (mean over the step for flows and heats)."""

    node_temp_c: FloatArray
    edge_in_c: FloatArray  # resistive (physical) edges then fixed-flow edges
    edge_out_c: FloatArray
    q_kg_s: FloatArray  # resistive edges
    m_fixed_kg_s: FloatArray  # fixed-flow edges
    consumer_heat_w: FloatArray
    station_heat_w: FloatArray
    source_heat_w: FloatArray  # pressure sources (lifts) then flow/heat sources
    pipe_loss_w: FloatArray
    iterations: int
    #: node pressures (Pa) when the step was asked ``with_pressures``
    pressure_pa: FloatArray | None = None


class DynamicNetwork:
    """A compiled network stepped through time (see module docstring).

    ``wall``: include the pipe walls' heat capacity (steel, EN 253 wall thickness
    unless ``wall_thickness_m`` per pipe is given).
    """

    def __init__(
        self,
        cn: CompiledNetwork,
        *,
        options: SolverOptions | None = None,
        wall: bool = True,
        wall_thickness_m: FloatArray | None = None,
        coupling_tol_k: float = 1e-2,
        coupling_tol_rel: float = 1e-3,
        max_coupling: int = 30,
        hydraulic_tol_pa: float = 1.0,
    ) -> None:
        # own copy of the lifts' set-points: a step may move them (schedules, curves)
        cn = replace(cn, lifts={**cn.lifts, "supply_temp_c": cn.lifts["supply_temp_c"].copy()})
        self.cn = cn
        base = options or SolverOptions()
        self.water = constant_cp_water()
        self.opts = SolverOptions(**{**base.__dict__, "water": self.water})
        self.cp = WATER_CP_J_KG_K
        self.coupling_tol_k = coupling_tol_k
        self.max_coupling = max_coupling
        #: a step's coupling stops when node temperatures move less than
        #: ``coupling_tol_k`` and fixed flows less than ``coupling_tol_rel`` of the largest
        self.coupling_tol_rel = coupling_tol_rel
        self.hydraulic_tol_pa = hydraulic_tol_pa
        pp = cn.pipes
        d = pp["diameter_m"]
        area = 0.25 * np.pi * d * d
        rho = float(self.water.density(70.0)[0])
        thick = default_wall_thickness_m(d) if wall_thickness_m is None else wall_thickness_m
        c_wall = wall_heat_capacity_j_per_m_k(d, thick) if wall else np.zeros(len(d))
        c_water = rho * area * self.cp
        u = pp["u_w_per_m_k"]
        self.pipes = PlugFlowPipes(
            thermal_mass_kg=pp["length_m"] * c_water / self.cp,
            # the plug (water) carries the heat loss, the wall is the outlet volume
            tau_loss_s=np.where(u > 0, c_water / np.where(u > 0, u, 1.0), np.inf),
            ambient_c=pp["ambient_temp_c"],
            cp_j_kg_k=self.cp,
            volume_j_k=pp["length_m"] * c_wall,
        )
        nr = cn.ref_slice.start
        self.t_frm = np.r_[cn.e_from[:nr], cn.f_from]
        self.t_to = np.r_[cn.e_to[:nr], cn.f_to]
        from nuanliu.sim.steady import _stagnant_temp

        self.stagnant_c = _stagnant_temp(cn)
        # per-step index arrays, computed once
        cs, ss, fs = cn.cons_slice, cn.stat_slice, cn.fsrc_slice
        self.n_cons, self.n_stat = len(cn.consumers["ids"]), len(cn.stations["ids"])
        self.n_src = len(cn.sources["ids"])
        self.cons_in_node = cn.f_from[cs]
        self.stat_in_node = cn.f_from[ss]
        self.src_in_node = cn.f_from[fs]
        self.cons_edge = np.arange(nr + cs.start, nr + cs.stop)
        self.cache: dict = {}
        self._heat_cache: tuple | None = None
        self.state = None  # SteadyState-like (node temps, edges, flows, lifts)
        self.t_s = 0.0

    # ------------------------------------------------------------------ set-up
    def start_from(self, steady: SteadyResult, t_s: float = 0.0) -> None:
        """Start in a steady state (its flows and temperatures fill the pipes)."""
        if steady.state is None:
            raise InvalidInput("the steady result has no state to start from")
        from copy import deepcopy

        self.state = deepcopy(steady.state)
        cn = self.cn
        psl = cn.pipe_slice
        q = np.zeros(cn.n_resistive)
        q[cn.chord_edges] = self.state.q_chord
        hyd = solve_hydraulics(
            cn,
            self.state.m_fixed,
            self._rho(),
            self._mu(),
            self.state.q_chord,
            friction_model=self.opts.friction_model,
            with_pressures=False,
        )
        self.q = hyd.q_kg_s
        self.pipes.fill(self.state.edge_in_c[psl], t_s, mdot_kg_s=self.q[psl])
        self.t_s = t_s

    def _rho_mu(self) -> tuple[FloatArray, FloatArray]:
        """Density and viscosity of every resistive edge at its mean temperature."""
        nr = self.cn.ref_slice.start
        t = np.full(self.cn.n_resistive, 20.0)
        if self.state is not None:
            t[:nr] = 0.5 * (self.state.edge_in_c[:nr] + self.state.edge_out_c[:nr])
        else:
            t[:] = 70.0
        return self.water.density(t), self.water.viscosity(t)

    def _rho(self) -> FloatArray:
        if self.state is None:
            return self.water.density(np.full(self.cn.n_resistive, 70.0))
        nr = self.cn.ref_slice.start
        t = np.full(self.cn.n_resistive, 20.0)
        t[:nr] = 0.5 * (self.state.edge_in_c[:nr] + self.state.edge_out_c[:nr])
        return self.water.density(t)

    def _mu(self) -> FloatArray:
        nr = self.cn.ref_slice.start
        t = np.full(self.cn.n_resistive, 20.0)
        if self.state is not None:
            t[:nr] = 0.5 * (self.state.edge_in_c[:nr] + self.state.edge_out_c[:nr])
        return self.water.viscosity(t)

    # ------------------------------------------------------------------ stepping
    def step(
        self,
        dt_s: float,
        *,
        consumer_demand_w: FloatArray,
        station_demand_w: FloatArray,
        supply_temp_c: FloatArray | None = None,
        with_pressures: bool = False,
    ) -> StepResult:
        """Advance ``dt_s`` seconds with the given demands (W, compiled order) and the
        pressure sources' / flow sources' supply temperatures (lift order then flow
        sources; None: their set-points)."""
        if self.state is None:
            raise InvalidInput("start the dynamic model from a steady state first")
        cn, st, water, opts = self.cn, self.state, self.water, self.opts
        nr = cn.ref_slice.start
        nf = len(cn.f_kind)
        cs, ss, fs = cn.cons_slice, cn.stat_slice, cn.fsrc_slice
        psl, lsl = cn.pipe_slice, cn.lift_slice
        cons, stat, srcs, lifts = cn.consumers, cn.stations, cn.sources, cn.lifts
        n_lift = len(lifts["ids"])
        is_src_lift = ~lifts["is_station"]
        if supply_temp_c is not None:
            sup = np.asarray(supply_temp_c, dtype=np.float64)
            if len(sup) != n_lift + len(srcs["ids"]) or not np.all(np.isfinite(sup)):
                raise InvalidInput(
                    f"supply_temp_c: {n_lift + len(srcs['ids'])} finite values expected "
                    "(lifts then flow/heat sources)"
                )
            # our own copy of the lifts' set-points (isolation stations' secondaries too)
            lifts["supply_temp_c"][:] = sup[:n_lift]
            src_set = sup[n_lift:]
        else:
            src_set = srcs["supply_temp_c"]
        st.lift_temp_c[is_src_lift] = lifts["supply_temp_c"][is_src_lift]
        rho, mu = self._rho_mu()
        q_cons = np.asarray(consumer_demand_w, dtype=np.float64)
        q_stat = np.asarray(station_demand_w, dtype=np.float64)
        hyd = None
        it = 0
        plan = None
        t_node = st.node_temp_c
        n_edges = nr + nf
        for it in range(1, self.max_coupling + 1):
            tn = st.node_temp_c
            if self.n_cons:
                law_c = consumer_flows(
                    tn[self.cons_in_node],
                    st.edge_out_c[self.cons_edge],
                    q_cons,
                    cons["flow_control"],
                    cons["return_temp_c"],
                    cons["mdot_kg_s"],
                    min_delta_t_k=opts.min_consumer_delta_t_k,
                    min_return_temp_c=opts.min_return_temp_c,
                    water=water,
                )
            else:
                law_c = _EMPTY_LAW
            if self.n_stat:
                sec_sup, sec_ret, q_st = _station_inputs(cn, st, hyd, q_stat, water)
                law_s, law_s_passed = station_flows(
                    tn[self.stat_in_node],
                    q_st,
                    sec_sup,
                    sec_ret,
                    stat["ua_w_per_k"],
                    stat["effectiveness"],
                    min_delta_t_k=opts.min_consumer_delta_t_k,
                    water=water,
                    ua_newton=True,
                )
                _update_lift_temps(cn, st, law_s.mdot_kg_s, law_s_passed, q_st, sec_ret, water)
            else:
                law_s = _EMPTY_LAW
            if self.n_src:
                law_f = source_flows(
                    tn[self.src_in_node],
                    src_set,
                    srcs["heat_control"],
                    srcs["heat_w"],
                    srcs["mdot_kg_s"],
                    water=water,
                )
            else:
                law_f = _EMPTY_LAW
            m_fixed = np.concatenate((law_c.mdot_kg_s, law_s.mdot_kg_s, law_f.mdot_kg_s))
            if hyd is None:
                hyd = solve_hydraulics(
                    cn,
                    m_fixed,
                    rho,
                    mu,
                    st.q_chord,
                    friction_model=opts.friction_model,
                    tol_pa=self.hydraulic_tol_pa,
                    max_iter=opts.max_iter_hydraulic,
                    with_pressures=False,
                )
            else:
                # later coupling iterations move the fixed flows a little: tree flows
                # follow exactly (mass conservation), loop flows stay until next step
                hyd.q_kg_s = _tree_flows(cn, m_fixed, hyd.q_kg_s[cn.chord_edges])
            q = hyd.q_kg_s
            plan = self.pipes.plan(q[psl], self.t_s, dt_s)
            alpha = np.ones(n_edges)
            beta = np.zeros(n_edges)
            # a pipe whose water all stays in it has α = 0; a tiny floor keeps it a
            # dependency so the thermal pass's wave plan survives from step to step
            alpha[psl] = np.maximum(plan.alpha, DEPENDENCY_FLOOR)
            beta[psl] = plan.beta
            fwd_lift = q[lsl] >= 0
            alpha[lsl] = np.where(fwd_lift, 0.0, 1.0)
            beta[lsl] = np.where(fwd_lift, st.lift_temp_c, 0.0)
            alpha[nr:] = np.concatenate((law_c.alpha, law_s.alpha, law_f.alpha))
            beta[nr:] = np.concatenate((law_c.beta, law_s.beta, law_f.beta))
            edges = ThermalEdges(
                self.t_frm, self.t_to, np.concatenate((q[:nr], m_fixed)), alpha, beta
            )
            t_node, t_in, t_out = solve_temperatures(
                cn.n_nodes, edges, st.node_temp_c, st.edge_out_c, self.stagnant_c, water, self.cache
            )
            change = float(np.max(np.abs(t_node - st.node_temp_c))) if len(t_node) else 0.0
            if nf:
                m_change = float(np.max(np.abs(m_fixed - st.m_fixed)))
                m_scale = max(float(np.max(np.abs(m_fixed))), 1e-9)
            else:
                m_change, m_scale = 0.0, 1e-9
            st.node_temp_c, st.edge_in_c, st.edge_out_c = t_node, t_in, t_out
            st.m_fixed = m_fixed
            st.q_chord = q[cn.chord_edges]
            if (
                it > 1
                and change <= self.coupling_tol_k
                and m_change <= self.coupling_tol_rel * m_scale
            ):
                break
        assert plan is not None and hyd is not None
        pressure = None
        if with_pressures:
            from nuanliu.sim.hydraulics import add_pressures

            add_pressures(cn, hyd, rho, mu, opts.friction_model)
            pressure = hyd.p_pa
        heat_before = self._heat_content_now()
        self.pipes.commit(plan, st.edge_in_c[psl])
        self.t_s += dt_s
        heat_after = self._heat_content_now()
        q = hyd.q_kg_s
        self.q = q
        cp = self.cp
        # heat flows (W, mean over the step) from the final iterate's temperatures
        m_p = np.abs(q[psl])
        pipe_in_w = m_p * cp * st.edge_in_c[psl]
        pipe_out_w = m_p * cp * st.edge_out_c[psl]
        loss = (heat_before - heat_after) / dt_s + pipe_in_w - pipe_out_w
        fe_in = st.edge_in_c[nr:]
        fe_out = st.edge_out_c[nr:]
        heat_f = st.m_fixed * cp * (fe_in - fe_out)
        lift_q = q[lsl]
        lift_heat = np.abs(lift_q) * cp * (st.edge_out_c[lsl] - st.edge_in_c[lsl])
        src_heat = np.concatenate((lift_heat[is_src_lift], -heat_f[fs]))
        return StepResult(
            node_temp_c=t_node,
            edge_in_c=st.edge_in_c,
            edge_out_c=st.edge_out_c,
            q_kg_s=q,
            m_fixed_kg_s=st.m_fixed,
            consumer_heat_w=heat_f[cs],
            station_heat_w=heat_f[ss],
            source_heat_w=src_heat,
            pipe_loss_w=loss,
            iterations=it,
            pressure_pa=pressure,
        )

    def pipe_heat_j(self) -> float:
        """Heat stored in all pipes now (water and walls, relative to 0 °C), J."""
        return float(np.sum(self._heat_content_now()))

    def _heat_content_now(self) -> FloatArray:
        """Heat in each pipe now; the last step's closing value is the next one's
        opening value, so it is kept while the pipes' state arrays are the same objects
        (every commit and fill replaces them)."""
        pp = self.pipes
        arrays = (pp.m, pp.theta, pp.ea, pp.eb, pp.volume_c)
        last = self._heat_cache
        if (
            last is not None
            and last[0] == self.t_s
            and all(x is y for x, y in zip(last[1], arrays, strict=True))
        ):
            return last[2]
        heat = pp.heat_content_j(self.t_s)
        self._heat_cache = (self.t_s, arrays, heat)
        return heat

    def transit_times_s(self) -> FloatArray:
        """Transit time of a temperature signal through each pipe at the current flows."""
        return self.pipes.transit_time_s(self.q[self.cn.pipe_slice]) + np.where(
            self.pipes.volume_j_k > 0,
            self.pipes.volume_j_k
            / (np.maximum(np.abs(self.q[self.cn.pipe_slice]), 1e-300) * self.cp),
            0.0,
        )


def _tree_flows(cn: CompiledNetwork, m_fixed: FloatArray, q_chord: FloatArray) -> FloatArray:
    """Flows of every resistive edge for given fixed flows and loop (chord) flows."""
    q_t0 = cn.lu_tree.solve(nodal_injection(cn, m_fixed))
    q = np.empty(cn.n_resistive)
    q[cn.tree_edges] = q_t0 - cn.m_chord @ q_chord if cn.n_chords else q_t0
    q[cn.chord_edges] = q_chord
    return q
