"""Pumps and valves: pressure rise and drop as functions of mass flow."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

GRAVITY_M_S2 = 9.80665
KV_REFERENCE_DENSITY_KG_M3 = 1000.0


def curve_density_kg_m3(
    density_kg_m3: FloatArray, fixed_density_kg_m3: FloatArray | None
) -> FloatArray:
    """The density a pump curve is evaluated at: its fixed curve density where one is set
    (``curve_density_kg_m3``, NaN = none), else the water's density at the pump."""
    if fixed_density_kg_m3 is None:
        return density_kg_m3
    return np.where(np.isnan(fixed_density_kg_m3), density_kg_m3, fixed_density_kg_m3)


def pump_curve_dp_pa(
    mdot_kg_s: FloatArray,
    density_kg_m3: FloatArray,
    a0_m: FloatArray,
    a1_s_per_m2: FloatArray,
    a2_s2_per_m5: FloatArray,
    speed_ratio: FloatArray,
    fixed_density_kg_m3: FloatArray | None = None,
) -> FloatArray:
    """Pressure rise of a pump on its head curve at a speed ratio n (affinity laws).

    H(Q) = a0 n² + a1 n Q + a2 Q² (Q in m³/s, H in m); Δp = ρ g H with Q = ṁ/ρ. ρ is the
    water's density at the pump, or the pump's fixed curve density where set: then the
    curve is a pressure-over-mass-flow law independent of temperature — pandapipes'
    convention, which evaluates its curves (bar over m³/h) at Q = ṁ/ρ(0 °C).
    Reverse flow through the pump uses the same polynomial (the curve's extrapolation),
    which keeps the function smooth for Newton; a real check valve would close instead.
    """
    rho = curve_density_kg_m3(density_kg_m3, fixed_density_kg_m3)
    q = mdot_kg_s / rho
    n = speed_ratio
    head_m = a0_m * n * n + a1_s_per_m2 * n * q + a2_s2_per_m5 * q * np.abs(q)
    return rho * GRAVITY_M_S2 * head_m


def pump_curve_ddp_dmdot(
    mdot_kg_s: FloatArray,
    density_kg_m3: FloatArray,
    a1_s_per_m2: FloatArray,
    a2_s2_per_m5: FloatArray,
    speed_ratio: FloatArray,
    fixed_density_kg_m3: FloatArray | None = None,
) -> FloatArray:
    """d(Δp)/d(ṁ) of :func:`pump_curve_dp_pa` (Pa per kg/s)."""
    q = mdot_kg_s / curve_density_kg_m3(density_kg_m3, fixed_density_kg_m3)
    return GRAVITY_M_S2 * (a1_s_per_m2 * speed_ratio + 2.0 * a2_s2_per_m5 * np.abs(q))


def hydraulic_power_w(
    mdot_kg_s: FloatArray, dp_pa: FloatArray, density_kg_m3: FloatArray
) -> FloatArray:
    """Hydraulic power Q·Δp (W)."""
    return mdot_kg_s / density_kg_m3 * dp_pa


def valve_dp_pa(
    mdot_kg_s: FloatArray, density_kg_m3: FloatArray, kv_m3_h: FloatArray, opening: FloatArray
) -> FloatArray:
    """Signed pressure drop of a valve: Δp = 1 bar · (Q / Kv_eff)² · ρ / 1000 kg/m³.

    Kv_eff = Kv · opening (linear characteristic); a closed valve (opening 0) is removed
    from the network by the solver instead of given an infinite resistance.
    """
    kv_eff_m3_s = kv_m3_h * opening / 3600.0
    q = mdot_kg_s / density_kg_m3
    ratio = q / kv_eff_m3_s
    return 1e5 * ratio * np.abs(ratio) * density_kg_m3 / KV_REFERENCE_DENSITY_KG_M3
