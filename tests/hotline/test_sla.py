"""SLA clocks under an injected clock: deadlines, pause, resume, breach, escalation chain."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from nuanliu.errors import InvalidInput
from nuanliu.hotline.jobs import sla_sweep
from nuanliu.hotline.machine import IllegalTransition
from nuanliu.hotline.tickets import Actor, NewTicket, apply_action, create_ticket
from tests.hotline.conftest import T0, households

OP = Actor("op", "hotline_operator")
STEWARD = Actor("steward", "steward")


def clocks(store: Any, tid: str) -> dict[str, dict[str, Any]]:
    with store.read() as q:
        rows = q.dicts("SELECT * FROM hl_sla_clocks WHERE ticket_id = ? ORDER BY round_no", [tid])
    return {f"{r['step']}{r['round_no']}": r for r in rows}


def new_ticket(store: Any, category: str = "temp_low", at=T0, **kw: Any) -> str:
    with store.write() as w:
        return create_ticket(
            w, NewTicket(households(store)[0], category, "屋里冷", **kw), actor=OP, now=at
        )


def act(store: Any, tid: str, action: str, at, **fields: Any) -> dict[str, Any]:
    with store.write() as w:
        return apply_action(w, tid, action, actor=STEWARD, now=at, **fields)


def test_default_budgets_per_category_and_season_part(hl_store: Any) -> None:
    temp = clocks(hl_store, new_ticket(hl_store, "temp_low"))
    assert {k: v["budget_minutes"] for k, v in temp.items()} == {
        "sign1": 30,
        "arrive1": 120,
        "measure1": 600,
        "fix1": 1440,
    }
    leak = clocks(hl_store, new_ticket(hl_store, "leak"))
    assert leak["arrive1"]["budget_minutes"] == 60 and "measure1" not in leak
    # 2026-10-20 is within the first 10 days of the season (from 15 October)
    early = clocks(hl_store, new_ticket(hl_store, "temp_low", at=T0.replace(month=10, day=20)))
    assert early["arrive1"]["budget_minutes"] == 300
    order = clocks(hl_store, new_ticket(hl_store, "billing", channel="12345"))
    assert set(order) == {"sign1", "fix1", "feedback1"}


def test_policy_override(hl_store: Any) -> None:
    with hl_store.write() as w:
        w.execute("INSERT INTO hl_sla_policies VALUES ('temp_low', 'normal', 'sign', 15)")
    assert clocks(hl_store, new_ticket(hl_store))["sign1"]["budget_minutes"] == 15


def test_pause_resume_moves_the_deadline_and_breach_escalates(hl_store: Any) -> None:
    with hl_store.write() as w:
        w.execute("INSERT INTO hl_settings VALUES ('webhook_url', 'http://127.0.0.1:9/hook')")
    tid = new_ticket(hl_store)
    act(hl_store, tid, "sign", T0 + timedelta(minutes=20))
    assert clocks(hl_store, tid)["sign1"]["completed_at"] == T0 + timedelta(minutes=20)
    # resident not at home from +1 h to +4 h: the arrive clock (due +2 h) stops
    act(hl_store, tid, "pause", T0 + timedelta(hours=1), reason="resident_not_home")
    assert sla_sweep(hl_store, now=T0 + timedelta(hours=3), deliver=False)["breached"] == 0
    act(hl_store, tid, "resume", T0 + timedelta(hours=4))
    c = clocks(hl_store, tid)
    assert c["arrive1"]["due_at"] == T0 + timedelta(hours=5)  # 2 h + 3 h paused
    assert c["arrive1"]["paused_minutes"] == pytest.approx(180)
    # no one arrives: breach at +5 h, escalation level 1 at once, 2 after 2 h, 3 after 8 h
    s = sla_sweep(hl_store, now=T0 + timedelta(hours=5, minutes=1), deliver=False)
    assert s["breached"] == 1 and s["escalations"] == 1
    assert sla_sweep(hl_store, now=T0 + timedelta(hours=5, minutes=2), deliver=False) == {
        "breached": 0,
        "escalations": 0,
        "reopened": 0,
        "checked": 0,
    }
    sla_sweep(hl_store, now=T0 + timedelta(hours=7, minutes=1), deliver=False)
    sla_sweep(hl_store, now=T0 + timedelta(hours=13, minutes=1), deliver=False)
    with hl_store.read() as q:
        esc = q.dicts(
            "SELECT level, target_kind, delivery_id FROM hl_escalations"
            " WHERE step = 'arrive' ORDER BY level"
        )
        outbox = q.dicts(
            "SELECT event, url, payload FROM mon_alert_deliveries ORDER BY delivery_id"
        )
    assert [(e["level"], e["target_kind"]) for e in esc] == [
        (1, "enterprise"),
        (2, "government_steward"),
        (3, "regulator"),
    ]
    arrive = [json.loads(o["payload"]) for o in outbox if '"arrive"' in o["payload"]]
    assert [p["level"] for p in arrive] == [1, 2, 3]
    assert all(o["event"] == "hotline.escalation" for o in outbox)
    assert {p["ticket_id"] for p in arrive} == {tid}


def test_pause_only_for_resident_side_causes(hl_store: Any) -> None:
    tid = new_ticket(hl_store)
    act(hl_store, tid, "sign", T0 + timedelta(minutes=5))
    with pytest.raises(InvalidInput, match="resident_not_home"):
        act(hl_store, tid, "pause", T0 + timedelta(minutes=6), reason="parts_missing")
    with pytest.raises(IllegalTransition):
        act(hl_store, tid, "resume", T0 + timedelta(minutes=6))
    act(hl_store, tid, "pause", T0 + timedelta(minutes=6), reason="resident_rescheduled")
    with pytest.raises(IllegalTransition, match="already paused"):
        act(hl_store, tid, "pause", T0 + timedelta(minutes=7), reason="resident_not_home")
    # arriving ends the pause on its own
    act(hl_store, tid, "arrive", T0 + timedelta(minutes=66))
    c = clocks(hl_store, tid)
    assert c["arrive1"]["completed_at"] is not None and c["arrive1"]["paused_since"] is None
    assert c["measure1"]["due_at"] == T0 + timedelta(minutes=600 + 60)


def test_unpaused_new_ticket_breaches_sign_at_its_deadline(hl_store: Any) -> None:
    tid = new_ticket(hl_store, "billing")
    assert sla_sweep(hl_store, now=T0 + timedelta(minutes=29), deliver=False)["breached"] == 0
    assert sla_sweep(hl_store, now=T0 + timedelta(minutes=31), deliver=False)["breached"] == 1
    assert clocks(hl_store, tid)["sign1"]["breached_at"] == T0 + timedelta(minutes=30)
    # signing late completes the clock; it stays breached
    act(hl_store, tid, "sign", T0 + timedelta(minutes=40))
    c = clocks(hl_store, tid)["sign1"]
    assert c["breached_at"] is not None and c["completed_at"] > c["due_at"]


def test_escalations_are_posted_by_the_alerts_webhook_delivery(hl_store: Any) -> None:
    import httpx

    from nuanliu.monitor.webhook import deliver_pending

    with hl_store.write() as w:
        w.execute("INSERT INTO mon_settings (key, value) VALUES ('webhook_url', 'http://hook/x')")
    tid = new_ticket(hl_store, "billing")
    sla_sweep(hl_store, now=T0 + timedelta(minutes=31), deliver=False)
    posted: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append({"event": request.headers["X-Nuanliu-Event"], **json.loads(request.content)})
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        results = deliver_pending(hl_store, client=client)
    assert [r["delivered"] for r in results] == [True]
    assert posted[0]["event"] == "hotline.escalation" and posted[0]["ticket_id"] == tid
    assert posted[0]["level"] == 1 and posted[0]["target"] == "enterprise"
    assert posted[0]["step"] == "sign"
