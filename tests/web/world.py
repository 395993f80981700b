"""A small, fully known heating world for the dashboard tests.

One region → one city → two enterprises (Alpha / 甲, Beta / 乙) in the same city, two
stations each, two buildings per station, four households per building, one or two
sensors per household, and three days of half-hourly readings up to now with known
outcomes: most households warm, some cold, one overheated, one offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

PASSWORD = "web-test-pass-1"

ENTERPRISES = {
    "EA": ("甲热力公司", "Alpha Heating Co."),
    "EB": ("乙热力公司", "Beta Heating Co."),
}


@dataclass
class World:
    store: Any
    now: datetime
    temps: dict[str, float] = field(default_factory=dict)  # household -> indoor °C now
    offline: set[str] = field(default_factory=set)
    stations: dict[str, str] = field(default_factory=dict)  # station -> enterprise
    station_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    household_station: dict[str, str] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    def households_of(self, enterprise: str) -> list[str]:
        return [h for h, s in self.household_station.items() if self.stations[s] == enterprise]


def _insert(w: Any, table: str, row: dict[str, Any]) -> None:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    w.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))


def _names(zh: str, en: str) -> dict[str, str]:
    return {"name_zh": zh, "name_en": en}


def seed_registry(store: Any, world: World) -> None:
    with store.write() as w:
        for rid, parent, level, zh, en, std in (
            ("NM", None, "region", "内蒙古自治区", "Inner Mongolia", None),
            ("HHHT", "NM", "city", "呼和浩特市", "Hohhot", 18.0),
            ("XC", "HHHT", "county", "新城区", "Xincheng", None),
        ):
            _insert(w, "regions", {"region_id": rid, "parent_id": parent, "level": level,
                                   **_names(zh, en), "standard_temp_c": std})  # fmt: skip
        for e, (zh, en) in ENTERPRISES.items():
            short = en.split()[0]
            _insert(w, "enterprises", {"enterprise_id": e, "region_id": "HHHT",
                                       **_names(zh, en), "licence_no": f"LIC-{e}"})  # fmt: skip
            _insert(w, "communities", {
                "community_id": f"C{e}", "region_id": "XC",
                **_names(f"{zh[0]}社区", f"{short} Community"),
                "enterprise_steward_name": "王管家", "enterprise_steward_phone": "13900000001",
                "government_steward_name": "李主任", "government_steward_phone": "13900000002",
            })  # fmt: skip
            for s in (1, 2):
                sid = f"S{e}{s}"
                zh_s, en_s = f"{zh[0]}{'一二'[s - 1]}站", f"{short} Station {s}"
                world.stations[sid] = e
                world.station_names[sid] = (zh_s, en_s)
                lon, lat = 111.6 + 0.05 * s + (0.1 if e == "EB" else 0.0), 40.8 + 0.02 * s
                _insert(w, "stations", {"station_id": sid, "enterprise_id": e, "region_id": "XC",
                                        **_names(zh_s, en_s), "lon": lon, "lat": lat})  # fmt: skip
                for b in (1, 2):
                    bid = f"B{e}{s}{b}"
                    _insert(w, "buildings", {
                        "building_id": bid, "station_id": sid, "community_id": f"C{e}",
                        **_names(f"{zh_s}{b}号楼", f"{en_s} Bldg {b}"),
                        "address": f"{en_s} Rd {b}", "lon": lon + 0.004 * b, "lat": lat + 0.003,
                        "floors": 6, "year_built": 2005,
                    })  # fmt: skip
                    for h in range(4):
                        hid = f"H{e}{s}{b}{h}"
                        world.household_station[hid] = sid
                        _insert(w, "households", {
                            "household_id": hid, "building_id": bid, "address": f"{b}-{h + 1}01",
                            "floor_area_m2": 85.0, "metered": False,
                            "resident_name": f"张{hid}", "resident_phone": f"1380000{s}{b}{h}",
                        })  # fmt: skip
                        for k in range(2 if h == 0 else 1):
                            _insert(w, "sensors", {
                                "sensor_id": f"T{hid}{k}", "household_id": hid,
                                "room": ["客厅", "卧室"][k], "model": "NL-T1",
                                "installed_at": world.now - timedelta(days=30),
                            })  # fmt: skip


def plan_temperatures(world: World) -> None:
    """Known outcomes: Beta's station 2 is cold, one Alpha flat is overheated, one offline."""
    for hid, sid in world.household_station.items():
        temp = 20.5 + 0.1 * int(hid[-1])
        if sid == "SEB2":
            temp = 15.0 + 0.2 * int(hid[-1])  # below the cold limit (16 °C)
        world.temps[hid] = temp
    world.temps["HEA111"] = 25.5
    world.offline.add("HEA221")


def seed_readings(store: Any, world: World, days: int = 3, step_min: int = 30) -> int:
    """Half-hourly readings for ``days`` up to now; the offline flat stops 4 h ago."""
    sensor_ids, ts, temps = [], [], []
    with store.read() as q:
        sensors = q.all("SELECT sensor_id, household_id FROM sensors ORDER BY sensor_id", [])
    end = world.now.replace(second=0, microsecond=0)
    steps = days * 24 * 60 // step_min
    times = [end - timedelta(minutes=step_min * i) for i in range(steps)]
    for sensor_id, hid in sensors:
        base = world.temps[hid]
        stop = end - timedelta(hours=4) if hid in world.offline else end
        for i, t in enumerate(times):
            if t > stop:
                continue
            sensor_ids.append(sensor_id)
            ts.append(t)
            # A small daily wobble that never crosses a threshold.
            temps.append(round(base + 0.2 * np.sin(i / 7.0), 2))
    tbl = pa.table(
        {
            "sensor_id": pa.array(sensor_ids, pa.string()),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "temp_c": pa.array(temps, pa.float64()),
            "humidity_pct": pa.array([None] * len(temps), pa.float64()),
        }
    )
    return store.insert_readings(tbl).inserted


def make_users(world: World, names: tuple[str, ...] | None = None) -> None:
    """Create the test logins (argon2 hashing is slow on purpose: only those needed)."""
    from nuanliu.api.accounts import create_user

    specs = {
        "regulator": ("regulator", ["HHHT"]),
        "admin_a": ("enterprise_admin", ["EA"]),
        "operator_a": ("enterprise_operator", ["EA"]),
        "operator_b": ("enterprise_operator", ["EB"]),
        "steward_a": ("steward", ["CEA"]),
        "resident": ("resident", ["HEA110"]),
    }
    for username, (role, ids) in specs.items():
        if names is not None and username not in names:
            continue
        world.users[username] = create_user(
            world.store,
            username=username,
            password=PASSWORD,
            role=role,
            scope_ids=ids,
            display_name=username,
        )


def raise_alerts(world: World) -> int:
    """The monitoring service's default rules evaluated now (cold, offline, compliance)."""
    from nuanliu.monitor.alerts import default_rules, evaluate_alerts, save_rule

    for rule in default_rules():
        save_rule(world.store, rule)
    evaluate_alerts(world.store, world.now, deliver=False)
    with world.store.read() as q:
        return int(q.all("SELECT COUNT(*) FROM mon_alerts", [])[0][0])


def build_world(
    url: str, now: datetime | None = None, users: tuple[str, ...] | None = None
) -> World:
    from nuanliu.monitor import open_monitored_store

    store = open_monitored_store(url)
    world = World(store=store, now=now or datetime.now(UTC))
    seed_registry(store, world)
    plan_temperatures(world)
    seed_readings(store, world)
    make_users(world, users)
    raise_alerts(world)
    return world
