"""Who may do what to a ticket: the permission each action needs, and the checked
entry points the API and the pages share (scope first, then permission, then the
state machine)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nuanliu.api.accounts import User
from nuanliu.api.roles import Permission, Role
from nuanliu.errors import InvalidInput, NotFound, PermissionDenied
from nuanliu.hotline import queries
from nuanliu.hotline.machine import Action
from nuanliu.hotline.model import Channel
from nuanliu.hotline.stats_cache import bump
from nuanliu.hotline.tickets import Actor, NewTicket, apply_action, create_ticket

# Any of these permissions allows the action (None: not from outside; the sweep does it).
ACTION_PERMISSIONS: dict[Action, frozenset[Permission] | None] = {
    Action.SIGN: frozenset({Permission.HOTLINE_HANDLE}),
    Action.ARRIVE: frozenset({Permission.HOTLINE_HANDLE}),
    Action.MEASURE: frozenset({Permission.HOTLINE_HANDLE}),
    Action.FIX: frozenset({Permission.HOTLINE_HANDLE}),
    Action.PAUSE: frozenset({Permission.HOTLINE_HANDLE}),
    Action.RESUME: frozenset({Permission.HOTLINE_HANDLE}),
    Action.FEEDBACK: frozenset({Permission.HOTLINE_HANDLE, Permission.HOTLINE_FOLLOWUP}),
    Action.REASSIGN: frozenset({Permission.HOTLINE_REASSIGN}),
    Action.CONFIRM: frozenset({Permission.HOTLINE_CONFIRM, Permission.HOTLINE_FOLLOWUP}),
    Action.REJECT: frozenset({Permission.HOTLINE_CONFIRM, Permission.HOTLINE_FOLLOWUP}),
    Action.FOLLOWUP_FAILED: frozenset({Permission.HOTLINE_FOLLOWUP}),
    Action.NOTE: frozenset(
        {Permission.HOTLINE_HANDLE, Permission.HOTLINE_FOLLOWUP, Permission.HOTLINE_REASSIGN}
    ),
    Action.FALSE_CLOSURE: None,
}


def actor_of(user: User) -> Actor:
    return Actor(user.display_name or user.username, str(user.role))


def may(user: User, action: Action) -> bool:
    needed = ACTION_PERMISSIONS[action]
    return bool(needed) and any(user.can(p) for p in needed or ())


def allowed_actions(user: User, legal: list[str]) -> list[str]:
    """The legal actions of a ticket that this user may take (the page's buttons)."""
    return [a for a in legal if may(user, Action(a))]


def file_complaint(store: Any, user: User, fields: dict[str, Any], now: datetime) -> str:
    """File a ticket as ``user``; a resident files for their own household only."""
    if not user.can(Permission.HOTLINE_FILE):
        raise PermissionDenied(f"role {user.role} may not file complaints")
    household_id = str(fields.get("household_id") or "").strip()
    if user.role is Role.RESIDENT:
        household_id = user.household_id or ""
        channel = Channel.RESIDENT
    else:
        channel = fields.get("channel") or Channel.HOTLINE
        if channel in (Channel.RESIDENT, Channel.CITY_12345):
            raise InvalidInput(
                f"channel {channel} is set by the resident's page or the 12345 import",
                details={"field": "channel"},
            )
    if not household_id:
        raise InvalidInput("household_id is required", details={"field": "household_id"})
    attachments = fields.get("attachments") or []
    if isinstance(attachments, str):
        attachments = [a.strip() for a in attachments.split(",") if a.strip()]
    with store.write() as w:
        if not queries_visible_household(w, user, household_id):
            raise NotFound(
                f"household {household_id} not found", details={"household_id": household_id}
            )
        tid = create_ticket(
            w,
            NewTicket(
                household_id=household_id,
                category=fields.get("category") or "",
                description=str(fields.get("description") or ""),
                channel=channel,
                urgency=fields.get("urgency") or "normal",
                caller_name=fields.get("caller_name") or None,
                caller_phone=fields.get("caller_phone") or None,
                attachments=attachments,
            ),
            actor=actor_of(user),
            now=now,
        )
    bump()
    return tid


def queries_visible_household(q: Any, user: User, household_id: str) -> bool:
    cond, params = user.scope().where("hc")
    return bool(
        q.all(
            f"SELECT 1 FROM household_context hc WHERE hc.household_id = ? AND ({cond})",
            [household_id, *params],
        )
    )


def act(
    store: Any, user: User, ticket_id: str, action: str, fields: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Apply an action as ``user``: NotFound outside the scope, PermissionDenied for a
    role that may not, IllegalTransition for a state that does not allow it."""
    try:
        act_enum = Action(action)
    except ValueError:
        raise InvalidInput(
            f"unknown action {action!r}",
            details={"field": "action", "allowed": [str(a) for a in Action]},
        ) from None
    with store.write() as w:
        if not queries.visible(w, user.scope(), ticket_id):
            raise NotFound(f"ticket {ticket_id} not found", details={"ticket_id": ticket_id})
        if not may(user, act_enum):
            raise PermissionDenied(
                f"role {user.role} may not {act_enum} a ticket",
                details={"role": str(user.role), "action": str(act_enum)},
            )
        fields = {k: v for k, v in fields.items() if k not in ("actor", "now")}
        row = apply_action(w, ticket_id, act_enum, actor=actor_of(user), now=now, **fields)
    bump()
    return row
