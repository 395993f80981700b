"""Exit (退出): a configurable rule flags an enterprise that fails evaluation N periods in
a row or leaves supervision orders unrectified (overdue) M times; the flag lists its
evidence; the regulator's decision is recorded and audited, and the licence follows
(suspension → suspended, revocation → revoked)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nuanliu.errors import IllegalTransition, InvalidInput, NotFound
from nuanliu.oversight.evaluation import enterprise_history
from nuanliu.oversight.licences import list_licences, set_state
from nuanliu.oversight.orders import list_orders
from nuanliu.oversight.records import audit, dumps, loads, new_id

DECISIONS = ("warning", "suspension", "revocation", "none")


@dataclass(frozen=True)
class ExitRule:
    failing_periods: int = 2  # N evaluations in a row not passed …
    period_kind: str = "month"
    unrectified_orders: int = 3  # … or M orders that went overdue

    def public(self) -> dict[str, Any]:
        return dict(self.__dict__)


def load_rule(store: Any) -> ExitRule:
    """The configured exit rule (``ov_settings.exit_rule``), else the defaults."""
    with store.read() as q:
        row = q.one("SELECT value FROM ov_settings WHERE key = 'exit_rule'")
    return ExitRule(**loads(row[0], {})) if row else ExitRule()


def save_rule(store: Any, rule: ExitRule, *, by: Any = "system") -> ExitRule:
    if rule.failing_periods < 1 or rule.unrectified_orders < 1:
        raise InvalidInput(
            "exit rule: failing_periods and unrectified_orders must be at least 1",
            details={"rule": rule.public()},
        )
    if rule.period_kind not in ("month", "season"):
        raise InvalidInput(
            f"exit rule: period kind {rule.period_kind!r} is not month or season",
            details={"field": "period_kind", "value": rule.period_kind},
        )
    before = load_rule(store)
    with store.write() as w:
        w.execute("DELETE FROM ov_settings WHERE key = 'exit_rule'")
        w.execute("INSERT INTO ov_settings VALUES ('exit_rule', ?)", [dumps(rule.public())])
    audit(store, by, "exit_rule", "setting", "exit_rule", before.public(), rule.public())
    return rule


def check_all(store: Any, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """Apply the configured rule to every enterprise; the open flags it raised or found."""
    rule = load_rule(store)
    with store.read() as q:
        ents = [str(r[0]) for r in q.all("SELECT enterprise_id FROM enterprises ORDER BY 1")]
    found = [check_exit(store, e, rule, now=now) for e in ents]
    return [f for f in found if f is not None]


def check_exit(
    store: Any, enterprise_id: str, rule: ExitRule, *, now: datetime | None = None
) -> dict[str, Any] | None:
    """Raise (or return the open) flag when the rule is met; None when it is not."""
    now = now or datetime.now(UTC)
    history = enterprise_history(store, enterprise_id, rule.period_kind)
    run = []
    for r in reversed(history):
        if r["passed"]:
            break
        run.append(r)
    overdue = [o for o in list_orders(store, enterprise_ids=[enterprise_id]) if o.overdue]
    evidence = {
        "failed_in_a_row": [
            {
                "evaluation_id": r["evaluation_id"],
                "period": r["period_label"],
                "grade": r["grade"],
                "total_points": r["total_points"],
            }
            for r in reversed(run)
        ],
        "unrectified_orders": [o.order_id for o in overdue],
    }
    met = len(run) >= rule.failing_periods or len(overdue) >= rule.unrectified_orders
    if not met:
        return None
    for flag in list_flags(store, [enterprise_id]):
        if flag["state"] == "open":
            return flag
    fid = new_id("EX")
    with store.write() as w:
        w.execute(
            "INSERT INTO ov_exit_flags (flag_id, enterprise_id, rule, evidence, raised_at, state)"
            " VALUES (?,?,?,?,?,?)",
            [fid, enterprise_id, dumps(rule.public()), dumps(evidence), now, "open"],
        )
    audit(
        store,
        "system",
        "exit_flag",
        "enterprise",
        enterprise_id,
        None,
        {"flag_id": fid, **evidence},
    )
    return get_flag(store, fid)


def get_flag(store: Any, flag_id: str) -> dict[str, Any]:
    with store.read() as q:
        rows = q.dicts("SELECT * FROM ov_exit_flags WHERE flag_id = ?", [flag_id])
    if not rows:
        raise NotFound(f"exit flag {flag_id!r} not found", details={"flag_id": flag_id})
    return _flag(rows[0])


def _flag(r: dict[str, Any]) -> dict[str, Any]:
    r["rule"], r["evidence"] = loads(r["rule"], {}), loads(r["evidence"], {})
    return r


def list_flags(store: Any, enterprise_ids: list[str] | None = None) -> list[dict[str, Any]]:
    with store.read() as q:
        rows = [_flag(r) for r in q.dicts("SELECT * FROM ov_exit_flags ORDER BY raised_at DESC")]
    if enterprise_ids is not None:
        rows = [r for r in rows if r["enterprise_id"] in set(enterprise_ids)]
    return rows


def decide(
    store: Any, flag_id: str, decision: str, note: str, *, by: Any, now: datetime | None = None
) -> dict[str, Any]:
    """Record the regulator's decision on an open flag; the licence state follows."""
    if decision not in DECISIONS:
        raise InvalidInput(
            f"decision {decision!r} is not one of {', '.join(DECISIONS)}",
            details={"field": "decision", "value": decision},
        )
    if not note.strip():
        raise InvalidInput("a decision needs its grounds", details={"field": "note"})
    flag = get_flag(store, flag_id)
    if flag["state"] != "open":
        raise IllegalTransition(
            f"exit flag {flag_id} is already decided", details={"flag_id": flag_id}
        )
    now = now or datetime.now(UTC)
    with store.write() as w:
        w.execute(
            "UPDATE ov_exit_flags SET state = 'decided', decision = ?, decision_note = ?,"
            " decided_by = ?, decided_at = ? WHERE flag_id = ?",
            [decision, note, str(getattr(by, "username", by)), now, flag_id],
        )
    audit(
        store,
        by,
        "exit_decision",
        "enterprise",
        flag["enterprise_id"],
        {"state": "open"},
        {"decision": decision, "note": note},
    )
    target = {"suspension": "suspended", "revocation": "revoked"}.get(decision)
    if target:
        for lic in list_licences(store, [flag["enterprise_id"]]):
            if lic.state != target and lic.state != "revoked":
                set_state(store, lic.licence_id, target, f"exit decision {flag_id}: {note}", by=by)
    return get_flag(store, flag_id)
