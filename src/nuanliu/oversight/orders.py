"""Supervision orders (督办单): a regulator sends an enterprise a problem to fix.

State machine (the side that may act in brackets)::

    proposed --confirm [regulator]--> issued      (a rule proposed it; a person confirms)
    proposed --dismiss [regulator]--> dismissed
    issued   --accept  [enterprise]--> accepted
    accepted --report  [enterprise]--> reported   (rectification 整改: text + attachments)
    returned --report  [enterprise]--> reported
    reported --close   [regulator]--> closed      (verified)
    reported --send_back [regulator]--> returned
    issued | accepted | returned --cancel [regulator]--> cancelled

Every transition writes an order event and an audit-log entry; any other move raises
``IllegalTransition``. ``sweep`` flags orders past their deadline while the enterprise
still owes an action and escalates them to the next regulator level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nuanliu.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from nuanliu.monitor.units import level_column
from nuanliu.oversight.records import audit, dumps, loads, new_id
from nuanliu.reports.scopes import enterprise_region, region_chain

REGULATOR, ENTERPRISE = "regulator", "enterprise"
STATES = (
    "proposed",
    "issued",
    "accepted",
    "reported",
    "returned",
    "closed",
    "dismissed",
    "cancelled",
)
OPEN_STATES = ("proposed", "issued", "accepted", "reported", "returned")
OWED_BY_ENTERPRISE = ("issued", "accepted", "returned")
# action -> (states it starts from, state it leads to, side that may take it)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "confirm": (frozenset({"proposed"}), "issued", REGULATOR),
    "dismiss": (frozenset({"proposed"}), "dismissed", REGULATOR),
    "accept": (frozenset({"issued"}), "accepted", ENTERPRISE),
    "report": (frozenset({"accepted", "returned"}), "reported", ENTERPRISE),
    "close": (frozenset({"reported"}), "closed", REGULATOR),
    "send_back": (frozenset({"reported"}), "returned", REGULATOR),
    "cancel": (frozenset({"issued", "accepted", "returned"}), "cancelled", REGULATOR),
}
SUBJECT_LEVELS = ("enterprise", "station", "building", "household")
ESCALATE_EVERY = timedelta(days=7)

_COLS = (
    "order_id, enterprise_id, issuer_region_id, handler_region_id, escalation_level,"
    " subject_level, subject_id, problem_zh, problem_en, evidence, deadline, state, origin,"
    " rule_key, overdue, created_by, created_at, updated_at, closed_at, rectified_on_time"
)


@dataclass(frozen=True)
class Order:
    order_id: str
    enterprise_id: str
    issuer_region_id: str
    handler_region_id: str
    escalation_level: int
    subject_level: str
    subject_id: str
    problem_zh: str
    problem_en: str
    evidence: list[str]
    deadline: datetime
    state: str
    origin: str
    rule_key: str | None
    overdue: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    rectified_on_time: bool | None

    def public(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for k in ("deadline", "created_at", "updated_at", "closed_at"):
            out[k] = out[k].isoformat() if out[k] is not None else None
        return out

    def problem(self, lang: str) -> str:
        return self.problem_en if lang == "en" else self.problem_zh


def _aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _order(row: tuple) -> Order:
    vals = list(row)
    vals[9] = loads(vals[9], [])
    for i in (10, 16, 17, 18):
        vals[i] = _aware(vals[i])
    vals[4] = int(vals[4])
    vals[14] = bool(vals[14])
    vals[19] = None if vals[19] is None else bool(vals[19])
    return Order(*vals)


def side_of(user: Any) -> str | None:
    """Which side of an order a user acts for (None: neither)."""
    role = str(getattr(user, "role", ""))
    if role == "regulator":
        return REGULATOR
    if role in ("enterprise_admin", "enterprise_operator"):
        return ENTERPRISE
    return None


def can_see(store: Any, user: Any, order: Order) -> bool:
    """A regulator sees orders to enterprises in its regions; an enterprise its own."""
    side = side_of(user)
    if side == ENTERPRISE:
        return order.enterprise_id in set(user.scope_ids)
    if side == REGULATOR:
        chain = set(region_chain(store, enterprise_region(store, order.enterprise_id)))
        return bool(chain & set(user.scope_ids))
    return False


def get_order(store: Any, order_id: str) -> Order:
    with store.read() as q:
        row = q.one(f"SELECT {_COLS} FROM ov_orders WHERE order_id = ?", [order_id])
    if row is None:
        raise NotFound(f"order {order_id!r} not found", details={"order_id": order_id})
    return _order(row)


def visible_order(store: Any, user: Any, order_id: str) -> Order:
    """The order if ``user`` may see it; NotFound otherwise (existence not revealed)."""
    order = get_order(store, order_id)
    if not can_see(store, user, order):
        raise NotFound(f"order {order_id!r} not found", details={"order_id": order_id})
    return order


def list_orders(
    store: Any,
    user: Any | None = None,
    *,
    enterprise_ids: list[str] | None = None,
    states: tuple[str, ...] | None = None,
) -> list[Order]:
    """Orders newest first; those ``user`` may see when given."""
    with store.read() as q:
        rows = q.all(f"SELECT {_COLS} FROM ov_orders ORDER BY created_at DESC, order_id")
    out = [_order(r) for r in rows]
    if enterprise_ids is not None:
        keep = set(enterprise_ids)
        out = [o for o in out if o.enterprise_id in keep]
    if states is not None:
        out = [o for o in out if o.state in states]
    if user is not None:
        out = [o for o in out if can_see(store, user, o)]
    return out


def order_events(store: Any, order_id: str) -> list[dict[str, Any]]:
    with store.read() as q:
        rows = q.dicts(
            "SELECT event_id, occurred_at, actor, action, from_state, to_state, note,"
            " attachment_ids FROM ov_order_events WHERE order_id = ?"
            " ORDER BY occurred_at, event_id",
            [order_id],
        )
    for r in rows:
        r["attachment_ids"] = loads(r["attachment_ids"], [])
        r["occurred_at"] = _aware(r["occurred_at"])
    return rows


def _check_subject(store: Any, enterprise_id: str, level: str, subject_id: str) -> None:
    if level not in SUBJECT_LEVELS:
        raise InvalidInput(
            f"order subject level {level!r} is not one of {', '.join(SUBJECT_LEVELS)}",
            details={"field": "subject_level", "value": level},
        )
    with store.read() as q:
        found = q.one(
            f"SELECT 1 FROM household_context WHERE enterprise_id = ? AND {level_column(level)} = ?"
            " LIMIT 1",
            [enterprise_id, subject_id],
        )
        if found is None and level == "enterprise":
            found = q.one("SELECT 1 FROM enterprises WHERE enterprise_id = ?", [enterprise_id])
    if found is None:
        raise InvalidInput(
            f"{level} {subject_id!r} is not served by enterprise {enterprise_id!r}",
            details={"field": "subject_id", "value": subject_id},
        )


def create_order(
    store: Any,
    *,
    enterprise_id: str,
    subject_level: str,
    subject_id: str,
    problem_zh: str,
    problem_en: str = "",
    evidence: list[str] | None = None,
    deadline: datetime,
    by: Any,
    now: datetime | None = None,
    proposed: bool = False,
    rule_key: str | None = None,
    issuer_region_id: str | None = None,
) -> Order:
    """A new order (``issued``), or ``proposed`` when a rule suggests it.

    ``by`` is the regulator creating it (or a system name for proposals with
    ``issuer_region_id``). The regulator must cover the enterprise.
    """
    now = now or datetime.now(UTC)
    if deadline.tzinfo is None:
        raise InvalidInput("deadline must be timezone-aware", details={"field": "deadline"})
    if deadline <= now:
        raise InvalidInput(
            f"deadline {deadline.isoformat()} is not in the future",
            details={"field": "deadline", "value": deadline.isoformat()},
        )
    if not problem_zh.strip():
        raise InvalidInput("an order needs a problem description", details={"field": "problem_zh"})
    chain = region_chain(store, enterprise_region(store, enterprise_id))
    if issuer_region_id is None:
        if side_of(by) != REGULATOR:
            raise PermissionDenied("only a regulator creates supervision orders")
        covering = [r for r in chain if r in set(by.scope_ids)]
        if not covering:
            raise NotFound(
                f"enterprise {enterprise_id!r} not found", details={"enterprise_id": enterprise_id}
            )
        issuer_region_id = covering[0]
    _check_subject(store, enterprise_id, subject_level, subject_id)
    oid = new_id("DB")
    state = "proposed" if proposed else "issued"
    actor = str(getattr(by, "username", by))
    with store.write() as w:
        w.execute(
            f"INSERT INTO ov_orders ({_COLS}) VALUES ({', '.join('?' * 20)})",
            [
                oid,
                enterprise_id,
                issuer_region_id,
                issuer_region_id,
                0,
                subject_level,
                subject_id,
                problem_zh,
                problem_en or problem_zh,
                dumps(evidence or []),
                deadline,
                state,
                "rule" if proposed else "manual",
                rule_key,
                False,
                actor,
                now,
                now,
                None,
                None,
            ],
        )
        w.execute(
            "INSERT INTO ov_order_events VALUES (?,?,?,?,?,?,?,?,?)",
            [new_id("OE"), oid, now, actor, "create", None, state, "", "[]"],
        )
    audit(
        store,
        by,
        "order_create",
        "order",
        oid,
        None,
        {"state": state, "enterprise_id": enterprise_id},
    )
    return get_order(store, oid)


def transition(
    store: Any,
    order_id: str,
    action: str,
    *,
    by: Any,
    note: str = "",
    attachment_ids: list[str] | None = None,
    now: datetime | None = None,
) -> Order:
    """Apply ``action`` for ``by``; IllegalTransition when the state machine forbids it."""
    now = now or datetime.now(UTC)
    if action not in TRANSITIONS:
        raise InvalidInput(
            f"order action {action!r} is not one of {', '.join(TRANSITIONS)}",
            details={"field": "action", "value": action},
        )
    order = visible_order(store, by, order_id)
    sources, target, side = TRANSITIONS[action]
    if side_of(by) != side:
        raise PermissionDenied(
            f"{action} on an order is for the {side}, not role {getattr(by, 'role', by)}",
            details={"action": action, "side": side},
        )
    if order.state not in sources:
        raise IllegalTransition(
            f"order {order_id}: cannot {action} in state {order.state}"
            f" (allowed from {', '.join(sorted(sources))})",
            details={"order_id": order_id, "state": order.state, "action": action},
        )
    if action == "report" and not note.strip():
        raise InvalidInput("a rectification report needs a text", details={"field": "note"})
    if action in ("send_back", "dismiss", "cancel") and not note.strip():
        raise InvalidInput(f"{action} needs a reason", details={"field": "note"})
    sets, params = ["state = ?", "updated_at = ?"], [target, now]
    if action == "close":
        reported = [e for e in order_events(store, order_id) if e["action"] == "report"]
        on_time = bool(reported) and reported[-1]["occurred_at"] <= order.deadline
        sets += ["closed_at = ?", "rectified_on_time = ?"]
        params += [now, on_time]
    with store.write() as w:
        changed = w.execute(
            f"UPDATE ov_orders SET {', '.join(sets)} WHERE order_id = ? AND state = ?",
            [*params, order_id, order.state],
        )
        if changed == 0:  # someone else moved it first
            raise IllegalTransition(
                f"order {order_id} changed state meanwhile", details={"order_id": order_id}
            )
        w.execute(
            "INSERT INTO ov_order_events VALUES (?,?,?,?,?,?,?,?,?)",
            [
                new_id("OE"),
                order_id,
                now,
                by.username,
                action,
                order.state,
                target,
                note,
                dumps(attachment_ids or []),
            ],
        )
    audit(
        store,
        by,
        f"order_{action}",
        "order",
        order_id,
        {"state": order.state},
        {"state": target, "note": note},
    )
    return get_order(store, order_id)


def allowed_actions(order: Order, user: Any) -> list[str]:
    side = side_of(user)
    return [a for a, (src, _, s) in TRANSITIONS.items() if s == side and order.state in src]


def sweep(store: Any, now: datetime, escalate_every: timedelta = ESCALATE_EVERY) -> dict[str, int]:
    """Flag orders past their deadline while the enterprise owes an action; escalate each
    to the next regulator level once overdue, and one level more per ``escalate_every``."""
    flagged = escalated = 0
    for order in list_orders(store, states=OWED_BY_ENTERPRISE):
        if order.deadline >= now:
            continue
        due_level = 1 + int((now - order.deadline) / escalate_every)
        chain = region_chain(store, order.issuer_region_id)
        target_level = min(due_level, len(chain) - 1)
        updates: dict[str, Any] = {}
        if not order.overdue:
            updates["overdue"] = True
            flagged += 1
        if target_level > order.escalation_level:
            updates["escalation_level"] = target_level
            updates["handler_region_id"] = chain[target_level]
            escalated += 1
        if not updates:
            continue
        with store.write() as w:
            w.execute(
                f"UPDATE ov_orders SET {', '.join(f'{k} = ?' for k in updates)}, updated_at = ?"
                " WHERE order_id = ?",
                [*updates.values(), now, order.order_id],
            )
            w.execute(
                "INSERT INTO ov_order_events VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    new_id("OE"),
                    order.order_id,
                    now,
                    "system",
                    "escalate" if "handler_region_id" in updates else "overdue",
                    order.state,
                    order.state,
                    dumps(updates),
                    "[]",
                ],
            )
        audit(
            store,
            "system",
            "order_overdue",
            "order",
            order.order_id,
            {"handler_region_id": order.handler_region_id},
            updates,
        )
    return {"flagged_overdue": flagged, "escalated": escalated}


def propose_from_findings(
    store: Any,
    findings: list[Any],
    *,
    issuer_region_id: str,
    now: datetime,
    deadline_days: int = 7,
    evidence_url: str = "",
) -> list[Order]:
    """Proposed orders for findings whose rule proposes one and that have no open order
    with the same rule key yet; a regulator confirms or dismisses each."""
    open_keys = {o.rule_key for o in list_orders(store, states=OPEN_STATES) if o.rule_key}
    out = []
    for f in findings:
        if not f.propose_order or f.enterprise_id is None or f.key in open_keys:
            continue
        out.append(
            create_order(
                store,
                enterprise_id=f.enterprise_id,
                subject_level=f.level,
                subject_id=f.unit_id,
                problem_zh=f.text_zh,
                problem_en=f.text_en,
                evidence=[evidence_url] if evidence_url else [],
                deadline=now + timedelta(days=deadline_days),
                by="system",
                now=now,
                proposed=True,
                rule_key=f.key,
                issuer_region_id=issuer_region_id,
            )
        )
        open_keys.add(f.key)
    return out
