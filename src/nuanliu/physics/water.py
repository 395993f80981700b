"""Temperature-dependent properties of liquid water.

Properties come from tables (temperature → density, dynamic viscosity, isobaric heat
capacity) with linear interpolation and linear extrapolation outside the table, so a
different table (e.g. another engine's, for cross-validation) can be swapped in.
Enthalpy is the exact integral of the piecewise-linear heat capacity, so heat flows
computed as ``mdot · (h(T_in) − h(T_out))`` conserve energy exactly at mixing nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nuanliu.errors import InvalidInput

FloatArray = NDArray[np.float64]

# Saturated liquid water, IAPWS-95 (rounded; pressure effects below 25 bar are < 0.1 %).
# Columns: temperature °C, density kg/m³, dynamic viscosity Pa·s, heat capacity J/(kg·K).
_DEFAULT_TABLE = np.array(
    [
        [0.0, 999.84, 1.7914e-3, 4219.9],
        [10.0, 999.70, 1.3060e-3, 4195.5],
        [20.0, 998.21, 1.0016e-3, 4184.1],
        [30.0, 995.65, 0.7972e-3, 4180.1],
        [40.0, 992.22, 0.6527e-3, 4179.6],
        [50.0, 988.03, 0.5465e-3, 4181.3],
        [60.0, 983.20, 0.4660e-3, 4185.0],
        [70.0, 977.76, 0.4035e-3, 4190.0],
        [80.0, 971.79, 0.3540e-3, 4196.5],
        [90.0, 965.31, 0.3145e-3, 4205.0],
        [100.0, 958.35, 0.2818e-3, 4215.6],
        [110.0, 950.95, 0.2547e-3, 4228.5],
        [120.0, 943.11, 0.2321e-3, 4244.0],
        [130.0, 934.84, 0.2129e-3, 4262.0],
        [140.0, 926.13, 0.1966e-3, 4283.0],
        [150.0, 917.01, 0.1825e-3, 4307.0],
    ]
)


def _interp(x: FloatArray, xp: FloatArray, fp: FloatArray) -> FloatArray:
    """Linear interpolation with linear extrapolation beyond both ends."""
    y = np.interp(x, xp, fp)
    lo = x < xp[0]
    hi = x > xp[-1]
    if lo.any():
        y[lo] = fp[0] + (x[lo] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    if hi.any():
        y[hi] = fp[-1] + (x[hi] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return y


@dataclass(frozen=True)
class _Table:
    temp_c: FloatArray
    values: FloatArray

    def __call__(self, temp_c: ArrayLike) -> FloatArray:
        t = np.atleast_1d(np.asarray(temp_c, dtype=np.float64))
        return _interp(t, self.temp_c, self.values)


@dataclass(frozen=True)
class WaterProperties:
    """Water property tables; call :meth:`density`, :meth:`viscosity`, :meth:`cp`, :meth:`h`.

    Each property may have its own temperature grid (°C). Values are linear in T between
    and beyond the grid points.
    """

    density_table: tuple[ArrayLike, ArrayLike]
    viscosity_table: tuple[ArrayLike, ArrayLike]
    cp_table: tuple[ArrayLike, ArrayLike]
    name: str = "water"
    #: "enthalpy": Δh = ∫c_p dT (exact, conserves energy at mixing); "trapezoid":
    #: Δh = (c_p(T1) + c_p(T2))/2 · ΔT, the convention of pandapipes (cross-validation)
    cp_rule: str = "enthalpy"
    _rho: _Table = field(init=False, repr=False)
    _mu: _Table = field(init=False, repr=False)
    _cp: _Table = field(init=False, repr=False)
    _h_nodes: FloatArray = field(init=False, repr=False)
    _cp_uniform: bool = field(init=False, repr=False, default=False)

    def __post_init__(self) -> None:
        tables = {}
        for label, (t, v) in (
            ("density", self.density_table),
            ("viscosity", self.viscosity_table),
            ("cp", self.cp_table),
        ):
            t_arr = np.asarray(t, dtype=np.float64)
            v_arr = np.asarray(v, dtype=np.float64)
            if t_arr.ndim != 1 or t_arr.shape != v_arr.shape or len(t_arr) < 2:
                raise InvalidInput(f"water {label} table: need two equal 1-D arrays of ≥ 2 points")
            if np.any(np.diff(t_arr) <= 0) or np.any(v_arr <= 0):
                raise InvalidInput(
                    f"water {label} table: temperatures must increase and values be positive"
                )
            tables[label] = _Table(t_arr, v_arr)
        if self.cp_rule not in ("enthalpy", "trapezoid"):
            raise InvalidInput(f"cp_rule must be 'enthalpy' or 'trapezoid', got {self.cp_rule!r}")
        object.__setattr__(self, "_rho", tables["density"])
        object.__setattr__(self, "_mu", tables["viscosity"])
        object.__setattr__(self, "_cp", tables["cp"])
        # Enthalpy at the cp grid points (trapezoid = exact for piecewise-linear cp).
        tc, cpv = self._cp.temp_c, self._cp.values
        h_nodes = np.concatenate([[0.0], np.cumsum(0.5 * (cpv[1:] + cpv[:-1]) * np.diff(tc))])
        object.__setattr__(self, "_h_nodes", h_nodes)
        object.__setattr__(self, "_cp_uniform", bool(np.allclose(np.diff(tc), tc[1] - tc[0])))

    def density(self, temp_c: ArrayLike) -> FloatArray:
        """Density in kg/m³."""
        return self._rho(temp_c)

    def viscosity(self, temp_c: ArrayLike) -> FloatArray:
        """Dynamic viscosity in Pa·s."""
        return self._mu(temp_c)

    def cp(self, temp_c: ArrayLike) -> FloatArray:
        """Isobaric heat capacity in J/(kg·K)."""
        return self._cp(temp_c)

    def h(self, temp_c: ArrayLike) -> FloatArray:
        """Specific enthalpy in J/kg relative to the first cp grid point (exact ∫cp dT)."""
        t = np.atleast_1d(np.asarray(temp_c, dtype=np.float64))
        tc, cpv, hn = self._cp.temp_c, self._cp.values, self._h_nodes
        # Segment index, clamped so the end segments extend linearly in cp (arithmetic
        # on a uniform grid: much cheaper than a search, and h is called a lot).
        step = tc[1] - tc[0]
        if self._cp_uniform:
            i = np.clip(np.floor((t - tc[0]) / step).astype(np.int64), 0, len(tc) - 2)
        else:
            i = np.clip(np.searchsorted(tc, t, side="right") - 1, 0, len(tc) - 2)
        t0 = tc[i]
        cp0 = cpv[i]
        slope = (cpv[i + 1] - cpv[i]) / (tc[i + 1] - tc[i])
        dt = t - t0
        return hn[i] + cp0 * dt + 0.5 * slope * dt * dt

    def mean_cp(self, t1_c: ArrayLike, t2_c: ArrayLike) -> FloatArray:
        """Secant heat capacity (h(t1) − h(t2)) / (t1 − t2); cp at the mean where t1 ≈ t2."""
        t1 = np.atleast_1d(np.asarray(t1_c, dtype=np.float64))
        t2 = np.atleast_1d(np.asarray(t2_c, dtype=np.float64))
        if self.cp_rule == "trapezoid":
            return 0.5 * (self.cp(t1) + self.cp(t2))
        # c_p is linear within a table segment, so there the secant is c_p at the
        # midpoint (exact); only pairs in different segments need the enthalpies.
        out = self.cp(0.5 * (t1 + t2))
        tc = self._cp.temp_c
        seg1 = np.clip(np.searchsorted(tc, t1, side="right"), 1, len(tc) - 1)
        seg2 = np.clip(np.searchsorted(tc, t2, side="right"), 1, len(tc) - 1)
        cross = (seg1 != seg2) & (np.abs(t1 - t2) >= 1e-6)
        if cross.any():
            a, b = t1[cross], t2[cross]
            out[cross] = (self.h(a) - self.h(b)) / (a - b)
        return out

    def dh(self, t1_c: ArrayLike, t2_c: ArrayLike) -> FloatArray:
        """Specific enthalpy difference h(t1) − h(t2) in J/kg (per ``cp_rule``)."""
        if self.cp_rule == "trapezoid":
            t1 = np.atleast_1d(np.asarray(t1_c, dtype=np.float64))
            t2 = np.atleast_1d(np.asarray(t2_c, dtype=np.float64))
            return self.mean_cp(t1, t2) * (t1 - t2)
        return self.h(t1_c) - self.h(t2_c)

    @classmethod
    def from_table(cls, table: ArrayLike, name: str = "water") -> WaterProperties:
        """From one array with columns T °C, density, viscosity, cp."""
        a = np.asarray(table, dtype=np.float64)
        return cls((a[:, 0], a[:, 1]), (a[:, 0], a[:, 2]), (a[:, 0], a[:, 3]), name=name)


#: Default water (saturated liquid, 0–150 °C, linear beyond).
WATER = WaterProperties.from_table(_DEFAULT_TABLE, name="water (IAPWS-95, saturated liquid)")


# IAPWS-IF97 region 4 (saturation line), coefficients n1…n10 of the saturation equation.
_IF97_N = (
    0.11670521452767e4,
    -0.72421316703206e6,
    -0.17073846940092e2,
    0.12020824702470e5,
    -0.32325550322333e7,
    0.14915108613530e2,
    -0.48232657361591e4,
    0.40511340542057e6,
    -0.23855557567849,
    0.65017534844798e3,
)
#: Standard atmosphere (Pa): gauge + this = absolute pressure.
ATMOSPHERE_PA = 101_325.0


def saturation_pressure_pa(temp_c: ArrayLike) -> FloatArray:
    """Vapour (saturation) pressure of water in Pa, absolute: IAPWS-IF97 eq. 30.

    Valid from 0 °C to the critical point (373.946 °C); colder water is evaluated at
    0 °C (611 Pa, negligible for any network pressure) and hotter at the critical point.
    """
    n1, n2, n3, n4, n5, n6, n7, n8, n9, n10 = _IF97_N
    t_k = np.clip(np.atleast_1d(np.asarray(temp_c, dtype=np.float64)), 0.0, 373.946) + 273.15
    theta = t_k + n9 / (t_k - n10)
    a = theta * theta + n1 * theta + n2
    b = n3 * theta * theta + n4 * theta + n5
    c = n6 * theta * theta + n7 * theta + n8
    p_mpa = (2.0 * c / (-b + np.sqrt(b * b - 4.0 * a * c))) ** 4
    return p_mpa * 1e6
