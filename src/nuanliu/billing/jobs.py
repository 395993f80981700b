"""Scheduler job ``nuanliu.billing.jobs:nightly``: late fees, meter checks, verifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nuanliu.billing.collection import balances
from nuanliu.billing.payments import season_of
from nuanliu.meters.registry import verification_due
from nuanliu.store import Store

LOCAL = ZoneInfo("Asia/Shanghai")
SILENT_AFTER = timedelta(days=3)


def nightly(store: Store, *, now: datetime) -> dict[str, Any]:
    """Record today's late fees, summarise yesterday's meter readings, list due meters.

    Idempotent per local day: the late-fee snapshot of a day is replaced, not added to.
    Plausibility itself runs at ingest; here the night reports what it found in the last
    24 h and which active meters have been silent for more than three days.
    """
    today = now.astimezone(LOCAL).date()
    season = season_of(now)
    owed = [b for b in balances(store, season=season, as_of=today) if b.late_fee_yuan > 0]
    with store.write() as w:
        w.execute("DELETE FROM billing_late_fees WHERE as_of = ?", [today])
        if owed:
            w.executemany(
                "INSERT INTO billing_late_fees (household_id, season, as_of, overdue_yuan, "
                "days_overdue, late_fee_yuan) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        b.household_id,
                        season,
                        today,
                        b.billed_yuan - b.paid_yuan,
                        (today - b.due_on).days if b.due_on else 0,
                        b.late_fee_yuan,
                    )  # fmt: skip
                    for b in owed
                ],
            )
    since = now - timedelta(days=1)
    with store.read() as q:
        received, flagged, not_billable = q.one(
            "SELECT COUNT(*), COUNT(flags), SUM(CASE WHEN billable THEN 0 ELSE 1 END) "
            "FROM meter_readings WHERE received_at >= ?",
            [since],
        ) or (0, 0, 0)
        silent = [
            r[0]
            for r in q.all(
                "SELECT m.meter_id FROM heat_meters m LEFT JOIN (SELECT meter_id, "
                "MAX(read_at) AS last_at FROM meter_readings GROUP BY meter_id) r "
                "ON r.meter_id = m.meter_id WHERE m.status = 'active' "
                "AND (r.last_at IS NULL OR r.last_at < ?) ORDER BY m.meter_id",
                [now - SILENT_AFTER],
            )
        ]
    due = verification_due(store, as_of=today, within_days=30)
    return {
        "season": season,
        "late_fees": len(owed),
        "late_fee_total_yuan": str(sum((b.late_fee_yuan for b in owed), start=0)),
        "readings_last_24h": int(received or 0),
        "readings_flagged": int(flagged or 0),
        "readings_not_billable": int(not_billable or 0),
        "meters_silent": len(silent),
        "verification_due": [m.meter_id for m in due],
    }
