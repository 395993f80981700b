"""Evaluation indicators per enterprise over a period, each with the numbers and the
function or query behind it. Compliance numbers are ``nuanliu.monitor``'s, coverage and
online rate ``nuanliu.reports.indicators``', complaints and fee collection come through
the seams (absent provider → the indicator has no data, never zero)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from nuanliu import seams
from nuanliu.monitor.aggregates import monitor_timezone
from nuanliu.monitor.compliance import drilldown
from nuanliu.monitor.units import day_window
from nuanliu.reports.indicators import coverage
from nuanliu.scope import Scope

COMPUTED = (
    "compliance_rate",
    "hour_rate",
    "mean_temp_c",
    "cold_share",
    "sensor_coverage",
    "online_rate",
    "orders_on_time",
    "complaint_rate_per_10k_m2",
    "complaint_rate_pct",
    "complaint_closure",
    "satisfaction_rate",
    "fee_collection",
)


@dataclass(frozen=True)
class Value:
    value: float | None
    basis: dict[str, Any]  # the numbers and the query behind the value


def _f(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def season_of(day: date) -> str:
    """Heating season label (``2026-2027`` for a day from autumn 2026 to summer 2027)."""
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{start + 1}"


def compute(
    store: Any, enterprise_ids: list[str], first: date, end: date, as_of: datetime
) -> dict[str, dict[str, Value]]:
    """``{enterprise_id: {indicator: Value}}`` over local days ``[first, end)``."""
    with store.read() as q:
        tz = monitor_timezone(q)
    window = day_window(first, end, tz)
    scope = Scope(enterprise_ids=frozenset(enterprise_ids))
    drill = drilldown(
        store,
        scope,
        first,
        end,
        levels=["enterprise"],
        hours=True,
        as_of=min(as_of, window.end_utc),
    )["enterprise"]
    cov = coverage(store, scope, min(as_of, window.end_utc), drill)
    out: dict[str, dict[str, Value]] = {e: {} for e in enterprise_ids}
    q_drill = {
        "function": "nuanliu.monitor.compliance.drilldown",
        "level": "enterprise",
        "first_day": str(window.first_day),
        "end_day": str(window.end_day),
    }
    for _, r in drill.iterrows():
        e = str(r["unit_id"])
        if e not in out:
            continue
        out[e]["compliance_rate"] = Value(
            _f(r["rate"]),
            {
                **q_drill,
                "compliant_days": int(r["compliant_days"]),
                "reporting_days": int(r["reporting_days"]),
            },
        )
        out[e]["hour_rate"] = Value(
            _f(r["hour_rate"]),
            {
                **q_drill,
                "compliant_hours": int(r["compliant_hours"]),
                "reporting_hours": int(r["reporting_hours"]),
            },
        )
        out[e]["mean_temp_c"] = Value(
            _f(r["mean_temp_c"]), {**q_drill, "mean_temp_c": _f(r["mean_temp_c"])}
        )
        rep = int(r["reporting_households"])
        out[e]["cold_share"] = Value(
            int(r["cold_households"]) / rep if rep else None,
            {**q_drill, "cold_households": int(r["cold_households"]), "reporting_households": rep},
        )
    for _, r in cov.iterrows():
        e = str(r["enterprise_id"])
        basis = {
            "function": "nuanliu.reports.indicators.coverage",
            "as_of": str(as_of),
            "households": int(r["households"]),
            "households_with_sensor": int(r["households_with_sensor"]),
            "sensors": int(r["sensors"]),
            "offline_sensors": int(r["offline_sensors"]),
        }
        out[e]["sensor_coverage"] = Value(_f(r["coverage"]), basis)
        out[e]["online_rate"] = Value(_f(r["online_rate"]), basis)
    _orders(store, out, window.start_utc, window.end_utc)
    _complaints(store, out, window.start_utc, window.end_utc)
    _collection(store, out, season_of(first))
    return out


def _orders(store: Any, out: dict[str, dict[str, Value]], start: datetime, end: datetime) -> None:
    from nuanliu.oversight.orders import list_orders

    due = [
        o
        for o in list_orders(store, enterprise_ids=list(out))
        if start <= o.deadline < end and o.state not in ("proposed", "dismissed", "cancelled")
    ]
    for e in out:
        mine = [o for o in due if o.enterprise_id == e]
        on_time = [o for o in mine if o.rectified_on_time]
        out[e]["orders_on_time"] = Value(
            len(on_time) / len(mine) if mine else None,
            {
                "query": "ov_orders with deadline in the period (not proposed/dismissed/cancelled)",
                "due": [o.order_id for o in mine],
                "on_time": [o.order_id for o in on_time],
            },
        )


def _complaints(
    store: Any, out: dict[str, dict[str, Value]], start: datetime, end: datetime
) -> None:
    fn = seams.provider("complaints")
    if fn is None:
        return  # no hotline connected: these indicators have no data
    basis = {"seam": "complaints", "start": str(start), "end": str(end)}
    for s in fn(store, level="enterprise", ids=list(out), start=start, end=end):
        if s.object_id not in out:
            continue
        row = out[s.object_id]
        numbers = {**basis, "opened": s.opened, "closed": s.closed}
        row["complaint_rate_per_10k_m2"] = Value(s.per_10k_m2, numbers)
        row["complaint_rate_pct"] = Value(
            None if s.per_1000_households is None else s.per_1000_households / 10.0, numbers
        )
        row["complaint_closure"] = Value(s.closed / s.opened if s.opened else None, numbers)
        row["satisfaction_rate"] = Value(s.satisfaction_rate, numbers)


def _collection(store: Any, out: dict[str, dict[str, Value]], season: str) -> None:
    fn = seams.provider("collection")
    if fn is None:
        return
    for s in fn(store, level="enterprise", ids=list(out), season=season):
        if s.object_id in out:
            out[s.object_id]["fee_collection"] = Value(
                s.rate,
                {
                    "seam": "collection",
                    "season": season,
                    "billed_yuan": str(s.billed_yuan),
                    "paid_yuan": str(s.paid_yuan),
                },
            )
