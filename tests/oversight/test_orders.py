"""The supervision order state machine: every legal transition, every illegal one
refused, sides and scope enforced, overdue flagging and escalation, audit entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nuanliu.api.audit import list_events
from nuanliu.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from nuanliu.oversight import orders as od
from nuanliu.oversight.exit import ExitRule, list_flags, save_rule
from nuanliu.oversight.jobs import order_sweep
from tests.oversight.conftest import CITY_REGULATOR, OP_E1, OP_E2, REGULATOR, STEWARD

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _new(store: Any, proposed: bool = False) -> od.Order:
    if proposed:
        return od.create_order(
            store,
            enterprise_id="E2",
            subject_level="station",
            subject_id="S2",
            problem_zh="2号站连续3天达标率低于90%",
            deadline=NOW + timedelta(days=7),
            by="system",
            now=NOW,
            proposed=True,
            rule_key="station_low:station:S2",
            issuer_region_id="C",
        )
    return od.create_order(
        store,
        enterprise_id="E2",
        subject_level="station",
        subject_id="S2",
        problem_zh="2号站室温偏低",
        problem_en="Station 2 is cold",
        evidence=["/reports/daily/city:C/2026-11-30#units"],
        deadline=NOW + timedelta(days=7),
        by=CITY_REGULATOR,
        now=NOW,
    )


def _actor(action: str) -> Any:
    return OP_E2 if od.TRANSITIONS[action][2] == od.ENTERPRISE else CITY_REGULATOR


def _drive(store: Any, path: list[str], proposed: bool = False) -> od.Order:
    order = _new(store, proposed)
    for i, action in enumerate(path):
        order = od.transition(
            store,
            order.order_id,
            action,
            by=_actor(action),
            note=f"step {i}",
            now=NOW + timedelta(hours=i + 1),
        )
    return order


LEGAL_PATHS = [
    (["accept", "report", "close"], False, "closed"),
    (["accept", "report", "send_back", "report", "close"], False, "closed"),
    (["cancel"], False, "cancelled"),
    (["accept", "cancel"], False, "cancelled"),
    (["accept", "report", "send_back", "cancel"], False, "cancelled"),
    (["confirm", "accept", "report", "close"], True, "closed"),
    (["dismiss"], True, "dismissed"),
]


@pytest.mark.parametrize("path,proposed,final", LEGAL_PATHS)
def test_legal_paths(town: Any, path: list[str], proposed: bool, final: str) -> None:
    order = _drive(town, path, proposed)
    assert order.state == final
    events = od.order_events(town, order.order_id)
    assert [e["action"] for e in events] == ["create", *path]
    audited = [e["action"] for e in list_events(town, limit=1000)]
    assert sum(a.startswith("order_") for a in audited) == len(path) + 1
    if final == "closed":
        assert order.rectified_on_time is True and order.closed_at is not None


def test_every_transition_is_covered_by_the_legal_paths() -> None:
    seen = set()
    for path, proposed, _ in LEGAL_PATHS:
        state = "proposed" if proposed else "issued"
        for action in path:
            seen.add((state, action))
            state = od.TRANSITIONS[action][1]
    expected = {(s, a) for a, (src, _, _) in od.TRANSITIONS.items() for s in src}
    assert seen == expected


def test_illegal_transitions_are_refused(town: Any) -> None:
    # reach every state once, then try every action that does not start from it
    reach = {
        "proposed": ([], True),
        "issued": ([], False),
        "accepted": (["accept"], False),
        "reported": (["accept", "report"], False),
        "returned": (["accept", "report", "send_back"], False),
        "closed": (["accept", "report", "close"], False),
        "dismissed": (["dismiss"], True),
        "cancelled": (["cancel"], False),
    }
    assert set(reach) == set(od.STATES)
    refused = 0
    for state, (path, proposed) in reach.items():
        order = _drive(town, path, proposed)
        assert order.state == state
        for action, (src, _, _) in od.TRANSITIONS.items():
            if state in src:
                continue
            with pytest.raises(IllegalTransition, match=f"cannot {action} in state {state}"):
                od.transition(town, order.order_id, action, by=_actor(action), note="x", now=NOW)
            refused += 1
        assert od.get_order(town, order.order_id).state == state  # nothing changed
    assert refused == sum(len(od.STATES) - len(src) for src, _, _ in od.TRANSITIONS.values())


def test_sides_and_scope(town: Any) -> None:
    order = _new(town)
    with pytest.raises(PermissionDenied):
        od.transition(town, order.order_id, "accept", by=CITY_REGULATOR, now=NOW)
    with pytest.raises(PermissionDenied):
        od.transition(town, order.order_id, "cancel", by=OP_E2, note="no", now=NOW)
    with pytest.raises(NotFound):  # another enterprise does not even see it
        od.transition(town, order.order_id, "accept", by=OP_E1, now=NOW)
    with pytest.raises(NotFound):
        od.visible_order(town, STEWARD, order.order_id)
    assert od.list_orders(town, OP_E1) == [] and od.list_orders(town, STEWARD) == []
    assert [o.order_id for o in od.list_orders(town, OP_E2)] == [order.order_id]
    assert [o.order_id for o in od.list_orders(town, REGULATOR)] == [order.order_id]
    od.transition(town, order.order_id, "accept", by=OP_E2, now=NOW)
    with pytest.raises(InvalidInput, match="needs a text"):
        od.transition(town, order.order_id, "report", by=OP_E2, note=" ", now=NOW)
    with pytest.raises(InvalidInput, match="not served by"):
        od.create_order(
            town,
            enterprise_id="E2",
            subject_level="station",
            subject_id="S1",
            problem_zh="x",
            deadline=NOW + timedelta(days=1),
            by=CITY_REGULATOR,
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="not in the future"):
        od.create_order(
            town,
            enterprise_id="E2",
            subject_level="enterprise",
            subject_id="E2",
            problem_zh="x",
            deadline=NOW,
            by=CITY_REGULATOR,
            now=NOW,
        )


def test_overdue_orders_are_flagged_and_escalate(town: Any) -> None:
    order = _new(town)  # issued by city C, deadline NOW + 7 d
    done = _drive(town, ["accept", "report", "close"])
    assert order_sweep(town, now=NOW + timedelta(days=6))["flagged_overdue"] == 0
    summary = order_sweep(town, now=NOW + timedelta(days=8))
    assert summary == {"flagged_overdue": 1, "escalated": 1, "open_exit_flags": 0}
    late = od.get_order(town, order.order_id)
    assert late.overdue and late.handler_region_id == "R" and late.escalation_level == 1
    assert not od.get_order(town, done.order_id).overdue
    # the configured exit rule counts orders left unrectified
    save_rule(town, ExitRule(failing_periods=3, unrectified_orders=1))
    assert order_sweep(town, now=NOW + timedelta(days=9))["open_exit_flags"] == 1
    (flag,) = list_flags(town, ["E2"])
    assert flag["evidence"]["unrectified_orders"] == [order.order_id]
    # the top of the chain is reached: no further escalation, no second flag
    assert order_sweep(town, now=NOW + timedelta(days=30))["escalated"] == 0
    # rectified after the deadline: closed, but not on time
    od.transition(town, order.order_id, "accept", by=OP_E2, now=NOW + timedelta(days=31))
    od.transition(
        town, order.order_id, "report", by=OP_E2, note="fixed", now=NOW + timedelta(days=32)
    )
    closed = od.transition(
        town, order.order_id, "close", by=REGULATOR, now=NOW + timedelta(days=33)
    )
    assert closed.state == "closed" and closed.rectified_on_time is False
