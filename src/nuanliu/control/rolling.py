"""Receding-horizon operation: re-plan every day, apply the first day, carry the history.

Each local day at midnight a ``horizon_h`` schedule is optimised from the station
forecasts and the set-points actually sent in the hours before; its first
``replan_h`` hours are applied. The result is the set-point series a season
simulation (or the plant) runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from nuanliu.control.plan import Prices, TwinModel, problem_from_twin
from nuanliu.control.schedule import optimise


@dataclass
class RollingResult:
    setpoints: pd.DataFrame  # index: UTC hours; columns: supply point ids (°C)
    solve_s: list[float] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def rolling_schedule(
    twin: TwinModel,
    *,
    forecast_w: pd.DataFrame,
    outdoor_c: pd.Series,
    start: pd.Timestamp,
    days: int,
    horizon_h: int = 48,
    replan_h: int = 24,
    history_h: int = 48,
    prices: Prices | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    initial_history: pd.DataFrame | None = None,
    **problem_kw,
) -> RollingResult:
    """``forecast_w``: station id columns, hourly UTC index covering the season plus the
    horizon; ``outdoor_c``: hourly outdoor temperature over history and season."""
    start = pd.Timestamp(start).tz_convert("UTC")
    sp = twin.sp_ids
    applied = pd.DataFrame(columns=sp, dtype=float)
    out = RollingResult(setpoints=applied)
    hist_idx = pd.date_range(start - pd.Timedelta(hours=history_h), periods=history_h, freq="h")
    if initial_history is not None:  # what ran before the first day (columns: sp ids)
        hist = initial_history.reindex(hist_idx)[sp].astype(float)
    else:  # the heating curves
        hist = pd.DataFrame(
            twin.curve_schedule(outdoor_c.reindex(hist_idx).to_numpy()).T,
            index=hist_idx,
            columns=sp,
        )
    for d in range(days):
        t0 = start + pd.Timedelta(hours=replan_h * d)
        idx = pd.date_range(t0, periods=horizon_h, freq="h")
        fc = forecast_w.reindex(idx)[list(twin.st_ids)].ffill().bfill().to_numpy().T
        past = hist.iloc[-history_h:]
        p, _ = problem_from_twin(
            twin,
            start=t0,
            forecast_w=fc,
            history_outdoor_c=outdoor_c.reindex(past.index).to_numpy(),
            history_supply_c=past.to_numpy().T,
            prices=prices,
            **problem_kw,
        )
        res = optimise(p, start_c=twin.curve_schedule(outdoor_c.reindex(idx).to_numpy()))
        out.solve_s.append(res.elapsed_s)
        out.warnings += [f"{t0:%Y-%m-%d}: {w}" for w in res.warnings]
        first = res.hourly.iloc[:replan_h]
        block = pd.DataFrame(
            {s: first[f"supply_temp_c[{s}]"].to_numpy() for s in sp}, index=first.index
        )
        hist = pd.concat([hist, block])
        if on_progress:
            on_progress(d + 1, days)
    out.setpoints = hist.loc[hist.index >= start]
    return out
