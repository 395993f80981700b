"""A ticket's life on simulated readings: evidence, visit, closure rules, the automatic
false-closure reopen, compensation days and the 12345 rates."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from nuanliu.errors import InvalidInput
from nuanliu.hotline import stats
from nuanliu.hotline.compensation import compensation_claims, refund_yuan
from nuanliu.hotline.evidence import load_snapshot
from nuanliu.hotline.jobs import sla_sweep
from nuanliu.hotline.tickets import Actor, NewTicket, apply_action, create_ticket
from nuanliu.scope import Scope
from nuanliu.seams import provider
from tests.hotline.conftest import T0

OP = Actor("op", "hotline_operator")
STEWARD = Actor("steward", "steward")
RESIDENT = Actor("resident", "resident")


def file(store: Any, household: str, category: str = "temp_low", at=T0) -> str:
    with store.write() as w:
        return create_ticket(w, NewTicket(household, category, "屋里冷"), actor=OP, now=at)


def act(store: Any, tid: str, action: str, at, actor: Actor = STEWARD, **f: Any) -> dict:
    with store.write() as w:
        return apply_action(w, tid, action, actor=actor, now=at, **f)


def work_to_fixed(store: Any, tid: str, bedroom: float, at=T0) -> dict:
    act(store, tid, "sign", at + timedelta(minutes=10))
    act(store, tid, "arrive", at + timedelta(hours=1))
    act(
        store,
        tid,
        "measure",
        at + timedelta(hours=1, minutes=10),
        bedroom_temp_c=bedroom,
        living_room_temp_c=bedroom + 0.5,
        actions="bled radiators",
        photos="a.jpg, b.jpg",
    )
    return act(store, tid, "fix", at + timedelta(hours=3), note="balanced the riser")


def test_evidence_agrees_for_the_cold_home_and_disagrees_for_the_warm_one(
    hl_store: Any, sim: dict[str, str]
) -> None:
    cold, warm = file(hl_store, sim["cold"]), file(hl_store, sim["warm"])
    with hl_store.read() as q:
        ev_cold, ev_warm = load_snapshot(q, cold), load_snapshot(q, warm)
    assert ev_cold["verdict"] == "agrees" and ev_cold["mean_6h_c"] < 18.0
    assert ev_warm["verdict"] == "disagrees" and ev_warm["mean_6h_c"] >= 18.0
    assert (
        60 <= ev_cold["hours_reported"] <= 72
        and len(ev_cold["series"]) == ev_cold["hours_reported"]
    )
    assert ev_cold["building_rate"] == 0.0  # the whole building is under-supplied
    billing = file(hl_store, sim["cold"], "billing")
    with hl_store.read() as q:
        assert load_snapshot(q, billing)["verdict"] == "not_applicable"


def test_false_closure_reopens_only_the_home_that_stays_cold(
    hl_store: Any, sim: dict[str, str]
) -> None:
    cold, warm = file(hl_store, sim["cold"]), file(hl_store, sim["warm"])
    work_to_fixed(hl_store, cold, 15.2)
    work_to_fixed(hl_store, warm, 19.5)
    # within 24 h of the fix nothing is judged
    assert sla_sweep(hl_store, now=T0 + timedelta(hours=20), deliver=False)["checked"] == 0
    s = sla_sweep(hl_store, now=T0 + timedelta(hours=28), deliver=False)
    assert s["checked"] == 2 and s["reopened"] == 1
    with hl_store.read() as q:
        rows = dict(q.all("SELECT ticket_id, state FROM hl_tickets"))
        flags = dict(q.all("SELECT ticket_id, false_closure FROM hl_tickets"))
        event = q.dicts(
            "SELECT actor, data FROM hl_events WHERE ticket_id = ? AND action = 'false_closure'",
            [cold],
        )
    assert rows == {cold: "reopened", warm: "fixed"}
    assert flags[cold] is True and flags[warm] is False
    assert event[0]["actor"] == "system" and '"still_cold": true' in event[0]["data"]
    # judged once per fix: another sweep changes nothing
    assert sla_sweep(hl_store, now=T0 + timedelta(hours=29), deliver=False)["checked"] == 0


def test_closure_needs_the_resident_or_a_documented_failed_followup(hl_store: Any, sim) -> None:
    tid = file(hl_store, sim["warm"])
    work_to_fixed(hl_store, tid, 19.0)
    with pytest.raises(InvalidInput, match="satisfaction"):
        act(hl_store, tid, "confirm", T0 + timedelta(hours=4), RESIDENT)
    with pytest.raises(InvalidInput, match="calls"):
        act(
            hl_store, tid, "followup_failed", T0 + timedelta(hours=4), OP, note="no answer", calls=1
        )
    t = act(hl_store, tid, "reject", T0 + timedelta(hours=5), RESIDENT, note="still cold")
    assert t["state"] == "reopened" and t["reopen_count"] == 1
    work_to_fixed(hl_store, tid, 19.0, at=T0 + timedelta(hours=6))
    t = act(hl_store, tid, "confirm", T0 + timedelta(hours=10), RESIDENT, satisfaction="basic")
    assert (t["state"], t["closure"], t["resolved"], t["satisfaction"]) == (
        "closed",
        "confirmed",
        True,
        "basic",
    )
    other = file(hl_store, sim["warm"], "noise")
    act(hl_store, other, "sign", T0 + timedelta(minutes=5))
    act(hl_store, other, "arrive", T0 + timedelta(minutes=50))
    act(hl_store, other, "fix", T0 + timedelta(hours=2), note="fixed pump")
    t = act(
        hl_store,
        other,
        "followup_failed",
        T0 + timedelta(hours=30),
        OP,
        note="called 09:00 and 15:00, no answer",
        calls=2,
    )
    assert t["closure"] == "followup_failed" and t["satisfaction"] is None


def test_compensation_for_a_home_confirmed_cold_for_more_than_48_h(hl_store: Any, sim) -> None:
    tid = file(hl_store, sim["cold"], at=T0 - timedelta(hours=60))
    work_to_fixed(hl_store, tid, 15.0, at=T0 - timedelta(hours=60))  # fixed at -57 h
    short = file(hl_store, sim["warm"], at=T0)
    work_to_fixed(hl_store, short, 17.0)  # confirmed cold but fixed within 3 h
    act(hl_store, tid, "confirm", T0 + timedelta(hours=1), RESIDENT, satisfaction="satisfied")
    act(hl_store, short, "confirm", T0 + timedelta(hours=4), RESIDENT, satisfaction="satisfied")
    assert compensation_claims(hl_store, household_ids=None, season="2026-2027") == []
    # a second ticket that stays open: cold from T0 until "now" = T0 + 50 h
    late = file(hl_store, sim["cold"], at=T0)
    work_to_fixed(hl_store, late, 15.5)
    act(hl_store, late, "reject", T0 + timedelta(hours=5), RESIDENT, note="still cold")
    claims = compensation_claims(
        hl_store, household_ids=[sim["cold"]], season="2026-2027", now=T0 + timedelta(hours=50)
    )
    assert [(c.ticket_id, c.days) for c in claims] == [(late, Decimal(3))]
    assert claims[0].below_until - claims[0].below_from == timedelta(hours=50)
    assert provider("compensation") is compensation_claims
    assert refund_yuan(Decimal(3), 80.0, price_yuan_m2=Decimal("22.00"), season_days=183) == (
        Decimal("28.85")
    )


def test_the_three_rates_follow_their_definitions(hl_store: Any, sim) -> None:
    a = file(hl_store, sim["warm"])  # signed in time, resolved, satisfied
    work_to_fixed(hl_store, a, 19.0)
    act(hl_store, a, "confirm", T0 + timedelta(hours=5), RESIDENT, satisfaction="satisfied")
    b = file(hl_store, sim["cold"], "billing")  # signed late, closed by failed follow-up
    act(hl_store, b, "sign", T0 + timedelta(hours=2))
    act(hl_store, b, "fix", T0 + timedelta(hours=3), note="refund issued")
    act(
        hl_store,
        b,
        "followup_failed",
        T0 + timedelta(hours=6),
        OP,
        note="x",
        calls=3,
        satisfaction="dissatisfied",
    )
    c = file(hl_store, sim["cold"], "other", at=T0 + timedelta(minutes=10))  # never signed
    end = T0 + timedelta(hours=8)
    df = stats.rates_frame(hl_store, Scope.everything(), "city", T0 - timedelta(days=1), end)
    row = df.iloc[0]
    assert (row.opened, row.closed) == (3, 2)
    assert row.response_rate == pytest.approx(1 / 3)
    assert row.resolution_rate == pytest.approx(1 / 2)
    assert row.satisfaction_rate == pytest.approx(1 / 2)
    assert row.per_1000_households == pytest.approx(3 / row.households * 1000)
    assert row.per_10k_m2 == pytest.approx(3 / (row.area_m2 / 10_000))
    assert row.overdue == 1  # c: its sign clock is past due at the end
    assert row.repeats == 1  # c follows b in the same household
    seam = provider("complaints")
    assert seam is stats.complaint_stats
    out = seam(
        hl_store, level="city", ids=[row.unit_id, "nowhere"], start=T0 - timedelta(days=1), end=end
    )
    assert out[0].response_rate == pytest.approx(1 / 3) and out[0].opened == 3
    assert out[1].object_id == "nowhere" and out[1].opened == 0 and out[1].response_rate is None
    trend = stats.trend_frame(hl_store, Scope.everything(), T0 - timedelta(days=2), end)
    assert trend.opened.sum() == 3 and trend.closed.sum() == 2
    assert c
