"""Propose a schedule for a network: station forecasts → schedule → curve comparison.

The twin of a network (design flows, pump fit) is built once per process and kept
(:func:`twin_for`). Station forecasts come from each station's stored model where one
exists; a station with no model or no history falls back — said so per station — to
the design-heat degree-hour estimate ``design × (18 − T_out) / (18 − T_design)``
(:data:`FALLBACK_DESIGN`), never to zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.control.plan import Prices, TwinModel, build_twin, problem_from_twin
from nuanliu.control.problem import ScheduleProblem
from nuanliu.control.schedule import ScheduleResult, evaluate_fixed, optimise
from nuanliu.errors import InvalidInput

FALLBACK_DESIGN = "design_degree_hour"
_TWINS: dict[str, TwinModel] = {}


def load_network(name: str) -> Any:
    from pathlib import Path

    from nuanliu.network.examples import list_examples, load_example

    if name in list_examples():
        return load_example(name)
    if Path(name).exists():
        from nuanliu.network.cli import load_network as load_file

        return load_file(name)
    raise InvalidInput(
        f"network {name!r}: neither an example ({', '.join(list_examples())}) nor a file"
    )


def twin_for(name: str) -> TwinModel:
    if name not in _TWINS:
        _TWINS[name] = build_twin(load_network(name))
    return _TWINS[name]


def outdoor_c(weather: Any, idx: pd.DatetimeIndex) -> np.ndarray:
    """Outdoor temperature at ``idx``: a shipped/EPW name or a frame with ``temp_c``."""
    from nuanliu.sim.season import _weather_frame

    return _weather_frame(weather, idx)["temp_c"].to_numpy(float)


def design_forecast_w(twin: TwinModel, temps_c: np.ndarray) -> np.ndarray:
    """The fallback forecast: design heat scaled by the degree-hour rule (n_st, hours)."""
    share = np.clip((18.0 - temps_c) / (18.0 - twin.design_outdoor_c), 0.0, None)
    return twin.st_design_w[:, None] * share[None, :]


def station_forecasts(
    twin: TwinModel, idx: pd.DatetimeIndex, temps_c: np.ndarray, store: Any = None
) -> tuple[np.ndarray, dict[str, str]]:
    """Per-station forecasts (W) and how each was made (station id → source)."""
    fc = design_forecast_w(twin, temps_c)
    how = {s: FALLBACK_DESIGN for s in twin.st_ids}
    if store is None:
        return fc, how
    from nuanliu.control import forecaster
    from nuanliu.control import store as cstore
    from nuanliu.control.series import prepare

    start = idx[0] - pd.Timedelta(days=21)
    hist = cstore.load_history(store, start=start, end=idx[0], site_ids=list(twin.st_ids))
    for j, sid in enumerate(twin.st_ids):
        model = cstore.latest_model(store, sid)
        part = hist[hist["site_id"] == sid]
        if model is None or part["heat_kw"].notna().sum() < 24:
            continue
        future = pd.DataFrame(
            {"site_id": sid, "ts": idx, "heat_kw": np.nan, "outdoor_temp_c": temps_c}
        )
        s = prepare(pd.concat([part, future], ignore_index=True))[sid]
        origin_day = idx[0].tz_convert(model.tz).normalize()
        days_since = np.asarray((idx.tz_convert(model.tz).normalize() - origin_day).days)
        days = np.clip(days_since + 1, 1, max(model.days_ahead))
        vals = np.full(len(idx), np.nan)
        for k in sorted(set(days)):
            band = k if k in model.days_ahead else max(b for b in model.days_ahead if b <= k)
            pr = forecaster.predict(model, s, band)["forecast_kw"].reindex(idx).to_numpy()
            vals[days == k] = pr[days == k]
        ok = np.isfinite(vals)
        if ok.all():
            fc[j] = vals * 1e3
            how[sid] = f"model {model.version}"
        elif ok.any():
            fc[j, ok] = vals[ok] * 1e3
            how[sid] = f"model {model.version}; {int((~ok).sum())} h {FALLBACK_DESIGN}"
    return fc, how


@dataclass
class Proposal:
    network: str
    problem: ScheduleProblem
    schedule: ScheduleResult
    curve: ScheduleResult
    curve_c: np.ndarray
    outdoor_c: np.ndarray
    forecast_sources: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def savings(self) -> dict[str, float]:
        s, c = self.schedule.cost, self.curve.cost
        heat_s = s["heat_delivered_mwh"] + s["supply_loss_mwh"]
        heat_c = c["heat_delivered_mwh"] + c["supply_loss_mwh"]
        return {
            "heat_mwh": heat_c - heat_s,
            "heat_pct": 100.0 * (heat_c - heat_s) / heat_c if heat_c else float("nan"),
            "loss_mwh": c["supply_loss_mwh"] - s["supply_loss_mwh"],
            "pump_mwh": c["pump_mwh"] - s["pump_mwh"],
            "cost_yuan": c["total_cost"] - s["total_cost"],
            "curve_cold_station_hours": float(
                (self.curve.stations["comfort_shortfall_k"] > 1e-3).sum()
            ),
            "schedule_cold_station_hours": float(
                (self.schedule.stations["comfort_shortfall_k"] > 1e-3).sum()
            ),
        }


def propose(
    network: str,
    *,
    start: datetime | pd.Timestamp,
    hours: int = 48,
    weather: Any = "hohhot",
    prices: Prices | None = None,
    store: Any = None,
    history_hours: int = 48,
    **problem_kw: Any,
) -> Proposal:
    """A schedule for ``hours`` from ``start`` beside the heating curve over the same hours."""
    if not 24 <= hours <= 168:
        raise InvalidInput(f"hours must be 24…168, got {hours}")
    twin = twin_for(network)
    start = pd.Timestamp(start)
    if start.tzinfo is None:
        raise InvalidInput("start must be timezone-aware")
    start = start.tz_convert("UTC").floor("h")
    idx = pd.date_range(start, periods=hours, freq="h")
    hidx = pd.date_range(start - pd.Timedelta(hours=history_hours), periods=history_hours, freq="h")
    temps = outdoor_c(weather, idx)
    hist_t = outdoor_c(weather, hidx)
    fc, how = station_forecasts(twin, idx, temps, store)
    p, _ = problem_from_twin(
        twin, start=start, forecast_w=fc, history_outdoor_c=hist_t, prices=prices, **problem_kw
    )
    curve_c = twin.curve_schedule(temps)
    sched = optimise(p, start_c=curve_c)
    curve = evaluate_fixed(p, curve_c)
    return Proposal(network, p, sched, curve, curve_c, temps, how)
