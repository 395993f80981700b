"""Supply-temperature schedule: a sequential linear programme solved by HiGHS.

Decision variables, hour by hour over the horizon: each supply point's supply
temperature, each station's delivered heat, its buildings' indoor temperature (one
aggregate RC model per station) and each supply point's pump electricity. Constraints:

- a station receives at most ``c_p · ṁ_max · (T_arrive − T_return)``, where ``T_arrive``
  is its supply point's temperature one transport delay earlier (linear interpolation
  between whole hours) minus the drop on the way — exact and linear, because the flow
  limit (design flow at the balanced Δp) is a constant;
- ``T_arrive`` stays at or above the station's lowest acceptable primary supply
  (secondary supply of its heating curve + approach) — the supply-temperature limit;
- an isolation station's secondary supply is at most what arrives from its parent
  minus its approach, and its primary flow is at most the line's limit;
- supply temperatures within their ranges, ramps at most ``ramp_k_per_h``;
- indoor temperature ≥ ``indoor_min_c`` (standard + margin) every hour; a shortfall
  that water already in the pipes makes unavoidable is reported, any other means the
  demand is beyond what the network can carry: :class:`Infeasible`, naming stations
  and hours.

Cost: heat (delivered + supply-side pipe losses) at the heat price plus pump
electricity at the hourly electricity price. Pump power is convex in flow, flow is
``heat / (c_p ΔT)`` — the one non-linearity — so the programme is solved as a sequence
of LPs, each with flow linearised at the last iterate inside a trust region on the
temperatures, and the step kept only if the true cost falls (standard SLP). Every LP is
solved by HiGHS (``scipy.optimize.linprog(method="highs-ipm")``): a real solver, not a grid.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog

from nuanliu.control.problem import CP_MJ_PER_KG_K, ScheduleProblem
from nuanliu.errors import Infeasible, NotConverged

#: comfort slack above this (K) counts as a shortfall
SLACK_TOL_K = 1e-3
#: penalty on a comfort shortfall, in heat-price multiples of H·K·h
SLACK_PENALTY = 1000.0
#: flow tangent points of the convex pump curve (share of the largest flow seen)
PUMP_CUTS = np.linspace(0.2, 1.6, 12)
MAX_SLP_ITER = 12
TRUST_K0 = 15.0
#: an accepted LP that lowers the true cost by less than this share ends the iterations
#: (on Tuoketuo–Hohhot the fifth LP of a winter day bought 2 元 of 35.7 M元)
REL_IMPROVE_STOP = 1e-5


@dataclass
class ScheduleResult:
    """The proposed schedule, its cost breakdown and the solver record."""

    hourly: pd.DataFrame  # per hour: supply temps, heat, losses, flows, pump power, cost
    stations: pd.DataFrame  # per station and hour: heat, arrival temperature, indoor
    cost: dict[str, float]
    iterations: int
    elapsed_s: float
    lp_status: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: CPU time of this process (wall time includes waiting on a busy machine)
    cpu_s: float = 0.0


@dataclass
class _Arrival:
    """Linear arrival temperature of an element: w0·T[k, t−n] + w1·T[k, t−n−1] − drop."""

    k: int
    n: int
    frac: float
    drop: float


class _Layout:
    def __init__(self, p: ScheduleProblem, hh: int) -> None:
        self.p, self.hh, self.h = p, hh, p.hours
        self.nt = hh + p.hours
        self.t0 = 0
        self.q0 = p.n_sp * self.nt
        self.i0 = self.q0 + p.n_st * p.hours
        self.s0 = self.i0 + p.n_st * p.hours
        self.p0 = self.s0 + p.n_st * p.hours
        self.m0 = self.p0 + p.n_sp * p.hours  # supply points' flows (the linearised ones)
        self.n = self.m0 + p.n_sp * p.hours

    def T(self, k: int, tau: int) -> int:
        return self.t0 + k * self.nt + min(max(tau, -self.hh), self.h - 1) + self.hh

    def Q(self, j: int, t: int) -> int:
        return self.q0 + j * self.h + t

    def Ti(self, j: int, t: int) -> int:
        return self.i0 + j * self.h + t

    def S(self, j: int, t: int) -> int:
        return self.s0 + j * self.h + t

    def P(self, k: int, t: int) -> int:
        return self.p0 + k * self.h + t

    def M(self, k: int, t: int) -> int:
        return self.m0 + k * self.h + t


def _arrival(k: int, delay_h: float, drop: float) -> _Arrival:
    n = int(np.floor(delay_h))
    return _Arrival(k, n, float(delay_h - n), float(drop))


def _arr_terms(lay: _Layout, a: _Arrival, t: int) -> list[tuple[int, float]]:
    return [(lay.T(a.k, t - a.n), 1.0 - a.frac), (lay.T(a.k, t - a.n - 1), a.frac)]


class _Rows:
    """Sparse constraint rows ``lo ≤ A x ≤ hi`` collected as triplets."""

    def __init__(self) -> None:
        self.r: list[int] = []
        self.c: list[int] = []
        self.v: list[float] = []
        self.ub: list[float] = []
        self.eq_r: list[int] = []
        self.eq_c: list[int] = []
        self.eq_v: list[float] = []
        self.eq_b: list[float] = []

    def le(self, terms: list[tuple[int, float]], rhs: float) -> None:
        row = len(self.ub)
        for c, v in terms:
            self.r.append(row)
            self.c.append(c)
            self.v.append(v)
        self.ub.append(rhs)

    def eq(self, terms: list[tuple[int, float]], rhs: float) -> None:
        row = len(self.eq_b)
        for c, v in terms:
            self.eq_r.append(row)
            self.eq_c.append(c)
            self.eq_v.append(v)
        self.eq_b.append(rhs)

    def matrices(self, n: int):
        a_ub = sp.csr_array((self.v, (self.r, self.c)), shape=(len(self.ub), n))
        a_eq = sp.csr_array((self.eq_v, (self.eq_r, self.eq_c)), shape=(len(self.eq_b), n))
        return a_ub, np.array(self.ub), a_eq, np.array(self.eq_b)


class _Model:
    """The fixed part of the programme and the true (non-linear) cost of a point."""

    def __init__(self, p: ScheduleProblem) -> None:
        p.check()
        self.p = p
        cum = np.zeros(p.n_sp)
        for k in range(p.n_sp):
            par = p.sp_parent[k]
            cum[k] = 0.0 if par < 0 else cum[par] + p.sp_delay_h[k]
        self.hh = int(np.ceil(np.max(p.st_delay_h + cum[p.st_sp], initial=0.0) + cum.max())) + 2
        self.lay = _Layout(p, self.hh)
        self.st_arr = [
            _arrival(int(p.st_sp[j]), p.st_delay_h[j], p.st_drop_k[j]) for j in range(p.n_st)
        ]
        self.sp_arr = {
            k: _arrival(int(p.sp_parent[k]), p.sp_delay_h[k], p.sp_drop_k[k])
            for k in range(p.n_sp)
            if p.sp_parent[k] >= 0
        }
        self.rounded = np.rint(p.st_delay_h).astype(int)
        self.prices = np.broadcast_to(np.asarray(p.elec_price_per_mwh, dtype=float), (p.hours,))
        self.a = np.exp(-1.0 / np.maximum(p.st_tau_h, 1e-6))
        self._fixed_rows()
        self._bounds()

    # -- linear pieces -------------------------------------------------------------
    def child_heat(self, k: int) -> tuple[list[list[tuple[int, float]]], np.ndarray]:
        """Heat drawn at supply point ``k``'s inlet per hour: terms and constants (MW)."""
        p, lay = self.p, self.lay
        terms: list[list[tuple[int, float]]] = [[] for _ in range(p.hours)]
        const = np.zeros(p.hours)
        for j in np.flatnonzero(p.st_sp == k):
            for t in range(p.hours):
                tt = t + self.rounded[j]
                if tt < p.hours:
                    terms[t].append((lay.Q(j, tt), 1.0))
                else:  # beyond the horizon: the forecast
                    const[t] += p.st_forecast_mw[j, -1]
        ua = p.sp_loss_mw_per_k[k]
        for t in range(p.hours):
            terms[t].append((lay.T(k, t), ua))
            const[t] -= ua * p.ground_temp_c
        return terms, const

    def _fixed_rows(self) -> None:
        p, lay = self.p, self.lay
        rows = _Rows()
        for j, arr in enumerate(self.st_arr):
            cm = CP_MJ_PER_KG_K * p.st_max_flow_kg_s[j]
            for t in range(p.hours):
                at = _arr_terms(lay, arr, t)
                # heat within the flow limit at the arriving temperature
                rows.le(
                    [(lay.Q(j, t), 1.0)] + [(c, -cm * w) for c, w in at],
                    -cm * (arr.drop + p.st_return_c[j]),
                )
                # arriving temperature at or above the station's lowest acceptable supply
                if t - arr.n > 0:  # earlier hours are water already on its way
                    rows.le([(c, -w) for c, w in at], -(p.st_min_supply_c[j, t] + arr.drop))
                # buildings: Ti(t) = a Ti(t−1) + (1−a)(T_fc + (Q − Q_fc)/H)
                a = self.a[j]
                g = (1 - a) / p.st_h_mw_per_k[j]
                prev = [(lay.Ti(j, t - 1), -a)] if t > 0 else []
                rhs = (1 - a) * (p.forecast_indoor_c - p.st_forecast_mw[j, t] / p.st_h_mw_per_k[j])
                if t == 0:
                    rhs += a * p.st_indoor_start_c[j]
                rows.eq([(lay.Ti(j, t), 1.0), (lay.Q(j, t), -g)] + prev, rhs)
                # comfort: Ti + S ≥ indoor_min
                rows.le([(lay.Ti(j, t), -1.0), (lay.S(j, t), -1.0)], -p.indoor_min_c)
        for k, arr in self.sp_arr.items():
            terms, const = self.child_heat(k)
            cm = CP_MJ_PER_KG_K * p.sp_max_flow_kg_s[k]
            for t in range(p.hours):
                at = _arr_terms(lay, arr, t)
                # secondary supply ≤ arriving primary − approach
                rows.le(
                    [(lay.T(k, t), 1.0)] + [(c, -w) for c, w in at],
                    -(arr.drop + p.sp_approach_k[k]),
                )
                if np.isfinite(cm):
                    rows.le(
                        terms[t] + [(c, -cm * w) for c, w in at],
                        -const[t] - cm * (arr.drop + p.sp_return_c[k]),
                    )
        if np.isfinite(p.source_capacity_mw):
            for k in np.flatnonzero(p.sp_parent < 0):
                terms, const = self.child_heat(int(k))
                for t in range(p.hours):
                    rows.le(terms[t], p.source_capacity_mw - const[t])
        for k in range(p.n_sp):
            # a child's history may not have followed its parent's delayed water; its
            # first hour is held by the parent's arrival instead of a ramp from history
            for t in range(0 if p.sp_parent[k] < 0 else 1, p.hours):
                r = p.ramp_k_per_h
                rows.le([(lay.T(k, t), 1.0), (lay.T(k, t - 1), -1.0)], r)
                rows.le([(lay.T(k, t), -1.0), (lay.T(k, t - 1), 1.0)], r)
        self.rows = rows

    def _bounds(self) -> None:
        p, lay = self.p, self.lay
        lo = np.zeros(lay.n)
        hi = np.full(lay.n, np.inf)
        hist = p.sp_history_c
        n_hist = hist.shape[1]
        for k in range(p.n_sp):  # parents precede children
            for tau in range(-self.hh, p.hours):
                i = lay.T(k, tau)
                if tau < 0:
                    v = hist[k, max(n_hist + tau, 0)] if n_hist else p.sp_max_c[k]
                    if k in self.sp_arr:  # at most what arrived from the parent
                        arr = self.sp_arr[k]
                        got = sum(lo[c] * w for c, w in _arr_terms(lay, arr, tau)) - arr.drop
                        v = min(v, got - p.sp_approach_k[k])
                    lo[i] = hi[i] = v
                else:
                    lo[i], hi[i] = p.sp_min_c[k], p.sp_max_c[k]
        lo[lay.i0 : lay.s0] = -np.inf
        lo[lay.m0 :] = -np.inf  # linearised flows may dip below zero away from the iterate
        self.lo, self.hi = lo, hi

    # -- the true cost and the flows of a point -----------------------------------
    def arrivals(self, x: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        p, lay = self.p, self.lay
        st = np.empty((p.n_st, p.hours))
        for j, arr in enumerate(self.st_arr):
            for t in range(p.hours):
                st[j, t] = sum(x[c] * w for c, w in _arr_terms(lay, arr, t)) - arr.drop
        spa = {
            k: np.array(
                [
                    sum(x[c] * w for c, w in _arr_terms(lay, arr, t)) - arr.drop
                    for t in range(p.hours)
                ]
            )
            for k, arr in self.sp_arr.items()
        }
        return st, spa

    def flows(
        self, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """Station flows (n_st, H), supply-point flows (n_sp, H), arrivals."""
        p, lay = self.p, self.lay
        q = x[lay.q0 : lay.i0].reshape(p.n_st, p.hours)
        st_arr, sp_arr = self.arrivals(x)
        dt = np.maximum(st_arr - p.st_return_c[:, None], 1.0)
        m_st = q / (CP_MJ_PER_KG_K * dt)
        m_sp = np.zeros((p.n_sp, p.hours))
        for j in range(p.n_st):
            m_sp[p.st_sp[j]] += m_st[j]
        for k, arr in sp_arr.items():
            terms, const = self.child_heat(k)
            heat = np.array([sum(x[c] * w for c, w in terms[t]) for t in range(p.hours)]) + const
            m_sp[self.p.sp_parent[k]] += heat / (
                CP_MJ_PER_KG_K * np.maximum(arr - p.sp_return_c[k], 1.0)
            )
        return m_st, m_sp, st_arr, sp_arr

    def true_cost(self, x: np.ndarray) -> dict[str, float]:
        p, lay = self.p, self.lay
        q = x[lay.q0 : lay.i0].reshape(p.n_st, p.hours)
        temps = np.array([[x[lay.T(k, t)] for t in range(p.hours)] for k in range(p.n_sp)])
        loss = (p.sp_loss_mw_per_k[:, None] * (temps - p.ground_temp_c)).sum(axis=0)
        _, m_sp, _, _ = self.flows(x)
        pump = sum(p.pumps[k].power_mw(m_sp[k]) for k in range(p.n_sp))
        slack = x[lay.s0 : lay.p0].reshape(p.n_st, p.hours)
        heat_cost = p.heat_price_per_mwh * (q.sum() + loss.sum())
        elec_cost = float((self.prices * pump).sum())
        penalty = float(
            (SLACK_PENALTY * p.heat_price_per_mwh * p.st_h_mw_per_k[:, None] * slack).sum()
        )
        return {
            "heat_delivered_mwh": float(q.sum()),
            "supply_loss_mwh": float(loss.sum()),
            "pump_mwh": float(pump.sum()),
            "heat_cost": float(heat_cost),
            "electricity_cost": elec_cost,
            "total_cost": float(heat_cost + elec_cost),
            "objective": float(heat_cost + elec_cost + penalty),
        }

    # -- one LP around the point x0 --------------------------------------------------
    def lp(self, x0: np.ndarray, trust_k: float):
        p, lay = self.p, self.lay
        rows = _Rows()
        rows.r, rows.c, rows.v, rows.ub = (
            list(self.rows.r),
            list(self.rows.c),
            list(self.rows.v),
            list(self.rows.ub),
        )
        rows.eq_r, rows.eq_c = list(self.rows.eq_r), list(self.rows.eq_c)
        rows.eq_v, rows.eq_b = list(self.rows.eq_v), list(self.rows.eq_b)
        m_st, m_sp, st_arr, sp_arr = self.flows(x0)
        q0 = x0[lay.q0 : lay.i0].reshape(p.n_st, p.hours)
        # linearised flow of each supply point per hour: m ≈ m0 + Σ g (x − x0)
        lin: list[list[dict[int, float]]] = [[{} for _ in range(p.hours)] for _ in range(p.n_sp)]
        base = m_sp.copy()
        for j, arr in enumerate(self.st_arr):
            k = int(p.st_sp[j])
            for t in range(p.hours):
                dt = max(st_arr[j, t] - p.st_return_c[j], 1.0)
                d = lin[k][t]
                d[lay.Q(j, t)] = d.get(lay.Q(j, t), 0.0) + 1.0 / (CP_MJ_PER_KG_K * dt)
                base[k, t] -= q0[j, t] / (CP_MJ_PER_KG_K * dt)
                dm_dt = -q0[j, t] / (CP_MJ_PER_KG_K * dt * dt)
                for c, w in _arr_terms(lay, arr, t):
                    d[c] = d.get(c, 0.0) + dm_dt * w
                    base[k, t] -= dm_dt * w * x0[c]
        for k, arr in sp_arr.items():
            par = int(p.sp_parent[k])
            terms, const = self.child_heat(k)
            a = self.sp_arr[k]
            for t in range(p.hours):
                dt = max(arr[t] - p.sp_return_c[k], 1.0)
                heat0 = sum(x0[c] * w for c, w in terms[t]) + const[t]
                d = lin[par][t]
                for c, w in terms[t]:
                    d[c] = d.get(c, 0.0) + w / (CP_MJ_PER_KG_K * dt)
                    base[par, t] -= w * x0[c] / (CP_MJ_PER_KG_K * dt)
                dm_dt = -heat0 / (CP_MJ_PER_KG_K * dt * dt)
                for c, w in _arr_terms(lay, a, t):
                    d[c] = d.get(c, 0.0) + dm_dt * w
                    base[par, t] -= dm_dt * w * x0[c]
        # pump epigraph: P ≥ f(Mi) + f'(Mi)(M − Mi) at tangent points
        m_ref = max(float(m_sp.max()), 1.0)
        for k in range(p.n_sp):
            pm = p.pumps[k]
            if pm.k2 == 0.0 and pm.k3 == 0.0:
                continue
            cuts = PUMP_CUTS * m_ref
            for t in range(p.hours):
                # M = base + Σ g x (one row), then P ≥ f(Mi) + f'(Mi)(M − Mi): two entries each
                rows.eq([(lay.M(k, t), 1.0)] + [(c, -g) for c, g in lin[k][t].items()], base[k, t])
                for mi in cuts:
                    f, sl = float(pm.power_mw(mi)), float(pm.slope(mi))
                    rows.le([(lay.M(k, t), sl), (lay.P(k, t), -1.0)], sl * mi - f)
        a_ub, b_ub, a_eq, b_eq = rows.matrices(lay.n)
        c = np.zeros(lay.n)
        c[lay.q0 : lay.i0] = p.heat_price_per_mwh
        for k in range(p.n_sp):
            for t in range(p.hours):
                c[lay.T(k, t)] += p.heat_price_per_mwh * p.sp_loss_mw_per_k[k]
                c[lay.P(k, t)] = self.prices[t]
        c[lay.s0 : lay.p0] = (
            SLACK_PENALTY * p.heat_price_per_mwh * np.repeat(p.st_h_mw_per_k, p.hours)
        )
        lo, hi = self.lo.copy(), self.hi.copy()
        for k in range(p.n_sp):
            for t in range(p.hours):
                i = lay.T(k, t)
                if np.isfinite(trust_k):
                    lo[i] = max(lo[i], x0[i] - trust_k)
                    hi[i] = min(hi[i], x0[i] + trust_k)
        return linprog(
            c,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=b_eq,
            bounds=np.column_stack([lo, hi]),
            # interior point (with crossover): the same optimum as dual simplex on
            # Tuoketuo–Hohhot's 48 h LPs at about half the CPU time (bench/control.py)
            method="highs-ipm",
        )


def _start_point(m: _Model, start_c: np.ndarray | None) -> np.ndarray:
    """Supply temperatures (given, else the maximum) and the forecast heat."""
    p, lay = m.p, m.lay
    x = np.zeros(lay.n)
    x[:] = np.where(np.isfinite(m.lo), m.lo, 0.0)
    for k in range(p.n_sp):
        for t in range(p.hours):
            v = p.sp_max_c[k] if start_c is None else start_c[k, t]
            x[lay.T(k, t)] = np.clip(v, p.sp_min_c[k], p.sp_max_c[k])
    x[lay.q0 : lay.i0] = p.st_forecast_mw.ravel()
    return x


def optimise(p: ScheduleProblem, *, start_c: np.ndarray | None = None) -> ScheduleResult:
    """The cheapest schedule meeting every constraint (see the module doc)."""
    t_start = time.perf_counter()
    cpu_start = time.process_time()
    m = _Model(p)
    x = _start_point(m, start_c)
    best = None
    best_cost = np.inf
    # the first LP has no trust region: the start (e.g. the heating curve) need not meet
    # ramps or the isolation stations' limits, the LP's answer does; later LPs stay
    # within a trust region around that feasible point
    trust = np.inf
    statuses: list[str] = []
    it = 0
    while it < MAX_SLP_ITER:
        it += 1
        res = m.lp(x, trust)
        statuses.append(res.message)
        if res.status == 2:
            raise Infeasible(
                "schedule: the constraints cannot all be met even with comfort slack"
                f" (supply ranges, ramps, line limits): {res.message}",
                details={"lp": res.message},
            )
        if res.status != 0:
            if best is not None:
                break
            raise NotConverged(f"schedule: HiGHS stopped: {res.message}")
        cost = m.true_cost(res.x)["objective"]
        step = float(np.max(np.abs(res.x[: m.lay.q0] - x[: m.lay.q0]), initial=0.0))
        if best is None or cost <= best_cost - 1e-9 * max(1.0, abs(best_cost)):
            gain = (best_cost - cost) / max(1.0, abs(cost)) if best is not None else np.inf
            best, best_cost, x = res.x, cost, res.x
            if step < 0.02 or gain < REL_IMPROVE_STOP:
                break
            trust = TRUST_K0 if not np.isfinite(trust) else min(trust * 1.5, 40.0)
        elif step < 0.02:  # the LP returns to the same point: converged
            break
        else:
            trust = (TRUST_K0 if not np.isfinite(trust) else trust) / 3.0
            if trust < 0.05:
                break
    assert best is not None
    out = _result(m, best, it, time.perf_counter() - t_start, statuses)
    out.cpu_s = time.process_time() - cpu_start
    return out


def _result(
    m: _Model, x: np.ndarray, iters: int, elapsed: float, statuses: list[str]
) -> ScheduleResult:
    p, lay = m.p, m.lay
    idx = pd.date_range(p.start, periods=p.hours, freq="h")
    m_st, m_sp, st_arr, _ = m.flows(x)
    q = x[lay.q0 : lay.i0].reshape(p.n_st, p.hours)
    ti = x[lay.i0 : lay.s0].reshape(p.n_st, p.hours)
    slack = x[lay.s0 : lay.p0].reshape(p.n_st, p.hours)
    hourly = pd.DataFrame(index=idx)
    hourly.index.name = "ts"
    for k, sid in enumerate(p.sp_ids):
        hourly[f"supply_temp_c[{sid}]"] = [x[lay.T(k, t)] for t in range(p.hours)]
        hourly[f"mdot_kg_s[{sid}]"] = m_sp[k]
        hourly[f"pump_mw[{sid}]"] = p.pumps[k].power_mw(m_sp[k])
        hourly[f"supply_loss_mw[{sid}]"] = p.sp_loss_mw_per_k[k] * (
            hourly[f"supply_temp_c[{sid}]"] - p.ground_temp_c
        )
    hourly["heat_delivered_mw"] = q.sum(axis=0)
    hourly["forecast_mw"] = p.st_forecast_mw.sum(axis=0)
    hourly["indoor_min_c"] = ti.min(axis=0)
    stations = pd.DataFrame(
        {
            "station_id": np.repeat(p.st_ids, p.hours),
            "ts": np.tile(idx, p.n_st),
            "heat_mw": q.ravel(),
            "forecast_mw": p.st_forecast_mw.ravel(),
            "arrival_temp_c": st_arr.ravel(),
            "min_supply_c": p.st_min_supply_c.ravel(),
            "mdot_kg_s": m_st.ravel(),
            "max_mdot_kg_s": np.repeat(p.st_max_flow_kg_s, p.hours),
            "indoor_c": ti.ravel(),
            "comfort_shortfall_k": slack.ravel(),
        }
    )
    short = stations[stations["comfort_shortfall_k"] > SLACK_TOL_K]
    warnings: list[str] = []
    if len(short):
        delays = dict(
            zip(p.st_ids, p.st_delay_h + np.array([p.sp_delay_h[k] for k in p.st_sp]), strict=True)
        )
        hour_no = ((short["ts"] - p.start) / pd.Timedelta("1h")).to_numpy()
        locked = hour_no < np.array([delays[s] for s in short["station_id"]])
        # beyond capacity: the station already gets its largest flow at the hottest water
        # the chain of supply points can send; any other shortfall is the plan catching up
        # from its starting state (history, ramp limits) and is reported as a warning
        reach = np.zeros(p.n_sp)
        for k in range(p.n_sp):
            par = p.sp_parent[k]
            reach[k] = (
                p.sp_max_c[k]
                if par < 0
                else min(p.sp_max_c[k], reach[par] - p.sp_drop_k[k] - p.sp_approach_k[k])
            )
        top = dict(zip(p.st_ids, reach[p.st_sp] - p.st_drop_k, strict=True))
        at_cap = (
            short["arrival_temp_c"].to_numpy()
            >= np.array([top[s] for s in short["station_id"]]) - 0.5
        ) & (short["mdot_kg_s"].to_numpy() >= 0.99 * short["max_mdot_kg_s"].to_numpy())
        catching_up = ~locked & ~at_cap
        if catching_up.any():
            warnings.append(
                f"{int(catching_up.sum())} station-hour(s) below {p.indoor_min_c:g} °C"
                " while the plan"
                f" catches up from its starting state (ramp ≤ {p.ramp_k_per_h:g} K/h)"
            )
        locked = locked | catching_up
        if (~locked).any():
            worst = short[~locked].sort_values("comfort_shortfall_k", ascending=False).head(5)
            lines = [
                f"{r.station_id} at {r.ts:%Y-%m-%d %H:%M}Z: indoor {r.indoor_c:.1f} °C, "
                f"{r.comfort_shortfall_k:.2f} K below {p.indoor_min_c:g} °C"
                for r in worst.itertuples()
            ]
            raise Infeasible(
                "schedule infeasible: demand beyond what the network can carry at the highest"
                " supply temperature and station flow limits — " + "; ".join(lines),
                details={
                    "stations": sorted(set(short.loc[~locked, "station_id"])),
                    "hours": int((~locked).sum()),
                },
            )
        warnings.append(
            f"{int(locked.sum())} station-hour(s) below {p.indoor_min_c:g} °C that water already"
            " in the pipes makes unavoidable (before the first scheduled water arrives)"
        )
    cost = m.true_cost(x)
    return ScheduleResult(hourly, stations, cost, iters, elapsed, statuses, warnings)


def evaluate_fixed(p: ScheduleProblem, supply_c: np.ndarray) -> ScheduleResult:
    """The same model run on given set-points (e.g. the heating curve): each station
    takes its forecast load, or what its flow limit lets through at the arriving
    temperature; an isolation station passes at most what arrives minus its approach."""
    t0 = time.perf_counter()
    m = _Model(p)
    lay = m.lay
    x = np.where(np.isfinite(m.lo), m.lo, 0.0)
    for k in range(p.n_sp):  # parents first: a child is capped by its parent's arrival
        for t in range(p.hours):
            v = float(np.clip(supply_c[k, t], p.sp_min_c[k], p.sp_max_c[k]))
            if k in m.sp_arr:
                arr = m.sp_arr[k]
                got = sum(x[c] * w for c, w in _arr_terms(lay, arr, t)) - arr.drop
                v = min(v, got - p.sp_approach_k[k])
            x[lay.T(k, t)] = v
    st_arr, _ = m.arrivals(x)
    cap = (
        CP_MJ_PER_KG_K
        * p.st_max_flow_kg_s[:, None]
        * np.maximum(st_arr - p.st_return_c[:, None], 0.0)
    )
    q = np.minimum(p.st_forecast_mw, cap)
    ti = np.empty_like(q)
    prev = p.st_indoor_start_c.astype(float)
    for t in range(p.hours):
        prev = m.a * prev + (1 - m.a) * (
            p.forecast_indoor_c + (q[:, t] - p.st_forecast_mw[:, t]) / p.st_h_mw_per_k
        )
        ti[:, t] = prev
    x[lay.q0 : lay.i0] = q.ravel()
    x[lay.i0 : lay.s0] = ti.ravel()
    x[lay.s0 : lay.p0] = np.maximum(p.indoor_min_c - ti, 0.0).ravel()
    out = _result_no_raise(m, x, time.perf_counter() - t0)
    cold = out.stations[out.stations["comfort_shortfall_k"] > SLACK_TOL_K]
    if len(cold):
        worst = cold.sort_values("comfort_shortfall_k", ascending=False).head(3)
        out.warnings.insert(
            0,
            f"{len(cold)} station-hour(s) below {p.indoor_min_c:g} °C"
            " with these set-points; worst: "
            + "; ".join(
                f"{r.station_id} at {r.ts:%Y-%m-%d %H:%M}Z ({r.indoor_c:.1f} °C)"
                for r in worst.itertuples()
            ),
        )
    return out


def _result_no_raise(m: _Model, x: np.ndarray, elapsed: float) -> ScheduleResult:
    try:
        return _result(m, x, 0, elapsed, [])
    except Infeasible as exc:  # a fixed schedule is reported with its shortfall, not refused
        res = _plain_result(m, x, elapsed)
        res.warnings.append(str(exc))
        return res


def _plain_result(m: _Model, x: np.ndarray, elapsed: float) -> ScheduleResult:
    saved = x[m.lay.s0 : m.lay.p0].copy()
    x2 = x.copy()
    x2[m.lay.s0 : m.lay.p0] = 0.0
    res = _result(m, x2, 0, elapsed, [])
    res.stations["comfort_shortfall_k"] = saved
    res.cost = m.true_cost(x)
    return res
