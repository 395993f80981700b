"""Small helpers shared by the oversight tables: ids, JSON columns, audit entries."""

from __future__ import annotations

import json
import uuid
from typing import Any


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def loads(text: str | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


def audit(
    store: Any, user: Any, action: str, kind: str, object_id: str, before: Any, after: Any
) -> None:
    """One audit-log entry (``api/audit.py``) for a change made by ``user`` (or the system)."""
    from nuanliu.api.audit import record_event

    record_event(
        store,
        action=action,
        user=user if user is not None and hasattr(user, "user_id") else None,
        username=None if hasattr(user, "user_id") else str(user or "system"),
        object_type=kind,
        object_id=object_id,
        before=before,
        after=after,
    )
