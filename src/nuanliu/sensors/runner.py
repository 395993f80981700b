"""Real-time streaming: the simulator follows the wall clock and feeds a sink.

``SimulatorRunner`` keeps a ``SensorSimulator`` at "now": each tick it produces every
reading whose time has come (all sensors, every ``step``) and sends them through the
sink. ``backfill()`` first generates the history from the simulator's start up to now
in one go, so a demo starts with days of data. With ``acceleration`` > 1 simulated time
runs faster than the wall clock, but never into the future when ``cap_at_now`` (the
platform refuses readings from the future).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.sensors.faults import NS_PER_S, FaultConfig
from nuanliu.sensors.simulate import SensorSimulator, StepReadings
from nuanliu.sensors.sinks import ReadingSink


@dataclass
class TickReport:
    ts_from: datetime | None
    ts_to: datetime | None
    steps: int
    rows: int


class SimulatorRunner:
    """Drive ``sim`` in (accelerated) real time into ``sink``."""

    def __init__(
        self,
        sim: SensorSimulator,
        sink: ReadingSink,
        *,
        tick_s: float = 10.0,
        acceleration: float = 1.0,
        cap_at_now: bool = True,
        chunk_rows: int = 200_000,
        clock: Callable[[], float] = time.time,
        on_tick: Callable[[TickReport], None] | None = None,
    ) -> None:
        if tick_s <= 0:
            raise InvalidInput(f"tick_s must be positive, got {tick_s}")
        if acceleration <= 0:
            raise InvalidInput(f"acceleration must be positive, got {acceleration}")
        self.sim = sim
        self.sink = sink
        self.tick_s = tick_s
        self.acceleration = acceleration
        self.cap_at_now = cap_at_now
        self.chunk_rows = chunk_rows
        self.clock = clock
        self.on_tick = on_tick
        self._anchor_wall: float | None = None
        self._anchor_sim_ns = 0
        self._stop = threading.Event()

    @classmethod
    def live(
        cls,
        sensors: pd.DataFrame,
        sink: ReadingSink,
        *,
        history: timedelta = timedelta(days=3),
        step: timedelta = timedelta(minutes=10),
        faults: FaultConfig | None = None,
        seed: int = 0,
        weather: str = "hohhot",
        now: datetime | None = None,
        **kwargs: object,
    ) -> SimulatorRunner:
        """A runner whose simulation starts ``history`` before now (backfill, then follow).

        Offline/stuck/jump faults begin within the history, so the demo shows them.
        """
        now = now or datetime.now(UTC)
        sim = SensorSimulator(
            sensors,
            now - history,
            step=step,
            weather=weather,
            faults=faults,
            seed=seed,
            fault_span=max(history, step),
        )
        return cls(sim, sink, **kwargs)  # type: ignore[arg-type]

    def sim_now_ns(self) -> int:
        """Simulated "now" (ns): the wall clock at 1×, else accelerated from the start of
        following; capped at the wall clock when ``cap_at_now``."""
        wall = self.clock()
        if self._anchor_wall is None:
            # At 1× the simulation follows the wall clock (catching up what is due);
            # accelerated, it runs on from where it stands.
            self._anchor_wall = wall
            if self.acceleration == 1.0:
                self._anchor_sim_ns = int(wall * NS_PER_S)
            else:
                self._anchor_sim_ns = self.sim.now_ns
        t = self._anchor_sim_ns + int((wall - self._anchor_wall) * self.acceleration * NS_PER_S)
        if self.cap_at_now:
            t = min(t, int(wall * NS_PER_S))
        return t

    def emit_until(self, until_ns: int, on_step: Callable[[int], None] | None = None) -> TickReport:
        """Generate and send every reading with ts ≤ ``until_ns`` (ns since the epoch);
        ``on_step(ts_ns)`` is called after each instant (progress display)."""
        pending: list[StepReadings] = []
        rows = steps = 0
        first = last = None
        while self.sim.now_ns <= until_ns and not self._stop.is_set():
            r = self.sim.next()
            first = first if first is not None else r.ts_ns
            last = r.ts_ns
            pending.append(r)
            rows += len(r.temp_c)
            steps += 1
            if on_step is not None:
                on_step(r.ts_ns)
            if sum(len(p.temp_c) for p in pending) >= self.chunk_rows:
                self.sink.send(self.sim.table(pending))
                pending = []
        if pending:
            self.sink.send(self.sim.table(pending))
        report = TickReport(
            pd.Timestamp(first, tz="UTC").to_pydatetime() if first is not None else None,
            pd.Timestamp(last, tz="UTC").to_pydatetime() if last is not None else None,
            steps,
            rows,
        )
        if self.on_tick is not None and steps:
            self.on_tick(report)
        return report

    def backfill(self, on_step: Callable[[int], None] | None = None) -> TickReport:
        """Generate everything from the simulation's position up to the wall clock now."""
        return self.emit_until(int(self.clock() * NS_PER_S), on_step)

    def tick(self) -> TickReport:
        """Send the readings that became due since the last tick."""
        return self.emit_until(self.sim_now_ns())

    def run(
        self, duration_s: float | None = None, *, sleep: Callable[[float], None] | None = None
    ) -> None:
        """Tick every ``tick_s`` seconds until ``stop()`` or ``duration_s`` has passed."""
        end = None if duration_s is None else self.clock() + duration_s
        wait = sleep or (lambda s: self._stop.wait(s))
        try:
            while not self._stop.is_set():
                started = self.clock()
                self.tick()
                if end is not None and self.clock() >= end:
                    break
                wait(max(0.0, self.tick_s - (self.clock() - started)))
        finally:
            self.sink.close()

    def start_thread(self, duration_s: float | None = None) -> threading.Thread:
        """Run in a daemon thread (the web demo's way); ``stop()`` ends it."""
        th = threading.Thread(
            target=self.run, args=(duration_s,), daemon=True, name="nuanliu-simulator"
        )
        th.start()
        return th

    def stop(self) -> None:
        self._stop.set()
