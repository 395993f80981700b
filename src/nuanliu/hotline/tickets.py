"""Creating tickets and applying actions: the one writer of ``hl_tickets``.

Every change goes through ``next_state`` (the state machine), writes one timeline event
and moves the SLA clocks in the same transaction. Callers check visibility (scope)
first; this module checks what the ticket's state and the action's fields allow.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.hotline import evidence, sla
from nuanliu.hotline.calendar import load_calendar
from nuanliu.hotline.machine import REOPEN_RESET, Action, IllegalTransition, next_state
from nuanliu.hotline.model import (
    TEMPERATURE_CATEGORIES,
    Category,
    Channel,
    PauseReason,
    Satisfaction,
    State,
    Step,
    Urgency,
    parse,
)
from nuanliu.monitor.units import utc

MIN_FAILED_FOLLOWUP_CALLS = 2  # a failed follow-up is documented by at least this many calls
ROOM_TEMP_RANGE_C = (-20.0, 45.0)


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


SYSTEM = Actor("system", "system")


@dataclass(frozen=True)
class NewTicket:
    household_id: str
    category: Category | str
    description: str
    channel: Channel | str = Channel.HOTLINE
    urgency: Urgency | str = Urgency.NORMAL
    caller_name: str | None = None
    caller_phone: str | None = None
    attachments: Sequence[str] = ()
    order_no_12345: str | None = None


def _event(
    w: Any,
    ticket_id: str,
    at: datetime,
    actor: Actor,
    action: str,
    before: str | None,
    after: str | None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    w.execute(
        "INSERT INTO hl_events (ticket_id, event_at, actor, actor_role, action, from_state,"
        " to_state, note, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ticket_id,
            at,
            actor.name,
            actor.role,
            action,
            before,
            after,
            note,
            json.dumps(data, ensure_ascii=False, default=str) if data else None,
        ],
    )


def create_ticket(w: Any, new: NewTicket, *, actor: Actor, now: datetime) -> str:
    """File a ticket inside the writer's transaction; returns its id.

    Routes it to the household's community (enterprise steward handles, government
    steward supervises), takes the sensor evidence and starts the SLA clocks.
    """
    now = utc(now)
    category = parse(Category, new.category, "category")
    channel = parse(Channel, new.channel, "channel")
    urgency = parse(Urgency, new.urgency, "urgency")
    description = (new.description or "").strip()
    if not description:
        raise InvalidInput("description is empty", details={"field": "description"})
    route = w.one(
        "SELECT hc.community_id, hc.enterprise_id, c.enterprise_steward_name,"
        " c.enterprise_steward_phone, c.government_steward_name, c.government_steward_phone"
        " FROM household_context hc LEFT JOIN communities c ON c.community_id = hc.community_id"
        " WHERE hc.household_id = ?",
        [new.household_id],
    )
    if route is None:
        raise NotFound(
            f"household {new.household_id!r} not found",
            details={"field": "household_id", "value": new.household_id},
        )
    if route[0] is None:
        raise InvalidInput(
            f"household {new.household_id!r} has no community to route the ticket to",
            details={"field": "household_id", "value": new.household_id},
        )
    cal = load_calendar(w)
    season, part = cal.season_label(now), cal.season_part(now)
    seq = int(w.scalar("SELECT nextval('hl_ticket_seq')"))
    ticket_id = f"HL{seq:08d}"
    w.execute(
        "INSERT INTO hl_tickets (ticket_id, household_id, community_id, enterprise_id, category,"
        " state, channel, urgency, description, attachments, caller_name, caller_phone,"
        " order_no_12345, season, season_part, handler_name, handler_phone, supervisor_name,"
        " supervisor_phone, created_at, created_by, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ticket_id,
            new.household_id,
            route[0],
            route[1],
            str(category),
            str(State.NEW),
            str(channel),
            str(urgency),
            description,
            json.dumps(list(new.attachments), ensure_ascii=False),
            new.caller_name,
            new.caller_phone,
            new.order_no_12345,
            season,
            part,
            route[2],
            route[3],
            route[4],
            route[5],
            now,
            actor.name,
            now,
        ],
    )
    _event(w, ticket_id, now, actor, "create", None, str(State.NEW), description)
    ev = evidence.collect(w, new.household_id, category, now)
    evidence.store_snapshot(w, ticket_id, ev, now)
    sla.start_clocks(
        w,
        ticket_id,
        sla.steps_on_open(category, channel, first_round=True),
        round_no=1,
        start=cal.clock_start(now),
        category=category,
        season_part=part,
    )
    return ticket_id


def load(q: Any, ticket_id: str) -> dict[str, Any]:
    rows = q.dicts("SELECT * FROM hl_tickets WHERE ticket_id = ?", [ticket_id])
    if not rows:
        raise NotFound(f"ticket {ticket_id} not found", details={"ticket_id": ticket_id})
    return rows[0]


def _temp(value: Any, field: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        t = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} {value!r} is not a number", details={"field": field}) from None
    lo, hi = ROOM_TEMP_RANGE_C
    if not math.isfinite(t) or not lo <= t <= hi:
        raise InvalidInput(
            f"{field} {t} °C is outside {lo}..{hi} °C", details={"field": field, "value": t}
        )
    return t


def _require(fields: dict[str, Any], name: str) -> str:
    value = str(fields.get(name) or "").strip()
    if not value:
        raise InvalidInput(f"{name} is required for this action", details={"field": name})
    return value


def apply_action(
    w: Any,
    ticket_id: str,
    action: Action | str,
    *,
    actor: Actor,
    now: datetime,
    **fields: Any,
) -> dict[str, Any]:
    """Apply ``action`` to the ticket inside the writer's transaction; the updated row."""
    now = utc(now)
    action = Action(parse(Action, action, "action"))
    t = load(w, ticket_id)
    state, category = State(t["state"]), Category(t["category"])
    paused = t["paused_since"] is not None
    if action is Action.PAUSE and paused:
        raise IllegalTransition(
            f"ticket {ticket_id} is already paused", details={"action": "pause"}
        )
    if action is Action.RESUME and not paused:
        raise IllegalTransition(f"ticket {ticket_id} is not paused", details={"action": "resume"})
    target = next_state(state, action, category)
    sets: dict[str, Any] = {"state": str(target), "updated_at": now}
    note = str(fields.get("note") or "").strip() or None
    data: dict[str, Any] = {}
    if paused and action in (Action.SIGN, Action.ARRIVE, Action.MEASURE, Action.FIX):
        _resume(w, ticket_id, now, actor, auto=True)  # work at the door ends the pause
        sets.update(paused_since=None, pause_reason=None)

    if action is Action.SIGN:
        sets["signed_at"] = now
        sla.complete_clock(w, ticket_id, Step.SIGN, now)
    elif action is Action.ARRIVE:
        sets["arrived_at"] = now
        sla.complete_clock(w, ticket_id, Step.ARRIVE, now)
    elif action is Action.MEASURE:
        data = _record_visit(w, t, actor, now, fields)
        sets["measured_at"] = now
        if data["below_standard"] and t["below_confirmed_at"] is None:
            sets["below_confirmed_at"] = now
        sla.complete_clock(w, ticket_id, Step.MEASURE, now)
    elif action is Action.FIX:
        note = note or _require(fields, "note")
        sets["fixed_at"] = now
        if t["first_fixed_at"] is None:
            sets["first_fixed_at"] = now
        sla.complete_clock(w, ticket_id, Step.FIX, now)
        cal = load_calendar(w)
        sla.start_clocks(
            w,
            ticket_id,
            [Step.FOLLOWUP],
            round_no=int(t["reopen_count"]) + 1,
            start=now,
            category=category,
            season_part=cal.season_part(now),
        )
    elif action is Action.CONFIRM:
        sat = parse(Satisfaction, fields.get("satisfaction"), "satisfaction")
        sets.update(closed_at=now, closure="confirmed", resolved=True, satisfaction=str(sat))
        data = {"satisfaction": str(sat)}
        sla.complete_clock(w, ticket_id, Step.FOLLOWUP, now)
    elif action is Action.FOLLOWUP_FAILED:
        note = note or _require(fields, "note")
        try:
            calls = int(fields.get("calls") or 0)
        except (TypeError, ValueError):
            calls = 0
        if calls < MIN_FAILED_FOLLOWUP_CALLS:
            raise InvalidInput(
                f"a failed follow-up needs at least {MIN_FAILED_FOLLOWUP_CALLS} documented calls,"
                f" got {fields.get('calls')!r}",
                details={"field": "calls", "value": fields.get("calls")},
            )
        sat_raw = fields.get("satisfaction")
        sat = parse(Satisfaction, sat_raw, "satisfaction") if sat_raw else None
        sets.update(
            closed_at=now,
            closure="followup_failed",
            resolved=None,
            satisfaction=str(sat) if sat else None,
        )
        data = {"calls": calls, "satisfaction": str(sat) if sat else None}
        sla.complete_clock(w, ticket_id, Step.FOLLOWUP, now)
    elif action in (Action.REJECT, Action.FALSE_CLOSURE):
        if action is Action.REJECT:
            note = note or _require(fields, "note")
            sla.complete_clock(w, ticket_id, Step.FOLLOWUP, now)
        else:
            sets["false_closure"] = True
            sets["fix_checked_at"] = t["fixed_at"]
            data = {k: v for k, v in fields.items() if k != "note"}
        _reopen(w, t, sets, now)
    elif action is Action.PAUSE:
        reason = parse(PauseReason, fields.get("reason"), "reason")
        sets.update(paused_since=now, pause_reason=str(reason))
        sla.pause_clocks(w, ticket_id, now)
        w.execute(
            "INSERT INTO hl_pauses (ticket_id, started_at, reason, note, actor)"
            " VALUES (?, ?, ?, ?, ?)",
            [ticket_id, now, str(reason), note, actor.name],
        )
        data = {"reason": str(reason)}
    elif action is Action.RESUME:
        _resume(w, ticket_id, now, actor, auto=False)
        sets.update(paused_since=None, pause_reason=None)
    elif action is Action.REASSIGN:
        name = _require(fields, "handler_name")
        note = note or _require(fields, "reason")
        sets.update(handler_name=name, handler_phone=fields.get("handler_phone") or None)
        data = {"from": t["handler_name"], "to": name}
    elif action is Action.FEEDBACK:
        if t["channel"] != str(Channel.CITY_12345):
            raise IllegalTransition(
                f"ticket {ticket_id} did not come from 12345: nothing to feed back",
                details={"action": "feedback", "channel": t["channel"]},
            )
        note = note or _require(fields, "note")
        sets["feedback_at"] = now
        sla.complete_clock(w, ticket_id, Step.FEEDBACK, now)
    elif action is Action.NOTE:
        note = note or _require(fields, "note")

    cols = ", ".join(f"{k} = ?" for k in sets)
    w.execute(f"UPDATE hl_tickets SET {cols} WHERE ticket_id = ?", [*sets.values(), ticket_id])
    if action is not Action.RESUME:
        _event(w, ticket_id, now, actor, str(action), str(state), str(target), note, data or None)
    return load(w, ticket_id)


def _record_visit(
    w: Any, t: dict[str, Any], actor: Actor, now: datetime, fields: dict[str, Any]
) -> dict[str, Any]:
    bedroom = _temp(fields.get("bedroom_temp_c"), "bedroom_temp_c")
    living = _temp(fields.get("living_room_temp_c"), "living_room_temp_c")
    if bedroom is None and living is None:
        raise InvalidInput(
            "a visit record needs the measured bedroom or living-room temperature",
            details={"field": "bedroom_temp_c"},
        )
    std = w.scalar(
        "SELECT COALESCE(standard_temp_c, 18.0) FROM household_context WHERE household_id = ?",
        [t["household_id"]],
    )
    std = float(std if std is not None else 18.0)
    measured = [v for v in (bedroom, living) if v is not None]
    below = min(measured) < std
    photos = fields.get("photos") or []
    if isinstance(photos, str):
        photos = [p.strip() for p in photos.split(",") if p.strip()]
    w.execute(
        "INSERT INTO hl_visits (ticket_id, visitor, visited_at, bedroom_temp_c,"
        " living_room_temp_c, standard_temp_c, below_standard, actions, photos)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            t["ticket_id"],
            str(fields.get("visitor") or actor.name),
            now,
            bedroom,
            living,
            std,
            below,
            fields.get("actions") or None,
            json.dumps(list(photos), ensure_ascii=False),
        ],
    )
    return {
        "bedroom_temp_c": bedroom,
        "living_room_temp_c": living,
        "standard_temp_c": std,
        "below_standard": below,
    }


def _resume(w: Any, ticket_id: str, now: datetime, actor: Actor, *, auto: bool) -> None:
    sla.resume_clocks(w, ticket_id, now)
    w.execute(
        "UPDATE hl_pauses SET ended_at = ? WHERE ticket_id = ? AND ended_at IS NULL",
        [now, ticket_id],
    )
    state = w.scalar("SELECT state FROM hl_tickets WHERE ticket_id = ?", [ticket_id])
    _event(w, ticket_id, now, actor, "resume", state, state, "auto" if auto else None)


def _reopen(w: Any, t: dict[str, Any], sets: dict[str, Any], now: datetime) -> None:
    """Start a new round: old clocks stop, new ones run from now."""
    round_no = int(t["reopen_count"]) + 2
    sets.update(REOPEN_RESET, reopen_count=int(t["reopen_count"]) + 1)
    sla.cancel_open_clocks(w, t["ticket_id"], now)
    category = Category(t["category"])
    cal = load_calendar(w)
    sla.start_clocks(
        w,
        t["ticket_id"],
        sla.steps_on_open(category, Channel(t["channel"]), first_round=False),
        round_no=round_no,
        start=now,
        category=category,
        season_part=cal.season_part(now),
    )


def is_temperature(category: str) -> bool:
    return Category(category) in TEMPERATURE_CATEGORIES
