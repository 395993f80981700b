"""The demo city's faults: enterprises that differ, and something on every list."""

from __future__ import annotations

import pandas as pd

from nuanliu.sensors.demo import demo_faults


def city(
    enterprises: int = 4, stations: int = 3, buildings: int = 5, flats: int = 6
) -> pd.DataFrame:
    rows = []
    for e in range(enterprises):
        for s in range(stations):
            for b in range(buildings):
                for h in range(flats):
                    hid = f"H{e}{s}{b}{h}"
                    rows.append({"sensor_id": f"T{hid}", "household_id": hid,
                                 "building_id": f"B{e}{s}{b}", "station_id": f"S{e}{s}",
                                 "enterprise_id": f"E{e}"})  # fmt: skip
    return pd.DataFrame(rows)


def test_enterprises_differ_and_every_kind_of_problem_exists() -> None:
    sensors = city()
    plan = demo_faults(sensors)
    cfg = plan.config
    assert plan.roles == {"E0": "excellent", "E1": "cold_station", "E2": "poor_coverage",
                          "E3": "ordinary"}  # fmt: skip
    ent_of_building = dict(zip(sensors["building_id"], sensors["enterprise_id"], strict=False))
    ent_of_sensor = dict(zip(sensors["sensor_id"], sensors["enterprise_id"], strict=True))
    ent_of_house = dict(zip(sensors["household_id"], sensors["enterprise_id"], strict=True))
    touched = (
        {ent_of_building[b] for b in cfg.cold_buildings}
        | {ent_of_sensor[s] for s in cfg.offline_sensors}
        | {ent_of_house[h] for h in cfg.overheat_households}
    )
    assert "E0" not in touched  # the excellent one has nothing injected
    # E1: one whole station under-supplied.
    assert {b for b in cfg.cold_buildings if b.startswith("B1")} == {f"B10{b}" for b in range(5)}
    # E2: a quarter of its sensors silent; E3 about 1 %.
    offline = pd.Series([ent_of_sensor[s] for s in cfg.offline_sensors]).value_counts()
    assert offline["E2"] == round(0.25 * 90) and offline["E3"] >= 1
    # An overheated block: every flat of one building.
    hot_buildings = {h[:4] for h in cfg.overheat_households}
    for b in hot_buildings:
        assert {f"{b.replace('B', 'H')}{h}" for h in range(6)} <= set(cfg.overheat_households)
    assert demo_faults(sensors) == plan  # deterministic
