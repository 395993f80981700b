"""Steady-state results of the example twins, cached per network and outdoor temperature.

A network is loaded and compiled once per app (compile once, solve many); each solve
warm-starts from the cached result nearest in outdoor temperature. Concurrent requests
for the same key wait for one solve instead of repeating it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nuanliu.api.frames import frame_records

TEMP_STEP_C = 0.1  # outdoor temperatures are rounded to this before caching
MAX_ENTRIES = 128


@dataclass
class SimCache:
    entries: OrderedDict[tuple[str, float], dict[str, Any]] = field(default_factory=OrderedDict)
    results: dict[tuple[str, float], Any] = field(default_factory=dict)  # for warm starts
    compiled: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    key_locks: dict[tuple[str, float], threading.Lock] = field(default_factory=dict)
    solves: int = 0

    def _compiled(self, name: str) -> Any:
        from nuanliu.network.examples import load_example
        from nuanliu.sim import compile_network

        with self.lock:
            found = self.compiled.get(name)
        if found is None:
            found = compile_network(load_example(name))  # NotFound for unknown names
            with self.lock:
                self.compiled.setdefault(name, found)
        return found

    def _nearest(self, name: str, temp_c: float) -> Any:
        with self.lock:
            same = [(abs(t - temp_c), r) for (n, t), r in self.results.items() if n == name]
        return min(same, key=lambda x: x[0])[1] if same else None

    def steady(self, name: str, outdoor_temp_c: float) -> dict[str, Any]:
        """The cached (or freshly solved) summary and station table."""
        key = (name, round(round(outdoor_temp_c / TEMP_STEP_C) * TEMP_STEP_C, 1))
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return {**self.entries[key], "cached": True}
            key_lock = self.key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self.lock:
                if key in self.entries:
                    return {**self.entries[key], "cached": True}
            entry, result = self._solve(name, key[1])
            with self.lock:
                self.entries[key] = entry
                self.results[key] = result
                while len(self.entries) > MAX_ENTRIES:
                    old, _ = self.entries.popitem(last=False)
                    self.results.pop(old, None)
                self.key_locks.pop(key, None)
        return {**entry, "cached": False}

    def _solve(self, name: str, temp_c: float) -> tuple[dict[str, Any], Any]:
        from nuanliu.sim import solve_steady

        compiled = self._compiled(name)
        result = solve_steady(
            compiled,
            outdoor_temp_c=temp_c,
            warm_start=self._nearest(name, temp_c),
            raise_on_failure=False,
        )
        self.solves += 1
        summary = {k: _plain(v) for k, v in result.summary.items()}
        entry = {
            "network": name,
            "outdoor_temp_c": temp_c,
            "status": result.status,
            "iterations": result.iterations,
            "solved_at": datetime.now(UTC).isoformat(),
            "summary": summary,
            "stations": frame_records(result.stations) if result.stations is not None else [],
            # an infeasible state names every broken physical limit (empty when converged)
            "violations": frame_records(result.violations) if result.violations is not None else [],
        }
        return entry, result


def _plain(value: Any) -> Any:
    from nuanliu.api.frames import dict_record

    return dict_record({"v": value})["v"]
