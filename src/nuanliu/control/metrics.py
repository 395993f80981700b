"""Forecast error metrics (ASHRAE Guideline 14 names).

MAPE over hours whose actual load is above :data:`MAPE_FLOOR_SHARE` of the mean (a
summer hour near zero would otherwise dominate), CV(RMSE) = RMSE / mean actual, bias
(NMBE) = mean(forecast − actual) / mean actual, all in %.
"""

from __future__ import annotations

import numpy as np

MAPE_FLOOR_SHARE = 0.05


def scores(actual: np.ndarray, forecast: np.ndarray) -> dict[str, float]:
    a = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    ok = np.isfinite(a) & np.isfinite(f)
    a, f = a[ok], f[ok]
    if len(a) == 0:
        return {"n": 0, "mape_pct": np.nan, "cvrmse_pct": np.nan, "bias_pct": np.nan}
    mean = float(a.mean())
    big = a > MAPE_FLOOR_SHARE * mean
    err = f - a
    return {
        "n": int(len(a)),
        "mape_pct": float(100 * np.mean(np.abs(err[big]) / a[big])) if big.any() else np.nan,
        "cvrmse_pct": float(100 * np.sqrt(np.mean(err**2)) / mean) if mean else np.nan,
        "bias_pct": float(100 * err.mean() / mean) if mean else np.nan,
    }
