"""The ticket state machine: which action is legal in which state, and where it leads.

``next_state`` is the only place that knows the transitions; every writer goes through
it, so an illegal action is refused the same way from the API, the pages and the jobs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from nuanliu.errors import Conflict
from nuanliu.hotline.model import SITE_CATEGORIES, TEMPERATURE_CATEGORIES, Category, State


class Action(StrEnum):
    SIGN = "sign"
    ARRIVE = "arrive"
    MEASURE = "measure"  # record the on-site visit with measured temperatures
    FIX = "fix"
    CONFIRM = "confirm"  # the resident confirms the fix (closes)
    REJECT = "reject"  # the resident says it is not fixed (reopens)
    FOLLOWUP_FAILED = "followup_failed"  # documented failed follow-up (closes)
    FALSE_CLOSURE = "false_closure"  # the sensor contradicts the fix (reopens, automatic)
    PAUSE = "pause"
    RESUME = "resume"
    REASSIGN = "reassign"
    FEEDBACK = "feedback"  # reply sent to 12345
    NOTE = "note"


class IllegalTransition(Conflict):
    code = "illegal_transition"


_WORK_STATES = (State.NEW, State.SIGNED, State.ON_SITE, State.MEASURED, State.REOPENED)
_OPEN = (*_WORK_STATES, State.FIXED)

# action -> {from state: to state}; ``None`` target = the state does not change.
TRANSITIONS: dict[Action, dict[State, State | None]] = {
    Action.SIGN: {State.NEW: State.SIGNED, State.REOPENED: State.SIGNED},
    Action.ARRIVE: {State.SIGNED: State.ON_SITE},
    Action.MEASURE: {State.ON_SITE: State.MEASURED, State.MEASURED: State.MEASURED},
    Action.FIX: {
        State.SIGNED: State.FIXED,
        State.ON_SITE: State.FIXED,
        State.MEASURED: State.FIXED,
    },
    Action.CONFIRM: {State.FIXED: State.CLOSED},
    Action.REJECT: {State.FIXED: State.REOPENED},
    Action.FOLLOWUP_FAILED: {State.FIXED: State.CLOSED},
    Action.FALSE_CLOSURE: {State.FIXED: State.REOPENED, State.CLOSED: State.REOPENED},
    Action.PAUSE: {State.SIGNED: None, State.ON_SITE: None, State.MEASURED: None},
    Action.RESUME: {State.SIGNED: None, State.ON_SITE: None, State.MEASURED: None},
    Action.REASSIGN: dict.fromkeys(_OPEN),
    Action.FEEDBACK: dict.fromkeys((*_OPEN, State.CLOSED)),
    Action.NOTE: dict.fromkeys((*_OPEN, State.CLOSED)),
}


def next_state(state: State, action: Action, category: Category) -> State:
    """The state after ``action``; IllegalTransition (a Conflict) when it is not allowed.

    Two rules depend on the category: a ticket that needs a site visit cannot be fixed
    before someone arrived, and a temperature ticket not before the room was measured.
    """
    targets = TRANSITIONS[action]
    if state not in targets:
        allowed = sorted(str(s) for s in targets)
        raise IllegalTransition(
            f"action {action} is not allowed in state {state} (allowed in: {', '.join(allowed)})",
            details={"action": str(action), "state": str(state), "allowed_states": allowed},
        )
    if action is Action.FIX:
        if category in TEMPERATURE_CATEGORIES and state is not State.MEASURED:
            raise IllegalTransition(
                f"a {category} ticket is fixed only after the room was measured on site"
                f" (state is {state})",
                details={"action": "fix", "state": str(state), "category": str(category)},
            )
        if category in SITE_CATEGORIES and state is State.SIGNED:
            raise IllegalTransition(
                f"a {category} ticket is fixed only after a visit on site (state is {state})",
                details={"action": "fix", "state": str(state), "category": str(category)},
            )
    target = targets[state]
    return state if target is None else target


def legal_actions(state: State, category: Category) -> list[Action]:
    """Actions that ``next_state`` would accept now (for buttons and the API)."""
    out = []
    for action in Action:
        try:
            next_state(state, action, category)
        except IllegalTransition:
            continue
        out.append(action)
    return out


#: what a new round (rejected fix, false closure) clears on a ticket
REOPEN_RESET: dict[str, Any] = dict.fromkeys(
    (
        "closed_at",
        "closure",
        "resolved",
        "satisfaction",
        "signed_at",
        "arrived_at",
        "measured_at",
        "fixed_at",
        "paused_since",
        "pause_reason",
    )
)
