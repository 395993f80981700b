"""Feature rows for a forecast made ``days_ahead`` local days before the target day.

A forecast for day D issued ``k`` days ahead knows the load up to the *origin*: the
start of local day D − (k − 1) (k = 1 is day-ahead: issued at midnight, everything up
to 23:00 of the day before is known). Every lag below is taken at or before the origin,
so a backtest never sees the future. Weather at the target hour is used as given
(observed in backtests — a perfect-forecast upper bound, said so in every report).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nuanliu.control.series import HourlySeries

#: indoor base temperature of the degree-hour features (°C)
BASE_TEMP_C = 18.0
CALENDAR = ["hour", "dow", "doy_sin", "doy_cos", "holiday", "weekend", "horizon_h"]
BASE_LAGS = [
    "lag_day_k",  # same hour on the last known day
    "lag_week",  # same hour one (or two) weeks before, at or before the origin
    "last_h",  # last known hour before the origin
    "mean_d1",  # mean load of the 24 h before the origin
    "mean_d2",  # mean load of the 24 h before those
    "mean_w1",  # mean load of the week before the origin
]
LAGS = BASE_LAGS + [
    "lag_day_k1",  # same hour one day before the last known day
    "lag_mean7",  # same hour, mean over the 7 last known days
    "mean_h3",  # mean of the 3 h before the origin
    "mean_h6",  # mean of the 6 h before the origin
]
#: load-valued features: a "relative" design divides them by the level (``mean_d1``), so
#: one model serves any size of network and any season
LOAD_VALUED = LAGS
SHAPE = [
    "shape_d1",  # same hour on the last known day / that day's mean (the daily profile)
    "shape_mean7",  # the same, averaged over the 7 last known days (less noisy)
    "eve_ratio",  # last 6 h / last 24 h: is the evening colder than the day?
    "h3_d",  # last 3 h / the same 3 h a day earlier: the trend the origin sees
    "h12_d",  # last 12 h / the same 12 h a day earlier
]
WEATHER = ["temp_c", "hdh", "temp_mean_24h", "temp_mean_72h", "temp_day_mean", "temp_d1"]


def _holidays(index: pd.DatetimeIndex, country: str | None) -> np.ndarray:
    if not country:
        return np.zeros(len(index))
    import holidays  # local: only the forecaster needs it

    days = holidays.country_holidays(country, years=sorted(set(index.year)))
    return np.array([d in days for d in index.date], dtype=float)


def feature_frame(
    s: HourlySeries,
    days_ahead: int,
    *,
    tz: str = "UTC",
    country: str | None = None,
    with_weather: bool = True,
) -> pd.DataFrame:
    """One row per hour of the grid: the features of forecasting it ``days_ahead``."""
    y = s.heat_kw.to_numpy(dtype=float)
    idx = s.heat_kw.index
    n = len(y)
    local = idx.tz_convert(tz)
    day_start = local.normalize()
    # hours since local midnight measured in real (UTC) hours, so DST days are right
    since_midnight = ((local - day_start) / pd.Timedelta(hours=1)).to_numpy().astype(int)
    k = int(days_ahead)
    pos = np.arange(n)
    origin = pos - since_midnight - 24 * (k - 1)

    def at(p: np.ndarray) -> np.ndarray:
        ok = (p >= 0) & (p < n)
        out = np.full(n, np.nan)
        out[ok] = y[p[ok]]
        return out

    ys = pd.Series(y)
    roll3 = ys.rolling(3, min_periods=2).mean().to_numpy()
    roll6 = ys.rolling(6, min_periods=3).mean().to_numpy()
    roll12 = ys.rolling(12, min_periods=6).mean().to_numpy()
    roll24 = ys.rolling(24, min_periods=12).mean().to_numpy()
    roll168 = ys.rolling(168, min_periods=84).mean().to_numpy()

    def at_roll(r: np.ndarray, p: np.ndarray) -> np.ndarray:
        ok = (p >= 0) & (p < n)
        out = np.full(n, np.nan)
        out[ok] = r[p[ok]]
        return out

    week_lag = 168 if 24 * k <= 168 else 336
    f = pd.DataFrame(index=idx)
    f["hour"] = local.hour
    f["dow"] = local.dayofweek
    doy = local.dayofyear.to_numpy()
    f["doy_sin"] = np.sin(2 * np.pi * doy / 365.25)
    f["doy_cos"] = np.cos(2 * np.pi * doy / 365.25)
    f["holiday"] = _holidays(local, country)
    f["weekend"] = (local.dayofweek >= 5).astype(float)
    f["horizon_h"] = pos - origin + 1
    f["lag_day_k"] = at(pos - 24 * k)
    f["lag_week"] = at(pos - week_lag)
    f["last_h"] = at(origin - 1)
    f["mean_d1"] = at_roll(roll24, origin - 1)
    f["mean_d2"] = at_roll(roll24, origin - 25)
    f["mean_w1"] = at_roll(roll168, origin - 1)
    # the 7 last known days: same hour and that day's mean (day i ends 24 (i-1) h before
    # the origin), all at or before the origin
    same_h = np.column_stack([at(pos - 24 * (k + i)) for i in range(7)])
    day_mean = np.column_stack([at_roll(roll24, origin - 1 - 24 * i) for i in range(7)])
    with np.errstate(invalid="ignore", divide="ignore"):
        shape = same_h / day_mean
        f["lag_day_k1"] = same_h[:, 1]
        f["lag_mean7"] = _nanmean(same_h)
        f["mean_h3"] = at_roll(roll3, origin - 1)
        f["mean_h6"] = at_roll(roll6, origin - 1)
        f["shape_d1"] = shape[:, 0]
        f["shape_mean7"] = _nanmean(shape)
        f["eve_ratio"] = f["mean_h6"] / f["mean_d1"]
        f["h3_d"] = f["mean_h3"] / at_roll(roll3, origin - 25)
        f["h12_d"] = at_roll(roll12, origin - 1) / at_roll(roll12, origin - 25)
    if with_weather and s.outdoor_temp_c is not None:
        t = s.outdoor_temp_c.to_numpy(dtype=float)
        ts = pd.Series(t)
        f["temp_c"] = t
        f["hdh"] = np.maximum(0.0, BASE_TEMP_C - t)
        # the buildings' thermal inertia: the load follows a smoothed outdoor temperature
        f["temp_mean_24h"] = ts.rolling(24, min_periods=12).mean().to_numpy()
        f["temp_mean_72h"] = ts.rolling(72, min_periods=36).mean().to_numpy()
        f["temp_day_mean"] = pd.Series(t, index=idx).groupby(day_start).transform("mean").to_numpy()
        f["temp_d1"] = at_roll(ts.rolling(24, min_periods=12).mean().to_numpy(), origin - 1)
    return f


def _nanmean(a: np.ndarray) -> np.ndarray:
    """Row mean over the finite values; NaN where a row has none (no warning)."""
    ok = np.isfinite(a)
    cnt = ok.sum(axis=1)
    tot = np.where(ok, a, 0.0).sum(axis=1)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def feature_names(with_weather: bool) -> list[str]:
    """Every feature :func:`feature_frame` computes (a design uses a subset)."""
    return CALENDAR + LAGS + SHAPE + (WEATHER if with_weather else [])
