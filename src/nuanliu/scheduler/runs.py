"""``sched_runs`` and ``sched_instances``: claims, results, heartbeats, history."""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nuanliu.store import Store
from nuanliu.store.dead_letters import safe_text

RUNNING, OK, FAILED, LOST = "running", "ok", "failed", "lost"
ERROR_CHARS = 4000

_RUN_COLUMNS = (
    "job_name",
    "slot_at",
    "instance_id",
    "started_at",
    "finished_at",
    "lease_until",
    "status",
    "duration_s",
    "summary",
    "error",
)


@dataclass(frozen=True)
class Run:
    job_name: str
    slot_at: datetime
    instance_id: str
    started_at: datetime
    finished_at: datetime | None
    lease_until: datetime
    status: str
    duration_s: float | None
    summary: dict[str, Any] | None
    error: str | None


def _run(row: tuple[Any, ...]) -> Run:
    rec = dict(zip(_RUN_COLUMNS, row, strict=True))
    rec["summary"] = json.loads(rec["summary"]) if rec["summary"] else None
    for key in ("slot_at", "started_at", "finished_at", "lease_until"):
        if rec[key] is not None and rec[key].tzinfo is None:
            rec[key] = rec[key].replace(tzinfo=UTC)
    return Run(**rec)


def new_instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim(store: Store, job: str, slot_at: datetime, instance: str, lease_s: int) -> bool:
    """Claim ``job``'s ``slot_at`` for ``instance``; True for exactly one claimant.

    Refused too while an earlier run of the job is still running within its lease, so
    a slow job never overlaps itself.
    """
    now = datetime.now(UTC)
    with store.write() as w:
        busy = w.scalar(
            "SELECT count(*) FROM sched_runs WHERE job_name = ? AND status = 'running' "
            "AND lease_until > ?",
            [job, now],
        )
        if busy:
            return False
        won = w.all(
            "INSERT INTO sched_runs (job_name, slot_at, instance_id, started_at, lease_until,"
            " status) VALUES (?, ?, ?, ?, ?, 'running')"
            " ON CONFLICT (job_name, slot_at) DO NOTHING RETURNING job_name",
            [job, slot_at, instance, now, now + timedelta(seconds=lease_s)],
        )
    return bool(won)


def finish(
    store: Store,
    job: str,
    slot_at: datetime,
    *,
    started: datetime,
    summary: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    """Record the outcome of a claimed run (``error`` set = failed)."""
    now = datetime.now(UTC)
    text = json.dumps(summary, ensure_ascii=False, default=str) if summary is not None else None
    with store.write() as w:
        w.execute(
            "UPDATE sched_runs SET finished_at = ?, status = ?, duration_s = ?, summary = ?,"
            " error = ? WHERE job_name = ? AND slot_at = ?",
            [
                now,
                FAILED if error is not None else OK,
                (now - started).total_seconds(),
                text,
                safe_text(error, ERROR_CHARS),
                job,
                slot_at,
            ],
        )


def mark_lost(store: Store, now: datetime | None = None) -> int:
    """Runs still "running" past their lease (their process died): status lost."""
    at = now or datetime.now(UTC)
    with store.write() as w:
        lost = w.all(
            "UPDATE sched_runs SET status = 'lost', finished_at = ?, "
            "error = 'the scheduler instance stopped before finishing (lease expired)' "
            "WHERE status = 'running' AND lease_until < ? RETURNING job_name",
            [at, at],
        )
    return len(lost)


def heartbeat(store: Store, instance: str, started_at: datetime, state: str = "running") -> None:
    now = datetime.now(UTC)
    cols = ("instance_id", "host", "pid", "started_at", "last_seen", "state")
    with store.write() as w:
        w.execute(
            w.caps.upsert_sql("sched_instances", cols, ("instance_id",)),
            [instance, socket.gethostname(), os.getpid(), started_at, now, state],
        )


def last_runs(store: Store) -> dict[str, Run]:
    """The newest run of each job."""
    with store.read() as q:
        rows = q.all(
            f"SELECT {', '.join('r.' + c for c in _RUN_COLUMNS)} FROM sched_runs r "
            "JOIN (SELECT job_name, max(slot_at) AS slot_at FROM sched_runs GROUP BY job_name)"
            " m ON m.job_name = r.job_name AND m.slot_at = r.slot_at"
        )
    return {r[0]: _run(r) for r in rows}


def recent_runs(
    store: Store, *, job: str | None = None, failed_only: bool = False, limit: int = 50
) -> list[Run]:
    """Runs newest first, optionally of one job or only the failed and lost ones."""
    where, params = [], []
    if job is not None:
        where.append("job_name = ?")
        params.append(job)
    if failed_only:
        where.append("status IN ('failed', 'lost')")
    sql = f"SELECT {', '.join(_RUN_COLUMNS)} FROM sched_runs"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY started_at DESC LIMIT {int(limit)}"
    with store.read() as q:
        return [_run(r) for r in q.all(sql, params)]


def failure_counts(store: Store, since: datetime) -> dict[str, int]:
    """Failed or lost runs per job started at or after ``since``."""
    with store.read() as q:
        rows = q.all(
            "SELECT job_name, count(*) FROM sched_runs WHERE status IN ('failed', 'lost') "
            "AND started_at >= ? GROUP BY job_name",
            [since],
        )
    return {r[0]: int(r[1]) for r in rows}


def live_instances(store: Store, within_s: float) -> list[tuple[str, datetime]]:
    """Scheduler instances heard from in the last ``within_s`` seconds."""
    cutoff = datetime.now(UTC) - timedelta(seconds=within_s)
    with store.read() as q:
        rows = q.all(
            "SELECT instance_id, last_seen FROM sched_instances WHERE state = 'running' "
            "AND last_seen >= ? ORDER BY instance_id",
            [cutoff],
        )
    return [(r[0], r[1]) for r in rows]
