"""Demo data for the dispatch page: a proposed schedule, a shadow day, a station's
forecast beside simulated actuals (``web.demo.DEMO_SEEDERS``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.control import forecaster, jobs, service
from nuanliu.control import store as cstore
from nuanliu.control.series import prepare


def seed_demo(store: Any, *, network: Any, now: datetime) -> list[tuple[str, str]]:
    """Idempotent: does nothing when a schedule is already stored."""
    clicks = [("调度 dispatch: schedule vs heating curve, forecast vs actual", "/control")]
    if cstore.list_schedules(store, limit=1):
        return clicks
    name = network if isinstance(network, str) else jobs.DEFAULT_NETWORK
    with store.read() as q:
        row = q.one("SELECT enterprise_id FROM enterprises ORDER BY enterprise_id LIMIT 1")
    enterprise = row[0] if row else None
    start = pd.Timestamp(now).tz_convert("Asia/Shanghai").normalize() + pd.Timedelta(days=1)
    prop = service.propose(name, start=start, hours=48)
    cstore.save_schedule(
        store,
        network=name,
        enterprise_id=enterprise,
        hourly=prop.schedule.hourly,
        sp_ids=prop.problem.sp_ids,
        curve=prop.curve_c,
        cost=prop.schedule.cost,
        curve_cost=prop.curve.cost,
        status="proposed",
        now=now,
    )
    jobs.record_shadow(store, prop, now=now)
    _station_forecast(store, prop, now)
    return clicks


def _station_forecast(store: Any, prop: Any, now: datetime) -> None:
    """One station's load history (design load by the shipped weather, with noise), its
    trained model and a stored day-ahead forecast over the last week and tomorrow."""
    twin = service.twin_for(prop.network)
    sid = str(twin.st_ids[0])
    end = pd.Timestamp(now).tz_convert("UTC").floor("h")
    idx = pd.date_range(end - pd.Timedelta(days=60), end, freq="h", inclusive="left")
    temps = service.outdoor_c("hohhot", idx)
    rng = np.random.default_rng(0)
    load_kw = service.design_forecast_w(twin, temps)[0] / 1e3 * (1 + rng.normal(0, 0.03, len(idx)))
    frame = pd.DataFrame({"site_id": sid, "ts": idx, "heat_kw": load_kw, "outdoor_temp_c": temps})
    cstore.save_history(store, frame)
    s = prepare(frame)[sid]
    model = forecaster.train(
        s, train_until=end - pd.Timedelta(days=7), days_ahead=(1,), tz="Asia/Shanghai", country="CN"
    )
    mid = cstore.save_model(store, model, s.report.messages)
    p = forecaster.predict(model, s, 1)
    p = p[p.index >= end - pd.Timedelta(days=7)].assign(days_ahead=1)
    cstore.save_forecasts(store, sid, (end - pd.Timedelta(days=7)).to_pydatetime(), mid, p)
