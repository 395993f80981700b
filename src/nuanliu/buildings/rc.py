"""Vectorised 2R2C room model with radiators, stepped exactly (matrix exponential).

Two nodes per unit — room air (plus furniture) ``T_a`` and building mass ``T_m``::

    C_a dT_a/dt = H_ao (T_o − T_a) + H_am (T_m − T_a) + Q_rad + Φ_a
    C_m dT_m/dt = H_mo (T_o − T_m) + H_am (T_a − T_m) + Φ_m

Radiator output follows the EN 442 characteristic ``Q = K · ΔT_mean^1.3`` with
``ΔT_mean = (T_s + T_r)/2 − T_a`` and ``T_r = T_s − Q/(ṁ c_p)``. Within a step it is
linearised as ``Q = G (T_s − T_a)`` with ``G`` from the previous step's ``ΔT_mean``
(a slow quantity), which keeps the system linear with constant coefficients over the
step, so it is advanced with its exact solution ``x₊ = x_eq + e^{AΔt} (x − x_eq)``:
unconditionally stable for any step (10-minute steps included), and at rest it meets
the non-linear heat balance exactly.

Everything is numpy over thousands to millions of units at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nuanliu.buildings.params import RADIATOR_EXPONENT, RoomParams

SOLAR_TO_AIR = 0.3  # share of transmitted sun heating the air directly (rest: mass)
GAINS_TO_AIR = 0.6  # share of internal gains that are convective


def internal_gain_multiplier(local_hour: np.ndarray | float) -> np.ndarray:
    """Occupancy profile of internal gains (mean 1 over a day): low at night and
    mid-morning, peaks at breakfast and in the evening (cooking, TV, lights)."""
    h = np.asarray(local_hour, dtype=float) % 24.0
    morning = np.exp(-0.5 * ((h - 7.5) / 1.0) ** 2)
    evening = np.exp(-0.5 * ((h - 19.5) / 2.0) ** 2)
    raw = 0.55 + 0.7 * morning + 1.1 * evening
    return raw / _GAIN_PROFILE_MEAN


_GAIN_PROFILE_MEAN = 0.55 + (0.7 * 1.0 + 1.1 * 2.0) * np.sqrt(2.0 * np.pi) / 24.0


@dataclass
class RoomState:
    """Model state per unit."""

    t_air_c: np.ndarray
    t_mass_c: np.ndarray
    dt_mean_k: np.ndarray  # radiator mean-water-to-air difference of the last step

    def copy(self) -> RoomState:
        return RoomState(self.t_air_c.copy(), self.t_mass_c.copy(), self.dt_mean_k.copy())


def radiator_conductance_w_k(p: RoomParams, dt_mean_k: np.ndarray) -> np.ndarray:
    """G in Q = G (T_s − T_a), linearised at ``dt_mean_k``."""
    k_lin = p.rad_k_w_k13 * np.maximum(dt_mean_k, 0.5) ** (RADIATOR_EXPONENT - 1.0)
    # Water no warmer than the room: the radiator gives nothing (and never cools the room).
    k_lin = np.where(dt_mean_k > 0.0, k_lin, 0.0).astype(k_lin.dtype, copy=False)
    g = k_lin / (1.0 + k_lin / (2.0 * p.mcp_w_k))
    return np.minimum(g, p.mcp_w_k)  # never more than cooling the water to room temperature


def radiator_heat_w(p: RoomParams, supply_c: np.ndarray, t_air_c: np.ndarray) -> np.ndarray:
    """Exact radiator output at a given air temperature (solves the 1.3-power law)."""
    dt = np.maximum(supply_c - t_air_c, 0.0)
    dtm = 0.75 * dt + 0.1
    for _ in range(30):
        g = radiator_conductance_w_k(p, dtm)
        q = g * dt
        dtm = np.maximum(dt - q / (2.0 * p.mcp_w_k), 0.0)
    return radiator_conductance_w_k(p, dtm) * dt


def gains_w(
    p: RoomParams, ghi_w_m2: np.ndarray | float, gain_multiplier: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Heat gains to air and to mass, W."""
    solar = p.solar_aperture_m2 * ghi_w_m2
    internal = p.internal_gain_w_m2 * p.floor_area_m2 * gain_multiplier
    to_air = SOLAR_TO_AIR * solar + GAINS_TO_AIR * internal
    to_mass = (1.0 - SOLAR_TO_AIR) * solar + (1.0 - GAINS_TO_AIR) * internal
    return to_air, to_mass


def _equilibrium(
    p: RoomParams,
    g: np.ndarray,
    outdoor_c: np.ndarray | float,
    supply_c: np.ndarray | float,
    phi_air: np.ndarray,
    phi_mass: np.ndarray,
    extra_h_air_out: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    h_ao = p.h_air_out_w_k + extra_h_air_out
    k11 = h_ao + p.h_air_mass_w_k + g
    k22 = p.h_mass_out_w_k + p.h_air_mass_w_k
    f1 = h_ao * outdoor_c + g * supply_c + phi_air
    f2 = p.h_mass_out_w_k * outdoor_c + phi_mass
    det = k11 * k22 - p.h_air_mass_w_k**2
    ta = (k22 * f1 + p.h_air_mass_w_k * f2) / det
    tm = (p.h_air_mass_w_k * f1 + k11 * f2) / det
    return ta, tm, k11, k22, f1, f2


def steady_state(
    p: RoomParams,
    outdoor_c: np.ndarray | float,
    supply_c: np.ndarray | float,
    ghi_w_m2: np.ndarray | float = 0.0,
    gain_multiplier: np.ndarray | float = 1.0,
    extra_h_air_out: np.ndarray | float = 0.0,
    iterations: int = 20,
) -> RoomState:
    """The state at rest under constant conditions (fixed point of the radiator law)."""
    phi_a, phi_m = gains_w(p, ghi_w_m2, gain_multiplier)
    n = len(p)
    dtm = np.full(n, 25.0, dtype=p.c_air_j_k.dtype)  # float32 params stay float32
    ta = tm = np.zeros(n, dtype=dtm.dtype)
    for _ in range(iterations):
        g = radiator_conductance_w_k(p, dtm)
        ta, tm, *_ = _equilibrium(p, g, outdoor_c, supply_c, phi_a, phi_m, extra_h_air_out)
        dt = np.maximum(supply_c - ta, 0.0)
        dtm = np.maximum(dt - g * dt / (2.0 * p.mcp_w_k), 0.0)
    return RoomState(np.asarray(ta, float), np.asarray(tm, float), dtm)


@dataclass
class StepMatrix:
    """Coefficients of one exact step for a fixed radiator conductance ``g``.

    Reusable over consecutive steps while ``g`` is held (the simulator re-linearises
    hourly): then a step costs a handful of array operations.
    """

    g: np.ndarray
    k11: np.ndarray
    k22: np.ndarray
    det: np.ndarray
    m11: np.ndarray  # expm(AΔt) entries
    m12: np.ndarray
    m21: np.ndarray
    m22: np.ndarray
    h_ao: np.ndarray


def step_matrix(
    p: RoomParams, g: np.ndarray, dt_s: float, extra_h_air_out: np.ndarray | float = 0.0
) -> StepMatrix:
    """Build the step coefficients for conductance ``g`` and step ``dt_s``."""
    h_ao = p.h_air_out_w_k + extra_h_air_out
    k11 = h_ao + p.h_air_mass_w_k + g
    k22 = p.h_mass_out_w_k + p.h_air_mass_w_k
    det = k11 * k22 - p.h_air_mass_w_k**2
    # A = −C⁻¹K; eigenvalues are real and negative (K symmetric positive definite).
    a11 = -k11 / p.c_air_j_k
    a22 = -k22 / p.c_mass_j_k
    a12 = p.h_air_mass_w_k / p.c_air_j_k
    a21 = p.h_air_mass_w_k / p.c_mass_j_k
    half_tr = 0.5 * (a11 + a22)
    disc = np.sqrt(0.25 * (a11 - a22) ** 2 + a12 * a21)
    e1 = np.exp((half_tr + disc) * dt_s)
    e2 = np.exp((half_tr - disc) * dt_s)
    # expm(AΔt) = α A + β I with α = (e1 − e2)/(λ1 − λ2), β = (λ1 e2 − λ2 e1)/(λ1 − λ2)
    alpha = (e1 - e2) / (2.0 * disc)
    beta = ((half_tr + disc) * e2 - (half_tr - disc) * e1) / (2.0 * disc)
    return StepMatrix(
        g=g,
        k11=k11,
        k22=k22,
        det=det,
        m11=alpha * a11 + beta,
        m12=alpha * a12,
        m21=alpha * a21,
        m22=alpha * a22 + beta,
        h_ao=np.broadcast_to(h_ao, k11.shape),
    )


def advance(
    p: RoomParams,
    m: StepMatrix,
    s: RoomState,
    outdoor_c: np.ndarray | float,
    supply_c: np.ndarray | float,
    phi_air_w: np.ndarray,
    phi_mass_w: np.ndarray,
) -> RoomState:
    """One exact step with precomputed coefficients; returns the new state."""
    f1 = m.h_ao * outdoor_c + m.g * supply_c + phi_air_w
    f2 = p.h_mass_out_w_k * outdoor_c + phi_mass_w
    ta_eq = (m.k22 * f1 + p.h_air_mass_w_k * f2) / m.det
    tm_eq = (p.h_air_mass_w_k * f1 + m.k11 * f2) / m.det
    da = s.t_air_c - ta_eq
    dm = s.t_mass_c - tm_eq
    ta = ta_eq + m.m11 * da + m.m12 * dm
    tm = tm_eq + m.m21 * da + m.m22 * dm
    dt = np.maximum(supply_c - ta, 0.0)
    dtm = np.maximum(dt - m.g * dt / (2.0 * p.mcp_w_k), 0.0)
    return RoomState(ta, tm, dtm)


def step(
    p: RoomParams,
    s: RoomState,
    dt_s: float,
    outdoor_c: np.ndarray | float,
    supply_c: np.ndarray | float,
    ghi_w_m2: np.ndarray | float = 0.0,
    gain_multiplier: np.ndarray | float = 1.0,
    extra_h_air_out: np.ndarray | float = 0.0,
) -> RoomState:
    """Advance every unit by ``dt_s`` seconds with inputs held constant over the step.

    ``extra_h_air_out`` adds air-to-outdoor conductance (an open window).
    Returns a new state; ``s`` is not modified.
    """
    phi_a, phi_m = gains_w(p, ghi_w_m2, gain_multiplier)
    g = radiator_conductance_w_k(p, s.dt_mean_k)
    m = step_matrix(p, g, dt_s, extra_h_air_out)
    return advance(p, m, s, outdoor_c, supply_c, phi_a, phi_m)
