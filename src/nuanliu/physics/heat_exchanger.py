"""Counter-flow heat exchangers between a primary and a secondary water circuit.

Given the heat Q the secondary needs, the primary inlet temperature T_pi and the
secondary supply/return temperatures T_ss/T_sr, the primary return T_pr follows from

* UA: Q = UA · LMTD(T_pi − T_ss, T_pr − T_sr), solved for T_pr by bisection
  (LMTD grows monotonically with T_pr), or by its Lambert-W closed form polished by
  Newton (:func:`primary_return_ua_newton_c`, the same root in a few steps); or
* effectiveness ε on the primary side (the primary has the smaller heat-capacity
  flow, usual for primary networks with a larger ΔT than the secondary):
  Q = ε ṁ_p c_p (T_pi − T_sr), hence T_pr = T_pi − ε (T_pi − T_sr).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def lmtd_k(dt1_k: FloatArray, dt2_k: FloatArray) -> FloatArray:
    """Logarithmic mean temperature difference; (ΔT1+ΔT2)/2 when they are close; 0 if ≤ 0."""
    d1 = np.maximum(np.asarray(dt1_k, dtype=np.float64), 1e-12)
    d2 = np.maximum(np.asarray(dt2_k, dtype=np.float64), 1e-12)
    ratio = d1 / d2
    close = np.abs(ratio - 1.0) < 1e-6
    safe = np.where(close, 2.0, ratio)
    return np.where(close, 0.5 * (d1 + d2), (d1 - d2) / np.log(safe))


def max_heat_ua_w(
    primary_in_c: FloatArray,
    sec_supply_c: FloatArray,
    sec_return_c: FloatArray,
    ua_w_per_k: FloatArray,
) -> FloatArray:
    """Largest heat a counter-flow exchanger can pass (primary flow → ∞: T_pr → T_pi)."""
    ok = primary_in_c > sec_supply_c
    q = ua_w_per_k * lmtd_k(primary_in_c - sec_supply_c, primary_in_c - sec_return_c)
    return np.where(ok, q, 0.0)


def primary_return_ua_c(
    heat_w: FloatArray,
    primary_in_c: FloatArray,
    sec_supply_c: FloatArray,
    sec_return_c: FloatArray,
    ua_w_per_k: FloatArray,
    iterations: int = 60,
) -> FloatArray:
    """Primary return temperature for a counter-flow exchanger with conductance UA.

    Where Q exceeds what the exchanger can pass, the result is T_pi (the limit of an
    infinite primary flow); callers cap the heat with :func:`max_heat_ua_w` first.
    """
    target = np.asarray(heat_w, dtype=np.float64) / ua_w_per_k
    dt1 = primary_in_c - sec_supply_c
    lo = np.zeros_like(target)  # ΔT2 = T_pr − T_sr
    hi = np.maximum(primary_in_c - sec_return_c, 0.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        too_much = lmtd_k(dt1, mid) > target
        hi = np.where(too_much, mid, hi)
        lo = np.where(too_much, lo, mid)
    return sec_return_c + 0.5 * (lo + hi)


def primary_return_effectiveness_c(
    primary_in_c: FloatArray, sec_return_c: FloatArray, effectiveness: FloatArray
) -> FloatArray:
    """T_pr = T_pi − ε (T_pi − T_sr) (ε on the primary side)."""
    return primary_in_c - effectiveness * (primary_in_c - sec_return_c)


def _lmtd_and_slope_k(dt1_k: FloatArray, dt2_k: FloatArray) -> tuple[FloatArray, FloatArray]:
    """:func:`lmtd_k` and its derivative with respect to ΔT2 (zero where ΔT2 is clamped)."""
    d1 = np.maximum(dt1_k, 1e-12)
    d2 = np.maximum(dt2_k, 1e-12)
    ratio = d1 / d2
    close = np.abs(ratio - 1.0) < 1e-6
    log_r = np.log(np.where(close, 2.0, ratio))
    lm = np.where(close, 0.5 * (d1 + d2), (d1 - d2) / log_r)
    # d/dΔT2 of (ΔT1 − ΔT2)/ln(ΔT1/ΔT2) = (LMTD/ΔT2 − 1)/ln(ΔT1/ΔT2)
    slope = np.where(close, 0.5, (lm / d2 - 1.0) / log_r)
    return lm, np.where(dt2_k > 1e-12, slope, 0.0)


def primary_return_ua_newton_c(
    heat_w: FloatArray,
    primary_in_c: FloatArray,
    sec_supply_c: FloatArray,
    sec_return_c: FloatArray,
    ua_w_per_k: FloatArray,
    iterations: int = 1,
) -> FloatArray:
    """:func:`primary_return_ua_c` to round-off in a few vectorised steps.

    The closed form of Q = UA · LMTD(ΔT1, ΔT2) in ΔT2 is a Lambert-W expression: with
    a = ΔT1·UA/Q and u = ΔT2·UA/Q, u e^{−u} = a e^{−a}, so u = −W(−a e^{−a}) on the
    branch other than u = a. It is ill-conditioned near a = 1 (ΔT1 ≈ ΔT2; ~1e-8
    relative), so Newton polishes it (one step reaches the LMTD's own round-off);
    LMTD is concave and increasing in ΔT2, so Newton approaches the root monotonically
    and is kept in the bracket [0, T_pi − T_sr] as the bisection is (a heat beyond the
    exchanger's largest gives T_pi).
    """
    from scipy.special import lambertw

    q = np.asarray(heat_w, dtype=np.float64)
    target = q / ua_w_per_k
    dt1 = np.asarray(primary_in_c - sec_supply_c, dtype=np.float64)
    hi = np.maximum(primary_in_c - sec_return_c, 0.0)
    ok = (target > 0) & (dt1 > 0) & (hi > 0)
    safe_t = np.where(ok, target, 1.0)
    a = np.where(ok, dt1 / safe_t, 2.0)
    z = np.maximum(-a * np.exp(-a), -np.exp(-1.0))
    branch = np.where(a > 1.0, 0, -1)
    u = -np.real(lambertw(z, branch))
    # at the branch point (a = 1 to round-off) lambertw gives NaN: there u = a = 1
    u = np.where(np.isnan(u) & (np.abs(a - 1.0) < 1e-6), 1.0, u)
    x = np.where(np.isnan(u), 0.5 * hi, u * safe_t)
    x = np.clip(x, 0.0, hi)
    for _ in range(iterations):
        lm, slope = _lmtd_and_slope_k(dt1, x)
        step = (target - lm) / np.where(slope > 0, slope, 1.0)
        x_new = np.where(slope > 0, x + step, x)
        x = np.clip(np.where(np.isfinite(x_new), x_new, x), 0.0, hi)
    return sec_return_c + np.where(ok, x, 0.0)
