"""The forecasts a model must beat: persistence and a degree-hour regression.

- ``same_hour_yesterday`` / ``same_hour_last_week``: the load at the same hour on the
  last known day (``k`` days back for a ``k``-days-ahead forecast) or one week before.
- ``degree_hour``: ordinary least squares (statsmodels) of the load on heating degree
  hours (base 18 °C) per hour of day, fitted on the training hours; only with weather.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nuanliu.control.features import BASE_TEMP_C


def persistence(f: pd.DataFrame, days_ahead: int = 1) -> dict[str, np.ndarray]:
    """Same hour on the last known day (yesterday for day-ahead) and one week before."""
    last = "same_hour_yesterday" if days_ahead == 1 else "same_hour_last_known_day"
    return {
        last: f["lag_day_k"].to_numpy(dtype=float),
        "same_hour_last_week": f["lag_week"].to_numpy(dtype=float),
    }


def degree_hour(
    heat_kw: pd.Series, temp_c: pd.Series, hour: np.ndarray, train: np.ndarray
) -> np.ndarray:
    """Fitted on ``train`` rows; predicted for every row (NaN where no weather)."""
    import statsmodels.api as sm

    hdh = np.maximum(0.0, BASE_TEMP_C - temp_c.to_numpy(dtype=float))
    hours = np.arange(24)
    dummies = (hour[:, None] == hours[None, :]).astype(float)
    x = np.column_stack([dummies, dummies * hdh[:, None]])
    y = heat_kw.to_numpy(dtype=float)
    ok = train & np.isfinite(y) & np.isfinite(hdh)
    fit = sm.OLS(y[ok], x[ok]).fit()
    pred = x @ fit.params
    return np.where(np.isfinite(hdh), np.maximum(pred, 0.0), np.nan)
