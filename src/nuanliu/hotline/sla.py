"""SLA budgets and clocks.

Defaults follow the published local rules: sign within 30 min; on site within 1 h for
leaks and outages and within 2 h for temperature complaints (5 h in the first 10 days of
the season); room measured within 10 h; fixed within 24 h; follow-up call within 24 h
of the fix; feedback to 12345 within 24 h. ``hl_sla_policies`` overrides any of them per
category, season part and step.

A clock runs from its start to ``due_at = start + budget + paused time``. Pausing a
ticket (only for resident-side causes) stops every running clock; resuming pushes each
``due_at`` by the pause. ``breached_at`` is set by the sweep once ``due_at`` passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nuanliu.hotline.model import SITE_CATEGORIES, TEMPERATURE_CATEGORIES, Category, Channel, Step

DEFAULT_MINUTES: dict[Step, int] = {
    Step.SIGN: 30,
    Step.ARRIVE: 120,
    Step.MEASURE: 600,
    Step.FIX: 1440,
    Step.FOLLOWUP: 1440,
    Step.FEEDBACK: 1440,
}
URGENT_ARRIVE_MINUTES = 60  # leaks and outages
EARLY_TEMP_ARRIVE_MINUTES = 300  # temperature complaints in the season's first days


def default_minutes(category: Category, season_part: str, step: Step) -> int:
    if step is Step.ARRIVE:
        if category in (Category.LEAK, Category.NO_HEAT):
            return URGENT_ARRIVE_MINUTES
        if category is Category.TEMP_LOW and season_part == "early":
            return EARLY_TEMP_ARRIVE_MINUTES
    return DEFAULT_MINUTES[step]


def budget_minutes(q: Any, category: Category, season_part: str, step: Step) -> int:
    """The configured budget (override in ``hl_sla_policies``, else the default)."""
    found = q.scalar(
        "SELECT minutes FROM hl_sla_policies WHERE category = ? AND season_part = ? AND step = ?",
        [str(category), season_part, str(step)],
    )
    return int(found) if found is not None else default_minutes(category, season_part, step)


def steps_on_open(category: Category, channel: Channel, *, first_round: bool) -> list[Step]:
    """Clocks started when a ticket is filed (or reopened: no new 12345 feedback)."""
    steps = [Step.SIGN]
    if category in SITE_CATEGORIES:
        steps.append(Step.ARRIVE)
    if category in TEMPERATURE_CATEGORIES:
        steps.append(Step.MEASURE)
    steps.append(Step.FIX)
    if channel is Channel.CITY_12345 and first_round:
        steps.append(Step.FEEDBACK)
    return steps


def start_clocks(
    w: Any,
    ticket_id: str,
    steps: list[Step],
    *,
    round_no: int,
    start: datetime,
    category: Category,
    season_part: str,
) -> None:
    rows = []
    for step in steps:
        minutes = budget_minutes(w, category, season_part, step)
        rows.append(
            [ticket_id, str(step), round_no, start, minutes, start + timedelta(minutes=minutes)]
        )
    w.executemany(
        "INSERT INTO hl_sla_clocks (ticket_id, step, round_no, started_at, budget_minutes, due_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def complete_clock(w: Any, ticket_id: str, step: Step, at: datetime) -> None:
    """Stop the running clock of ``step`` (if any) at ``at``."""
    w.execute(
        "UPDATE hl_sla_clocks SET completed_at = ? WHERE ticket_id = ? AND step = ?"
        " AND completed_at IS NULL",
        [at, ticket_id, str(step)],
    )


def cancel_open_clocks(w: Any, ticket_id: str, at: datetime) -> None:
    """A reopened ticket ends its old round: running clocks stop where they are."""
    w.execute(
        "UPDATE hl_sla_clocks SET completed_at = ? WHERE ticket_id = ? AND completed_at IS NULL",
        [at, ticket_id],
    )


def pause_clocks(w: Any, ticket_id: str, at: datetime) -> None:
    w.execute(
        "UPDATE hl_sla_clocks SET paused_since = ? WHERE ticket_id = ?"
        " AND completed_at IS NULL AND paused_since IS NULL",
        [at, ticket_id],
    )


def resume_clocks(w: Any, ticket_id: str, at: datetime) -> None:
    """Every paused clock gets the pause added to its budget (``due_at`` moves)."""
    rows = w.all(
        "SELECT step, round_no, paused_since, paused_minutes, due_at FROM hl_sla_clocks"
        " WHERE ticket_id = ? AND completed_at IS NULL AND paused_since IS NOT NULL",
        [ticket_id],
    )
    for step, round_no, since, paused, due in rows:
        pause_min = max(0.0, (at - since).total_seconds() / 60.0)
        w.execute(
            "UPDATE hl_sla_clocks SET paused_since = NULL, paused_minutes = ?, due_at = ?"
            " WHERE ticket_id = ? AND step = ? AND round_no = ?",
            [
                float(paused) + pause_min,
                due + timedelta(minutes=pause_min),
                ticket_id,
                step,
                round_no,
            ],
        )


def remaining(clock: dict[str, Any], now: datetime) -> timedelta | None:
    """Time left on a running clock (negative when overdue); None when stopped or paused."""
    if clock.get("completed_at") is not None or clock.get("paused_since") is not None:
        return None
    return clock["due_at"] - now


def clock_met(clock: dict[str, Any]) -> bool | None:
    """Whether a completed clock finished in time (None while it runs)."""
    done = clock.get("completed_at")
    if done is None:
        return None
    return done <= clock["due_at"]
