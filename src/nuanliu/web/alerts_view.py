"""Alerts as the dashboard shows them: scoped list, open count, acknowledgement.

Alerts live in the monitoring tables (``mon_alerts``: one row per rule and subject with
its lifecycle raised → acknowledged → cleared). An alert is visible when its subject is
visible: a household or sensor in the caller's scope, or a unit (station, enterprise,
city, …) above at least one household in scope.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd

from nuanliu.errors import NotFound, PermissionDenied
from nuanliu.scope import Scope
from nuanliu.web.cache import TTLCache
from nuanliu.web.data import scope_key, store_key

# Lists and counts per scope; acknowledging clears it, new alerts show within 30 s
# (alerts are evaluated once a minute).
ALERT_CACHE = TTLCache(ttl_s=30.0, stale_s=300.0, max_entries=512)

# subject_kind -> household_context column that identifies it
_UNIT_COLUMNS = {
    "household": "household_id",
    "building": "building_id",
    "station": "station_id",
    "enterprise": "enterprise_id",
    "community": "community_id",
    "county": "county_id",
    "city": "city_id",
    "region": "region_id",
}
SEVERITIES = frozenset({"info", "warning", "critical"})
ACK_ROLES = frozenset({"enterprise_admin", "enterprise_operator", "steward"})


def _visible_clause(scope: Scope) -> tuple[str, list[Any]]:
    """SQL condition on alias ``a`` (mon_alerts) true when the caller may see the alert."""
    where, params = scope.where("hc")
    parts: list[str] = []
    all_params: list[Any] = []
    for kind, column in _UNIT_COLUMNS.items():
        parts.append(
            f"(a.subject_kind = '{kind}' AND EXISTS (SELECT 1 FROM household_context hc "
            f"WHERE hc.{column} = a.subject_id AND {where}))"
        )
        all_params.extend(params)
    parts.append(
        "(a.subject_kind = 'sensor' AND EXISTS (SELECT 1 FROM sensors s JOIN household_context hc"
        f" ON hc.household_id = s.household_id WHERE s.sensor_id = a.subject_id AND {where}))"
    )
    all_params.extend(params)
    return "(" + " OR ".join(parts) + ")", all_params


def _has_alert_table(store: Any) -> bool:
    if getattr(store, "_nuanliu_web_has_alerts", False):
        return True
    try:
        with store.read() as q:
            q.all("SELECT 1 FROM mon_alerts WHERE 1 = 0", [])
    except Exception:  # the monitoring migration may not be installed
        return False
    with contextlib.suppress(AttributeError):  # the table never goes away once migrated
        store._nuanliu_web_has_alerts = True
    return True


def open_count(store: Any, scope: Scope) -> int | None:
    """Open (not cleared, not acknowledged) alerts the caller may see; None without alerts."""
    if not _has_alert_table(store):
        return None

    def load() -> int:
        clause, params = _visible_clause(scope)
        with store.read() as q:
            rows = q.all(
                "SELECT COUNT(*) FROM mon_alerts a WHERE a.cleared_at IS NULL "
                f"AND a.acknowledged_at IS NULL AND {clause}",
                params,
            )
        return int(rows[0][0])

    return ALERT_CACHE.get_or_compute(("count", store_key(store), scope_key(scope)), load)


def list_alerts(
    store: Any,
    scope: Scope,
    lang: str,
    *,
    state: str = "open",
    household_id: str | None = None,
    alert_id: int | None = None,
    sensor_ids: list[str] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Alerts newest first (``open`` = not cleared; ``all``), from the monitoring service."""
    if not _has_alert_table(store):
        return []
    from nuanliu.monitor.alerts import list_alerts as monitor_alerts

    if household_id is not None or alert_id is not None:
        records = _alerts_of(store, household_id, alert_id, sensor_ids)
        if state == "open":
            records = [r for r in records if r["cleared_at"] is None]
    else:
        mon_state = "open" if state == "open" else None
        records = ALERT_CACHE.get_or_compute(
            ("list", store_key(store), scope_key(scope), mon_state, limit),
            lambda: monitor_alerts(store, scope, state=mon_state, limit=limit).to_dict("records"),
        )
    out = []
    for r in records[:limit]:
        out.append(
            {
                "alert_id": int(r["alert_id"]),
                "kind": (r["rule_name_en"] if lang == "en" else r["rule_name_zh"]) or r["rule_id"],
                "severity": r["severity"] if r["severity"] in SEVERITIES else "warning",
                "subject": r["subject_id"],
                "subject_kind": r["subject_kind"],
                "href": _subject_href(r["subject_kind"], r["subject_id"]),
                "detail": (r["message_en"] if lang == "en" else r["message_zh"]) or "",
                "opened_at": _ts(r["raised_at"]),
                "acknowledged_at": _ts(r["acknowledged_at"]),
                "acknowledged_by": r["acknowledged_by"],
                "cleared_at": _ts(r["cleared_at"]),
            }
        )
    return out


ALERT_COLUMNS = (
    "SELECT a.alert_id, a.rule_id, r.name_zh AS rule_name_zh, r.name_en AS rule_name_en,"
    " r.severity, a.subject_kind, a.subject_id, a.state, a.raised_at, a.raised_value,"
    " a.last_value, a.acknowledged_at, a.acknowledged_by, a.cleared_at, a.message_zh,"
    " a.message_en FROM mon_alerts a LEFT JOIN mon_alert_rules r ON r.rule_id = a.rule_id"
)


ALERT_NAMES = [
    "alert_id", "rule_id", "rule_name_zh", "rule_name_en", "severity", "subject_kind",
    "subject_id", "state", "raised_at", "raised_value", "last_value", "acknowledged_at",
    "acknowledged_by", "cleared_at", "message_zh", "message_en",
]  # fmt: skip


def _alerts_of(
    store: Any, household_id: str | None, alert_id: int | None, sensor_ids: list[str] | None
) -> list[dict[str, Any]]:
    """One household's alerts (the caller checked the household is visible; pass its
    ``sensor_ids`` when known) or one alert (checked visible), newest first."""
    with store.read() as q:
        if alert_id is not None:
            cond, params = "a.alert_id = ?", [alert_id]
        else:
            if sensor_ids is None:
                sensor_ids = [
                    r[0]
                    for r in q.all(
                        "SELECT sensor_id FROM sensors WHERE household_id = ?", [household_id]
                    )  # fmt: skip
                ]
            cond, params = "(a.subject_kind = 'household' AND a.subject_id = ?)", [household_id]
            if sensor_ids:
                marks = ", ".join("?" for _ in sensor_ids)
                cond += f" OR (a.subject_kind = 'sensor' AND a.subject_id IN ({marks}))"
                params += sensor_ids
        rows = q.all(f"{ALERT_COLUMNS} WHERE {cond} ORDER BY a.raised_at DESC LIMIT 200", params)
    return [dict(zip(ALERT_NAMES, row, strict=True)) for row in rows]


def _ts(value: Any) -> Any:
    return None if value is None or pd.isna(value) else value


def _subject_href(kind: str, subject_id: str) -> str | None:
    if kind == "household":
        return f"/households/{subject_id}"
    if kind == "station":
        return f"/stations/{subject_id}"
    if kind in ("region", "city", "enterprise", "building"):
        return f"/drill/{kind}/{subject_id}"
    return None


def can_acknowledge(user: Any) -> bool:
    return str(user.role) in ACK_ROLES


def acknowledge(store: Any, scope: Scope, user: Any, alert_id: int, lang: str) -> dict[str, Any]:
    """Mark a visible alert acknowledged by ``user``; returns the updated alert."""
    if not can_acknowledge(user):
        raise PermissionDenied(
            f"role {user.role} may not acknowledge alerts", details={"role": str(user.role)}
        )
    clause, params = _visible_clause(scope)
    from nuanliu.monitor.alerts import acknowledge as monitor_acknowledge

    with store.read() as q:
        found = q.all(
            f"SELECT a.alert_id FROM mon_alerts a WHERE a.alert_id = ? AND {clause}",
            [alert_id, *params],
        )
    if not found:
        raise NotFound(f"alert {alert_id} not found", details={"alert_id": alert_id})
    monitor_acknowledge(store, alert_id, user.username)
    ALERT_CACHE.clear()  # every scope's list and count may include this alert
    for alert in list_alerts(store, scope, lang, state="all", alert_id=alert_id):
        return alert
    raise NotFound(f"alert {alert_id} not found", details={"alert_id": alert_id})
