"""Rolling-origin backtests: every test day is forecast from its own origin.

For a ``k``-days-ahead band, day D of the test period is forecast from what was known
at the start of day D − (k − 1) (local time); the model is trained on the hours before
``train_until`` and, with ``refit_days``, retrained on an expanding window every that
many days. Scores (MAPE, CV(RMSE), bias) are given hourly and for daily energy, for the
model and each baseline, per band.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.control import baselines, forecaster
from nuanliu.control.features import feature_frame
from nuanliu.control.metrics import scores
from nuanliu.control.series import HourlySeries
from nuanliu.errors import InvalidInput

HORIZON_NAMES = {1: "day-ahead", 7: "7 days ahead"}


def horizon_name(k: int) -> str:
    return HORIZON_NAMES.get(k, f"{k} days ahead")


@dataclass
class Backtest:
    """Scores table and, per band, the hourly forecasts beside what happened."""

    site_id: str
    table: pd.DataFrame
    predictions: dict[int, pd.DataFrame] = field(repr=False)
    notes: list[str] = field(default_factory=list)


def _daily(values: pd.DataFrame, tz: str) -> pd.DataFrame:
    local_day = values.index.tz_convert(tz).normalize()
    g = values.groupby(local_day)
    complete = g.count().min(axis=1) >= 23
    return g.sum(min_count=23)[complete]


def run_backtest(
    s: HourlySeries,
    *,
    train_until: pd.Timestamp | str,
    test_until: pd.Timestamp | str | None = None,
    days_ahead: tuple[int, ...] = (1, 7),
    tz: str = "UTC",
    country: str | None = None,
    refit_days: int | None = None,
    params: dict[str, Any] | None = None,
    designs: dict[bool, forecaster.Design] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Backtest:
    """Backtest the forecaster and the baselines on ``s`` (see module doc).

    ``params`` override the LightGBM settings (``forecaster.LGBM_PARAMS``) and
    ``designs`` the model designs (``forecaster.DESIGNS``) — for validation runs.
    """
    until = _ts(train_until)
    end = _ts(test_until) if test_until is not None else s.heat_kw.index[-1] + pd.Timedelta("1h")
    idx = s.heat_kw.index
    test = (idx >= until) & (idx < end)
    if not test.any() or not s.heat_kw[test].notna().any():
        raise InvalidInput(
            f"site {s.site_id!r}: no load to test on between {until:%Y-%m-%d} and {end:%Y-%m-%d}"
        )
    chunks = _chunks(until, end, refit_days)
    total = len(chunks) * len(days_ahead)
    done = 0
    preds: dict[int, pd.DataFrame] = {k: pd.DataFrame() for k in days_ahead}
    for lo, hi in chunks:
        model = forecaster.train(
            s,
            train_until=lo,
            days_ahead=days_ahead,
            tz=tz,
            country=country,
            params=params,
            designs=designs,
        )
        for k in days_ahead:
            p = forecaster.predict(model, s, k)
            sel = (idx >= lo) & (idx < hi)
            preds[k] = pd.concat([preds[k], p[sel]])
            done += 1
            if on_progress:
                on_progress(done, total)
    rows = []
    weather = s.outdoor_temp_c is not None and bool(s.outdoor_temp_c.notna().any())
    notes = list(s.report.messages)
    for k in days_ahead:
        f = feature_frame(s, k, tz=tz, country=country, with_weather=False)
        cand = {"lightgbm": np.full(len(idx), np.nan)}
        cand["lightgbm"][test] = preds[k]["forecast_kw"].reindex(idx[test]).to_numpy()
        cand.update(baselines.persistence(f, k))
        if weather:
            cand["degree_hour"] = baselines.degree_hour(
                s.heat_kw, s.outdoor_temp_c, f["hour"].to_numpy(), idx < until
            )
        frame = pd.DataFrame({"actual_kw": s.heat_kw.to_numpy()} | cand, index=idx)[test]
        preds[k] = preds[k].join(frame.drop(columns="lightgbm"))
        # every forecaster is scored on the same hours: those all of them could forecast
        frame = frame[frame.notna().all(axis=1)]
        daily = _daily(frame, tz)
        for name in cand:
            hs = scores(frame["actual_kw"].to_numpy(), frame[name].to_numpy())
            ds = scores(daily["actual_kw"].to_numpy(), daily[name].to_numpy())
            rows.append(
                {
                    "site": s.site_id,
                    "horizon": horizon_name(k),
                    "days_ahead": k,
                    "forecaster": name,
                    "hourly_mape_pct": hs["mape_pct"],
                    "hourly_cvrmse_pct": hs["cvrmse_pct"],
                    "hourly_bias_pct": hs["bias_pct"],
                    "daily_mape_pct": ds["mape_pct"],
                    "daily_cvrmse_pct": ds["cvrmse_pct"],
                    "daily_bias_pct": ds["bias_pct"],
                    "hours": hs["n"],
                    "days": ds["n"],
                }
            )
        nf = int((preds[k]["fallback"] != "").sum())
        if nf:
            notes.append(f"{horizon_name(k)}: {nf} hour(s) forecast by a fallback")
    notes.append(
        "weather: observed values used as the forecast (an upper bound on skill)"
        if weather
        else "no weather: calendar, holidays and recent load only"
    )
    return Backtest(s.site_id, pd.DataFrame(rows), preds, notes)


def _ts(v: pd.Timestamp | str) -> pd.Timestamp:
    t = pd.Timestamp(v)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def _chunks(
    start: pd.Timestamp, end: pd.Timestamp, refit_days: int | None
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    if not refit_days:
        return [(start, end)]
    out = []
    lo = start
    while lo < end:
        hi = min(lo + pd.Timedelta(days=refit_days), end)
        out.append((lo, hi))
        lo = hi
    return out
