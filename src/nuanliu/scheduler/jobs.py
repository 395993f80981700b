"""The job table: every periodic job of the platform, by import path and schedule.

A job is a function ``fn(store, *, now: datetime) -> dict`` (the dict is the run's
summary, kept in ``sched_runs``). Capabilities own their job functions in
``nuanliu.<package>.jobs``; a job whose module is not installed is *unavailable* (shown
so, never run, never a failure) until its package lands.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nuanliu.scheduler.schedule import Schedule

JobFn = Callable[..., dict[str, Any]]

MINUTE_S = 60
HOUR_S = 3600


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str  # "package.module:function"
    schedule: Schedule
    lease_s: int = HOUR_S  # a run still "running" after this long is taken as lost
    description: str = ""

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    @property
    def function(self) -> str:
        return self.target.partition(":")[2]


def _job(name: str, target: str, cron: str, lease_s: int, description: str) -> JobSpec:
    return JobSpec(name, target, Schedule(cron), lease_s, description)


# Cron times are Asia/Shanghai wall-clock times.
JOBS: tuple[JobSpec, ...] = (
    _job(
        "alerts",
        "nuanliu.scheduler.builtin:evaluate_alerts",
        "* * * * *",
        5 * MINUTE_S,
        "Evaluate the alert rules and deliver webhooks",
    ),
    _job(
        "aggregates",
        "nuanliu.scheduler.builtin:maintain_aggregates",
        "15 3 * * *",
        2 * HOUR_S,
        "Rebuild the last two local days of monitoring aggregates from raw readings",
    ),
    _job(
        "dead_letters",
        "nuanliu.scheduler.builtin:dead_letter_report",
        "0 8 * * *",
        10 * MINUTE_S,
        "Report pending dead letters by transport and error",
    ),
    _job(
        "db_backup",
        "nuanliu.store.backup:backup_job",
        "0 2 * * *",
        4 * HOUR_S,
        "Snapshot the database into NUANLIU_BACKUP_DIR (skipped when unset)",
    ),
    _job(
        "daily_reports",
        "nuanliu.reports.jobs:daily_reports",
        "30 7 * * *",
        2 * HOUR_S,
        "Daily analysis reports (日研判)",
    ),
    _job(
        "weekly_reports",
        "nuanliu.reports.jobs:weekly_reports",
        "0 8 * * 1",
        2 * HOUR_S,
        "Weekly dispatch reports (周调度), Mondays",
    ),
    _job(
        "order_sweep",
        "nuanliu.oversight.jobs:order_sweep",
        "*/15 * * * *",
        10 * MINUTE_S,
        "Rectification orders past their deadline",
    ),
    _job(
        "sla_sweep",
        "nuanliu.hotline.jobs:sla_sweep",
        "*/5 * * * *",
        5 * MINUTE_S,
        "Hotline tickets past their SLA",
    ),
    _job(
        "billing_nightly",
        "nuanliu.billing.jobs:nightly",
        "30 1 * * *",
        3 * HOUR_S,
        "Nightly billing run",
    ),
    _job(
        "fault_detection",
        "nuanliu.telemetry.jobs:fault_detection",
        "*/10 * * * *",
        10 * MINUTE_S,
        "Station telemetry fault detection",
    ),
    _job(
        "shadow_schedule",
        "nuanliu.control.jobs:shadow_schedule",
        "5 * * * *",
        30 * MINUTE_S,
        "Supply-temperature schedule in shadow mode",
    ),
)


class Unavailable(Exception):
    """The job's module is not installed (yet)."""


def resolve(spec: JobSpec) -> JobFn:
    """The job's function; ``Unavailable`` when its module (or a parent) is missing.

    Any other import error (a bug in an installed module) propagates: that is a
    failure of the job, not an absence.
    """
    try:
        module = importlib.import_module(spec.module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (spec.module == missing or spec.module.startswith(missing + ".")):
            raise Unavailable(f"module {missing} is not installed") from exc
        raise
    fn = getattr(module, spec.function, None)
    if not callable(fn):
        raise AttributeError(f"{spec.module} has no job function {spec.function!r}")
    return fn


def availability(spec: JobSpec) -> str | None:
    """None when the job can run, else why it is unavailable."""
    try:
        resolve(spec)
    except Unavailable as exc:
        return str(exc)
    except Exception:  # broken, not absent: it runs and fails visibly
        return None
    return None


def find(name: str, jobs: tuple[JobSpec, ...] = JOBS) -> JobSpec:
    from nuanliu.errors import NotFound

    for spec in jobs:
        if spec.name == name:
            return spec
    raise NotFound(f"no scheduled job {name!r}", details={"job": name})


def due_slot(spec: JobSpec, now: datetime) -> datetime:
    """The slot the job is due for at ``now``: its newest scheduled instant."""
    return spec.schedule.latest_slot(now)
