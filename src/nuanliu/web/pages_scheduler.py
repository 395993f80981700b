"""The scheduler page: every job with its schedule, last run, next slot and recent
failures; jobs whose package is not installed show as unavailable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nuanliu.api.deps import StoreDep
from nuanliu.api.roles import OPERATIONS_ROLES
from nuanliu.scheduler import runs
from nuanliu.scheduler.jobs import JOBS, availability
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context
from nuanliu.web.i18n import choose_lang, translate
from nuanliu.web.pages import forbidden_page, page_gate
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)

FAILURE_WINDOW = timedelta(days=7)
SHOW_FAILURES = 20


def job_label(name: str, lang: str) -> str:
    labels = {
        "alerts": translate("sched.job.alerts", lang),
        "aggregates": translate("sched.job.aggregates", lang),
        "dead_letters": translate("sched.job.dead_letters", lang),
        "db_backup": translate("sched.job.db_backup", lang),
        "daily_reports": translate("sched.job.daily_reports", lang),
        "weekly_reports": translate("sched.job.weekly_reports", lang),
        "order_sweep": translate("sched.job.order_sweep", lang),
        "sla_sweep": translate("sched.job.sla_sweep", lang),
        "billing_nightly": translate("sched.job.billing_nightly", lang),
        "fault_detection": translate("sched.job.fault_detection", lang),
        "shadow_schedule": translate("sched.job.shadow_schedule", lang),
    }
    return labels.get(name, name)


def status_label(status: str, lang: str) -> str:
    labels = {
        "ok": translate("sched.status.ok", lang),
        "failed": translate("sched.status.failed", lang),
        "lost": translate("sched.status.lost", lang),
        "running": translate("sched.status.running", lang),
        "unavailable": translate("sched.status.unavailable", lang),
        "never": translate("sched.status.never", lang),
    }
    return labels.get(status, status)


def _local(ts: datetime | None, tz: str) -> str:
    return ts.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S") if ts else "—"


def job_rows(store: Any, lang: str, tz: str, now: datetime) -> list[dict[str, Any]]:
    last = runs.last_runs(store)
    failures = runs.failure_counts(store, now - FAILURE_WINDOW)
    rows = []
    for spec in JOBS:
        why = availability(spec)
        run = last.get(spec.name)
        status = "unavailable" if why else (run.status if run else "never")
        rows.append(
            {
                "name": spec.name,
                "label": job_label(spec.name, lang),
                "target": spec.target,
                "cron": spec.schedule.cron,
                "timezone": spec.schedule.timezone,
                "status": status,
                "status_label": status_label(status, lang),
                "why": why or "",
                "last_start": _local(run.started_at if run else None, tz),
                "duration_s": f"{run.duration_s:.2f}" if run and run.duration_s is not None else "",
                "next": _local(spec.schedule.next_slot(now), tz) if not why else "—",
                "failures": failures.get(spec.name, 0),
            }
        )
    return rows


@router.get("/scheduler", response_class=HTMLResponse)
def scheduler_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if str(user.role) not in OPERATIONS_ROLES:
        return forbidden_page(request, user)
    lang, _ = choose_lang(request)
    tz = request.app.state.settings.timezone
    now = datetime.now(UTC)
    failed = runs.recent_runs(store, failed_only=True, limit=SHOW_FAILURES)
    ctx = {
        **base_context(request, user, "scheduler"),
        "jobs": job_rows(store, lang, tz, now),
        "failures": [
            {
                "label": job_label(r.job_name, lang),
                "slot": _local(r.slot_at, tz),
                "started": _local(r.started_at, tz),
                "status": r.status,
                "status_label": status_label(r.status, lang),
                "error": (r.error or "").strip().splitlines()[0][:300] if r.error else "",
                "instance": r.instance_id,
            }
            for r in failed
        ],
        "instances": [
            {"id": i, "seen": _local(seen if seen.tzinfo else seen.replace(tzinfo=UTC), tz)}
            for i, seen in runs.live_instances(store, within_s=60)
        ],
        "timezone": tz,
    }
    return render(request, "scheduler/index.html", ctx)
