"""Convective film coefficient of water flowing in a round pipe (Gnielinski 1976)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nuanliu.errors import InvalidInput
from nuanliu.physics.water import WATER, WaterProperties

FloatArray = NDArray[np.float64]

#: fully developed laminar flow, constant wall temperature
NU_LAMINAR = 3.66
RE_LAMINAR = 2300.0
RE_TURBULENT = 1.0e4


def water_conductivity_w_m_k(temp_c: ArrayLike) -> FloatArray:
    """Thermal conductivity of liquid water, W/(m·K): a quadratic through the IAPWS 2011
    values at 1 bar (0.561 at 0 °C, 0.598 at 20 °C, 0.631 at 50 °C, 0.679 at 100 °C;
    within 1 % over 0–100 °C)."""
    t = np.asarray(temp_c, dtype=np.float64)
    return 0.5706 + 1.756e-3 * t - 6.46e-6 * t**2


def film_coefficient_w_m2_k(
    mdot_kg_s: ArrayLike,
    inner_diameter_m: float,
    temp_c: ArrayLike,
    water: WaterProperties = WATER,
) -> FloatArray:
    """Water-to-wall heat-transfer coefficient, W/(m²·K).

    Gnielinski's correlation with Petukhov's smooth-pipe friction factor for
    Re ≥ 10⁴, Nu = 3.66 for Re ≤ 2300 and a linear blend between (Gnielinski 1995).
    """
    if not inner_diameter_m > 0:
        raise InvalidInput(f"film coefficient: diameter must be > 0, got {inner_diameter_m!r}")
    m = np.atleast_1d(np.abs(np.asarray(mdot_kg_s, dtype=np.float64)))
    t = np.broadcast_to(np.asarray(temp_c, dtype=np.float64), m.shape)
    mu = water.viscosity(t).reshape(m.shape)
    cp = water.cp(t).reshape(m.shape)
    k = water_conductivity_w_m_k(t)
    re = 4.0 * m / (np.pi * inner_diameter_m * mu)
    pr = mu * cp / k

    def gnielinski(r: FloatArray) -> FloatArray:
        f = (0.79 * np.log(r) - 1.64) ** -2
        return (f / 8) * (r - 1000) * pr / (1 + 12.7 * np.sqrt(f / 8) * (pr ** (2 / 3) - 1))

    nu_turb = gnielinski(np.maximum(re, RE_TURBULENT))
    w = np.clip((re - RE_LAMINAR) / (RE_TURBULENT - RE_LAMINAR), 0.0, 1.0)
    nu = np.where(re >= RE_TURBULENT, nu_turb, (1 - w) * NU_LAMINAR + w * nu_turb)
    return nu * k / inner_diameter_m
