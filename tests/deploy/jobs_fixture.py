"""Job functions for the scheduler tests, referenced by import path like real jobs."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

CALLS: list[datetime] = []
_LOCK = threading.Lock()


def counting_job(store: Any, *, now: datetime) -> dict[str, Any]:
    with _LOCK:
        CALLS.append(now)
    return {"seen": now.isoformat()}


def failing_job(store: Any, *, now: datetime) -> dict[str, Any]:
    raise RuntimeError("boiler room on fire")
