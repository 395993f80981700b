"""Readiness: the store answers, every ingest worker is alive and connected to its
broker, and a scheduler is alive. Read from the heartbeat tables, so any API worker
answers for the whole deployment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

STALE_S = 30.0  # a heartbeat older than this (workers beat every 5 s) is a dead process
COMPONENTS = ("store", "ingest", "scheduler")


@dataclass
class Check:
    ok: bool
    detail: str
    items: list[dict[str, Any]] = field(default_factory=list)


def _age_s(now: datetime, ts: Any) -> float:
    seen = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts
    return round((now - seen).total_seconds(), 1)


def check_store(store: Any) -> Check:
    try:
        with store.read() as q:
            ok = q.scalar("SELECT 1") == 1
    except Exception as exc:  # any driver failure is "not ready"
        return Check(False, f"store unreachable: {type(exc).__name__}")
    return Check(ok, f"{store.caps.engine} answers" if ok else "store answered wrongly")


def check_ingest(store: Any, required: bool, now: datetime) -> Check:
    with store.read() as q:
        rows = q.all(
            "SELECT group_name, client_id, state, last_seen, broker_connected "
            "FROM ingest_members WHERE state IN ('running', 'draining') ORDER BY client_id"
        )
    items = [
        {
            "group": g,
            "client_id": c,
            "state": s,
            "heartbeat_age_s": _age_s(now, seen),
            "broker_connected": bool(conn),
        }
        for g, c, s, seen, conn in rows
    ]
    bad = [i for i in items if i["heartbeat_age_s"] > STALE_S or not i["broker_connected"]]
    if bad:
        names = ", ".join(i["client_id"] for i in bad)
        return Check(False, f"ingest workers silent or off the broker: {names}", items)
    if not items:
        return Check(not required, "no ingest worker running", items)
    return Check(True, f"{len(items)} ingest worker(s) connected", items)


def check_scheduler(store: Any, required: bool, now: datetime) -> Check:
    with store.read() as q:
        rows = q.all(
            "SELECT instance_id, last_seen FROM sched_instances WHERE state = 'running' "
            "ORDER BY instance_id"
        )
    items = [{"instance_id": i, "heartbeat_age_s": _age_s(now, seen)} for i, seen in rows]
    live = [i for i in items if i["heartbeat_age_s"] <= STALE_S]
    if live:
        return Check(True, f"{len(live)} scheduler instance(s) alive", live)
    return Check(not required, "no scheduler alive", items)


def readiness(store: Any, required: set[str]) -> dict[str, Any]:
    """``{"ready": bool, "checks": {component: {ok, detail, items}}}``."""
    now = datetime.now(UTC)
    checks = {"store": check_store(store)}
    if checks["store"].ok:
        checks["ingest"] = check_ingest(store, "ingest" in required, now)
        checks["scheduler"] = check_scheduler(store, "scheduler" in required, now)
    ready = all(c.ok for c in checks.values()) and checks["store"].ok
    return {
        "ready": ready,
        "checks": {
            k: {"ok": c.ok, "detail": c.detail, "items": c.items} for k, c in checks.items()
        },
    }
