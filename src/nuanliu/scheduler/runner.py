"""``Scheduler``: runs the due jobs of the job table, each slot once across instances.

Every ``poll_s`` an instance heartbeats, marks runs whose lease ran out as lost, and
for each available job claims the job's newest slot (``runs.claim``, once per slot and
instance); the winner runs the job in its thread pool and records the outcome. Only the
newest slot is ever due: a scheduler that was down for three days runs a daily job
once, not three times. A slot that comes while the job's previous run is still inside
its lease is skipped (a slow job never overlaps itself).
"""

from __future__ import annotations

import logging
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nuanliu.scheduler import runs
from nuanliu.scheduler.jobs import JOBS, JobSpec, Unavailable, resolve

log = logging.getLogger(__name__)


@dataclass
class TickReport:
    started: list[str] = field(default_factory=list)  # job names claimed and submitted
    unavailable: dict[str, str] = field(default_factory=dict)
    lost: int = 0


class Scheduler:
    """One scheduler instance over ``store`` (several may run, on other hosts too)."""

    def __init__(
        self,
        store: Any,
        jobs: tuple[JobSpec, ...] = JOBS,
        *,
        poll_s: float = 5.0,
        max_parallel: int = 4,
        instance_id: str | None = None,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.poll_s = poll_s
        self.instance_id = instance_id or runs.new_instance_id()
        self.started_at = datetime.now(UTC)
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max_parallel, thread_name_prefix="job")
        self._inflight: dict[str, Future[None]] = {}
        # The slot each job was last tried for here: one claim per slot and instance
        # (a slot lost to another instance, or skipped while the job still ran, is not
        # tried again every tick).
        self._tried: dict[str, datetime] = {}
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ ticks

    def tick(self, now: datetime | None = None) -> TickReport:
        """Claim and start every job due at ``now``; returns what was started."""
        at = now or datetime.now(UTC)
        report = TickReport()
        runs.heartbeat(self.store, self.instance_id, self.started_at)
        report.lost = runs.mark_lost(self.store)
        for spec in self.jobs:
            running = self._inflight.get(spec.name)
            if running is not None and not running.done():
                continue
            try:
                fn = resolve(spec)
            except Unavailable as exc:
                report.unavailable[spec.name] = str(exc)
                continue
            except Exception as exc:  # broken module: a failed run, visible on the page
                fn = _raiser(exc)
            slot = spec.schedule.latest_slot(at)
            if self._tried.get(spec.name) == slot:
                continue
            self._tried[spec.name] = slot
            if not runs.claim(self.store, spec.name, slot, self.instance_id, spec.lease_s):
                continue
            report.started.append(spec.name)
            self._inflight[spec.name] = self._pool.submit(self._execute, spec, fn, slot, at)
        return report

    def _execute(self, spec: JobSpec, fn: Any, slot: datetime, now: datetime) -> None:
        started = datetime.now(UTC)
        try:
            summary = fn(self.store, now=now)
        except Exception as exc:
            log.exception("job %s (slot %s) failed", spec.name, slot.isoformat())
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
            runs.finish(self.store, spec.name, slot, started=started, error=error)
            return
        if not isinstance(summary, dict):
            summary = {"result": summary}
        runs.finish(self.store, spec.name, slot, started=started, summary=summary)

    def wait_idle(self, timeout_s: float | None = None) -> None:
        """Block until every job this instance started has finished."""
        for fut in list(self._inflight.values()):
            fut.result(timeout=timeout_s)

    # ------------------------------------------------------------------- loop

    def run(self) -> None:
        """Tick every ``poll_s`` until ``stop`` is set; then finish the running jobs."""
        log.info("scheduler %s started (%d jobs)", self.instance_id, len(self.jobs))
        try:
            while not self.stop.is_set():
                try:
                    self.tick()
                except Exception:  # the store may be briefly away: try again next tick
                    log.exception("scheduler tick failed")
                self.stop.wait(self.poll_s)
        finally:
            self._pool.shutdown(wait=True)
            try:
                runs.heartbeat(self.store, self.instance_id, self.started_at, state="stopped")
            except Exception:
                log.exception("scheduler could not record its stop")

    def start_thread(self) -> threading.Thread:
        """Run in a background thread (the embedded, single-process DuckDB set-up)."""
        self._thread = threading.Thread(target=self.run, name="scheduler", daemon=True)
        self._thread.start()
        return self._thread

    def close(self, timeout_s: float = 30.0) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)


def _raiser(exc: Exception) -> Any:
    def job(store: Any, *, now: datetime) -> dict[str, Any]:
        raise exc

    return job
