"""Alerts as the dashboard shows them: scoped list, open count, acknowledgement.

Alerts live in the monitoring tables (``mon_alerts``: one row per rule and subject with
its lifecycle raised → acknowledged → cleared). An alert is visible when its subject is
visible: a household or sensor in the caller's scope, or a unit (station, enterprise,
city, …) above at least one household in scope.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanliu.errors import NotFound, PermissionDenied
from nuanliu.scope import Scope

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
    try:
        with store.read() as q:
            q.all("SELECT 1 FROM mon_alerts WHERE 1 = 0", [])
        return True
    except Exception:  # the monitoring migration may not be installed
        return False


def open_count(store: Any, scope: Scope) -> int | None:
    """Open (not cleared, not acknowledged) alerts the caller may see; None without alerts."""
    if not _has_alert_table(store):
        return None
    clause, params = _visible_clause(scope)
    with store.read() as q:
        rows = q.all(
            "SELECT COUNT(*) FROM mon_alerts a WHERE a.cleared_at IS NULL "
            f"AND a.acknowledged_at IS NULL AND {clause}",
            params,
        )
    return int(rows[0][0])


def list_alerts(
    store: Any,
    scope: Scope,
    lang: str,
    *,
    state: str = "open",
    household_id: str | None = None,
    alert_id: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Alerts newest first: ``open`` = not cleared; ``all`` = every alert."""
    if not _has_alert_table(store):
        return []
    clause, params = _visible_clause(scope)
    conds = [clause]
    if state == "open":
        conds.append("a.cleared_at IS NULL")
    if household_id is not None:
        conds.append(
            "((a.subject_kind = 'household' AND a.subject_id = ?) OR (a.subject_kind = 'sensor'"
            " AND a.subject_id IN (SELECT sensor_id FROM sensors WHERE household_id = ?)))"
        )
        params = [*params, household_id, household_id]
    if alert_id is not None:
        conds.append("a.alert_id = ?")
        params = [*params, alert_id]
    sql = (
        "SELECT a.alert_id, a.rule_id, a.subject_kind, a.subject_id, a.state, a.raised_at,"
        " a.last_value, a.acknowledged_at, a.acknowledged_by, a.cleared_at, a.message_zh,"
        " a.message_en, r.metric, r.severity FROM mon_alerts a"
        " LEFT JOIN mon_alert_rules r ON r.rule_id = a.rule_id"
        f" WHERE {' AND '.join(conds)} ORDER BY a.raised_at DESC LIMIT {int(limit)}"
    )
    with store.read() as q:
        rows = q.all(sql, params)
    out = []
    for row in rows:
        (alert_id, _rule, kind, subject, _state, raised, _value, acked_at, acked_by, cleared,
         msg_zh, msg_en, metric, severity) = row  # fmt: skip
        out.append(
            {
                "alert_id": int(alert_id),
                "kind": metric or "other",
                "severity": severity or "warning",
                "subject": subject,
                "subject_kind": kind,
                "href": _subject_href(kind, subject),
                "detail": (msg_en if lang == "en" else msg_zh) or msg_zh or msg_en,
                "opened_at": raised,
                "acknowledged_at": acked_at,
                "acknowledged_by": acked_by,
                "cleared_at": cleared,
            }
        )
    return out


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
    try:
        from nuanliu.monitor import acknowledge_alert  # type: ignore[attr-defined]
    except ImportError:
        acknowledge_alert = None
    with store.read() as q:
        found = q.all(f"SELECT a.alert_id FROM mon_alerts a WHERE a.alert_id = ? AND {clause}",
                      [alert_id, *params])  # fmt: skip
    if not found:
        raise NotFound(f"alert {alert_id} not found", details={"alert_id": alert_id})
    if acknowledge_alert is not None:
        acknowledge_alert(store, alert_id, user.username)
    else:
        with store.write() as w:
            w.execute(
                "UPDATE mon_alerts SET acknowledged_at = ?, acknowledged_by = ?, state = ?"
                " WHERE alert_id = ? AND acknowledged_at IS NULL",
                [datetime.now(UTC), user.username, "acknowledged", alert_id],
            )
    for alert in list_alerts(store, scope, lang, state="all", alert_id=alert_id):
        return alert
    raise NotFound(f"alert {alert_id} not found", details={"alert_id": alert_id})
