"""A small registry for billing tests: one city, two enterprises, two buildings."""

from __future__ import annotations

from decimal import Decimal

from nuanliu.billing.examples import example_tariffs
from nuanliu.billing.tariffs import save_tariffs
from nuanliu.store import Store


def seed_registry(store: Store, *, households_per_building: int = 4) -> list[str]:
    """Households h-<b>-<n> with 80 + 10·n m²; building b1 (enterprise e1) is metered."""
    with store.write() as w:
        w.executemany(
            "INSERT INTO regions (region_id, parent_id, level, name_zh) VALUES (?, ?, ?, ?)",
            [("r", None, "region", "内蒙古"), ("c1", "r", "city", "呼和浩特")],
        )
        w.executemany(
            "INSERT INTO enterprises (enterprise_id, region_id, name_zh) VALUES (?, ?, ?)",
            [("e1", "c1", "热力一"), ("e2", "c1", "热力二")],
        )
        w.executemany(
            "INSERT INTO stations (station_id, enterprise_id, region_id, name_zh) "
            "VALUES (?, ?, ?, ?)",
            [("s1", "e1", "c1", "站一"), ("s2", "e2", "c1", "站二")],
        )
        w.executemany(
            "INSERT INTO communities (community_id, region_id, name_zh) VALUES (?, ?, ?)",
            [("m1", "c1", "小区一"), ("m2", "c1", "小区二")],
        )
        w.executemany(
            "INSERT INTO buildings (building_id, station_id, community_id, name_zh) "
            "VALUES (?, ?, ?, ?)",
            [("b1", "s1", "m1", "1号楼"), ("b2", "s2", "m2", "2号楼")],
        )
        ids = []
        for b in ("b1", "b2"):
            for n in range(households_per_building):
                hid = f"h-{b}-{n}"
                ids.append(hid)
                w.execute(
                    "INSERT INTO households (household_id, building_id, floor_area_m2, metered) "
                    "VALUES (?, ?, ?, ?)",
                    [hid, b, float(80 + 10 * n), b == "b1"],
                )
    save_tariffs(store, example_tariffs())
    return ids


def add_meter(store: Store, meter_id: str, household_id: str, status: str = "active") -> None:
    with store.write() as w:
        w.execute(
            "INSERT INTO heat_meters (meter_id, household_id, protocol, cjt188_address, status) "
            "VALUES (?, ?, 'cjt188', ?, ?)",
            [meter_id, household_id, f"{abs(hash(meter_id)) % 10**14:014d}", status],
        )


def GJ(x: str) -> Decimal:
    return Decimal(x)
