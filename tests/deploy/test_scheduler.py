"""The scheduler: each slot of each job runs once across instances; failures and
unavailable jobs are told apart; the schedule is read in Asia/Shanghai time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nuanliu.scheduler import runs
from nuanliu.scheduler.jobs import JOBS, JobSpec, availability
from nuanliu.scheduler.runner import Scheduler
from nuanliu.scheduler.schedule import Schedule
from nuanliu.store import open_store
from tests.deploy.jobs_fixture import CALLS


def _spec(name: str, target: str, cron: str = "*/5 * * * *") -> JobSpec:
    return JobSpec(name, target, Schedule(cron), lease_s=60)


JOB_TABLE = (
    _spec("count", "tests.deploy.jobs_fixture:counting_job"),
    _spec("fails", "tests.deploy.jobs_fixture:failing_job"),
    _spec("later", "nuanliu.not_yet_written.jobs:nightly"),
)


def test_daily_slot_is_shanghai_wall_time() -> None:
    daily = Schedule("30 7 * * *")
    # 2026-12-01 23:00 UTC is 07:00 on Dec 2 in Shanghai: the newest 07:30 is Dec 1's.
    at = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert daily.latest_slot(at) == datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert daily.next_slot(at) == datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    exactly = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert daily.latest_slot(exactly) == exactly


def test_two_instances_run_each_slot_once(db_url: str) -> None:
    CALLS.clear()
    stores = (
        [open_store(db_url), open_store(db_url, migrate=False)] if "postgresql" in db_url else []
    )
    if not stores:  # DuckDB: one process, two schedulers on one store
        one = open_store(db_url)
        stores = [one, one]
    try:
        a = Scheduler(stores[0], JOB_TABLE, instance_id="a")
        b = Scheduler(stores[1], JOB_TABLE, instance_id="b")
        now = datetime(2026, 12, 1, 9, 7, tzinfo=UTC)
        barrier = threading.Barrier(2)
        reports: dict[str, Any] = {}

        def tick(s: Scheduler) -> None:
            barrier.wait()
            reports[s.instance_id] = s.tick(now)

        threads = [threading.Thread(target=tick, args=(s,)) for s in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        a.wait_idle(30)
        b.wait_idle(30)
        # the same slot again (a restart, a late tick): nothing runs twice
        assert a.tick(now + timedelta(minutes=1)).started == []
        # the next slot runs once more
        later = a.tick(now + timedelta(minutes=4))
        a.wait_idle(30)
        assert sorted(later.started) == ["count", "fails"]

        started = sorted(reports["a"].started + reports["b"].started)
        assert started == ["count", "fails"]
        assert len(CALLS) == 2
        assert reports["a"].unavailable["later"].startswith("module nuanliu.not_yet_written")
        last = runs.last_runs(stores[0])
        assert last["count"].status == "ok" and last["count"].summary is not None
        assert last["fails"].status == "failed"
        assert "boiler room on fire" in (last["fails"].error or "")
        assert "later" not in last
        assert runs.failure_counts(stores[0], now - timedelta(days=1)) == {"fails": 2}
        slots = [r.slot_at for r in runs.recent_runs(stores[0], job="count")]
        assert sorted(slots) == [
            datetime(2026, 12, 1, 9, 5, tzinfo=UTC),
            datetime(2026, 12, 1, 9, 10, tzinfo=UTC),
        ]
    finally:
        for s in {id(s): s for s in stores}.values():
            s.close()


def test_a_run_whose_instance_died_is_lost_not_run_twice(store: Any) -> None:
    slot = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
    assert runs.claim(store, "count", slot, "dead", lease_s=1)
    # while the lease holds, no instance starts another run of the job
    assert not runs.claim(store, "count", slot + timedelta(minutes=5), "b", lease_s=60)
    assert runs.mark_lost(store, datetime.now(UTC) + timedelta(seconds=5)) == 1
    assert runs.last_runs(store)["count"].status == "lost"
    assert runs.claim(store, "count", slot + timedelta(minutes=5), "b", lease_s=60)


def test_job_table_names_unique_and_builtin_jobs_resolve() -> None:
    names = [j.name for j in JOBS]
    assert len(names) == len(set(names))
    for name in ("alerts", "aggregates", "dead_letters", "db_backup"):
        spec = next(j for j in JOBS if j.name == name)
        assert availability(spec) is None, name
    daily = next(j for j in JOBS if j.name == "daily_reports")
    assert daily.schedule.cron == "30 7 * * *" and daily.schedule.timezone == "Asia/Shanghai"


@pytest.mark.parametrize("name", ["alerts", "aggregates", "dead_letters"])
def test_builtin_jobs_run_on_an_empty_platform(store: Any, name: str) -> None:
    from nuanliu.monitor import register_aggregates

    register_aggregates(store)
    spec = next(j for j in JOBS if j.name == name)
    sched = Scheduler(store, (spec,), instance_id="x")
    assert sched.tick(datetime.now(UTC)).started == [name]
    sched.wait_idle(60)
    run = runs.last_runs(store)[name]
    assert run.status == "ok", run.error
    assert isinstance(run.summary, dict)


def test_api_runs_the_scheduler_in_process_when_told(tmp_path: Any) -> None:
    """The single-process DuckDB set-up: NUANLIU_SCHEDULER_IN_PROCESS=1 nuanliu serve."""
    from fastapi.testclient import TestClient

    from nuanliu.api.app import create_app
    from nuanliu.config import load_settings

    env = {"NUANLIU_DATA_DIR": str(tmp_path), "NUANLIU_SCHEDULER_IN_PROCESS": "yes"}
    with TestClient(create_app(load_settings(env))) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while "alerts" not in runs.last_runs(store) and datetime.now(UTC) < deadline:
            threading.Event().wait(0.2)
        assert runs.last_runs(store)["alerts"].status in ("running", "ok")
        assert runs.live_instances(store, within_s=60)
    with pytest.raises(Exception, match="NUANLIU_SCHEDULER_IN_PROCESS"):
        load_settings({"NUANLIU_SCHEDULER_IN_PROCESS": "maybe"})
