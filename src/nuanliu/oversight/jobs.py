"""Scheduled oversight work (called by the platform's scheduler)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from nuanliu.oversight.orders import sweep


def order_sweep(store: Any, *, now: datetime) -> dict[str, Any]:
    """Flag overdue supervision orders and escalate them to the next regulator level."""
    return sweep(store, now)
