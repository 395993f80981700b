"""Periodic hotline work for the scheduler: ``sla_sweep(store, *, now) -> dict``.

One sweep, idempotent at a given ``now``: marks clocks whose deadline passed as breached,
escalates breached clocks level by level, reopens false closures, and then posts the
queued webhook events (``deliver=False`` leaves them in the outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nuanliu.hotline import escalation, falseclosure
from nuanliu.hotline.machine import Action
from nuanliu.hotline.stats_cache import bump
from nuanliu.hotline.tickets import SYSTEM, apply_action, load
from nuanliu.monitor.units import utc


def sla_sweep(store: Any, *, now: datetime, deliver: bool = True) -> dict[str, Any]:
    now = utc(now)
    summary: dict[str, Any] = {"breached": 0, "escalations": 0, "reopened": 0, "checked": 0}
    with store.write() as w:
        summary["breached"] = _mark_breaches(w, now)
        after = escalation.escalation_after(w)
        url = escalation.webhook_url(w)
        clocks = w.dicts(
            "SELECT * FROM hl_sla_clocks WHERE breached_at IS NOT NULL AND completed_at IS NULL"
            " AND escalation_level < ?",
            [len(after)],
        )
        tickets: dict[str, dict[str, Any]] = {}
        for clock in clocks:
            level = escalation.due_level(clock["breached_at"], now, after)
            if level <= int(clock["escalation_level"]):
                continue
            tid = clock["ticket_id"]
            ticket = tickets.get(tid) or tickets.setdefault(tid, load(w, tid))
            for lv in range(int(clock["escalation_level"]) + 1, level + 1):
                escalation.escalate(w, ticket, clock, lv, now, url)
                summary["escalations"] += 1
        for cand in falseclosure.candidates(w, now):
            summary["checked"] += 1
            verdict = falseclosure.judge(
                w, cand["household_id"], cand["fixed_at"], float(cand["std_c"])
            )
            if verdict["still_cold"]:
                apply_action(
                    w,
                    cand["ticket_id"],
                    Action.FALSE_CLOSURE,
                    actor=SYSTEM,
                    now=now,
                    note="sensor below standard after the fix",
                    **verdict,
                )
                summary["reopened"] += 1
            else:
                w.execute(
                    "UPDATE hl_tickets SET fix_checked_at = fixed_at WHERE ticket_id = ?",
                    [cand["ticket_id"]],
                )
    if summary["breached"] or summary["reopened"] or summary["checked"]:
        bump()
    if deliver and summary["escalations"]:
        from nuanliu.monitor.webhook import deliver_pending

        summary["deliveries"] = len(deliver_pending(store))
    return summary


def _mark_breaches(w: Any, now: datetime) -> int:
    """Running, unpaused clocks past their deadline: breached at the deadline."""
    cond = (
        "breached_at IS NULL AND due_at <= ? AND (completed_at IS NULL OR completed_at > due_at)"
        " AND (paused_since IS NULL OR due_at <= paused_since)"
    )
    count = int(w.scalar(f"SELECT COUNT(*) FROM hl_sla_clocks WHERE {cond}", [now]) or 0)
    if count:
        w.execute(f"UPDATE hl_sla_clocks SET breached_at = due_at WHERE {cond}", [now])
    return count
