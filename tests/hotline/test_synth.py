"""The synthesised season (demo, benchmark) is what the real writers would have stored:
its tickets replayed through ``create_ticket`` / ``apply_action`` end in the same state
with the same clocks, and its false closures are the ones the sweep's rule finds on the
stored readings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nuanliu.hotline import falseclosure
from nuanliu.hotline.demo import season_rows
from nuanliu.hotline.machine import Action
from nuanliu.hotline.tickets import Actor, NewTicket, apply_action, create_ticket
from tests.hotline.conftest import T0

NOW = T0 + timedelta(hours=48)
KEYS = (
    "state",
    "reopen_count",
    "false_closure",
    "closure",
    "satisfaction",
    "category",
    "channel",
    "household_id",
    "community_id",
)


def _clock_key(c: dict[str, Any]) -> tuple:
    return (c["step"], c["round_no"], c["started_at"], c["due_at"], c["completed_at"])


def _late(c: dict[str, Any]) -> bool:
    if c["completed_at"] is not None:
        return c["completed_at"] > c["due_at"]
    if c["paused_since"] is not None:
        return c["due_at"] <= c["paused_since"]
    return c["due_at"] <= NOW


def test_replayed_tickets_match_the_synthesised_ones(hl_store: Any, sim: dict[str, str]) -> None:
    with hl_store.read() as q:
        synth = season_rows(q, now=NOW, n=400, seed=5)
    rows = {t["ticket_id"]: t for t in synth.rows.tickets}
    recent = [tid for tid, t in rows.items() if t["created_at"] >= NOW - timedelta(hours=60)]
    special = [tid for tid, t in rows.items() if t["false_closure"]][-6:]
    special += [tid for tid, t in rows.items() if t["reopen_count"] and not t["false_closure"]][:4]
    paused = {p["ticket_id"] for p in synth.rows.pauses}
    chosen = sorted(set(recent[-25:]) | set(special) | set(sorted(paused)[:3]))
    assert any(rows[t]["false_closure"] for t in chosen), "the cold building gives a reopen"
    assert len({rows[t]["state"] for t in chosen}) >= 4
    for tid in chosen:
        t = rows[tid]
        with hl_store.write() as w:
            live = create_ticket(
                w,
                NewTicket(
                    t["household_id"],
                    t["category"],
                    t["description"],
                    channel=t["channel"],
                    urgency=t["urgency"],
                    order_no_12345=t["order_no_12345"],
                ),
                actor=Actor(t["created_by"], "hotline_operator"),
                now=t["created_at"],
            )
        for step in synth.trace[tid]:
            with hl_store.write() as w:
                if step.action is Action.FALSE_CLOSURE:
                    cand = {c["ticket_id"]: c for c in falseclosure.candidates(w, step.at)}
                    assert live in cand, tid
                    verdict = falseclosure.judge(
                        w, cand[live]["household_id"], cand[live]["fixed_at"], cand[live]["std_c"]
                    )
                    assert verdict["still_cold"], (tid, verdict)
                apply_action(
                    w,
                    live,
                    step.action,
                    actor=Actor(step.actor, step.role),
                    now=step.at,
                    **step.fields,
                )
        with hl_store.read() as q:
            got = q.dicts("SELECT * FROM hl_tickets WHERE ticket_id = ?", [live])[0]
            clocks = q.dicts("SELECT * FROM hl_sla_clocks WHERE ticket_id = ?", [live])
            ev = q.one(
                "SELECT verdict, hours_reported FROM hl_evidence WHERE ticket_id = ?", [live]
            )
        assert {k: got[k] for k in KEYS} == {k: t[k] for k in KEYS}, tid
        mine = [c for c in synth.rows.clocks if c["ticket_id"] == tid]
        assert sorted(map(_clock_key, clocks)) == sorted(map(_clock_key, mine)), tid
        assert sorted(_late(c) for c in clocks) == sorted(
            c["breached_at"] is not None for c in mine
        ), tid
        syn_ev = next(e for e in synth.rows.evidence if e["ticket_id"] == tid)
        assert ev == (syn_ev["verdict"], syn_ev["hours_reported"]), tid
