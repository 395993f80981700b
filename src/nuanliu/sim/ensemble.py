"""What-if ensembles of season runs, fanned out on Dask (``nuanliu.distributed``).

A case varies what a planner asks about: the weather (another EPW or any hourly
frame, or the typical year shifted by ``outdoor_offset_k`` for a milder or harsher
winter), the sources' supply temperatures (a schedule, or an offset on the set-point)
and the control set-points. Each case is one independent season run; results do not
depend on how many workers run them (every run is deterministic and self-contained).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nuanliu.distributed import run_tasks


@dataclass(frozen=True)
class SeasonCase:
    """One variant of a season run."""

    label: str
    weather: Any = "hohhot"
    outdoor_offset_k: float = 0.0
    source_supply_schedule: pd.DataFrame | None = None
    station_dp_setpoints: Mapping[str, float] | None = None
    valve_settings: Mapping[str, float] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # flats_per_element, wall, seed


@dataclass(frozen=True)
class _Task:
    network: Any
    case: SeasonCase
    start: Any
    end: Any
    step: str


def _weather_of(case: SeasonCase, start: Any, end: Any, step: str) -> Any:
    if not case.outdoor_offset_k:
        return case.weather
    from nuanliu.sim.season import _times, _weather_frame

    times = _times(start, end, step)
    # hourly frame one step beyond the end so interpolation covers every step
    grid = pd.date_range(times[0], times[-1] + pd.Timedelta(step), freq=step)
    wx = _weather_frame(case.weather, grid)
    wx["temp_c"] = wx["temp_c"] + float(case.outdoor_offset_k)
    return wx


def run_case(task: _Task) -> dict[str, Any]:
    """Run one case; returns its label and totals (module-level: workers pickle it)."""
    from nuanliu.sim.season import simulate_season

    case = task.case
    res = simulate_season(
        task.network,
        _weather_of(case, task.start, task.end, task.step),
        start=task.start,
        end=task.end,
        step=task.step,
        source_supply_schedule=case.source_supply_schedule,
        station_dp_setpoints=case.station_dp_setpoints,
        valve_settings=case.valve_settings,
        **dict(case.options),
    )
    return {"label": case.label, **res.totals, "interrupted": res.interrupted}


def run_ensemble(
    network: Any,
    cases: Sequence[SeasonCase],
    *,
    start: Any,
    end: Any,
    step: str = "1h",
    scheduler: str | None = None,
    workers: int = 2,
    on_done: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Totals of every case, one row each, in the order of ``cases``.

    ``workers=0`` runs in this process (the reference); otherwise a local Dask
    cluster of ``workers`` processes, or the cluster at ``scheduler`` (tcp://…).
    """
    labels = [c.label for c in cases]
    if len(set(labels)) != len(labels):
        from nuanliu.errors import InvalidInput

        raise InvalidInput("ensemble case labels must be unique")
    tasks = [_Task(network, c, start, end, step) for c in cases]
    rows = run_tasks(run_case, tasks, scheduler=scheduler, workers=workers, on_done=on_done)
    return pd.DataFrame(rows)
