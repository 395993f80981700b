"""The escalation chain of a breached SLA clock, through the alerts' webhook outbox.

Level 1 goes to the steward's enterprise supervisor at the breach; level 2 to the
community's government steward and level 3 to the regulator of the household's city,
each once the clock has been overdue for the configured time (``hl_settings``
``escalation_after_min``, default ``0,120,480`` minutes). Each escalation is recorded in
``hl_escalations`` and, when a webhook is configured (``hl_settings.webhook_url``, else
the monitoring default ``mon_settings.webhook_url``), queued in ``mon_alert_deliveries``
— the outbox ``nuanliu.monitor.webhook.deliver_pending`` posts — with ``alert_id`` 0
(not an alert) and event ``hotline.escalation``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

DEFAULT_AFTER_MIN = (0, 120, 480)
LEVEL_TARGETS = {1: "enterprise", 2: "government_steward", 3: "regulator"}
EVENT = "hotline.escalation"


def escalation_after(q: Any) -> tuple[int, ...]:
    raw = q.scalar("SELECT value FROM hl_settings WHERE key = 'escalation_after_min'")
    if not raw:
        return DEFAULT_AFTER_MIN
    return tuple(int(p) for p in str(raw).split(","))[:3]


def webhook_url(q: Any) -> str | None:
    return q.scalar("SELECT value FROM hl_settings WHERE key = 'webhook_url'") or q.scalar(
        "SELECT value FROM mon_settings WHERE key = 'webhook_url'"
    )


def due_level(breached_at: datetime, now: datetime, after_min: tuple[int, ...]) -> int:
    """The highest level whose delay since the breach has passed (0: none yet)."""
    level = 0
    for i, minutes in enumerate(after_min, start=1):
        if now >= breached_at + timedelta(minutes=minutes):
            level = i
    return level


def _target(q: Any, ticket: dict[str, Any], level: int) -> tuple[str | None, str | None]:
    if level == 1:
        row = q.one(
            "SELECT enterprise_id, name_zh FROM enterprises WHERE enterprise_id = ?",
            [ticket["enterprise_id"]],
        )
        return (row[0], row[1]) if row else (ticket["enterprise_id"], None)
    if level == 2:
        return ticket["community_id"], ticket["supervisor_name"]
    row = q.one(
        "SELECT hc.city_id, r.name_zh FROM household_context hc"
        " LEFT JOIN regions r ON r.region_id = hc.city_id WHERE hc.household_id = ?",
        [ticket["household_id"]],
    )
    return (row[0], row[1]) if row else (None, None)


def escalate(
    w: Any,
    ticket: dict[str, Any],
    clock: dict[str, Any],
    level: int,
    now: datetime,
    url: str | None,
) -> dict[str, Any]:
    """Record (and queue for the webhook) escalation ``level`` of one breached clock."""
    target_id, target_name = _target(w, ticket, level)
    payload = {
        "event": EVENT,
        "level": level,
        "target": LEVEL_TARGETS[level],
        "target_id": target_id,
        "target_name": target_name,
        "ticket_id": ticket["ticket_id"],
        "category": ticket["category"],
        "state": ticket["state"],
        "community_id": ticket["community_id"],
        "enterprise_id": ticket["enterprise_id"],
        "step": clock["step"],
        "round": clock["round_no"],
        "due_at": clock["due_at"].isoformat(),
        "breached_at": clock["breached_at"].isoformat(),
        "escalated_at": now.isoformat(),
    }
    delivery_id = None
    if url:
        delivery_id = w.scalar(
            "INSERT INTO mon_alert_deliveries (alert_id, event, url, payload, created_at)"
            " VALUES (0, ?, ?, ?, ?) RETURNING delivery_id",
            [EVENT, url, json.dumps(payload, ensure_ascii=False), now],
        )
    w.execute(
        "INSERT INTO hl_escalations (ticket_id, step, round_no, level, target_kind, target_id,"
        " target_name, escalated_at, delivery_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ticket["ticket_id"],
            clock["step"],
            clock["round_no"],
            level,
            LEVEL_TARGETS[level],
            target_id,
            target_name,
            now,
            delivery_id,
        ],
    )
    w.execute(
        "UPDATE hl_sla_clocks SET escalation_level = ? WHERE ticket_id = ? AND step = ?"
        " AND round_no = ?",
        [level, ticket["ticket_id"], clock["step"], clock["round_no"]],
    )
    return payload
