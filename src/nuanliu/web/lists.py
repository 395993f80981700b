"""The lists behind the dashboard's numbers: households by status, offline sensors,
worst units. Each list is taken from the same snapshot or monitoring query as the count
it explains (docs/monitoring.md, "One definition per number"), so a KPI of 8 opens a
list of 8."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from nuanliu.scope import Scope
from nuanliu.web.data import (
    LEVEL_COLUMN,
    SNAPSHOT_CACHE,
    STATUS_ORDER,
    Thresholds,
    household_labels,
    scope_key,
    snapshot,
    store_key,
    worst_first,
)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
STATUS_KINDS = ("cold", "low", "overheated", "offline", "ok")
# "Not compliant today": what a steward visits first.
BELOW = ("cold", "low")


def in_unit(ctx: pd.DataFrame, level: str | None, entity_id: str | None) -> pd.DataFrame:
    if level is None:
        return ctx
    return ctx[ctx[LEVEL_COLUMN[level]] == entity_id]


def days_below_standard(store: Any, household_ids: list[str], today: date) -> dict[str, int]:
    """Local days in a row, up to today, whose daily mean was below the household's
    standard (a day without readings ends the run)."""
    if not household_ids:
        return {}
    marks = ", ".join("?" for _ in household_ids)
    with store.read() as q:
        rows = q.all(
            "SELECT d.household_id, d.local_day, d.sum_temp_c / d.n, hc.standard_temp_c"
            " FROM mon_household_daily d JOIN household_context hc"
            " ON hc.household_id = d.household_id"
            f" WHERE d.household_id IN ({marks}) AND d.local_day > ? AND d.local_day <= ?",
            [*household_ids, today - timedelta(days=60), today],
        )
    below: dict[str, set[date]] = {}
    for hid, day, mean, std in rows:
        if mean < (18.0 if std is None else float(std)):
            below.setdefault(str(hid), set()).add(pd.Timestamp(day).date())
    out = {}
    for hid in household_ids:
        days, n, day = below.get(hid, set()), 0, today
        while day in days:
            n, day = n + 1, day - timedelta(days=1)
        out[hid] = n
    return out


def households(
    store: Any,
    scope: Scope,
    statuses: tuple[str, ...],
    lang: str,
    *,
    level: str | None = None,
    entity_id: str | None = None,
    th: Thresholds | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Households in scope (and in the unit) whose status is one of ``statuses``: the
    longest below standard first, then the coldest."""
    snap = snapshot(store, scope, th=th)
    part = in_unit(snap.ctx, level, entity_id)
    part = part[part["status"].isin(statuses)]
    labels = household_labels(store, lang)
    today = snap.at.astimezone(LOCAL_TZ).date()
    ids = [str(h) for h in part["household_id"]]
    runs = SNAPSHOT_CACHE.get_or_compute(
        ("days-below", store_key(store), scope_key(scope), snap.at, level, entity_id, statuses),
        lambda: days_below_standard(store, ids, today),
    )
    out = []
    for r in part.to_dict("records"):
        hid = str(r["household_id"])
        last = r.get("last_ts")
        mean = r.get("day_mean_c")
        out.append(
            {
                "household_id": hid,
                "label": labels.get(hid, {}).get("label", hid),
                "href": f"/households/{hid}",
                "building_id": str(r["building_id"]),
                "station_id": None if pd.isna(r["station_id"]) else str(r["station_id"]),
                "status": r["status"],
                "temp_c": None if mean is None or pd.isna(mean) else float(mean),
                "standard_temp_c": float(r["standard_temp_c"]),
                "days_below": runs.get(hid, 0),
                "last_ts": None if last is None or pd.isna(last) else last,
            }
        )
    out.sort(
        key=lambda x: (
            -x["days_below"],
            STATUS_ORDER[x["status"]],
            x["temp_c"] if x["temp_c"] is not None else 99.0,
            x["household_id"],
        )
    )
    return out[:limit] if limit else out


def worst_units(
    store: Any,
    scope: Scope,
    child: str,
    *,
    level: str | None = None,
    entity_id: str | None = None,
    th: Thresholds | None = None,
    limit: int = 5,
    below_pct: float | None = None,
) -> list[dict[str, Any]]:
    """The units of level ``child`` with the lowest compliance today (reporting ones),
    only those below ``below_pct`` (their target) when given."""
    snap = snapshot(store, scope, th=th)
    if level is None:
        rows = list(snap.units.get(child, {}).values())
    else:
        rows = snap.children(level, entity_id, child)
    keep = [r for r in worst_first(rows) if r["rate_pct"] is not None]
    if below_pct is not None:
        keep = [r for r in keep if r["rate_pct"] < below_pct]
    return keep[:limit]


def offline_sensors(
    store: Any,
    scope: Scope,
    lang: str,
    *,
    level: str | None = None,
    entity_id: str | None = None,
    th: Thresholds | None = None,
) -> list[dict[str, Any]]:
    """Sensors silent for longer than the offline window at the snapshot's time — the
    monitoring service's list, the same rule as the offline count — longest first."""
    from nuanliu.monitor.homes import offline_sensors as monitor_offline
    from nuanliu.web.i18n import enum_label

    th = th or Thresholds()
    snap = snapshot(store, scope, th=th)
    # One query per snapshot (a minute) and scope: the list changes no faster than the
    # count it explains.
    df = SNAPSHOT_CACHE.get_or_compute(
        ("offline-list", store_key(store), scope_key(scope), snap.at, th.offline_after),
        lambda: monitor_offline(store, scope, as_of=snap.at, silent_for=th.offline_after),
    )
    keep = set(in_unit(snap.ctx, level, entity_id)["household_id"].astype(str))
    labels = household_labels(store, lang)
    out = []
    for r in df.to_dict("records"):
        hid = str(r["household_id"])
        if hid not in keep:
            continue
        silent = r.get("silent_h")
        out.append(
            {
                "sensor_id": str(r["sensor_id"]),
                "household_id": hid,
                "label": labels.get(hid, {}).get("label", hid),
                "href": f"/households/{hid}",
                "room": enum_label("room", r.get("room"), lang),
                "last_ts": None if pd.isna(r["last_seen"]) else r["last_seen"],
                "silent_h": None if silent is None or pd.isna(silent) else float(silent),
            }
        )
    return out
