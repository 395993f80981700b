"""What the demo city's sensors get wrong, so every list of the dashboard has rows and
the regulator's enterprises differ (``FaultConfig`` with explicit ids):

- the first enterprise is excellent: nothing injected;
- the second runs a failing station: every building of its first station is
  under-supplied (14.5–16.5 °C);
- the third has poor sensor coverage: a quarter of its sensors stop reporting;
- everywhere else a few cold buildings, one overheated block (every flat of one
  building above 24 °C) and about 1 % of sensors offline.

Deterministic: the choice depends only on the sorted ids, so the history and the live
feed of the same demo agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from nuanliu.buildings.params import unit_uniforms
from nuanliu.sensors.faults import FaultConfig


@dataclass(frozen=True)
class DemoFaults:
    config: FaultConfig
    roles: dict[str, str]  # enterprise_id -> "excellent" | "cold_station" | "poor_coverage"


def _lowest(ids: list[str], share: float, seed: int, kind: str, at_least: int = 1) -> list[str]:
    if not ids:
        return []
    u = unit_uniforms(np.array(ids), seed, f"demo:{kind}", 1)[:, 0]
    n = min(len(ids), max(at_least, int(round(share * len(ids)))))
    return [ids[i] for i in np.argsort(u)[:n]]


def demo_faults(
    sensors: pd.DataFrame, *, seed: int = 0, history: timedelta = timedelta(days=7)
) -> DemoFaults:
    """The demo's faults for ``sensors`` (``sensor_id, household_id, building_id,
    station_id, enterprise_id``); offline sensors stop within the first half of the
    ``history`` so they are well past the offline window by now."""
    ents = sorted(str(e) for e in sensors["enterprise_id"].dropna().unique())
    roles: dict[str, str] = {}
    cold_buildings: list[str] = []
    overheat: list[str] = []
    offline: list[str] = []
    for i, ent in enumerate(ents):
        mine = sensors[sensors["enterprise_id"] == ent]
        buildings = sorted(mine["building_id"].astype(str).unique())
        role = ("excellent", "cold_station", "poor_coverage")[i] if i < 3 else "ordinary"
        roles[ent] = role
        if role == "excellent":
            continue
        if role == "cold_station":
            station = sorted(mine["station_id"].dropna().astype(str).unique())[0]
            cold_buildings += sorted(
                mine.loc[mine["station_id"] == station, "building_id"].astype(str).unique()
            )
        elif role == "poor_coverage":
            offline += _lowest(sorted(mine["sensor_id"].astype(str)), 0.25, seed, ent)
            continue
        else:
            cold_buildings += _lowest(buildings, 0.02, seed, f"cold:{ent}", at_least=2)
            offline += _lowest(sorted(mine["sensor_id"].astype(str)), 0.01, seed, f"off:{ent}")
        block = [b for b in _lowest(buildings, 0.0, seed, f"hot:{ent}") if b not in cold_buildings]
        overheat += sorted(mine.loc[mine["building_id"].isin(block), "household_id"].astype(str))
    config = FaultConfig(
        cold_buildings=tuple(cold_buildings),
        overheat_households=tuple(dict.fromkeys(overheat)),
        offline_sensors=tuple(offline),
        fault_span=history / 2,
    )
    return DemoFaults(config, roles)
