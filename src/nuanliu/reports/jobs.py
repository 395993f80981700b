"""Scheduled report generation (the platform's scheduler calls these, e.g. 07:30
Asia/Shanghai): each run archives the reports of the local day (or week) before ``now``
for every region and city and every enterprise, skipping those already archived."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from nuanliu.monitor.aggregates import monitor_timezone
from nuanliu.reports.archive import latest, save_report
from nuanliu.reports.daily import build_daily
from nuanliu.reports.scopes import ReportScope
from nuanliu.reports.weekly import build_weekly


def report_scopes(store: Any) -> list[ReportScope]:
    with store.read() as q:
        regions = q.all(
            "SELECT level, region_id FROM regions WHERE level IN ('region', 'city') ORDER BY 1, 2"
        )
        ents = q.all("SELECT enterprise_id FROM enterprises ORDER BY 1")
    return [ReportScope(str(lv), str(r)) for lv, r in regions] + [
        ReportScope("enterprise", str(e)) for (e,) in ents
    ]


def previous_local_day(store: Any, now: datetime) -> date:
    with store.read() as q:
        tz = monitor_timezone(q)
    return now.astimezone(ZoneInfo(tz)).date() - timedelta(days=1)


def daily_reports(store: Any, *, now: datetime) -> dict[str, Any]:
    """Archive the daily brief of yesterday (local) for every scope not yet archived."""
    day = previous_local_day(store, now)
    made = []
    for rs in report_scopes(store):
        if latest(store, "daily", rs.key, day) is None:
            made.append(
                save_report(
                    store, build_daily(store, rs, day, now=now), by="scheduler", now=now
                ).report_id
            )
    return {"day": day.isoformat(), "generated": len(made), "report_ids": made}


def weekly_reports(store: Any, *, now: datetime) -> dict[str, Any]:
    """Archive the weekly dispatch of the seven days ending yesterday; regions and cities
    also get proposed supervision orders from the week's findings (a person confirms)."""
    from nuanliu.oversight.orders import propose_from_findings

    last_day = previous_local_day(store, now)
    first = last_day - timedelta(days=6)
    made, proposed = [], 0
    for rs in report_scopes(store):
        if latest(store, "weekly", rs.key, first) is not None:
            continue
        brief = build_weekly(store, rs, last_day, now=now)
        report = save_report(store, brief, by="scheduler", now=now)
        made.append(report.report_id)
        if rs.level != "enterprise":
            proposed += len(
                propose_from_findings(
                    store,
                    brief.findings,
                    issuer_region_id=rs.unit_id,
                    now=now,
                    evidence_url=f"/reports/{report.report_id}",
                )
            )
    return {
        "week_start": first.isoformat(),
        "generated": len(made),
        "report_ids": made,
        "orders_proposed": proposed,
    }
