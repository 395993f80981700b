"""Counter-flow heat exchangers between a primary and a secondary water circuit.

Given the heat Q the secondary needs, the primary inlet temperature T_pi and the
secondary supply/return temperatures T_ss/T_sr, the primary return T_pr follows from

* UA: Q = UA · LMTD(T_pi − T_ss, T_pr − T_sr), solved for T_pr by bisection
  (LMTD grows monotonically with T_pr); or
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
