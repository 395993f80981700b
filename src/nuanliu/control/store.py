"""The control package's tables: models, forecasts, load history, schedules, shadow days.

:func:`load_history` is the one adapter between the store's telemetry and the
forecaster: it returns ``(site_id, ts, heat_kw, outdoor_temp_c)`` rows from
:data:`HISTORY_SQL` — point that at the telemetry table when it lands.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.control.forecaster import ForecastModel
from nuanliu.errors import Conflict, InvalidInput, NotFound

#: the forecaster's input from the store (the seam to the telemetry package)
HISTORY_SQL = (
    "SELECT site_id, ts, heat_kw, outdoor_temp_c FROM ctl_load_history"
    " WHERE ts >= ? AND ts < ? {sites} ORDER BY site_id, ts"
)


def _utc(t: datetime | pd.Timestamp) -> datetime:
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        raise InvalidInput(f"time {t!r} must be timezone-aware")
    return ts.tz_convert("UTC").to_pydatetime()


def load_history(
    store: Any, *, start: datetime, end: datetime, site_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Hourly load (and weather) per site in ``[start, end)`` from the store."""
    params: list[Any] = [_utc(start), _utc(end)]
    sites = ""
    if site_ids is not None:
        if not site_ids:
            return pd.DataFrame(columns=["site_id", "ts", "heat_kw", "outdoor_temp_c"])
        sites = "AND site_id IN (" + ",".join("?" * len(site_ids)) + ")"
        params += list(site_ids)
    with store.read() as q:
        df = q.df(HISTORY_SQL.format(sites=sites), params)
    if len(df):
        df["ts"] = pd.to_datetime(df["ts"], utc=True)
    return df


def save_history(store: Any, frame: pd.DataFrame) -> int:
    """Upsert ``(site_id, ts, heat_kw[, outdoor_temp_c])`` rows; NaN stays NULL."""
    df = frame.copy()
    if "outdoor_temp_c" not in df:
        df["outdoor_temp_c"] = np.nan
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    rows = [
        (str(r.site_id), r.ts.to_pydatetime(), _num(r.heat_kw), _num(r.outdoor_temp_c))
        for r in df[["site_id", "ts", "heat_kw", "outdoor_temp_c"]].itertuples(index=False)
    ]
    with store.write() as w:
        w.upsert(
            "ctl_load_history",
            ["site_id", "ts", "heat_kw", "outdoor_temp_c"],
            ["site_id", "ts"],
            rows,
        )
    return len(rows)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def save_model(store: Any, model: ForecastModel, notes: list[str]) -> str:
    mid = model.version
    with store.write() as w:
        if w.scalar("SELECT count(*) FROM ctl_forecast_models WHERE model_id = ?", [mid]):
            return mid
        w.execute(
            "INSERT INTO ctl_forecast_models (model_id, site_id, trained_until, created_at,"
            " days_ahead,"
            " weather, train_hours, notes, blob) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                mid,
                model.site_id,
                model.trained_until.to_pydatetime(),
                model.created_at,
                " ".join(map(str, model.days_ahead)),
                model.weather,
                model.train_hours,
                json.dumps(notes, ensure_ascii=False),
                model.to_bytes(),
            ],
        )
    return mid


def latest_model(store: Any, site_id: str) -> ForecastModel | None:
    with store.read() as q:
        row = q.one(
            "SELECT blob FROM ctl_forecast_models WHERE site_id = ?"
            " ORDER BY created_at DESC LIMIT 1",
            [site_id],
        )
    return ForecastModel.from_bytes(bytes(row[0])) if row else None


def list_models(store: Any, site_ids: Sequence[str] | None = None) -> pd.DataFrame:
    sql = (
        "SELECT model_id, site_id, trained_until, created_at, days_ahead, weather, train_hours"
        " FROM ctl_forecast_models"
    )
    params: list[Any] = []
    if site_ids is not None:
        if not site_ids:
            return pd.DataFrame()
        sql += " WHERE site_id IN (" + ",".join("?" * len(site_ids)) + ")"
        params = list(site_ids)
    with store.read() as q:
        return q.df(sql + " ORDER BY created_at DESC", params)


def save_forecasts(
    store: Any, site_id: str, issued_at: datetime, model_id: str, frame: pd.DataFrame
) -> int:
    """Store forecasts (index ts, columns forecast_kw, fallback, days_ahead); NaN is not stored."""
    ok = frame[np.isfinite(frame["forecast_kw"].to_numpy(dtype=float))]
    rows = [
        (
            site_id,
            _utc(issued_at),
            ts.to_pydatetime(),
            model_id,
            int(r.days_ahead),
            float(r.forecast_kw),
            str(r.fallback),
        )
        for ts, r in ok.iterrows()
    ]
    with store.write() as w:
        w.upsert(
            "ctl_forecasts",
            ["site_id", "issued_at", "ts", "model_id", "days_ahead", "forecast_kw", "fallback"],
            ["site_id", "issued_at", "ts"],
            rows,
        )
    return len(rows)


def forecast_vs_actual(store: Any, site_id: str, *, start: datetime, end: datetime) -> pd.DataFrame:
    """The latest-issued forecast of each hour beside what happened (NaN: not known yet)."""
    with store.read() as q:
        fc = q.df(
            "SELECT ts, issued_at, forecast_kw, fallback, model_id FROM ctl_forecasts"
            " WHERE site_id = ? AND ts >= ? AND ts < ? ORDER BY ts, issued_at",
            [site_id, _utc(start), _utc(end)],
        )
    actual = load_history(store, start=start, end=end, site_ids=[site_id])
    if len(fc):
        fc["ts"] = pd.to_datetime(fc["ts"], utc=True)
        fc = fc.groupby("ts").last().reset_index()
    else:
        fc = pd.DataFrame(columns=["ts", "issued_at", "forecast_kw", "fallback", "model_id"])
    fc["ts"] = pd.to_datetime(fc["ts"], utc=True)
    actual["ts"] = pd.to_datetime(actual["ts"], utc=True)
    out = fc.merge(
        actual[["ts", "heat_kw"]].rename(columns={"heat_kw": "actual_kw"}), on="ts", how="outer"
    )
    return out.sort_values("ts").reset_index(drop=True)


# -- schedules ---------------------------------------------------------------------

STATUSES = ("proposed", "accepted", "edited", "rejected", "shadow")


def save_schedule(
    store: Any,
    *,
    network: str,
    enterprise_id: str | None,
    hourly: pd.DataFrame,
    sp_ids: Sequence[str],
    curve: np.ndarray,
    cost: dict[str, float],
    curve_cost: dict[str, float],
    status: str,
    now: datetime,
) -> str:
    if status not in STATUSES:
        raise InvalidInput(f"schedule status {status!r}: one of {STATUSES}")
    sid = uuid.uuid4().hex[:12]
    rows = []
    for k, sp in enumerate(sp_ids):
        for t, ts in enumerate(hourly.index):
            rows.append(
                (
                    sid,
                    ts.to_pydatetime(),
                    sp,
                    float(hourly[f"supply_temp_c[{sp}]"].iloc[t]),
                    float(curve[k, t]),
                    None,
                    float(hourly["heat_delivered_mw"].iloc[t]),
                    float(hourly["forecast_mw"].iloc[t]),
                )
            )
    with store.write() as w:
        w.execute(
            "INSERT INTO ctl_schedules (schedule_id, network, enterprise_id, created_at, start_ts,"
            " hours, status,"
            " cost_json, curve_cost_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                sid,
                network,
                enterprise_id,
                _utc(now),
                hourly.index[0].to_pydatetime(),
                len(hourly),
                status,
                json.dumps(cost),
                json.dumps(curve_cost),
            ],
        )
        w.executemany(
            "INSERT INTO ctl_schedule_hours (schedule_id, ts, supply_point, proposed_c, curve_c,"
            " edited_c, heat_mw,"
            " forecast_mw) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    return sid


def get_schedule(store: Any, schedule_id: str) -> tuple[dict[str, Any], pd.DataFrame]:
    with store.read() as q:
        head = q.dicts("SELECT * FROM ctl_schedules WHERE schedule_id = ?", [schedule_id])
        if not head:
            raise NotFound(f"no schedule {schedule_id!r}")
        hours = q.df(
            "SELECT ts, supply_point, proposed_c, curve_c, edited_c, heat_mw, forecast_mw"
            " FROM ctl_schedule_hours"
            " WHERE schedule_id = ? ORDER BY supply_point, ts",
            [schedule_id],
        )
    h = head[0]
    h["cost"] = json.loads(h.pop("cost_json"))
    h["curve_cost"] = json.loads(h.pop("curve_cost_json"))
    if len(hours):
        hours["ts"] = pd.to_datetime(hours["ts"], utc=True)
    return h, hours


def list_schedules(
    store: Any, *, enterprise_ids: Sequence[str] | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    sql = (
        "SELECT schedule_id, network, enterprise_id, created_at, start_ts, hours, status,"
        " decided_by FROM ctl_schedules"
    )
    params: list[Any] = []
    if enterprise_ids is not None:
        if not enterprise_ids:
            return []
        sql += " WHERE enterprise_id IN (" + ",".join("?" * len(enterprise_ids)) + ")"
        params = list(enterprise_ids)
    with store.read() as q:
        return q.dicts(sql + " ORDER BY created_at DESC LIMIT " + str(int(limit)), params)


def decide(
    store: Any,
    schedule_id: str,
    *,
    decision: str,
    user: str,
    now: datetime,
    edits: dict[tuple[str, datetime], float] | None = None,
    note: str | None = None,
) -> None:
    """Accept, edit (with per supply point and hour values) or reject a proposed schedule."""
    if decision not in ("accepted", "edited", "rejected"):
        raise InvalidInput(f"decision {decision!r}: one of accepted, edited, rejected")
    if decision == "edited" and not edits:
        raise InvalidInput("an edit needs at least one (supply point, hour) → °C value")
    with store.write() as w:
        row = w.one("SELECT status FROM ctl_schedules WHERE schedule_id = ?", [schedule_id])
        if row is None:
            raise NotFound(f"no schedule {schedule_id!r}")
        if row[0] not in ("proposed", "shadow"):
            raise Conflict(f"schedule {schedule_id} is already {row[0]}")
        for (sp, ts), v in (edits or {}).items():
            if not (0.0 < float(v) < 200.0):
                raise InvalidInput(f"edit {sp} at {ts}: {v} °C is not a supply temperature")
            n = w.execute(
                "UPDATE ctl_schedule_hours SET edited_c = ?"
                " WHERE schedule_id = ? AND supply_point = ? AND ts = ?",
                [float(v), schedule_id, sp, _utc(ts)],
            )
            if n == 0:
                raise NotFound(f"schedule {schedule_id} has no hour {ts} for {sp}")
        w.execute(
            "UPDATE ctl_schedules SET status = ?, decided_by = ?, decided_at = ?, note = ?"
            " WHERE schedule_id = ?",
            [decision, user, _utc(now), note, schedule_id],
        )


def save_shadow_day(
    store: Any,
    *,
    day: Any,
    network: str,
    schedule_id: str,
    schedule: dict[str, float],
    curve: dict[str, float],
    now: datetime,
) -> None:
    with store.write() as w:
        w.upsert(
            "ctl_shadow_days",
            [
                "day",
                "network",
                "schedule_id",
                "schedule_cost_yuan",
                "curve_cost_yuan",
                "schedule_heat_mwh",
                "curve_heat_mwh",
                "created_at",
            ],
            ["day", "network"],
            [
                (
                    day,
                    network,
                    schedule_id,
                    schedule["total_cost"],
                    curve["total_cost"],
                    schedule["heat_delivered_mwh"] + schedule["supply_loss_mwh"],
                    curve["heat_delivered_mwh"] + curve["supply_loss_mwh"],
                    _utc(now),
                )
            ],
        )


def shadow_days(store: Any, network: str, limit: int = 60) -> pd.DataFrame:
    with store.read() as q:
        return q.df(
            "SELECT * FROM ctl_shadow_days WHERE network = ? ORDER BY day DESC LIMIT "
            + str(int(limit)),
            [network],
        )
