"""Readers for hourly load files: the shipped real data sets and a user's own CSV.

Each returns the forecaster's input frame ``(site_id, ts, heat_kw[, outdoor_temp_c])``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from nuanliu.control.series import join_weather
from nuanliu.errors import InvalidInput
from nuanliu.paths import shared_data_dir

TS_CANDIDATES = ("ts", "timestamp", "time", "datetime", "date", "read_date")
LOAD_CANDIDATES = ("heat_kw", "load", "load_kw", "heat", "power_kw", "value")
TEMP_CANDIDATES = ("outdoor_temp_c", "temperature", "temp_c", "temp", "t_out")


def _pick(df: pd.DataFrame, wanted: str | None, candidates: tuple[str, ...], what: str, path):
    cols = {c.lower().strip(): c for c in df.columns}
    if wanted:
        if wanted not in df.columns:
            raise InvalidInput(
                f"{path}: no column {wanted!r} ({what}); columns: {list(df.columns)}"
            )
        return wanted
    for c in candidates:
        if c in cols:
            return cols[c]
    if what == "load" and len(df.columns) == 2:
        return df.columns[1]
    if what == "timestamp":
        return df.columns[0]
    raise InvalidInput(
        f"{path}: cannot tell which column is the {what}; name it with an option"
        f" (columns: {list(df.columns)})"
    )


def _stamps(raw: pd.Series, tz: str, path) -> pd.Series:
    ts = pd.to_datetime(raw, errors="coerce", utc=False, format="mixed")
    bad = ts.isna() & raw.notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidInput(f"{path}: row {i + 2}: timestamp {raw.iloc[i]!r} cannot be read")
    if getattr(ts.dt, "tz", None) is None:
        ts = ts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return ts.dt.tz_convert("UTC")


def read_load_csv(
    path: str | Path,
    *,
    weather: str | Path | None = None,
    ts_column: str | None = None,
    load_column: str | None = None,
    temp_column: str | None = None,
    tz: str = "UTC",
    site_id: str = "site",
) -> pd.DataFrame:
    """A user's hourly series: a timestamp and a load column (kW or kWh/h); weather
    optional from a second CSV matched by hour. Naive timestamps are read in ``tz``."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read as CSV ({exc})") from exc
    tcol = _pick(df, ts_column, TS_CANDIDATES, "timestamp", path)
    lcol = _pick(df, load_column, LOAD_CANDIDATES, "load", path)
    out = pd.DataFrame(
        {
            "site_id": site_id,
            "ts": _stamps(df[tcol], tz, path),
            "heat_kw": pd.to_numeric(df[lcol], errors="coerce"),
        }
    )
    out = out[out["ts"].notna()]
    if weather is not None:
        out = join_weather(out, read_weather_csv(weather, temp_column=temp_column, tz=tz))
    return out


def read_weather_csv(
    path: str | Path, *, temp_column: str | None = None, tz: str = "UTC"
) -> pd.DataFrame:
    """Hourly outdoor temperature ``(ts, outdoor_temp_c)`` from a timestamp + temperature CSV."""
    try:
        w = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: cannot read as CSV ({exc})") from exc
    wt = _pick(w, None, TS_CANDIDATES, "timestamp", path)
    wc = _pick(w, temp_column, TEMP_CANDIDATES, "outdoor temperature", path)
    return pd.DataFrame(
        {"ts": _stamps(w[wt], tz, path), "outdoor_temp_c": pd.to_numeric(w[wc], errors="coerce")}
    )


def bronderslev(data_dir: Path | None = None) -> pd.DataFrame:
    """Brønderslev (DK) aggregate hourly heat, 2016–2019 (train and test files joined)."""
    d = (data_dir or shared_data_dir()) / "load" / "bronderslev"
    parts = [
        pd.read_csv(d / f, index_col=0) for f in ("Training_HeatDMA.csv", "Testing_HeatDMA.csv")
    ]
    s = pd.concat(parts).iloc[:, 0]
    return pd.DataFrame(
        {"site_id": "bronderslev", "ts": pd.to_datetime(s.index, utc=True), "heat_kw": s.to_numpy()}
    )


def tartu(data_dir: Path | None = None) -> pd.DataFrame:
    """Tartu (EE) substation 10259, 2019, hourly heat from the cumulative energy register.

    The meter's ``ENERGY`` (MWh, cumulative) is differenced onto the hourly grid; over a
    reading gap the energy is spread evenly across the missing hours (the register
    makes the total exact). Weather from the shipped hourly file (local time).
    """
    d = (data_dir or shared_data_dir()) / "meters" / "tartu"
    m = pd.read_csv(d / "tartu_substation_10259_hourly_2019.csv")
    ts = pd.to_datetime(m["READ_DATE"]).dt.tz_localize(
        "Europe/Tallinn", ambiguous="NaT", nonexistent="shift_forward"
    )
    e = pd.Series(m["ENERGY"].to_numpy(dtype=float), index=ts).dropna()
    e = e[e.index.notna()].groupby(level=0).max().sort_index()
    e.index = e.index.tz_convert("UTC")
    grid = pd.date_range(e.index[0].floor("h"), e.index[-1].ceil("h"), freq="h")
    cum = e.reindex(e.index.union(grid)).interpolate(method="time").reindex(grid)
    heat_kw = cum.diff().shift(-1) * 1000.0  # MWh over the next hour → kW mean
    w = pd.read_csv(d / "tartu_weather_hourly_2019.csv")
    wts = pd.to_datetime(
        dict(year=w["Year"], month=w["Month"], day=w["Day_month"], hour=w["Hour_day"])
    ).dt.tz_localize("Europe/Tallinn", ambiguous="NaT", nonexistent="shift_forward")
    weather = pd.DataFrame({"ts": wts, "outdoor_temp_c": w["Temperature"]}).dropna()
    load = pd.DataFrame({"site_id": "tartu-10259", "ts": grid, "heat_kw": heat_kw.to_numpy()})
    return join_weather(load.dropna(subset=["heat_kw"]), weather)
