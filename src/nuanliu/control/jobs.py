"""Periodic work of the control package (run by the scheduler as ``job(store, *, now)``).

``shadow_schedule``: once a day, propose the next 48 h schedule for the configured
network in *shadow mode* (stored with status ``shadow``, never applied) and record the
day's comparison with the heating curve over the same hours.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.control import service
from nuanliu.control import store as cstore

#: the network the job schedules (an example name or a network file)
NETWORK_ENV = "NUANLIU_CONTROL_NETWORK"
DEFAULT_NETWORK = "tuoketuo-hohhot"
WEATHER_ENV = "NUANLIU_CONTROL_WEATHER"


def shadow_schedule(store: Any, *, now: datetime) -> dict[str, Any]:
    """Propose today's schedule in shadow mode and store the comparison with the curve."""
    network = os.environ.get(NETWORK_ENV, DEFAULT_NETWORK)
    weather = os.environ.get(WEATHER_ENV, "hohhot")
    local_day = pd.Timestamp(now).tz_convert("Asia/Shanghai").normalize()
    start = local_day.tz_convert("UTC")
    prop = service.propose(network, start=start, hours=48, weather=weather, store=store)
    sid, day_s, day_c = record_shadow(store, prop, now=now)
    return {
        "network": network,
        "schedule_id": sid,
        "day": str(prop.problem.start.tz_convert("Asia/Shanghai").date()),
        "schedule_cost_yuan": round(day_s["total_cost"], 0),
        "curve_cost_yuan": round(day_c["total_cost"], 0),
        "forecast_fallback_stations": sum(
            1 for v in prop.forecast_sources.values() if v == service.FALLBACK_DESIGN
        ),
        "warnings": prop.schedule.warnings,
    }


def record_shadow(store: Any, prop: Any, *, now: datetime) -> tuple[str, dict, dict]:
    """Store a proposal as a shadow schedule and its first day's comparison with the curve."""
    sid = cstore.save_schedule(
        store,
        network=prop.network,
        enterprise_id=None,
        hourly=prop.schedule.hourly,
        sp_ids=prop.problem.sp_ids,
        curve=prop.curve_c,
        cost=prop.schedule.cost,
        curve_cost=prop.curve.cost,
        status="shadow",
        now=now,
    )
    # the day compared: the first 24 h of both, on the same model and forecast
    first = slice(0, 24)
    day_s = _first_day(prop.schedule, prop.problem, first)
    day_c = _first_day(prop.curve, prop.problem, first)
    day = prop.problem.start.tz_convert("Asia/Shanghai").date()
    cstore.save_shadow_day(
        store, day=day, network=prop.network, schedule_id=sid, schedule=day_s, curve=day_c, now=now
    )
    return sid, day_s, day_c


def _first_day(res: Any, p: Any, sl: slice) -> dict[str, float]:
    h = res.hourly.iloc[sl]
    heat = float(h["heat_delivered_mw"].sum())
    loss = float(h.filter(like="supply_loss_mw").sum().sum())
    pump_h = h.filter(like="pump_mw").sum(axis=1).to_numpy()
    prices = np.broadcast_to(np.asarray(p.elec_price_per_mwh, dtype=float), (p.hours,))[sl]
    return {
        "heat_delivered_mwh": heat,
        "supply_loss_mwh": loss,
        "pump_mwh": float(pump_h.sum()),
        "total_cost": p.heat_price_per_mwh * (heat + loss) + float((prices * pump_h).sum()),
    }
