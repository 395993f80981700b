"""The ticket state machine: every legal transition and every illegal one."""

from __future__ import annotations

import pytest

from nuanliu.hotline.machine import (
    TRANSITIONS,
    Action,
    IllegalTransition,
    legal_actions,
    next_state,
)
from nuanliu.hotline.model import Category, State

EXPECTED = {
    # (state, action): target for a category that needs no visit (billing)
    (State.NEW, Action.SIGN): State.SIGNED,
    (State.REOPENED, Action.SIGN): State.SIGNED,
    (State.SIGNED, Action.ARRIVE): State.ON_SITE,
    (State.ON_SITE, Action.MEASURE): State.MEASURED,
    (State.MEASURED, Action.MEASURE): State.MEASURED,
    (State.SIGNED, Action.FIX): State.FIXED,
    (State.ON_SITE, Action.FIX): State.FIXED,
    (State.MEASURED, Action.FIX): State.FIXED,
    (State.FIXED, Action.CONFIRM): State.CLOSED,
    (State.FIXED, Action.FOLLOWUP_FAILED): State.CLOSED,
    (State.FIXED, Action.REJECT): State.REOPENED,
    (State.FIXED, Action.FALSE_CLOSURE): State.REOPENED,
    (State.CLOSED, Action.FALSE_CLOSURE): State.REOPENED,
}


def test_every_transition_is_listed_exactly() -> None:
    """Each (state, action) pair is either legal with the listed target or refused."""
    for state in State:
        for action in Action:
            legal = state in TRANSITIONS[action]
            if (state, action) in EXPECTED:
                assert next_state(state, action, Category.BILLING) is EXPECTED[state, action]
            elif legal:  # actions that keep the state (pause, note, reassign, feedback)
                assert next_state(state, action, Category.BILLING) is state
                assert action in {
                    Action.PAUSE,
                    Action.RESUME,
                    Action.REASSIGN,
                    Action.FEEDBACK,
                    Action.NOTE,
                }
            else:
                with pytest.raises(IllegalTransition) as err:
                    next_state(state, action, Category.BILLING)
                assert str(state) in err.value.message and str(action) in err.value.message
                assert err.value.code == "illegal_transition"


def test_closed_ticket_accepts_only_notes_feedback_and_the_false_closure_reopen() -> None:
    assert set(legal_actions(State.CLOSED, Category.TEMP_LOW)) == {
        Action.FALSE_CLOSURE,
        Action.FEEDBACK,
        Action.NOTE,
    }


@pytest.mark.parametrize("category", [Category.TEMP_LOW, Category.NO_HEAT])
def test_temperature_ticket_is_fixed_only_after_measuring(category: Category) -> None:
    for state in (State.SIGNED, State.ON_SITE):
        with pytest.raises(IllegalTransition, match="measured"):
            next_state(state, Action.FIX, category)
    assert next_state(State.MEASURED, Action.FIX, category) is State.FIXED


@pytest.mark.parametrize("category", [Category.LEAK, Category.NOISE])
def test_site_ticket_needs_a_visit_before_the_fix(category: Category) -> None:
    with pytest.raises(IllegalTransition, match="visit"):
        next_state(State.SIGNED, Action.FIX, category)
    assert next_state(State.ON_SITE, Action.FIX, category) is State.FIXED


def test_new_ticket_cannot_be_closed_or_fixed() -> None:
    for action in (Action.CONFIRM, Action.FIX, Action.FOLLOWUP_FAILED, Action.ARRIVE):
        with pytest.raises(IllegalTransition):
            next_state(State.NEW, action, Category.OTHER)
