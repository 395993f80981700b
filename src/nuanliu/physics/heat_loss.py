"""Steady heat loss of a pipe to its surroundings.

With a heat-loss coefficient U per metre and K, an energy balance over a pipe slice
gives ṁ c_p dT/dx = −U (T − T_amb), hence the closed-form exponential
T_out = T_amb + (T_in − T_amb) · exp(−U L / (ṁ c_p)). Zero flow leaves the water at
the ambient temperature (it has stood long enough to cool down).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def decay_factor(
    u_w_per_m_k: FloatArray, length_m: FloatArray, mdot_kg_s: FloatArray, cp_j_kg_k: FloatArray
) -> FloatArray:
    """exp(−U L / (|ṁ| c_p)); 0 for zero flow (outlet = ambient)."""
    m = np.abs(mdot_kg_s)
    flowing = m > 0
    expo = np.where(flowing, u_w_per_m_k * length_m / (np.where(flowing, m, 1.0) * cp_j_kg_k), 0.0)
    return np.where(flowing, np.exp(-expo), 0.0)


def pipe_outlet_temp_c(
    inlet_temp_c: FloatArray,
    ambient_temp_c: FloatArray,
    u_w_per_m_k: FloatArray,
    length_m: FloatArray,
    mdot_kg_s: FloatArray,
    cp_j_kg_k: FloatArray,
) -> FloatArray:
    """Outlet temperature of a pipe with exponential heat loss (°C)."""
    f = decay_factor(u_w_per_m_k, length_m, mdot_kg_s, cp_j_kg_k)
    return ambient_temp_c + (inlet_temp_c - ambient_temp_c) * f
