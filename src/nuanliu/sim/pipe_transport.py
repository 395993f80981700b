"""Lagrangian plug-flow transport of heat along pipes, with transport delay, heat loss
and the heat capacity of the pipe wall (vectorised over all pipes).

Each pipe holds a queue of *parcels*: the water that entered during one time step, with
its mass, its temperature excess over the surroundings at entry (θ = T_in − T_amb) and
the entry times of its two end elements. Elements keep their order (plug flow), so
the mass leaving a pipe during a step is the oldest mass in it: its temperature is the
inlet temperature it entered with, decayed by the heat lost on its way,
θ(age) = θ_entry · exp(−age / τ_loss), where age is the time spent in the pipe.

**Pipe wall.** Two ways to carry the steel wall's heat capacity, freely mixed per pipe:
(a) in local thermal equilibrium with the plug — the pipe's thermal mass in the mass
coordinate becomes ``L (ρ A + C_wall / c_p)``, so a temperature change travels slower
than the water (retardation) and arrives as a sharp front; (b) lumped in a mixing
volume at the outlet (``volume_j_k``; ``C dT_v/dt = ṁ c_p (T_plug − T_v)``, exact over
a step), as the IBPSA PlugFlowPipe of van der Heijde et al. (2017): the front
arrives at the water's transit time and rises with the wall's time constant. The
network model and the pipe-test replay use (b); docs/dynamic.md compares it on the ULg
measurements with the other choices and with a resolved film-and-wall model. The plug
carries the heat loss to the surroundings with ``τ_loss`` = (its heat capacity per
metre) / U, so at constant flow the outlet is exactly the steady law
``T_amb + (T_in − T_amb) e^{−U L / (ṁ c_p)}``. Without the wall
fronts arrive at the water's transit time as a sharp, too-hot step.

Energy: a parcel's heat content is ``m c_p T`` with one constant ``c_p`` (water plus
wall), so mixing, transport and losses conserve energy exactly; the heat lost by a
pipe in a step is the decay of its parcels.

The model works in two phases per step so that a network can solve its node
temperatures in between: :meth:`PlugFlowPipes.plan` gives each pipe's mean outlet
temperature over the step as an affine law ``α T_in + β`` of the (still unknown)
inlet temperature; :meth:`PlugFlowPipes.commit` then moves the parcels for the solved
inlet temperatures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nuanliu.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

STEEL_DENSITY_KG_M3 = 7850.0
STEEL_CP_J_KG_K = 480.0
#: parcels kept per pipe before the two newest are merged (slow or stagnant pipes)
MAX_PARCELS = 64
#: a parcel lighter than this share of its pipe's thermal mass has left the pipe
EMPTY_SHARE = 1e-12


def wall_heat_capacity_j_per_m_k(
    inner_diameter_m: FloatArray | float,
    wall_thickness_m: FloatArray | float,
    density_kg_m3: FloatArray | float = STEEL_DENSITY_KG_M3,
    cp_j_kg_k: FloatArray | float = STEEL_CP_J_KG_K,
) -> FloatArray:
    """Heat capacity of a pipe wall per metre, J/(m·K)."""
    d_i = np.asarray(inner_diameter_m, dtype=np.float64)
    d_o = d_i + 2.0 * np.asarray(wall_thickness_m, dtype=np.float64)
    return np.asarray(density_kg_m3) * np.asarray(cp_j_kg_k) * 0.25 * np.pi * (d_o**2 - d_i**2)


def default_wall_thickness_m(inner_diameter_m: FloatArray) -> FloatArray:
    """Steel wall of pre-insulated pipes (EN 253 series): ~1 % of the diameter, ≥ 2.6 mm."""
    d = np.asarray(inner_diameter_m, dtype=np.float64)
    return np.clip(0.0095 * d + 0.0021, 0.0026, 0.02)


@dataclass
class StepPlan:
    """What :meth:`PlugFlowPipes.plan` computed for one step (consumed by commit)."""

    t_s: float
    dt_s: float
    mdot_kg_s: FloatArray
    moved_kg: FloatArray  # thermal mass through each pipe during the step
    popped_kg: FloatArray  # [P, K] mass leaving from each stored parcel (canonical order)
    through_kg: FloatArray  # mass of this step's inflow that also leaves in this step
    alpha: FloatArray  # mean outlet temperature = alpha · T_in + beta
    beta: FloatArray
    reverse: NDArray[np.bool_]
    plug_alpha: FloatArray  # mean temperature leaving the plug (into the outlet volume)
    plug_beta: FloatArray
    vol_w: FloatArray  # outlet volume: equilibrium = w · T_plug + (1 − w) · T_amb
    vol_decay: FloatArray  # e^{−a Δt}


class PlugFlowPipes:
    """Plug-flow transport with heat loss and wall capacity for ``P`` pipes at once.

    ``thermal_mass_kg``: water mass plus wall heat capacity / c_p per pipe;
    ``tau_loss_s``: (water + wall heat capacity per metre) / U (``inf`` without loss);
    ``ambient_c``: surroundings per pipe (constant over a run).
    Parcel arrays are ``[P, K]`` with index 0 at the pipe's ``to`` end.
    """

    def __init__(
        self,
        thermal_mass_kg: FloatArray,
        tau_loss_s: FloatArray,
        ambient_c: FloatArray,
        cp_j_kg_k: float,
        volume_j_k: FloatArray | None = None,
    ) -> None:
        self.mass_kg = np.asarray(thermal_mass_kg, dtype=np.float64)
        if np.any(~np.isfinite(self.mass_kg)) or np.any(self.mass_kg <= 0):
            bad = np.flatnonzero(~(self.mass_kg > 0))[:5].tolist()
            raise InvalidInput(f"pipe thermal mass must be positive (pipes {bad})")
        self.tau_s = np.asarray(tau_loss_s, dtype=np.float64)
        self.ambient_c = np.asarray(ambient_c, dtype=np.float64)
        self.cp = float(cp_j_kg_k)
        p = len(self.mass_kg)
        #: heat capacity of each pipe's outlet mixing volume (J/K; 0 = none)
        self.volume_j_k = (
            np.zeros(p) if volume_j_k is None else np.asarray(volume_j_k, dtype=np.float64)
        )
        self.volume_c = self.ambient_c.copy()  # its temperature
        self.count = np.zeros(p, dtype=np.int64)
        self.m = np.zeros((p, 1))
        self.theta = np.zeros((p, 1))
        self.ea = np.zeros((p, 1))  # entry time of the parcel's element at the `to` side
        self.eb = np.zeros((p, 1))  # ... and at the `from` side
        self._plan_cache: tuple | None = None

    @property
    def n_pipes(self) -> int:
        return len(self.mass_kg)

    # ------------------------------------------------------------------ state set-up
    def fill(
        self,
        inlet_temp_c: FloatArray,
        t_s: float,
        mdot_kg_s: FloatArray | None = None,
        outlet_temp_c: FloatArray | None = None,
        parcels: int = 1,
    ) -> None:
        """Fill every pipe.

        With ``mdot_kg_s``: the steady state of that flow (the water entered at
        ``inlet_temp_c`` over the last transit time), so constant inputs continue it
        exactly. With ``outlet_temp_c``: a linear profile from inlet to outlet in
        ``parcels`` parcels, all of age zero (a pipe at rest or a measured start).
        """
        p = self.n_pipes
        t_in = np.broadcast_to(np.asarray(inlet_temp_c, dtype=np.float64), (p,))
        if outlet_temp_c is not None:
            k = max(int(parcels), 1)
            t_out = np.broadcast_to(np.asarray(outlet_temp_c, dtype=np.float64), (p,))
            share = (np.arange(k) + 0.5) / k  # index 0 at the `to` end (outlet for ṁ ≥ 0)
            temps = t_out[:, None] + (t_in - t_out)[:, None] * share[None, :]
            self._alloc(k)
            self.m[:, :k] = (self.mass_kg / k)[:, None]
            self.theta[:, :k] = temps - self.ambient_c[:, None]
            self.ea[:, :k] = t_s
            self.eb[:, :k] = t_s
            self.count[:] = k
            self.volume_c = t_out.copy()
            return
        self._alloc(1)
        m = np.zeros(p) if mdot_kg_s is None else np.abs(np.asarray(mdot_kg_s, dtype=np.float64))
        res = np.where(m > 0, self.mass_kg / np.where(m > 0, m, 1.0), 0.0)
        rev = np.zeros(p, bool) if mdot_kg_s is None else np.asarray(mdot_kg_s) < 0
        self.m[:, 0] = self.mass_kg
        self.theta[:, 0] = t_in - self.ambient_c
        # oldest element at the outlet end: `to` for forward flow, `from` for reverse
        old, new = t_s - res, np.full(p, t_s)
        self.ea[:, 0] = np.where(rev, new, old)
        self.eb[:, 0] = np.where(rev, old, new)
        self.count[:] = 1
        decay = np.exp(-res / self.tau_s)  # res: the plug's transit time
        self.volume_c = self.ambient_c + (t_in - self.ambient_c) * decay

    def _alloc(self, k: int) -> None:
        p = self.n_pipes
        self.m = np.zeros((p, k))
        self.theta = np.zeros((p, k))
        self.ea = np.zeros((p, k))
        self.eb = np.zeros((p, k))

    # ------------------------------------------------------------------ queries
    def _excess_now(self, t_s: float) -> FloatArray:
        mid = 0.5 * (self.ea + self.eb)
        return self.theta * np.exp(-(t_s - mid) / self.tau_s[:, None])

    def heat_content_j(self, t_s: float) -> FloatArray:
        """Heat in each pipe (water and wall) relative to 0 °C, J."""
        ex = self._excess_now(t_s)
        plug = self.cp * (np.sum(self.m * ex, axis=1) + self.ambient_c * np.sum(self.m, axis=1))
        return plug + self.volume_j_k * self.volume_c

    def mean_temp_c(self, t_s: float) -> FloatArray:
        """Mass-mean temperature of each pipe's contents, °C."""
        mass = np.sum(self.m, axis=1)
        ex = np.sum(self.m * self._excess_now(t_s), axis=1)
        return self.ambient_c + ex / np.where(mass > 0, mass, 1.0)

    def transit_time_s(self, mdot_kg_s: FloatArray) -> FloatArray:
        """Time a temperature signal needs to cross each pipe at ``mdot_kg_s`` (inf at 0)."""
        m = np.abs(np.asarray(mdot_kg_s, dtype=np.float64))
        return np.where(m > 0, self.mass_kg / np.where(m > 0, m, 1.0), np.inf)

    # ------------------------------------------------------------------ stepping
    def _canonical(self, rev: NDArray[np.bool_]) -> tuple[FloatArray, ...]:
        """Parcel arrays with the outlet at index 0 (reverse-flow rows flipped)."""
        return _flipped(self.m, self.theta, self.ea, self.eb, rev, self.count)

    def _canonical_cum(self, rev: NDArray[np.bool_]) -> tuple[FloatArray, ...]:
        """:meth:`_canonical` and the cumulative masses, kept while the state arrays and
        the flow directions stay the same (a network plans a step several times)."""
        state = (self.m, self.theta, self.ea, self.eb, self.count)
        last = self._plan_cache
        if (
            last is not None
            and all(a is b for a, b in zip(last[0], state, strict=True))
            and np.array_equal(last[1], rev)
        ):
            return last[2]
        m, th, eo, ei = self._canonical(rev)
        cum = np.cumsum(m, axis=1)
        out = (m, th, eo, ei, cum, cum - m)
        self._plan_cache = (state, rev.copy(), out)
        return out

    def plan(self, mdot_kg_s: FloatArray, t_s: float, dt_s: float) -> StepPlan:
        """Outlet law of every pipe for a step of ``dt_s`` at constant flows (no change)."""
        mdot = np.asarray(mdot_kg_s, dtype=np.float64)
        rev = mdot < 0
        x = np.abs(mdot) * dt_s
        m, th, eo, ei, cum, prev = self._canonical_cum(rev)
        # Only the first parcels of a pipe leave in a step: the columns no pipe pops
        # from (popped = 0 there) need none of the exit arithmetic.
        k = m.shape[1]
        n_out = np.minimum(np.sum(prev < x[:, None], axis=1), self.count)
        j = int(n_out.max()) if len(n_out) else 0
        mj, prevj = m[:, :j], prev[:, :j]
        poppedj = np.clip(np.minimum(cum[:, :j], x[:, None]) - prevj, 0.0, mj)
        popped = poppedj if j == k else np.zeros_like(m)
        if j < k:
            popped[:, :j] = poppedj
        frac = np.where(mj > 0, poppedj / np.where(mj > 0, mj, 1.0), 0.0)
        xs = np.where(x > 0, x, 1.0)
        entry = eo[:, :j] + (ei[:, :j] - eo[:, :j]) * 0.5 * frac
        leave = t_s + dt_s * (prevj + 0.5 * poppedj) / xs[:, None]
        f = np.exp(-(leave - entry) / self.tau_s[:, None])
        hist = np.sum(poppedj * th[:, :j] * f, axis=1)
        stored = cum[:, -1]
        through = np.maximum(x - stored, 0.0)
        f_new = np.exp(-(dt_s * stored / xs) / self.tau_s)
        alpha = np.where(x > 0, through * f_new / xs, 0.0)
        beta = np.where(x > 0, self.ambient_c * (1.0 - alpha) + hist / xs, self.ambient_c)
        # Outlet mixing volume (the wall's lumped capacity): C dT_v/dt = ṁ c_p (T_plug − T_v),
        # exact over the step. The plug carries the whole heat loss (as in the IBPSA
        # PlugFlowPipe), so at constant flow the pipe gives the steady law exactly.
        vol = self.volume_j_k > 0
        c = np.where(vol, self.volume_j_k, 1.0)
        rate_flow = np.abs(mdot) * self.cp / c
        rate = rate_flow
        w = np.where(rate > 0, rate_flow / np.where(rate > 0, rate, 1.0), 0.0)
        adt = rate * dt_s
        decay = np.exp(-adt)
        g = np.where(adt > 1e-12, -np.expm1(-adt) / np.where(adt > 1e-12, adt, 1.0), 1.0)
        a_out = np.where(vol, (1.0 - g) * w * alpha, alpha)
        b_out = np.where(
            vol,
            (1.0 - g) * (w * beta + (1.0 - w) * self.ambient_c) + g * self.volume_c,
            beta,
        )
        return StepPlan(
            t_s, dt_s, mdot, x, popped, through, a_out, b_out, rev, alpha, beta, w, decay
        )

    def commit(self, plan: StepPlan, inlet_temp_c: FloatArray) -> FloatArray:
        """Move the parcels for the solved inlet temperatures; returns the mean outlet
        temperature of each pipe over the step (°C)."""
        t_in = np.asarray(inlet_temp_c, dtype=np.float64)
        t_out = plan.alpha * t_in + plan.beta
        vol = self.volume_j_k > 0
        if vol.any():
            t_plug = plan.plug_alpha * t_in + plan.plug_beta
            t_eq = plan.vol_w * t_plug + (1.0 - plan.vol_w) * self.ambient_c
            self.volume_c = np.where(
                vol, t_eq + (self.volume_c - t_eq) * plan.vol_decay, self.volume_c
            )
        flowing = plan.moved_kg > 0
        if not flowing.any():
            return t_out
        rev = plan.reverse
        m, th, eo, ei = self._canonical(rev)
        popped = plan.popped_kg
        rest = m - popped
        frac = np.where(m > 0, popped / np.where(m > 0, m, 1.0), 0.0)
        eo = eo + (ei - eo) * frac
        gone = rest <= EMPTY_SHARE * self.mass_kg[:, None]
        n_gone = np.sum(gone & (np.arange(m.shape[1])[None, :] < self.count[:, None]), axis=1)
        keep = self.count - n_gone
        # shift left by the parcels that left (they are a prefix)
        k = m.shape[1]
        j = np.arange(k)[None, :]
        idx = np.minimum(j + n_gone[:, None], k - 1)
        valid = j < keep[:, None]
        take = np.take_along_axis
        m2 = np.where(valid, take(rest, idx, 1), 0.0)
        th2 = np.where(valid, take(th, idx, 1), 0.0)
        eo2 = np.where(valid, take(eo, idx, 1), 0.0)
        ei2 = np.where(valid, take(ei, idx, 1), 0.0)
        # push this step's inflow that stays (flowing pipes only)
        stay = np.where(flowing, plan.moved_kg - plan.through_kg, 0.0)
        push = stay > EMPTY_SHARE * self.mass_kg
        new_count = keep + push
        need = int(new_count.max()) if len(new_count) else 0
        if need > k:
            pad = ((0, 0), (0, need - k))
            m2, th2, eo2, ei2 = (np.pad(a, pad) for a in (m2, th2, eo2, ei2))
        rows = np.flatnonzero(push)
        cols = keep[rows]
        t0, dt = plan.t_s, plan.dt_s
        xs = np.where(plan.moved_kg > 0, plan.moved_kg, 1.0)
        m2[rows, cols] = stay[rows]
        th2[rows, cols] = (t_in - self.ambient_c)[rows]
        eo2[rows, cols] = t0 + dt * (plan.through_kg / xs)[rows]
        ei2[rows, cols] = t0 + dt
        # stagnant pipes keep their parcels untouched
        still = ~flowing
        if still.any():
            k2 = m2.shape[1]
            mo, tho, eao, ebo = (self._pad(a, k2) for a in (self.m, self.theta, self.ea, self.eb))
            m2[still], th2[still], eo2[still], ei2[still] = (
                mo[still],
                tho[still],
                eao[still],
                ebo[still],
            )
            new_count = np.where(still, self.count, new_count)
            # stagnant rows are stored in `to`-first order already: no flip back
            rev = rev & flowing
        # back to storage orientation (index 0 at the `to` end)
        self.count = new_count
        self.m, self.theta, self.ea, self.eb = _flipped(m2, th2, eo2, ei2, rev, new_count)
        self._limit_parcels(t0 + dt)
        return t_out

    @staticmethod
    def _pad(a: FloatArray, k: int) -> FloatArray:
        return a if a.shape[1] >= k else np.pad(a, ((0, 0), (0, k - a.shape[1])))

    def _limit_parcels(self, t_s: float) -> None:
        """Merge the two parcels nearest the inlet of pipes holding too many (energy kept)."""
        over = np.flatnonzero(self.count > MAX_PARCELS)
        if not len(over):
            if self.m.shape[1] > int(self.count.max(initial=0)) + 8:
                k = int(self.count.max(initial=0)) + 1
                self.m, self.theta = self.m[:, :k], self.theta[:, :k]
                self.ea, self.eb = self.ea[:, :k], self.eb[:, :k]
            return
        # which end is the inlet depends on the flow direction: merge the two middle
        # parcels instead (neither end's resolution is lost)
        a = self.count[over] // 2 - 1
        b = a + 1
        tau = self.tau_s[over]
        mid_a = 0.5 * (self.ea[over, a] + self.eb[over, a])
        mid_b = 0.5 * (self.ea[over, b] + self.eb[over, b])
        ma, mb = self.m[over, a], self.m[over, b]
        ca = self.theta[over, a] * np.exp(-(t_s - mid_a) / tau)
        cb = self.theta[over, b] * np.exp(-(t_s - mid_b) / tau)
        ea, eb = self.ea[over, a], self.eb[over, b]
        mid = 0.5 * (ea + eb)
        self.m[over, a] = ma + mb
        self.theta[over, a] = (
            (ma * ca + mb * cb) / (ma + mb) * np.exp(np.minimum((t_s - mid) / tau, 700.0))
        )
        self.ea[over, a], self.eb[over, a] = ea, eb
        for arr in (self.m, self.theta, self.ea, self.eb):
            row = arr[over]
            j = np.arange(arr.shape[1])[None, :]
            src = np.where(j >= b[:, None], np.minimum(j + 1, arr.shape[1] - 1), j)
            arr[over] = np.take_along_axis(row, src, 1)
        self.count[over] -= 1
        last = self.count[over]
        for arr in (self.m, self.theta, self.ea, self.eb):
            arr[over, last] = 0.0


def _flipped(
    m: FloatArray,
    th: FloatArray,
    a: FloatArray,
    b: FloatArray,
    rev: NDArray[np.bool_],
    count: IntArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Reverse the parcel order of the rows ``rev`` (their filled prefix) and swap the
    two end times: storage order ↔ outlet-first order for reverse flow (an involution)."""
    if not rev.any():
        return m, th, a, b
    rows = np.flatnonzero(rev)
    j = np.arange(m.shape[1])[None, :]
    c = count[rows][:, None]
    idx = np.where(j < c, c - 1 - j, j)
    take = np.take_along_axis
    m2, th2, a2, b2 = m.copy(), th.copy(), a.copy(), b.copy()
    m2[rows] = take(m[rows], idx, 1)
    th2[rows] = take(th[rows], idx, 1)
    a2[rows] = take(b[rows], idx, 1)
    b2[rows] = take(a[rows], idx, 1)
    return m2, th2, a2, b2
