"""Audit log: who changed what, when and from where.

Every write route and every login/logout records one entry. Summaries are short JSON
texts (the changed fields, never passwords or tokens).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from nuanliu.api.accounts import User
from nuanliu.api.sql import records

_SECRET_FIELDS = {"password", "password_hash", "token", "csrf_token", "session_id"}
_MAX_SUMMARY = 2000
AUDIT_COLUMNS = (
    "audit_id",
    "occurred_at",
    "user_id",
    "username",
    "role",
    "enterprise_id",
    "action",
    "object_type",
    "object_id",
    "before_summary",
    "after_summary",
    "client_ip",
    "outcome",
)


def summarize(value: Any) -> str | None:
    """A bounded JSON summary with secret fields removed."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = {k: ("***" if k in _SECRET_FIELDS else v) for k, v in value.items()}
    text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


def record_event(
    store: Any,
    *,
    action: str,
    user: User | None = None,
    username: str | None = None,
    object_type: str = "",
    object_id: str = "",
    before: Any = None,
    after: Any = None,
    client_ip: str | None = None,
    outcome: str = "ok",
) -> None:
    with store.write() as w:
        w.execute(
            f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) VALUES"
            f" ({', '.join('?' for _ in AUDIT_COLUMNS)})",
            [
                uuid.uuid4().hex,
                datetime.now(UTC),
                user.user_id if user else None,
                user.username if user else username,
                str(user.role) if user else None,
                user.enterprise_id if user else None,
                action,
                object_type,
                str(object_id),
                summarize(before),
                summarize(after),
                client_ip,
                outcome,
            ],
        )


def list_events(
    store: Any,
    *,
    enterprise_id: str | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict]:
    """Newest first; restricted to actions by users of one enterprise when given."""
    where, params = ["TRUE"], []
    if enterprise_id is not None:
        where.append("enterprise_id = ?")
        params.append(enterprise_id)
    if action is not None:
        where.append("action = ?")
        params.append(action)
    with store.read() as q:
        rows = records(
            q,
            f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log WHERE {' AND '.join(where)}"
            f" ORDER BY occurred_at DESC, audit_id LIMIT {int(limit)} OFFSET {int(offset)}",
            params,
            AUDIT_COLUMNS,
        )
    for r in rows:
        r["occurred_at"] = (
            r["occurred_at"].astimezone(UTC).isoformat() if r["occurred_at"] else None
        )
    return rows
