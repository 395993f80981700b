"""A season of tickets synthesised in memory and stored in bulk (demo and benchmark).

Running thousands of tickets through ``create_ticket``/``apply_action`` one statement at
a time takes many minutes; this module plays the same rules in memory and appends the
rows table by table: every transition goes through ``machine.next_state``, clocks get the
configured budgets (``sla.budget_minutes``) and ``sla.steps_on_open``, breaches and
escalations follow ``escalation.due_level``, the evidence verdict is
``evidence.verdict`` over the household's hourly means, and a temperature ticket marked
fixed is reopened as a false closure when ``falseclosure``'s rule holds on the stored
readings of the 24 h after the fix and nobody confirmed it by then. A test replays
synthesised tickets through the real writers and compares the results.

Synthesised ticket ids start at ``SYNTH_BASE`` so they never meet the ids the live
sequence hands out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from nuanliu.hotline import escalation, evidence, falseclosure, sla
from nuanliu.hotline.calendar import SeasonCalendar
from nuanliu.hotline.machine import REOPEN_RESET, Action, next_state
from nuanliu.hotline.model import Category, Channel, State, Step

SYNTH_BASE = 50_000_000
H = timedelta(hours=1)
M = timedelta(minutes=1)
DESCRIPTIONS = {
    "temp_low": "室内温度低，卧室不热",
    "no_heat": "暖气不热，疑似停暖",
    "leak": "暖气片接口漏水",
    "noise": "管道有噪音",
    "billing": "供热费收费有疑问",
    "attitude": "维修人员态度不好",
    "other": "其他问题咨询",
}


@dataclass(frozen=True)
class Home:
    household_id: str
    community_id: str
    enterprise_id: str | None
    standard_c: float
    handler: tuple[str | None, str | None]
    supervisor: tuple[str | None, str | None]
    cold: bool  # its stored readings are below the standard


@dataclass
class Step_:
    at: datetime
    action: Action
    actor: str
    role: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rows:
    tickets: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    clocks: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    escalations: list[dict[str, Any]] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    pauses: list[dict[str, Any]] = field(default_factory=list)


HourlySeries = Callable[[str, datetime, datetime], list[tuple[datetime, float]]]


def plan(
    rng: np.random.Generator,
    category: str,
    cold: bool,
    channel: str,
    start: datetime,
    handler: str,
    rework: bool = False,
) -> list[Step_]:
    """A plausible life for one round: sign, visit, measure, fix, reply, outcome."""
    site = category in ("temp_low", "no_heat", "leak", "noise")
    temp = category in ("temp_low", "no_heat")
    late = rng.random()
    at = start + M * float(rng.exponential(12)) + (H * 1.2 if late < 0.08 else H * 0)
    steps = [Step_(at, Action.SIGN, handler, "steward")]
    if site:
        if not rework and rng.random() < 0.06:
            at += M * float(rng.uniform(20, 50))
            steps.append(
                Step_(at, Action.PAUSE, handler, "steward", {"reason": "resident_not_home"})
            )
            at += H * float(rng.uniform(1, 5))
            steps.append(Step_(at, Action.RESUME, handler, "steward"))
        at += M * float(rng.uniform(20, 100)) + (
            H * float(rng.uniform(1, 4)) if late < 0.12 else H * 0
        )
        steps.append(Step_(at, Action.ARRIVE, handler, "steward"))
    if temp:
        bedroom = round(float(rng.normal(16.6 if cold else 19.3, 0.6)), 1)
        at += M * float(rng.uniform(5, 20))
        steps.append(
            Step_(
                at,
                Action.MEASURE,
                handler,
                "steward",
                {
                    "bedroom_temp_c": bedroom,
                    "living_room_temp_c": round(bedroom + float(rng.uniform(0, 1.2)), 1),
                    "actions": "入户测温",
                },
            )
        )
    at += H * float(rng.uniform(1, 16)) + (H * float(rng.uniform(12, 30)) if late < 0.07 else H * 0)
    steps.append(
        Step_(at, Action.FIX, handler, "steward", {"note": "二次处理" if rework else "已排查处理"})
    )
    if channel == "12345" and not rework:
        at += M * float(rng.uniform(10, 120))
        steps.append(Step_(at, Action.FEEDBACK, handler, "steward", {"note": "已回复12345"}))
    r = rng.random()
    if not rework and r < 0.05:
        steps.append(
            Step_(
                at + H * float(rng.uniform(2, 20)),
                Action.REJECT,
                "居民",
                "resident",
                {"note": "问题没有解决"},
            )
        )
    elif r < 0.10:
        steps.append(
            Step_(
                at + H * float(rng.uniform(20, 40)),
                Action.FOLLOWUP_FAILED,
                "政府管家",
                "gov_steward",
                {"note": "两次回访无人接听", "calls": 2},
            )
        )
    else:
        wait = H * float(rng.uniform(1, 20) if rng.random() < 0.7 else rng.uniform(26, 60))
        sat = str(rng.choice(["satisfied", "basic", "dissatisfied"], p=[0.72, 0.2, 0.08]))
        steps.append(Step_(at + wait, Action.CONFIRM, "居民", "resident", {"satisfaction": sat}))
    return steps


class Synth:
    """Plays tickets through the rules and collects their rows."""

    def __init__(
        self,
        *,
        now: datetime,
        calendar: SeasonCalendar,
        budgets: Callable[[Category, str, Step], int],
        hourly: HourlySeries | None = None,
        escalate_after: tuple[int, ...] = escalation.DEFAULT_AFTER_MIN,
        sweep_every: timedelta = timedelta(hours=2),
    ) -> None:
        self.now = now
        self.cal = calendar
        self.budgets = budgets
        self.hourly = hourly
        self.after = escalate_after
        self.sweep_every = sweep_every
        self.rows = Rows()
        self.trace: dict[str, list[Step_]] = {}  # what happened to each ticket, in order

    # -- clocks ---------------------------------------------------------------------
    def _open_round(
        self, tid: str, t: dict[str, Any], round_no: int, at: datetime, first: bool
    ) -> list[dict[str, Any]]:
        cat, ch = Category(t["category"]), Channel(t["channel"])
        part = self.cal.season_part(at)
        start = self.cal.clock_start(at) if first else at
        out = []
        for step in sla.steps_on_open(cat, ch, first_round=first):
            minutes = self.budgets(cat, part, step)
            out.append(
                {
                    "ticket_id": tid,
                    "step": str(step),
                    "round_no": round_no,
                    "started_at": start,
                    "budget_minutes": minutes,
                    "paused_minutes": 0.0,
                    "paused_since": None,
                    "due_at": start + M * minutes,
                    "completed_at": None,
                    "breached_at": None,
                    "escalation_level": 0,
                }
            )
        return out

    def _finish_clocks(self, clocks: list[dict[str, Any]], t: dict[str, Any]) -> None:
        for c in clocks:
            end = c["completed_at"]
            if c["paused_since"] is not None:
                decided = c["due_at"] <= c["paused_since"]
            else:
                decided = (end is None and c["due_at"] <= self.now) or (
                    end is not None and end > c["due_at"]
                )
            if not decided:
                continue
            c["breached_at"] = c["due_at"]
            # escalations run until the step is done (the sweep's rule)
            level = escalation.due_level(c["due_at"], min(end or self.now, self.now), self.after)
            if end is not None and level and end == c["due_at"] + M * self.after[level - 1]:
                level -= 1
            for lv in range(1, level + 1):
                self.rows.escalations.append(
                    {
                        "ticket_id": c["ticket_id"],
                        "step": c["step"],
                        "round_no": c["round_no"],
                        "level": lv,
                        "target_kind": escalation.LEVEL_TARGETS[lv],
                        "target_id": {1: t["enterprise_id"], 2: t["community_id"]}.get(lv),
                        "target_name": t["supervisor_name"] if lv == 2 else None,
                        "escalated_at": c["due_at"] + M * self.after[lv - 1],
                        "delivery_id": None,
                    }
                )
            c["escalation_level"] = level
        self.rows.clocks.extend(clocks)

    # -- one ticket ------------------------------------------------------------------
    def ticket(
        self,
        rng: np.random.Generator,
        seq: int,
        home: Home,
        category: str,
        channel: str,
        at: datetime,
    ) -> None:
        tid = f"HL{SYNTH_BASE + seq:08d}"
        order = f"12345-{at:%Y%m%d}-{seq:06d}" if channel == "12345" else None
        t: dict[str, Any] = {
            "ticket_id": tid,
            "household_id": home.household_id,
            "community_id": home.community_id,
            "enterprise_id": home.enterprise_id,
            "category": category,
            "state": str(State.NEW),
            "channel": channel,
            "urgency": "urgent" if category in ("leak", "no_heat") else "normal",
            "description": DESCRIPTIONS[category],
            "attachments": "[]",
            "caller_name": None,
            "caller_phone": None,
            "order_no_12345": order,
            "season": self.cal.season_label(at),
            "season_part": self.cal.season_part(at),
            "handler_name": home.handler[0],
            "handler_phone": home.handler[1],
            "supervisor_name": home.supervisor[0],
            "supervisor_phone": home.supervisor[1],
            "created_at": at,
            "created_by": "居民" if channel == "resident" else "热线坐席",
            "signed_at": None,
            "arrived_at": None,
            "measured_at": None,
            "fixed_at": None,
            "first_fixed_at": None,
            "feedback_at": None,
            "closed_at": None,
            "closure": None,
            "resolved": None,
            "satisfaction": None,
            "paused_since": None,
            "pause_reason": None,
            "reopen_count": 0,
            "false_closure": False,
            "fix_checked_at": None,
            "below_confirmed_at": None,
            "updated_at": at,
        }
        if order:
            self.rows.orders.append(
                {"order_no": order, "ticket_id": tid, "import_id": None, "imported_at": at}
            )
        self._event(
            tid, at, t["created_by"], "hotline_operator", "create", None, "new", t["description"]
        )
        self._evidence(tid, home, Category(category), at)
        clocks = self._open_round(tid, t, 1, at, True)
        handler = home.handler[0] or "企业管家"
        steps = plan(rng, category, home.cold, channel, at, handler)
        round_no = 1
        i = 0
        trace = self.trace.setdefault(tid, [])
        while i < len(steps):
            s = steps[i]
            i += 1
            if s.at > self.now:
                break
            fixed_at = t["fixed_at"]
            if (
                fixed_at is not None
                and category in ("temp_low", "no_heat")
                and t["fix_checked_at"] != fixed_at
            ):
                due = self._sweep_after(fixed_at + falseclosure.WINDOW)
                if due <= min(s.at, self.now) and self._still_cold(home, fixed_at):
                    self._apply(
                        t,
                        clocks,
                        Action.FALSE_CLOSURE,
                        due,
                        "system",
                        "system",
                        {"note": "sensor below standard after the fix"},
                    )
                    trace.append(Step_(due, Action.FALSE_CLOSURE, "system", "system"))
                    round_no += 1
                    clocks += self._open_round(tid, t, round_no, due, False)
                    steps = plan(rng, category, home.cold, channel, due, handler, rework=True)
                    i = 0
                    continue
                if due <= min(s.at, self.now):
                    t["fix_checked_at"] = fixed_at
            self._apply(t, clocks, s.action, s.at, s.actor, s.role, s.fields)
            trace.append(s)
            if s.action is Action.FIX:
                clocks += [c for c in self._followup(tid, t, round_no, s.at)]
            if s.action is Action.REJECT:
                round_no += 1
                clocks += self._open_round(tid, t, round_no, s.at, False)
                steps = plan(rng, category, home.cold, channel, s.at, handler, rework=True)
                i = 0
        self._finish_clocks(clocks, t)
        self.rows.tickets.append(t)

    def _sweep_after(self, at: datetime) -> datetime:
        """The first sweep at or after ``at`` (sweeps run every ``sweep_every``)."""
        step = self.sweep_every.total_seconds()
        ts = at.timestamp()
        return datetime.fromtimestamp(-(-ts // step) * step, tz=at.tzinfo)

    def _still_cold(self, home: Home, fixed_at: datetime) -> bool:
        if self.hourly is None:
            return False
        start = fixed_at.replace(minute=0, second=0, microsecond=0) + H
        vals = [v for _, v in self.hourly(home.household_id, start, start + falseclosure.WINDOW)]
        below = sum(1 for v in vals if v < home.standard_c)
        return len(vals) >= falseclosure.MIN_HOURS and below >= falseclosure.BELOW_SHARE * len(vals)

    def _followup(self, tid: str, t: dict[str, Any], round_no: int, at: datetime):
        minutes = self.budgets(Category(t["category"]), self.cal.season_part(at), Step.FOLLOWUP)
        return [
            {
                "ticket_id": tid,
                "step": "followup",
                "round_no": round_no,
                "started_at": at,
                "budget_minutes": minutes,
                "paused_minutes": 0.0,
                "paused_since": None,
                "due_at": at + M * minutes,
                "completed_at": None,
                "breached_at": None,
                "escalation_level": 0,
            }
        ]

    def _apply(
        self,
        t: dict[str, Any],
        clocks: list[dict[str, Any]],
        action: Action,
        at: datetime,
        actor: str,
        role: str,
        fields: dict[str, Any],
    ) -> None:
        before = State(t["state"])
        after = next_state(before, action, Category(t["category"]))
        t["state"] = str(after)
        t["updated_at"] = at
        running = [c for c in clocks if c["completed_at"] is None]

        def done(step: str) -> None:
            for c in running:
                if c["step"] == step:
                    c["completed_at"] = at

        note = fields.get("note")
        data = None
        if action is Action.SIGN:
            t["signed_at"] = at
            done("sign")
        elif action is Action.ARRIVE:
            t["arrived_at"] = at
            done("arrive")
        elif action is Action.MEASURE:
            below = min(fields["bedroom_temp_c"], fields["living_room_temp_c"]) < 18.0
            self.rows.visits.append(
                {
                    "ticket_id": t["ticket_id"],
                    "visitor": actor,
                    "visited_at": at,
                    "bedroom_temp_c": fields["bedroom_temp_c"],
                    "living_room_temp_c": fields["living_room_temp_c"],
                    "standard_temp_c": 18.0,
                    "below_standard": below,
                    "actions": fields.get("actions"),
                    "photos": "[]",
                }
            )
            t["measured_at"] = at
            if below and t["below_confirmed_at"] is None:
                t["below_confirmed_at"] = at
            done("measure")
        elif action is Action.FIX:
            t["fixed_at"] = at
            t["first_fixed_at"] = t["first_fixed_at"] or at
            done("fix")
        elif action is Action.FEEDBACK:
            t["feedback_at"] = at
            done("feedback")
        elif action is Action.CONFIRM:
            t.update(
                closed_at=at,
                closure="confirmed",
                resolved=True,
                satisfaction=fields["satisfaction"],
            )
            done("followup")
        elif action is Action.FOLLOWUP_FAILED:
            t.update(closed_at=at, closure="followup_failed", resolved=None, satisfaction=None)
            done("followup")
        elif action in (Action.REJECT, Action.FALSE_CLOSURE):
            if action is Action.REJECT:
                done("followup")
            else:
                t["false_closure"] = True
                t["fix_checked_at"] = t["fixed_at"]
            for c in running:
                if c["completed_at"] is None:
                    c["completed_at"] = at
            t.update(REOPEN_RESET, reopen_count=t["reopen_count"] + 1)
        elif action is Action.PAUSE:
            t.update(paused_since=at, pause_reason=fields["reason"])
            for c in running:
                c["paused_since"] = at
            self.rows.pauses.append(
                {
                    "ticket_id": t["ticket_id"],
                    "started_at": at,
                    "ended_at": None,
                    "reason": fields["reason"],
                    "note": None,
                    "actor": actor,
                }
            )
            data = {"reason": fields["reason"]}
        elif action is Action.RESUME:
            for c in running:
                if c["paused_since"] is not None:
                    pause = at - c["paused_since"]
                    c["paused_minutes"] += pause.total_seconds() / 60
                    c["due_at"] += pause
                    c["paused_since"] = None
            t.update(paused_since=None, pause_reason=None)
            self.rows.pauses[-1]["ended_at"] = at
        self._event(
            t["ticket_id"], at, actor, role, str(action), str(before), str(after), note, data
        )

    def _event(
        self,
        tid: str,
        at: datetime,
        actor: str,
        role: str,
        action: str,
        before: str | None,
        after: str | None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.rows.events.append(
            {
                "ticket_id": tid,
                "event_at": at,
                "actor": actor,
                "actor_role": role,
                "action": action,
                "from_state": before,
                "to_state": after,
                "note": note,
                "data": json.dumps(data, ensure_ascii=False) if data else None,
            }
        )

    def _evidence(self, tid: str, home: Home, category: Category, at: datetime) -> None:
        end = at.replace(minute=0, second=0, microsecond=0) + H
        series = self.hourly(home.household_id, end - evidence.WINDOW, end) if self.hourly else []
        values = [v for _, v in series]
        kind, mean6 = evidence.verdict(category, series, home.standard_c, at)
        if mean6 is None and values:
            mean6 = sum(values[-evidence.RECENT_HOURS :]) / len(values[-evidence.RECENT_HOURS :])
        self.rows.evidence.append(
            {
                "ticket_id": tid,
                "taken_at": at,
                "standard_temp_c": home.standard_c,
                "hours_reported": len(series),
                "mean_72h_c": sum(values) / len(values) if values else None,
                "mean_6h_c": mean6,
                "min_72h_c": min(values) if values else None,
                "building_rate": None,
                "station_rate": None,
                "open_alerts": 0,
                "verdict": kind,
                "series": json.dumps([[ts.isoformat(), round(v, 2)] for ts, v in series]),
                "alerts": "[]",
            }
        )


# ------------------------------------------------------------------------- storing

_COLUMNS = {
    "hl_tickets": "tickets",
    "hl_events": "events",
    "hl_sla_clocks": "clocks",
    "hl_visits": "visits",
    "hl_escalations": "escalations",
    "hl_evidence": "evidence",
    "hl_12345_orders": "orders",
    "hl_pauses": "pauses",
}


ID_BASE = 10**12
_SERIAL = {"hl_events": "event_id", "hl_visits": "visit_id", "hl_escalations": "escalation_id"}


def first_seq(q: Any) -> int:
    """The next free synthesised ticket number (0 on a store without any)."""
    top = q.scalar(
        "SELECT MAX(ticket_id) FROM hl_tickets WHERE ticket_id >= ?", [f"HL{SYNTH_BASE:08d}"]
    )
    return int(top[2:]) - SYNTH_BASE + 1 if top else 0


def store_rows(w: Any, rows: Rows) -> dict[str, int]:
    """Append every synthesised row (one transaction: the caller's writer)."""
    counts = {}
    for table, attr in _COLUMNS.items():
        data = getattr(rows, attr)
        counts[table] = len(data)
        if not data:
            continue
        frame = pd.DataFrame(data)
        key = _SERIAL.get(table)
        if key:  # ids far above what the live sequences reach
            first = w.scalar(f"SELECT MAX({key}) FROM {table} WHERE {key} >= ?", [ID_BASE])
            start = int(first) + 1 if first is not None else ID_BASE
            frame.insert(0, key, np.arange(start, start + len(frame), dtype=np.int64))
        w.append_arrow(table, pa.Table.from_pandas(frame, preserve_index=False))
    return counts
