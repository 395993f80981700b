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


def open_records(store: Any, scope: Scope) -> list[dict[str, Any]]:
    """Open alerts (raised or acknowledged, not cleared) the caller may see, newest first:
    the one list every count and page of open alerts is taken from."""
    if not _has_alert_table(store):
        return []
    from nuanliu.monitor.alerts import list_alerts as monitor_alerts

    return ALERT_CACHE.get_or_compute(
        ("list", store_key(store), scope_key(scope), "open", 100_000),
        lambda: monitor_alerts(store, scope, state="open", limit=100_000).to_dict("records"),
    )


def _sensor_households(store: Any) -> dict[str, str]:
    def load() -> dict[str, str]:
        with store.read() as q:
            return {
                str(s): str(h) for s, h in q.all("SELECT sensor_id, household_id FROM sensors", [])
            }

    return ALERT_CACHE.get_or_compute(("sensor-households", store_key(store)), load)


def units_of(store: Any, scope: Scope, record: dict[str, Any]) -> set[tuple[str, str]]:
    """The units an alert belongs to: its subject and every unit above it (a household
    alert counts for its building, station, enterprise, city and region; a station alert
    for the station and above, not for its buildings)."""
    from nuanliu.web.data import CHAIN, LEVEL_COLUMN, ancestors

    kind, subject = str(record["subject_kind"]), str(record["subject_id"])
    if kind == "sensor":
        kind, subject = "household", _sensor_households(store).get(subject, "")
    if kind not in LEVEL_COLUMN:  # county, community: only the whole scope counts them
        return set()
    chain = ancestors(store, scope, kind, subject)  # memoised per snapshot and level
    upto = CHAIN[: CHAIN.index(kind) + 1]
    return {(lv, chain[lv]) for lv in upto if lv in chain}


def open_counts(
    store: Any, scope: Scope, level: str | None = None, entity_id: str | None = None
) -> dict[str, int] | None:
    """``{"open": n, "unacknowledged": m}`` of the whole scope or of one unit (alerts
    about it or anything inside it); None when the store has no alerts tables."""
    if not _has_alert_table(store):
        return None
    records = filter_unit(store, scope, open_records(store, scope), level, entity_id)
    return {
        "open": len(records),
        "unacknowledged": sum(1 for r in records if _ts(r["acknowledged_at"]) is None),
    }


def filter_unit(
    store: Any,
    scope: Scope,
    records: list[dict[str, Any]],
    level: str | None,
    entity_id: str | None,
) -> list[dict[str, Any]]:
    if level is None:
        return records
    index = _unit_index(store, scope, records)
    return [records[i] for i in index.get((level, str(entity_id)), [])]


def _unit_index(
    store: Any, scope: Scope, records: list[dict[str, Any]]
) -> dict[tuple[str, str], list[int]]:
    """unit → positions of its alerts in ``records``, built once per cached list."""

    def build() -> tuple[list[dict[str, Any]], dict[tuple[str, str], list[int]]]:
        index: dict[tuple[str, str], list[int]] = {}
        for i, r in enumerate(records):
            for unit in units_of(store, scope, r):
                index.setdefault(unit, []).append(i)
        return records, index

    key = ("unit-index", store_key(store), scope_key(scope), id(records))
    owner, index = ALERT_CACHE.get_or_compute(key, build)
    return index if owner is records else build()[1]


def list_alerts(
    store: Any,
    scope: Scope,
    lang: str,
    *,
    state: str = "open",
    household_id: str | None = None,
    alert_id: int | None = None,
    sensor_ids: list[str] | None = None,
    unit: tuple[str, str] | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Alerts newest first (``open`` = not cleared; ``all``), from the monitoring service;
    ``unit=(level, id)`` keeps those about that unit or anything inside it."""
    if not _has_alert_table(store):
        return []
    from nuanliu.monitor.alerts import list_alerts as monitor_alerts

    if household_id is not None or alert_id is not None:
        records = _alerts_of(store, household_id, alert_id, sensor_ids)
        if state == "open":
            records = [r for r in records if r["cleared_at"] is None]
    elif state == "open":
        records = open_records(store, scope)
    else:
        records = ALERT_CACHE.get_or_compute(
            ("list", store_key(store), scope_key(scope), None, limit),
            lambda: monitor_alerts(store, scope, state=None, limit=limit).to_dict("records"),
        )
    if unit is not None:
        records = filter_unit(store, scope, records, unit[0], unit[1])
    out = []
    for r in records[:limit]:
        name = subject_name(store, r["subject_kind"], r["subject_id"], lang)
        detail = (r["message_en"] if lang == "en" else r["message_zh"]) or ""
        out.append(
            {
                "alert_id": int(r["alert_id"]),
                "kind": (r["rule_name_en"] if lang == "en" else r["rule_name_zh"]) or r["rule_id"],
                "severity": r["severity"] if r["severity"] in SEVERITIES else "warning",
                "subject": name,
                "subject_id": r["subject_id"],
                "subject_kind": r["subject_kind"],
                "href": _subject_href(store, r["subject_kind"], r["subject_id"]),
                "detail": detail.replace(str(r["subject_id"]), name),
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


def subject_name(store: Any, kind: str, subject_id: str, lang: str) -> str:
    """What people call an alert's subject: the unit's name, a home's building and flat,
    a sensor's home and room — never a bare id when a name exists."""
    from nuanliu.web.data import household_labels, names
    from nuanliu.web.i18n import enum_label, local_name

    table = {"region": "regions", "city": "regions", "county": "regions",
             "enterprise": "enterprises", "station": "stations", "building": "buildings",
             "community": "communities"}.get(kind)  # fmt: skip
    if table is not None:
        row = names(store)[table].get(str(subject_id))
        return (local_name(row, lang) if row else "") or str(subject_id)
    if kind == "household":
        return household_labels(store, lang).get(str(subject_id), {}).get("label") or str(
            subject_id
        )
    if kind == "sensor":
        info = household_labels(store, lang).get(
            _sensor_households(store).get(str(subject_id), ""), {}
        )
        room = enum_label("room", _sensor_rooms(store).get(str(subject_id)), lang)
        return " ".join(x for x in (info.get("label"), room) if x) or str(subject_id)
    return str(subject_id)


def _sensor_rooms(store: Any) -> dict[str, str]:
    def load() -> dict[str, str]:
        with store.read() as q:
            return {str(s): r for s, r in q.all("SELECT sensor_id, room FROM sensors", [])}

    return ALERT_CACHE.get_or_compute(("sensor-rooms", store_key(store)), load)


def _subject_href(store: Any, kind: str, subject_id: str) -> str | None:
    if kind == "sensor":
        household = _sensor_households(store).get(str(subject_id))
        return f"/households/{household}" if household else None
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
