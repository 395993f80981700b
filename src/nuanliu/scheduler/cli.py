"""``nuanliu scheduler run|jobs``."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from typing import Any

import typer

app = typer.Typer(
    no_args_is_help=True, help="Periodic jobs: run the scheduler, list jobs (定时任务)."
)

DbOpt = typer.Option("", "--db", help="Store URL (default: NUANLIU_DB_URL or the DuckDB file).")


def _open(db: str) -> Any:
    from nuanliu.config import load_settings
    from nuanliu.monitor import open_monitored_store

    return open_monitored_store(db or load_settings().database_url, migrate="check")


@app.command("run")
def run_cmd(
    db: str = DbOpt,
    poll_s: float = typer.Option(5.0, "--poll-s", min=0.1, help="Seconds between ticks."),
    once: bool = typer.Option(False, "--once", help="One tick, wait for its jobs, exit."),
) -> None:
    """Run the due jobs until SIGTERM; any number of instances run each slot once."""
    from nuanliu.scheduler.runner import Scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store = _open(db)
    sched = Scheduler(store, poll_s=poll_s)
    try:
        if once:
            report = sched.tick()
            sched.wait_idle()
            typer.echo(f"started: {', '.join(report.started) or 'nothing due'}")
            for name, why in report.unavailable.items():
                typer.echo(f"unavailable: {name} ({why})")
            return

        def _stop(_signum: int, _frame: Any) -> None:
            sched.stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        sched.run()
    finally:
        store.close()


@app.command("jobs")
def jobs_cmd(db: str = DbOpt) -> None:
    """Each job: schedule, availability, last run and next slot."""
    from nuanliu.scheduler import runs
    from nuanliu.scheduler.jobs import JOBS, availability

    store = _open(db)
    try:
        last = runs.last_runs(store)
    finally:
        store.close()
    now = datetime.now(UTC)
    for spec in JOBS:
        why = availability(spec)
        run = last.get(spec.name)
        state = "unavailable" if why else (run.status if run else "never run")
        when = run.started_at.isoformat(timespec="seconds") if run else "-"
        nxt = spec.schedule.next_slot(now).isoformat(timespec="minutes")
        typer.echo(f"{spec.name:<16} {spec.schedule.cron:<14} {state:<12} last {when}  next {nxt}")
