"""Epoch numbers to microseconds, exactly, with the unit decided by a documented rule.

Unit rule (``unit="auto"``, the default): an epoch number is read in the one unit that
puts it between 2000-01-01 and 2100-01-01 UTC. The four bands are a factor 1000 apart
and each spans a factor 4.3, so they never overlap:

==== ============================== ============================
unit band (inclusive … exclusive)   e.g. 2026-11-22T02:00Z
==== ============================== ============================
s    946,684,800 … 4,102,444,800    1763776800
ms   9.466848e11 … 4.1024448e12     1763776800000
us   9.466848e14 … 4.1024448e15     1763776800000000
ns   9.466848e17 … 4.1024448e18     1763776800000000000
==== ============================== ============================

A number in no band is refused with its value in the reason. An explicit unit
(``--ts-unit``, ``Limits.ts_unit``) reads every number in that unit; what it gives is
then checked like any instant (not before ``Limits.earliest``, not in the future).

No wraparound: integers are converted with integer arithmetic on values already known to
be in range (int64 never overflows), Python integers of any size are compared exactly,
and a float is only ever scaled, never truncated to an integer that does not fit.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np

UNITS = ("auto", "s", "ms", "us", "ns")
# microseconds = value * MUL // DIV
_SCALE = {"s": (1_000_000, 1), "ms": (1000, 1), "us": (1, 1), "ns": (1, 1000)}
_LO_S = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp())  # 946684800
_HI_S = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())  # 4102444800
BANDS = {
    "s": (_LO_S, _HI_S),
    "ms": (_LO_S * 10**3, _HI_S * 10**3),
    "us": (_LO_S * 10**6, _HI_S * 10**6),
    "ns": (_LO_S * 10**9, _HI_S * 10**9),
}
# The instants a reading may carry at all: what datetime can show (years 1…9999).
MIN_US = -62135596800 * 10**6
MAX_US = 253402300799 * 10**6 + 999_999
Reasons = dict[int, str]


def check_unit(unit: str) -> str:
    u = unit.strip().lower().replace("µs", "us").replace("μs", "us")
    if u not in UNITS:
        raise ValueError(f"ts unit {unit!r} is not one of {', '.join(UNITS)}")
    return u


def _show(v: float | int) -> str:
    text = repr(v) if isinstance(v, float) else str(v)
    return text if len(text) <= 40 else text[:37] + "..."


def no_band(v: float | int) -> str:
    return (
        f"ts={_show(v)} is not an epoch time between 2000 and 2100 in s, ms, µs or ns "
        "(give the unit with --ts-unit to read it otherwise)"
    )


def out_of_range(v: float | int, unit: str) -> str:
    if unit == "auto":
        return no_band(v)
    return f"ts={_show(v)} is out of range as epoch {unit}"


def scalar_to_us(v: int | float, unit: str = "auto") -> int | str:
    """One epoch number (Python int of any size, or float) → µs, or the refusal reason."""
    if isinstance(v, float) and not math.isfinite(v):
        return f"ts={v} is not a finite epoch number"
    if unit == "auto":
        for u, (lo, hi) in BANDS.items():
            if lo <= v < hi:
                unit = u
                break
        else:
            return no_band(v)
    mul, div = _SCALE[unit]
    if isinstance(v, int):
        us = v * mul // div  # exact: Python integers do not overflow
    else:
        us_f = v * mul / div
        if not (MIN_US <= us_f <= MAX_US):
            return out_of_range(v, unit)
        us = round(us_f)
    if not (MIN_US <= us <= MAX_US):
        return out_of_range(v, unit)
    return int(us)


def ints_to_us(v: np.ndarray, valid: np.ndarray, unit: str = "auto") -> tuple[np.ndarray, Reasons]:
    """int64 epoch values → int64 µs; ``valid`` marks non-null entries. Refused rows → 0."""
    out = np.zeros(len(v), dtype=np.int64)
    done = ~valid
    units = BANDS if unit == "auto" else {unit: (MIN_US, MAX_US)}
    for u, (lo, hi) in units.items():
        mul, div = _SCALE[u]
        if unit != "auto":
            # Largest |value| whose product still fits: integer division, no overflow.
            lo, hi = -(2**63 - 1) // mul, (2**63 - 1) // mul + 1
        sel = valid & (v >= lo) & (v < hi)
        if sel.any():
            vals = v[sel]
            out[sel] = vals * mul if div == 1 else vals // div
        done |= sel
    reasons: Reasons = {}
    for i in np.flatnonzero(~done):
        x = int(v[i])
        reasons[int(i)] = no_band(x) if unit == "auto" else out_of_range(x, unit)
    bad = (out < MIN_US) | (out > MAX_US)
    for i in np.flatnonzero(bad & done & valid):
        reasons.setdefault(int(i), out_of_range(int(v[i]), unit))
    if reasons:
        out[list(reasons)] = 0
    return out, reasons


def floats_to_us(
    v: np.ndarray, valid: np.ndarray, unit: str = "auto"
) -> tuple[np.ndarray, Reasons]:
    """float64 epoch values → int64 µs (rounded to the nearest µs). Refused rows → 0."""
    reasons: Reasons = {}
    finite = np.isfinite(v)
    for i in np.flatnonzero(valid & ~finite):
        reasons[int(i)] = f"ts={v[i]} is not a finite epoch number"
    us_f = np.zeros(len(v), dtype=np.float64)
    done = ~valid | ~finite
    with np.errstate(all="ignore"):
        if unit == "auto":
            for u, (lo, hi) in BANDS.items():
                sel = valid & finite & (v >= lo) & (v < hi)
                mul, div = _SCALE[u]
                us_f[sel] = v[sel] * mul / div
                done |= sel
        else:
            mul, div = _SCALE[unit]
            sel = valid & finite
            us_f[sel] = v[sel] * mul / div
            done |= sel
    for i in np.flatnonzero(~done):
        reasons[int(i)] = no_band(float(v[i]))
    bad = valid & finite & ((us_f < MIN_US) | (us_f > MAX_US))
    for i in np.flatnonzero(bad):
        reasons.setdefault(int(i), out_of_range(float(v[i]), unit))
    if reasons:
        us_f[list(reasons)] = 0.0
    return np.round(us_f).astype(np.int64), reasons


def fmt_us(us: int) -> str:
    """An instant in µs as ISO 8601 UTC; values datetime cannot show as a plain count."""
    if MIN_US <= us <= MAX_US:
        return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).isoformat()
    return f"{us} µs since 1970"
