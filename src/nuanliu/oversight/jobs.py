"""Scheduled oversight work (called by the platform's scheduler)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nuanliu.oversight.exit import check_all
from nuanliu.oversight.orders import sweep


def order_sweep(store: Any, *, now: datetime) -> dict[str, Any]:
    """Flag overdue supervision orders, escalate them to the next regulator level, then
    apply the configured exit rule (orders left unrectified count towards it)."""
    out: dict[str, Any] = dict(sweep(store, now))
    out["open_exit_flags"] = len(check_all(store, now=now))
    return out
