"""The weather of a report's day and the next days, with heating degree-hours.

Source: a forecast table when one is given (``forecast``: hourly ``temp_c`` indexed by
tz-aware time), else the shipped typical-year weather file (``nuanliu.weather``; CSWD
for Hohhot) for the same calendar days — the report says which.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from nuanliu.weather.shipped import load_weather

HDH_BASE_C = 18.0


def day_weather(
    day: date,
    next_days: int = 3,
    *,
    source: str = "hohhot",
    forecast: pd.DataFrame | None = None,
    tz: str = "Asia/Shanghai",
) -> tuple[pd.DataFrame, str]:
    """One row per local day ``day … day+next_days``: ``day, mean_temp_c, min_temp_c,
    max_temp_c, hdh_c_h`` (heating degree-hours, base 18 °C: Σ max(0, 18 − T) over the
    day's hours). Returns the frame and the source label."""
    days = [day + timedelta(days=i) for i in range(next_days + 1)]
    if forecast is not None:
        hourly, label = forecast, "forecast"
    else:
        years = sorted({d.year for d in days})
        hourly = pd.concat([load_weather(source, year=y, tz=tz) for y in years])
        label = f"typical-year:{source}"
    # hour-ending stamps: the hour ending at 01:00 belongs to the day it started in
    local_day = (hourly.index.tz_convert(tz) - pd.Timedelta(seconds=1)).date
    frame = pd.DataFrame({"day": local_day, "temp_c": hourly["temp_c"].to_numpy()})
    frame = frame[frame["day"].isin(days)]
    frame["deficit"] = (HDH_BASE_C - frame["temp_c"]).clip(lower=0.0)
    out = (
        frame.groupby("day")
        .agg(
            mean_temp_c=("temp_c", "mean"),
            min_temp_c=("temp_c", "min"),
            max_temp_c=("temp_c", "max"),
            hdh_c_h=("deficit", "sum"),
        )
        .reset_index()
    )
    for col in ("mean_temp_c", "min_temp_c", "max_temp_c", "hdh_c_h"):
        out[col] = out[col].round(1)
    return out, label
