"""Resolved single-pipe model for bench tests: plug flow on a fine grid, and across the
pipe water, film, steel and insulation as a radial RC chain in every cell.

This is the physics reference the network model (:mod:`nuanliu.sim.pipe_transport`,
wall lumped at the outlet) is judged against on measured pipe tests: the steel wall
exchanges heat with the water through the film coefficient of Gnielinski's correlation
(properties at each cell's water temperature: a cold front meets a lower coefficient)
plus the conduction resistance of the inner half of the steel, and loses it through the
insulation (split into layers that store heat) and the outer surface coefficient. At
steady state the loss equals the network model's ``U``. The water moves one cell per
sub-step (Courant number 1, no numerical diffusion); the exchange over a sub-step is
exact (matrix exponential). Slow: one pipe at a time, for validation only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.linalg import expm

from nuanliu.errors import InvalidInput
from nuanliu.physics.film import film_coefficient_w_m2_k
from nuanliu.physics.water import WATER, WaterProperties
from nuanliu.sim.pipe_test import PipeSegment, start_profile_c

#: flows below this (kg/s) count as standing water (exchange only, no transport)
STILL_KG_S = 1e-6
#: the film coefficient is evaluated at each cell's water temperature rounded to this
FILM_BIN_K = 1.0


def _conductance_matrix(seg: PipeSegment, h_w_m2_k: float, layers: int) -> np.ndarray:
    """Per-metre conductances (W/(m·K)) between nodes [water, steel, insulation 1..n];
    the last row also holds the loss to the surroundings (on the diagonal)."""
    r_i = 0.5 * seg.inner_diameter_m
    r_s = r_i + seg.wall_thickness_m
    r_mid_steel = r_i + 0.5 * seg.wall_thickness_m
    k_s, k_ins = seg.wall_conductivity_w_m_k, seg.insulation_conductivity_w_m_k
    two_pi = 2 * np.pi
    radii = np.linspace(r_s, r_s + seg.insulation_thickness_m, layers + 1)
    mids = 0.5 * (radii[1:] + radii[:-1])
    res = [1 / (h_w_m2_k * two_pi * r_i) + np.log(r_mid_steel / r_i) / (two_pi * k_s)]
    res.append(
        np.log(r_s / r_mid_steel) / (two_pi * k_s) + np.log(mids[0] / r_s) / (two_pi * k_ins)
    )
    res += [np.log(mids[j + 1] / mids[j]) / (two_pi * k_ins) for j in range(layers - 1)]
    r_out = np.log(radii[-1] / mids[-1]) / (two_pi * k_ins)
    if seg.outer_surface_w_m2_k > 0:
        r_out += 1 / (seg.outer_surface_w_m2_k * two_pi * radii[-1])
    n = layers + 2
    g = np.zeros((n, n))
    for j, r in enumerate(res):
        g[j, j] -= 1 / r
        g[j + 1, j + 1] -= 1 / r
        g[j, j + 1] += 1 / r
        g[j + 1, j] += 1 / r
    g[-1, -1] -= 1 / r_out
    return g


def _capacities(seg: PipeSegment, water_j_m_k: float, layers: int) -> np.ndarray:
    r_s = 0.5 * seg.inner_diameter_m + seg.wall_thickness_m
    radii = np.linspace(r_s, r_s + seg.insulation_thickness_m, layers + 1)
    ins = seg.insulation_density_kg_m3 * seg.insulation_cp_j_kg_k * np.pi * np.diff(radii**2)
    return np.concatenate([[water_j_m_k, seg.wall_capacity_j_m_k], ins])


def outlet_resolved(
    time_s: np.ndarray,
    mdot_kg_s: np.ndarray,
    inlet_c: np.ndarray,
    seg: PipeSegment,
    *,
    ambient_c: float,
    start_outlet_c: float,
    start_inlet_c: float | None = None,
    cells: int = 100,
    layers: int = 3,
    water: WaterProperties = WATER,
) -> tuple[np.ndarray, np.ndarray]:
    """Outlet temperature of one pipe driven by a measured series (inlet linear between
    samples, flow ≥ 0). Starts from a linear water profile between
    ``start_inlet_c`` (default: the first inlet sample) and ``start_outlet_c``, wall and
    insulation at the water's temperature.
    Returns (time of each sub-step's middle, mean outlet temperature over the sub-step)."""
    if np.any(mdot_kg_s < 0):
        raise InvalidInput("resolved pipe model: reverse flow is not supported")
    t_ref = float(np.mean(inlet_c))
    rho, cp = float(water.density(t_ref)[0]), float(water.cp(t_ref)[0])
    area = 0.25 * np.pi * seg.inner_diameter_m**2
    caps = _capacities(seg, rho * area * cp, layers)
    cell_kg = rho * area * seg.length_m / cells
    x = (np.arange(cells) + 0.5) / cells  # 0 at the inlet
    first = float(inlet_c[0]) if start_inlet_c is None else float(start_inlet_c)
    prof = first + (start_outlet_c - first) * x
    state = np.tile(prof - ambient_c, (layers + 2, 1))  # excess over ambient, [node, cell]
    cache: dict[tuple[float, float, float], np.ndarray] = {}

    def propagator(dt: float, mdot: float, temp_c: float) -> np.ndarray:
        key = (round(dt, 9), round(mdot, 9), temp_c)
        if key not in cache:
            d_i = seg.inner_diameter_m
            h = float(film_coefficient_w_m2_k(max(mdot, STILL_KG_S), d_i, temp_c, water)[0])
            cache[key] = expm(_conductance_matrix(seg, h, layers) / caps[:, None] * dt)
        return cache[key]

    def exchange(state: np.ndarray, dt: float, mdot: float) -> np.ndarray:
        # the film coefficient follows each cell's water temperature (viscosity), in
        # bins of FILM_BIN_K so that the few distinct propagators can be cached
        bins = np.round((state[0] + ambient_c) / FILM_BIN_K) * FILM_BIN_K
        new = np.empty_like(state)
        for b in np.unique(bins):
            k = bins == b
            new[:, k] = propagator(dt, mdot, float(b)) @ state[:, k]
        return new

    t, t_end = float(time_s[0]), float(time_s[-1])
    mids, outs = [], []
    while t < t_end:
        mdot = float(np.interp(t, time_s, mdot_kg_s))
        if mdot <= STILL_KG_S:  # standing water: exchange until the next sample
            nxt = time_s[np.searchsorted(time_s, t, side="right")]
            state = exchange(state, nxt - t, 0.0)
            mids.append(0.5 * (t + nxt))
            outs.append(state[0, -1] + ambient_c)
            t = float(nxt)
            continue
        dt = cell_kg / mdot
        mids.append(t + 0.5 * dt)
        outs.append(state[0, -1] + ambient_c)  # the last cell leaves during this sub-step
        state[0] = np.roll(state[0], 1)
        state[0, 0] = np.interp(t + 0.5 * dt, time_s, inlet_c) - ambient_c
        state = exchange(state, dt, mdot)
        t += dt
    return np.asarray(mids), np.asarray(outs)


def replay_resolved(
    series: pd.DataFrame,
    segments: Sequence[PipeSegment],
    *,
    ambient_c: float = 20.0,
    cells: int = 100,
    water: WaterProperties = WATER,
) -> list[np.ndarray]:
    """Modelled temperature at the end of each segment of a chain, at the series' sample
    times (``series``: a frame with ``time_s``, ``mdot_kg_s``, ``inlet_c``,
    ``measured_0..``, optionally ``wall_0..``; each pipe starts linear between the
    measured temperatures at its ends, :func:`~nuanliu.sim.pipe_test.start_profile_c`)."""
    t = np.asarray(series["time_s"], dtype=float)
    mdot = np.asarray(series["mdot_kg_s"], dtype=float)
    # each pipe is driven by the previous one's sub-step outlet (not resampled to the
    # sample times, which would smooth a front at every joint)
    t_drive, m_drive = t, mdot
    temp = np.asarray(series["inlet_c"], dtype=float)
    ends = start_profile_c(series, len(segments))
    out = []
    for i, seg in enumerate(segments):
        start = float(ends[i + 1])
        mid, val = outlet_resolved(
            t_drive, m_drive, temp, seg, ambient_c=ambient_c, start_outlet_c=start,
            start_inlet_c=float(ends[i]), cells=cells, water=water,
        )  # fmt: skip
        at_samples = np.interp(t, mid, val)
        at_samples[0] = start
        out.append(at_samples)
        t_drive = np.concatenate([[t[0]], mid, [t[-1]]])
        temp = np.concatenate([[start], val, [val[-1]]])
        keep = np.concatenate([[True], np.diff(t_drive) > 0])
        t_drive, temp = t_drive[keep], temp[keep]
        m_drive = np.interp(t_drive, t, mdot)
    return out
