"""The forecaster's input: hourly heat per site, cleaned onto a regular UTC grid.

The one contract the forecaster reads is a DataFrame of ``site_id``, ``ts``
(timezone-aware, UTC after cleaning), ``heat_kw`` and optionally ``outdoor_temp_c``.
Cleaning never invents load: duplicate hours are averaged, missing hours stay missing
(NaN, counted in :class:`SeriesReport`) and are neither trained on nor scored. Weather
gaps up to :data:`MAX_WEATHER_GAP_H` hours are interpolated; longer gaps leave the
hours without weather, and the forecaster uses its calendar-and-lags model there
(``fallback`` column) — never a zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput

#: weather gaps up to this many hours are interpolated linearly
MAX_WEATHER_GAP_H = 6
REQUIRED = ("site_id", "ts", "heat_kw")


@dataclass
class SeriesReport:
    """What cleaning did to one site's series (shown with every forecast)."""

    site_id: str
    hours: int = 0
    missing_load_h: int = 0
    duplicate_h: int = 0
    negative_load_h: int = 0
    weather: bool = False
    weather_interpolated_h: int = 0
    weather_missing_h: int = 0
    messages: list[str] = field(default_factory=list)


@dataclass
class HourlySeries:
    """One site's hourly series on a regular UTC grid (NaN = unknown)."""

    site_id: str
    heat_kw: pd.Series  # index: hourly UTC DatetimeIndex
    outdoor_temp_c: pd.Series | None
    report: SeriesReport


def _utc(ts: pd.Series, column: str = "ts") -> pd.Series:
    try:
        out = pd.to_datetime(ts, utc=False)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"column {column!r}: not a timestamp ({exc})") from exc
    if out.dt.tz is None:
        raise InvalidInput(
            f"column {column!r}: timestamps must be timezone-aware "
            f"(first value {ts.iloc[0]!r}); give the zone, e.g. --tz Europe/Copenhagen"
        )
    return out.dt.tz_convert("UTC")


def prepare(frame: pd.DataFrame) -> dict[str, HourlySeries]:
    """Split a ``(site_id, ts, heat_kw[, outdoor_temp_c])`` frame into clean series."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"forecast input lacks column(s) {missing}; expected {list(REQUIRED)}"
            " [+ outdoor_temp_c]",
            details={"columns": list(frame.columns)},
        )
    if frame.empty:
        raise InvalidInput("forecast input has no rows")
    df = frame.copy()
    df["ts"] = _utc(df["ts"])
    df["heat_kw"] = pd.to_numeric(df["heat_kw"], errors="coerce")
    has_weather = "outdoor_temp_c" in df.columns
    if has_weather:
        df["outdoor_temp_c"] = pd.to_numeric(df["outdoor_temp_c"], errors="coerce")
    out: dict[str, HourlySeries] = {}
    for site_id, part in df.groupby(df["site_id"].astype(str), sort=True):
        out[site_id] = _one(site_id, part, has_weather)
    return out


def _one(site_id: str, part: pd.DataFrame, has_weather: bool) -> HourlySeries:
    rep = SeriesReport(site_id=site_id, weather=has_weather)
    part = part.assign(ts=part["ts"].dt.floor("h"))
    rep.duplicate_h = int(part["ts"].duplicated().sum())
    cols = ["heat_kw"] + (["outdoor_temp_c"] if has_weather else [])
    hourly = part.groupby("ts")[cols].mean()
    grid = pd.date_range(hourly.index.min(), hourly.index.max(), freq="h", tz="UTC")
    hourly = hourly.reindex(grid)
    heat = hourly["heat_kw"].astype(float)
    neg = heat < 0
    rep.negative_load_h = int(neg.sum())
    heat = heat.mask(neg)  # a negative heat reading is a meter fault, not a load
    rep.hours = len(grid)
    rep.missing_load_h = int(heat.isna().sum())
    if rep.duplicate_h:
        rep.messages.append(f"{rep.duplicate_h} duplicate hour(s) averaged")
    if rep.negative_load_h:
        rep.messages.append(f"{rep.negative_load_h} negative load hour(s) treated as missing")
    if rep.missing_load_h:
        rep.messages.append(
            f"{rep.missing_load_h} of {rep.hours} hour(s) without load (NaN or gap):"
            " not trained on, not scored"
        )
    temp = None
    if has_weather:
        raw = hourly["outdoor_temp_c"].astype(float)
        # fill only whole gaps of at most MAX_WEATHER_GAP_H hours (pandas' ``limit``
        # would fill the first hours of a longer gap too)
        missing = raw.isna()
        run_id = (missing != missing.shift()).cumsum()
        run_len = missing.groupby(run_id).transform("size")
        short = missing & (run_len <= MAX_WEATHER_GAP_H)
        temp = raw.where(~short, raw.interpolate(limit_area="inside"))
        rep.weather_interpolated_h = int(raw.isna().sum() - temp.isna().sum())
        rep.weather_missing_h = int(temp.isna().sum())
        if rep.weather_interpolated_h:
            rep.messages.append(
                f"{rep.weather_interpolated_h} weather hour(s) interpolated"
                f" (gaps ≤ {MAX_WEATHER_GAP_H} h)"
            )
        if rep.weather_missing_h:
            rep.messages.append(
                f"{rep.weather_missing_h} hour(s) without weather: forecast there by the"
                " calendar-and-lags model (fallback 'no_weather')"
            )
    return HourlySeries(site_id, heat, temp, rep)


def join_weather(load: pd.DataFrame, weather: pd.DataFrame | None) -> pd.DataFrame:
    """Match weather to load by hour (both with a ``ts`` column)."""
    if weather is None:
        return load
    w = weather[["ts", "outdoor_temp_c"]].copy()
    w["ts"] = _utc(w["ts"]).dt.floor("h")
    w = w.groupby("ts", as_index=False)["outdoor_temp_c"].mean()
    out = load.copy()
    out["ts"] = _utc(out["ts"]).dt.floor("h")
    return out.merge(w, on="ts", how="left")


def as_frame(values: np.ndarray, index: pd.DatetimeIndex, name: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=index, name=name)
