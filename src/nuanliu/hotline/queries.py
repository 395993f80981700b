"""Scoped reads for the API and the pages: the queue, one ticket with everything on it.

Visibility is the household's: a ticket is seen by whoever sees its household
(``Scope.where`` over ``household_context``) — a steward only its communities', an
enterprise only its own, a resident only their own. Personal data is masked when the
scope says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nuanliu.errors import NotFound
from nuanliu.hotline import evidence, sla
from nuanliu.hotline.machine import legal_actions
from nuanliu.hotline.model import Category, State
from nuanliu.hotline.stats_cache import cached, store_key
from nuanliu.registry.masking import mask_name, mask_phone
from nuanliu.scope import Scope

QUEUE_LIMIT = 60  # cards on one page; exports take up to 5,000
QUEUE_TTL_S = 10.0  # the queue is re-read at most this often per scope and filter


@dataclass(frozen=True)
class QueueFilter:
    state: str | None = None  # a State, "open" (default) or "all"
    category: str | None = None
    community_id: str | None = None
    channel: str | None = None
    overdue_only: bool = False
    text: str | None = None  # ticket id, 12345 order number or address fragment
    limit: int = QUEUE_LIMIT


def _mask(row: dict[str, Any], scope: Scope) -> dict[str, Any]:
    if scope.mask_personal:
        for k in ("caller_name", "resident_name"):
            if k in row:
                row[k] = mask_name(row[k])
        for k in ("caller_phone", "resident_phone"):
            if k in row:
                row[k] = mask_phone(row[k])
    return row


def visible(q: Any, scope: Scope, ticket_id: str) -> bool:
    cond, params = scope.where("hc")
    return bool(
        q.all(
            "SELECT 1 FROM hl_tickets t JOIN household_context hc"
            f" ON hc.household_id = t.household_id WHERE t.ticket_id = ? AND ({cond})",
            [ticket_id, *params],
        )
    )


def queue(store: Any, scope: Scope, f: QueueFilter, now: datetime) -> list[dict[str, Any]]:
    """Tickets in scope, the most urgent deadline first, with the next running clock."""
    cond, params = scope.where("hc")
    where = [f"({cond})"]
    args: list[Any] = list(params)
    if f.state in (None, "", "open"):
        where.append("t.state <> 'closed'")
    elif f.state != "all":
        where.append("t.state = ?")
        args.append(State(f.state).value)
    if f.category:
        where.append("t.category = ?")
        args.append(Category(f.category).value)
    if f.community_id:
        where.append("t.community_id = ?")
        args.append(f.community_id)
    if f.channel:
        where.append("t.channel = ?")
        args.append(f.channel)
    if f.text:
        where.append("(t.ticket_id = ? OR t.order_no_12345 = ? OR h.address LIKE ?)")
        args += [f.text.strip(), f.text.strip(), f"%{f.text.strip()}%"]
    having = "HAVING MIN(c.due_at) < ?" if f.overdue_only else ""
    sql = f"""
        SELECT t.ticket_id, t.household_id, t.community_id, t.category, t.state, t.channel,
               t.urgency, t.created_at, t.handler_name, t.supervisor_name, t.order_no_12345,
               t.false_closure, t.reopen_count, t.paused_since, h.address, cm.name_zh AS
               community_zh, cm.name_en AS community_en, e.verdict,
               MIN(c.due_at) AS next_due_at
        FROM hl_tickets t
        JOIN household_context hc ON hc.household_id = t.household_id
        JOIN households h ON h.household_id = t.household_id
        LEFT JOIN communities cm ON cm.community_id = t.community_id
        LEFT JOIN hl_evidence e ON e.ticket_id = t.ticket_id
        LEFT JOIN hl_sla_clocks c ON c.ticket_id = t.ticket_id AND c.completed_at IS NULL
             AND c.paused_since IS NULL
        WHERE {" AND ".join(where)}
        GROUP BY t.ticket_id, t.household_id, t.community_id, t.category, t.state, t.channel,
               t.urgency, t.created_at, t.handler_name, t.supervisor_name, t.order_no_12345,
               t.false_closure, t.reopen_count, t.paused_since, h.address, cm.name_zh,
               cm.name_en, e.verdict
        {having}
        ORDER BY CASE WHEN MIN(c.due_at) IS NULL THEN 1 ELSE 0 END, MIN(c.due_at),
                 t.created_at DESC
        LIMIT ?
    """
    if f.overdue_only:
        args.append(now.replace(second=0, microsecond=0))
    args.append(max(1, min(int(f.limit), 5000)))

    def read() -> list[dict[str, Any]]:
        with store.read() as q:
            return q.dicts(sql, args)

    # Many people watch the same queue: one read per scope, filter and TTL (any ticket
    # change in this process drops it at once); the countdowns are computed below, fresh.
    key = ("queue", store_key(store), sql, tuple(args), int(now.timestamp() // QUEUE_TTL_S))
    rows = [dict(r) for r in cached(key, read)]
    for r in rows:
        due = r["next_due_at"]
        r["remaining_min"] = None if due is None else (due - now).total_seconds() / 60.0
    return rows


def ticket_detail(store: Any, scope: Scope, ticket_id: str, now: datetime) -> dict[str, Any]:
    """Everything on one ticket (NotFound when outside the scope)."""
    with store.read() as q:
        if not visible(q, scope, ticket_id):
            raise NotFound(f"ticket {ticket_id} not found", details={"ticket_id": ticket_id})
        t = q.dicts(
            "SELECT t.*, h.address, h.resident_name, h.resident_phone, h.floor_area_m2,"
            " cm.name_zh AS community_zh, cm.name_en AS community_en"
            " FROM hl_tickets t JOIN households h ON h.household_id = t.household_id"
            " LEFT JOIN communities cm ON cm.community_id = t.community_id"
            " WHERE t.ticket_id = ?",
            [ticket_id],
        )[0]
        events = q.dicts(
            "SELECT event_at, actor, actor_role, action, from_state, to_state, note, data"
            " FROM hl_events WHERE ticket_id = ? ORDER BY event_at, event_id",
            [ticket_id],
        )
        visits = q.dicts(
            "SELECT visitor, visited_at, bedroom_temp_c, living_room_temp_c, standard_temp_c,"
            " below_standard, actions, photos FROM hl_visits WHERE ticket_id = ?"
            " ORDER BY visit_id",
            [ticket_id],
        )
        clocks = q.dicts(
            "SELECT step, round_no, started_at, budget_minutes, paused_minutes, paused_since,"
            " due_at, completed_at, breached_at, escalation_level FROM hl_sla_clocks"
            " WHERE ticket_id = ? ORDER BY round_no, started_at,"
            " CASE step WHEN 'sign' THEN 1 WHEN 'arrive' THEN 2 WHEN 'measure' THEN 3"
            " WHEN 'fix' THEN 4 WHEN 'followup' THEN 5 ELSE 6 END",
            [ticket_id],
        )
        escalations = q.dicts(
            "SELECT step, round_no, level, target_kind, target_id, target_name, escalated_at"
            " FROM hl_escalations WHERE ticket_id = ? ORDER BY escalation_id",
            [ticket_id],
        )
        ev = evidence.load_snapshot(q, ticket_id)
    for e in events:
        e["data"] = json.loads(e["data"]) if e["data"] else None
    for v in visits:
        v["photos"] = json.loads(v["photos"]) if v["photos"] else []
    for c in clocks:
        left = sla.remaining(c, now)
        c["remaining_min"] = None if left is None else left.total_seconds() / 60.0
        c["met"] = sla.clock_met(c)
    t["attachments"] = json.loads(t["attachments"]) if t["attachments"] else []
    t["legal_actions"] = [str(a) for a in legal_actions(State(t["state"]), Category(t["category"]))]
    return {
        "ticket": _mask(t, scope),
        "events": events,
        "visits": visits,
        "clocks": clocks,
        "escalations": escalations,
        "evidence": ev,
    }
