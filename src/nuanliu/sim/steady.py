"""The steady thermo-hydraulic solver: coupled hydraulics and temperatures.

One coupling iteration: the fixed-flow elements set their flows from the current
temperatures, the hydraulics find the remaining flows and all pressures, and one
thermal pass in flow order gives new temperatures. The loop stops when temperatures
and flows no longer change, or with a clear error after an iteration cap or a
wall-clock limit (it never hangs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nuanliu.errors import Infeasible, InvalidInput, NotConverged
from nuanliu.physics.heat_loss import decay_factor
from nuanliu.sim.compile import CompiledNetwork, compile_network
from nuanliu.sim.controls import consumer_flows, source_flows, station_flows
from nuanliu.sim.hydraulics import HydraulicResult, add_pressures, solve_hydraulics
from nuanliu.sim.options import SolverOptions
from nuanliu.sim.thermal import STAGNANT_KG_S, ThermalEdges, solve_temperatures

FloatArray = NDArray[np.float64]
#: Smallest share of a property-temperature update applied per coupling iteration.
MIN_PROPERTY_RELAXATION = 1.0 / 64.0
INITIAL_PROPERTY_RELAXATION = 0.5
#: Smallest share of a fixed-flow update applied per coupling iteration.
MIN_FLOW_RELAXATION = 1.0 / 1024.0
Progress = Callable[[int, float], None]


@dataclass
class SteadyState:
    """Everything a warm start needs (and what the result tables are built from)."""

    node_temp_c: FloatArray
    edge_in_c: FloatArray  # thermal edges: resistive (no references) then fixed-flow
    edge_out_c: FloatArray
    q_chord: FloatArray
    m_fixed: FloatArray
    lift_temp_c: FloatArray  # effective supply temperature of each lift
    #: actuator values of the controls (nuanliu.sim.regulation), empty without controls
    actuators: FloatArray = field(default_factory=lambda: np.zeros(0))
    #: running pumps per control (staged pump groups; 0 = bypassed), empty without
    pumps_running: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass
class SteadyResult:
    """Result of :func:`solve_steady`: status, iteration record and tables per kind."""

    #: "converged", "infeasible" (converged but breaks a physical limit, see
    #: ``violations``), "not_converged" or "time_limit"
    status: str
    iterations: int
    residual_history: list[dict[str, float]]
    junctions: Any = None
    pipes: Any = None
    pumps: Any = None
    valves: Any = None
    sources: Any = None
    stations: Any = None
    consumers: Any = None
    controls: Any = None  # one row per control (networks with a controls table)
    summary: dict[str, Any] = field(default_factory=dict)
    state: SteadyState | None = None
    elapsed_s: float = 0.0
    #: physical-limit violations, worst first (nuanliu.sim.limits.check_limits)
    violations: Any = None

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def solved(self) -> bool:
        """The iteration converged (the state may still break a physical limit)."""
        return self.status in ("converged", "infeasible")

    def tables(self) -> dict[str, Any]:
        """Element kind → result table."""
        return {
            k: getattr(self, k)
            for k in ("junctions", "pipes", "pumps", "valves", "sources", "stations", "consumers")
        } | ({"controls": self.controls} if self.controls is not None else {})


def demand_scale(
    outdoor_temp_c: float | None, meta: Mapping[str, Any], opts: SolverOptions
) -> float:
    """Share of design demand at an outdoor temperature (degree-hour rule), ≥ 0.

    (T_indoor − T_out) / (T_indoor − T_design), T_indoor = 18 °C and T_design from
    ``meta["design_outdoor_temp_c"]`` (default −19 °C).
    """
    if outdoor_temp_c is None:
        return 1.0
    design = meta.get("design_outdoor_temp_c", opts.design_outdoor_temp_c)
    try:
        design = float(design)
    except (TypeError, ValueError):
        design = opts.design_outdoor_temp_c
    if not np.isfinite(design) or design >= opts.indoor_temp_c:
        design = opts.design_outdoor_temp_c
    return max(0.0, (opts.indoor_temp_c - outdoor_temp_c) / (opts.indoor_temp_c - design))


def _demands(
    ids: NDArray[np.object_], design: FloatArray, demands: Any, scale: float, kind: str
) -> FloatArray:
    out = design * scale
    if demands is None:
        return out
    if isinstance(demands, Mapping):
        pos = {k: i for i, k in enumerate(ids)}
        out = out.copy()
        for k, v in demands.items():  # per named element, not per pipe: a dict is small
            i = pos.get(str(k))
            if i is not None:
                out[i] = float(v)
        return out
    arr = np.asarray(demands, dtype=np.float64)
    if kind != "consumers":
        return out
    if arr.shape != design.shape:
        raise InvalidInput(
            f"demands: expected {len(design)} values (one per in-service consumer), got {arr.shape}"
        )
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise InvalidInput("demands must be finite and ≥ 0 W")
    return arr


def solve_steady(
    net_or_compiled: Any,
    *,
    outdoor_temp_c: float | None = None,
    demands: Any = None,
    warm_start: SteadyResult | SteadyState | None = None,
    options: SolverOptions | None = None,
    raise_on_failure: bool | None = None,
    progress: Progress | None = None,
    supply_temp_c: float | Mapping[str, float] | None = None,
    regulate: bool = True,
) -> SteadyResult:
    """Solve the steady thermo-hydraulic state of a network.

    A converged state that breaks a physical limit has status ``infeasible`` and raises
    :class:`Infeasible` like a failure (``result.violations`` lists every violation).
    ``demands``: consumer heat demands in W (array in consumer order of the compiled
    network, or a mapping id → W that may also name unmodelled stations); otherwise
    the design demands scaled by ``outdoor_temp_c`` (see :func:`demand_scale`).
    ``warm_start``: a previous result or state on the same compiled network.
    ``supply_temp_c``: override the sources' supply set-points (one value for all, or
    source id → °C), e.g. from a supply-temperature schedule.
    Raises :class:`NotConverged` (``.result`` holds the partial result) unless
    ``raise_on_failure`` is False. A network with ``controls`` is solved with its pump
    speeds, pressure levels and valves set to meet them (``regulate=False``: as given).
    """
    from nuanliu.sim.results import build_result  # local: results imports this module

    opts = options or SolverOptions()
    if raise_on_failure is not None:
        opts = SolverOptions(**{**opts.__dict__, "raise_on_failure": raise_on_failure})
    cn = (
        net_or_compiled
        if isinstance(net_or_compiled, CompiledNetwork)
        else compile_network(net_or_compiled)
    )
    if regulate and cn.regulation is not None:
        from nuanliu.sim.regulation import solve_regulated

        return solve_regulated(
            cn,
            solve_steady,
            warm_start=warm_start,
            options=opts,
            outdoor_temp_c=outdoor_temp_c,
            demands=demands,
            progress=progress,
            supply_temp_c=supply_temp_c,
        )
    water = opts.water
    t0 = time.perf_counter()
    scale = demand_scale(outdoor_temp_c, cn.meta, opts)
    cons = cn.consumers
    stat = cn.stations
    srcs = cn.sources
    lifts = cn.lifts
    q_cons = _demands(cons["ids"], cons["heat_demand_w"], demands, scale, "consumers")
    q_stat = _demands(stat["ids"], stat["heat_demand_w"], demands, scale, "stations")

    n = cn.n_nodes
    nr = cn.ref_slice.start  # physical resistive edges
    nf = len(cn.f_kind)
    t_frm = np.r_[cn.e_from[:nr], cn.f_from]
    t_to = np.r_[cn.e_to[:nr], cn.f_to]
    stagnant_c = _stagnant_temp(cn)

    src_temp_c, lift_set_c = _supply_overrides(cn, supply_temp_c)
    if isinstance(warm_start, SteadyResult):
        warm_start = warm_start.state
    if warm_start is not None and (
        len(warm_start.node_temp_c) == n
        and len(warm_start.edge_in_c) == nr + nf
        and len(warm_start.m_fixed) == nf
        and len(warm_start.q_chord) == cn.n_chords
        and len(warm_start.lift_temp_c) == len(lifts["ids"])
    ):
        st = SteadyState(**{k: np.array(v, copy=True) for k, v in warm_start.__dict__.items()})
    else:
        hot = float(np.nanmax(np.r_[lift_set_c, src_temp_c, 0.0]))
        tn = np.full(n, hot)
        st = SteadyState(
            node_temp_c=tn,
            edge_in_c=np.full(nr + nf, hot),
            edge_out_c=np.full(nr + nf, hot),
            q_chord=np.zeros(cn.n_chords),
            m_fixed=np.zeros(nf),
            lift_temp_c=lift_set_c.copy(),
        )
    # pressure sources supply their (possibly overridden) set-point; stations keep theirs
    src_lift = ~lifts["is_station"]
    st.lift_temp_c[src_lift] = lift_set_c[src_lift]

    history: list[dict[str, float]] = []
    status = "not_converged"
    hyd: HydraulicResult | None = None
    stations_passed = np.zeros(len(stat["ids"]))
    cs, ss, fs = cn.cons_slice, cn.stat_slice, cn.fsrc_slice
    it = 0
    t_prop: FloatArray | None = None
    accel = _Anderson(memory=opts.anderson_memory)
    thermal_cache: dict[str, Any] = {}
    relax = last_step = m_relax = m_last = np.zeros(0)
    for it in range(1, opts.max_iter_coupling + 1):
        tn = st.node_temp_c
        # 1. fixed flows from current temperatures
        law_c = consumer_flows(
            tn[cn.f_from[cs]],
            st.edge_out_c[nr + cs.start : nr + cs.stop],
            q_cons,
            cons["flow_control"],
            cons["return_temp_c"],
            cons["mdot_kg_s"],
            min_delta_t_k=opts.min_consumer_delta_t_k,
            min_return_temp_c=opts.min_return_temp_c,
            water=water,
        )
        sec_sup, sec_ret, q_st = _station_inputs(cn, st, hyd, q_stat, water)
        law_s, stations_passed = station_flows(
            tn[cn.f_from[ss]],
            q_st,
            sec_sup,
            sec_ret,
            stat["ua_w_per_k"],
            stat["effectiveness"],
            min_delta_t_k=opts.min_consumer_delta_t_k,
            water=water,
        )
        law_f = source_flows(
            tn[cn.f_from[fs]],
            src_temp_c,
            srcs["heat_control"],
            srcs["heat_w"],
            srcs["mdot_kg_s"],
            water=water,
        )
        m_target = np.r_[law_c.mdot_kg_s, law_s.mdot_kg_s, law_f.mdot_kg_s]
        m_scale = max(float(np.max(np.abs(m_target))) if nf else 0.0, 1e-9)
        d_m = float(np.max(np.abs(m_target - st.m_fixed))) / m_scale if nf else 0.0
        # Flow ↔ temperature fixed point. At low load a consumer's own pipes can lose
        # more heat than it draws: then its flow and supply temperature see-saw (less
        # flow → colder → valve opens). Each element's update is damped by its own
        # factor, halved when the update changes direction, regrown by 20 % otherwise.
        if it == 1:
            m_fixed = m_target
            m_relax = np.ones(nf)
            m_last = np.zeros(nf)
        else:
            m_step = m_target - st.m_fixed
            flip = (m_step * m_last < 0) & (np.abs(m_step) > 1e-12 * m_scale)
            m_relax = np.where(
                flip, np.maximum(0.5 * m_relax, MIN_FLOW_RELAXATION), np.minimum(1.2 * m_relax, 1.0)
            )
            m_last = m_relax * m_step
            m_fixed = accel.step(st.m_fixed, st.m_fixed + m_last)
        _update_lift_temps(cn, st, law_s.mdot_kg_s, stations_passed, q_st, sec_ret, water)

        # 2. hydraulics with properties at the current edge temperatures. With elevation,
        # density feeds back on loop flows (buoyancy); around a nearly stagnant loop pipe
        # that feedback is steep and a plain update cycles. Each edge's update is damped
        # by its own factor, halved whenever its update changes sign (an oscillation) and
        # regrown by 20 % otherwise.
        t_prop_new = _edge_mean_temp(cn, st, None if hyd is None else hyd.q_kg_s)
        if t_prop is None:
            t_prop = t_prop_new
            relax = np.full(len(t_prop), INITIAL_PROPERTY_RELAXATION)
            last_step = np.zeros(len(t_prop))
        else:
            step = t_prop_new - t_prop
            # optional dead band: changes below it are not worth a property update
            step = np.where(np.abs(step) > opts.tol_property_temp_k, step, 0.0)
            flipped = (step * last_step < 0) & (np.abs(step) > 1e-9)
            relax = np.where(
                flipped,
                np.maximum(0.5 * relax, MIN_PROPERTY_RELAXATION),
                np.minimum(1.2 * relax, 1.0),
            )
            last_step = relax * step
            t_prop = t_prop + last_step
        rho = water.density(t_prop)
        mu = water.viscosity(t_prop)
        hyd = solve_hydraulics(
            cn,
            m_fixed,
            rho,
            mu,
            st.q_chord,
            friction_model=opts.friction_model,
            tol_pa=opts.tol_pressure_pa,
            max_iter=opts.max_iter_hydraulic,
            with_pressures=False,
        )
        q = hyd.q_kg_s

        # 3. temperatures in flow order
        alpha = np.ones(nr + nf)
        beta = np.zeros(nr + nf)
        pp = cn.pipes
        psl = cn.pipe_slice
        cp_pipe = water.mean_cp(st.edge_in_c[psl], st.edge_out_c[psl])
        f = decay_factor(pp["u_w_per_m_k"], pp["length_m"], q[psl], cp_pipe)
        alpha[psl] = f
        beta[psl] = pp["ambient_temp_c"] * (1.0 - f)
        lsl = cn.lift_slice
        fwd_lift = q[lsl] >= 0
        alpha[lsl] = np.where(fwd_lift, 0.0, 1.0)
        beta[lsl] = np.where(fwd_lift, st.lift_temp_c, 0.0)
        alpha[nr:] = np.r_[law_c.alpha, law_s.alpha, law_f.alpha]
        beta[nr:] = np.r_[law_c.beta, law_s.beta, law_f.beta]
        edges = ThermalEdges(t_frm, t_to, np.r_[q[:nr], m_fixed], alpha, beta)
        t_node, t_in, t_out = solve_temperatures(
            n, edges, st.node_temp_c, st.edge_out_c, stagnant_c, water, thermal_cache
        )

        d_temp = float(np.max(np.abs(t_node - st.node_temp_c))) if n else 0.0
        d_in = float(np.max(np.abs(t_in - st.edge_in_c))) if len(t_in) else 0.0
        st = SteadyState(
            node_temp_c=t_node,
            edge_in_c=t_in,
            edge_out_c=t_out,
            q_chord=q[cn.chord_edges],
            m_fixed=m_fixed,
            lift_temp_c=st.lift_temp_c,
        )
        rec = {
            "iteration": float(it),
            "max_temp_change_k": d_temp,
            "max_edge_temp_change_k": d_in,
            "max_flow_change_rel": d_m,
            "loop_residual_pa": hyd.residual_history[-1],
            "hydraulic_iterations": float(hyd.iterations),
        }
        history.append(rec)
        if progress is not None:
            progress(it, max(d_temp, d_m))
        if (
            it > 1
            and hyd.converged
            and d_temp <= opts.tol_temp_k
            and d_in <= opts.tol_temp_k
            and d_m <= opts.tol_mdot_rel
        ):
            status = "converged"
            break
        if time.perf_counter() - t0 > opts.time_limit_s:
            status = "time_limit"
            break

    assert hyd is not None
    add_pressures(cn, hyd, rho, mu, opts.friction_model)
    result = build_result(
        cn, st, hyd, opts, status, it, history, q_cons, q_st, stations_passed, scale
    )
    result.elapsed_s = time.perf_counter() - t0
    if status != "converged" and opts.raise_on_failure:
        last = history[-1] if history else {}
        raise NotConverged(
            f"steady solve of {cn.name!r} did not converge ({status}) after {it} coupling "
            f"iterations: last temperature change {last.get('max_temp_change_k', np.nan):.3g} K, "
            f"flow change {last.get('max_flow_change_rel', np.nan):.3g} (relative), loop "
            f"residual {last.get('loop_residual_pa', np.nan):.3g} Pa",
            details={"status": status, "iterations": it, "history": history[-5:]},
            result=result,
        )
    if result.status == "infeasible" and opts.raise_on_failure:
        from nuanliu.sim.limits import summary_message

        raise Infeasible(
            f"steady state of {cn.name!r} is infeasible: {summary_message(result.violations)}",
            details={"violations": result.violations.head(20).to_dict(orient="records")},
            result=result,
        )
    return result


class _Anderson:
    """Anderson acceleration (type II) of a fixed point x = g(x), small memory."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.xs: list[FloatArray] = []
        self.gs: list[FloatArray] = []

    def step(self, x: FloatArray, gx: FloatArray) -> FloatArray:
        if self.memory <= 0 or len(x) == 0:
            return gx
        self.xs.append(x.copy())
        self.gs.append(gx.copy())
        if len(self.xs) > self.memory + 1:
            self.xs.pop(0)
            self.gs.pop(0)
        if len(self.xs) < 2:
            return gx
        f = np.stack([g - xx for g, xx in zip(self.gs, self.xs, strict=True)], axis=1)
        df = np.diff(f, axis=1)
        dg = np.diff(np.stack(self.gs, axis=1), axis=1)
        gamma, *_ = np.linalg.lstsq(df, f[:, -1], rcond=None)
        out = gx - dg @ gamma
        if not np.all(np.isfinite(out)):
            self.xs.clear()
            self.gs.clear()
            return gx
        # flows never turn negative; zero stays zero (zero-demand consumers)
        return np.where(gx > 0, np.maximum(out, 0.0), gx)


def _edge_mean_temp(cn: CompiledNetwork, st: SteadyState, q: FloatArray | None) -> FloatArray:
    """Length-averaged water temperature of each resistive edge (for ρ and μ).

    Along a pipe T − T_amb decays exponentially with rate x = U L / (ṁ c_p), so its mean
    is T_amb + (T_in − T_amb)(1 − e^−x)/x: continuous through zero flow (→ T_amb), which
    keeps the buoyancy term continuous when a loop pipe's flow changes sign.
    """
    nr = cn.ref_slice.start
    t = np.full(cn.n_resistive, 20.0)
    t[:nr] = 0.5 * (st.edge_in_c[:nr] + st.edge_out_c[:nr])
    sl = cn.pipe_slice
    pp = cn.pipes
    t_in = st.edge_in_c[sl]
    t_out = st.edge_out_c[sl]
    amb = pp["ambient_temp_c"]
    span = t_in - amb
    # x from the solved end temperatures: e^−x = (T_out − T_amb)/(T_in − T_amb)
    ratio = np.where(
        np.abs(span) > 1e-9, (t_out - amb) / np.where(np.abs(span) > 1e-9, span, 1.0), 1.0
    )
    ratio = np.clip(ratio, 1e-300, 1.0)
    x = -np.log(ratio)
    small = x < 1e-6
    shape = np.where(small, 1.0 - 0.5 * x, -np.expm1(-x) / np.where(small, 1.0, x))
    t[sl] = amb + span * shape
    if q is not None:  # stagnant pipes hold water at the ambient temperature
        t[sl] = np.where(np.abs(q[sl]) > STAGNANT_KG_S, t[sl], amb)
    return t


def _supply_overrides(
    cn: CompiledNetwork, supply_temp_c: float | Mapping[str, float] | None
) -> tuple[FloatArray, FloatArray]:
    """Supply set-points of flow/heat sources and of every lift, with overrides applied."""
    src = cn.sources["supply_temp_c"].copy()
    lift = cn.lifts["supply_temp_c"].copy()
    if supply_temp_c is None:
        return src, lift
    is_src = ~cn.lifts["is_station"]
    if isinstance(supply_temp_c, Mapping):
        known = set(cn.sources["ids"]) | set(cn.lifts["ids"][is_src])
        unknown = sorted(set(map(str, supply_temp_c)) - known)
        if unknown:
            raise InvalidInput(f"supply_temp_c: unknown source id(s) {', '.join(unknown)}")
        for sid, t in supply_temp_c.items():  # per source: a handful
            src[cn.sources["ids"] == str(sid)] = float(t)
            lift[is_src & (cn.lifts["ids"] == str(sid))] = float(t)
    else:
        src[:] = float(supply_temp_c)
        lift[is_src] = float(supply_temp_c)
    if np.any(~np.isfinite(src)) or np.any(~np.isfinite(lift)):
        raise InvalidInput("supply_temp_c must be finite")
    return src, lift


def _stagnant_temp(cn: CompiledNetwork) -> FloatArray:
    """Temperature of stagnant water at each node: mean ambient of its pipes (10 °C)."""
    n = cn.n_nodes
    sl = cn.pipe_slice
    amb = cn.pipes["ambient_temp_c"]
    ends = np.r_[cn.e_from[sl], cn.e_to[sl]]
    s = np.bincount(ends, weights=np.r_[amb, amb], minlength=n)
    c = np.bincount(ends, minlength=n)
    return np.where(c > 0, s / np.maximum(c, 1), 10.0)


def _station_inputs(
    cn: CompiledNetwork,
    st: SteadyState,
    hyd: HydraulicResult | None,
    q_stat: FloatArray,
    water: Any,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Secondary supply/return temperatures and heat of each station.

    Unmodelled: the set-points and the (scaled) design heat. Modelled (isolation): the
    heat the secondary network took in the last iteration, its actual return
    temperature and its supply set-point.
    """
    stat = cn.stations
    sec_sup = stat["sec_supply_c"].copy()
    sec_ret = stat["sec_return_c"].copy()
    q = q_stat.copy()
    rows = np.flatnonzero(stat["modelled"])
    if len(rows):
        lift_rows = stat["lift_row"][rows]
        edge = cn.lift_slice.start + lift_rows
        t_ret = st.node_temp_c[cn.e_from[edge]]
        sec_ret[rows] = t_ret
        if hyd is None:
            # first iteration: a warm start's primary passes the heat it passed before
            # (a cold start has no flow yet: zero)
            e = cn.ref_slice.start + cn.stat_slice.start + rows
            m_prev = st.m_fixed[cn.stat_slice][rows]
            q[rows] = m_prev * np.maximum(water.dh(st.edge_in_c[e], st.edge_out_c[e]), 0.0)
        else:
            m_sec = np.maximum(hyd.q_kg_s[edge], 0.0)
            q[rows] = m_sec * np.maximum(water.dh(cn.lifts["supply_temp_c"][lift_rows], t_ret), 0.0)
    return sec_sup, sec_ret, q


def _update_lift_temps(
    cn: CompiledNetwork,
    st: SteadyState,
    m_primary: FloatArray,
    passed_w: FloatArray,
    q_needed_w: FloatArray,
    sec_ret_c: FloatArray,
    water: Any,
) -> None:
    """An isolation station that cannot pass the heat its secondary needs supplies it
    cooler: the secondary supply temperature drops in proportion to the shortfall."""
    stat = cn.stations
    rows = np.flatnonzero(stat["modelled"])
    if not len(rows):
        return
    lift_rows = stat["lift_row"][rows]
    set_c = cn.lifts["supply_temp_c"][lift_rows]
    need = q_needed_w[rows]
    got = passed_w[rows]
    share = np.where(need > 0, np.clip(got / np.where(need > 0, need, 1.0), 0.0, 1.0), 1.0)
    t_ret = sec_ret_c[rows]
    st.lift_temp_c[lift_rows] = np.where(
        share >= 1.0 - 1e-9, set_c, t_ret + share * (set_c - t_ret)
    )
