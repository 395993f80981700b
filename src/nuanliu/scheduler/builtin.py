"""The platform's own periodic jobs (each ``fn(store, *, now) -> dict``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DEAD_LETTER_WINDOW = timedelta(days=1)


def evaluate_alerts(store: Any, *, now: datetime) -> dict[str, Any]:
    """Evaluate every enabled alert rule at ``now`` and post pending webhook events."""
    from nuanliu.monitor.alerts import evaluate_alerts as evaluate

    report = evaluate(store, now, deliver=True)
    delivered = sum(1 for d in report.deliveries if d.get("delivered"))
    return {
        "raised": len(report.raised),
        "cleared": len(report.cleared),
        "still_open": report.still_open,
        "webhook_events": len(report.deliveries),
        "webhook_delivered": delivered,
    }


def maintain_aggregates(store: Any, *, now: datetime) -> dict[str, Any]:
    """Rebuild yesterday's and today's local-day aggregates from the raw readings.

    The insert hook keeps them current as readings arrive; this nightly pass repairs
    what bypassed it (a worker run with ``--no-aggregates``, a restore from backup, a
    manual correction) within a bounded window, so the cost stays one day of readings.
    """
    from nuanliu.monitor.aggregates import (
        local_midnight_utc,
        monitor_timezone,
        rebuild_aggregates,
    )

    with store.read() as q:
        tz = monitor_timezone(q)
    today = now.astimezone(ZoneInfo(tz)).date()
    start = local_midnight_utc(today - timedelta(days=1), tz)
    end = local_midnight_utc(today + timedelta(days=1), tz)
    rebuild_aggregates(store, start, end)
    with store.read() as q:
        hours = q.scalar(
            "SELECT count(*) FROM mon_sensor_hourly WHERE hour_ts >= ? AND hour_ts < ?",
            [start, end],
        )
    return {"from": start.isoformat(), "to": end.isoformat(), "sensor_hours": int(hours or 0)}


def dead_letter_report(store: Any, *, now: datetime) -> dict[str, Any]:
    """Pending dead letters by transport and error type, and how many arrived lately."""
    since = now - DEAD_LETTER_WINDOW
    with store.read() as q:
        rows = q.all(
            "SELECT transport, error_type, count(*), min(received_at) FROM dead_letters "
            "WHERE replayed_at IS NULL GROUP BY transport, error_type ORDER BY 3 DESC"
        )
        new = q.scalar(
            "SELECT count(*) FROM dead_letters WHERE received_at >= ? AND received_at <= ?",
            [since, now],
        )
    groups = [
        {"transport": t, "error_type": e, "pending": int(n), "oldest": str(oldest)}
        for t, e, n, oldest in rows
    ]
    return {
        "pending": sum(g["pending"] for g in groups),
        "new_last_24h": int(new or 0),
        "by_error": groups,
    }
