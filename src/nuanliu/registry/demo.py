"""A realistic demo registry: Inner Mongolia → Hohhot (and Baotou) → districts →
heating enterprises → stations → communities with their two stewards → buildings →
households → sensors.

Deterministic for a seed, vectorised (numpy draws, one bulk upsert per kind), so the
100k-household registry the benchmarks use builds in seconds. Stations follow the
network model when one is given (one per ``substation``, at its junction).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from nuanliu.errors import InvalidInput
from nuanliu.registry import names as N
from nuanliu.registry.kinds import KINDS
from nuanliu.registry.repository import arrow_schema, upsert_table
from nuanliu.store import Store

# Monitored (sample) households per station: Hohhot has ~90k sensors for ~700 stations.
HOUSEHOLDS_PER_STATION = 130
LOCAL_TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass
class DemoRegistry:
    counts: dict[str, int]
    city_ids: list[str]
    enterprise_ids: list[str]
    station_ids: list[str] = field(repr=False)


def _table(kind: str, columns: dict[str, Any]) -> pa.Table:
    schema = arrow_schema(KINDS[kind])
    n = len(next(iter(columns.values())))
    return pa.table(
        {f.name: columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in schema},
        schema=schema,
    )


def _people(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    surnames = np.array(N.SURNAMES, dtype=object)
    given = np.array(N.GIVEN, dtype=object)
    sur = surnames[rng.integers(0, len(surnames), n)]
    g1 = given[rng.integers(0, len(given), n)]
    g2 = given[rng.integers(0, len(given), n)]
    two = rng.random(n) < 0.6
    names = [s + a + (b if t else "") for s, a, b, t in zip(sur, g1, g2, two, strict=True)]
    prefixes = np.array(N.PHONE_PREFIXES, dtype=object)[rng.integers(0, len(N.PHONE_PREFIXES), n)]
    tails = rng.integers(0, 100_000_000, n)
    phones = [f"{p}{t:08d}" for p, t in zip(prefixes, tails, strict=True)]
    return names, phones


def _station_sites(
    network: Any, n_default: int, cities: list[str], rng: np.random.Generator
) -> tuple[list[str | None], np.ndarray, np.ndarray, np.ndarray]:
    """(network station ids, lon, lat, city index) of every registry station."""
    if network is None:
        city_of = np.sort(rng.choice(len(cities), size=n_default, p=_city_weights(cities)))
        lon = np.empty(n_default)
        lat = np.empty(n_default)
        for c, city in enumerate(cities):
            mask = city_of == c
            centre = N.CITIES[city]
            lon[mask] = centre[3] + rng.normal(0, 0.045, mask.sum())
            lat[mask] = centre[4] + rng.normal(0, 0.03, mask.sum())
        return [None] * n_default, lon, lat, city_of
    stations = network.stations
    subs = stations[stations["kind"] == "substation"].sort_values("station_id")
    if subs.empty:
        raise InvalidInput(f"network {network.name!r} has no substation to register")
    junctions = network.junctions.set_index("junction_id")
    jid = subs["primary_supply_junction_id"].to_numpy()
    x = junctions["x"].reindex(jid).to_numpy(float)
    y = junctions["y"].reindex(jid).to_numpy(float)
    if str(network.meta.get("crs", "")).upper() != "EPSG:4326" or np.isnan(x).all():
        # Local metres (or none): place the network's shape around the Hohhot centre.
        if np.isnan(x).all():
            x = rng.normal(0, 3000, len(jid))
            y = rng.normal(0, 3000, len(jid))
        centre = N.CITIES["hohhot"]
        x = np.nan_to_num(x - np.nanmean(x))
        y = np.nan_to_num(y - np.nanmean(y))
        x = centre[3] + x / (111_320 * math.cos(math.radians(centre[4])))
        y = centre[4] + y / 110_540
    return list(subs["station_id"]), x, y, np.zeros(len(jid), dtype=int)


def _city_weights(cities: list[str]) -> np.ndarray:
    w = np.array([3.0 if c == "hohhot" else 1.0 for c in cities])
    return w / w.sum()


def build_demo_registry(
    store: Store,
    *,
    network: Any = None,
    households: int = 3000,
    seed: int = 0,
    include_baotou: bool = False,
) -> DemoRegistry:
    """Create (or refresh: upserts by id) the demo registry; the counts per kind."""
    if households < 1:
        raise InvalidInput(f"households must be ≥ 1, got {households}")
    rng = np.random.default_rng(seed)
    cities = ["hohhot", "baotou"] if include_baotou and network is None else ["hohhot"]

    # -- regions ------------------------------------------------------------------
    regions: dict[str, list[Any]] = {
        k: [] for k in ("region_id", "parent_id", "level", "name_zh", "name_en", "standard_temp_c")
    }

    def region(rid: str, parent: str | None, level: str, zh: str, en: str, std: Any) -> None:
        for key, value in zip(regions, (rid, parent, level, zh, en, std), strict=True):
            regions[key].append(value)

    region(N.REGION[0], None, "region", N.REGION[1], N.REGION[2], None)
    for city in cities:
        code, zh, en = N.CITIES[city][:3]
        region(code, N.REGION[0], "city", zh, en, 18.0)
        for ccode, czh, cen, _, _ in N.COUNTIES[city]:
            region(ccode, code, "county", czh, cen, None)

    # -- enterprises --------------------------------------------------------------
    ent: dict[str, list[Any]] = {
        "enterprise_id": [],
        "region_id": [],
        "name_zh": [],
        "name_en": [],
        "licence_no": [],
    }
    ent_city: list[int] = []
    for c, city in enumerate(cities):
        for zh, en in N.ENTERPRISES[city]:
            k = len(ent["enterprise_id"]) + 1
            ent["enterprise_id"].append(f"E{k:02d}")
            ent["region_id"].append(N.CITIES[city][0])
            ent["name_zh"].append(zh)
            ent["name_en"].append(en)
            ent["licence_no"].append(f"{N.CITIES[city][0]}-GR-2023-{k:04d}")
            ent_city.append(c)
    ent_city_arr = np.array(ent_city)

    # -- stations: sites, district (nearest centre), enterprise (sector) ------------
    n_default = max(2 * len(ent_city), math.ceil(households / HOUSEHOLDS_PER_STATION))
    net_ids, lon, lat, city_of = _station_sites(network, n_default, cities, rng)
    n_st = len(lon)
    county_idx = np.empty(n_st, dtype=int)
    county_ids = np.empty(n_st, dtype=object)
    county_zh = np.empty(n_st, dtype=object)
    county_en = np.empty(n_st, dtype=object)
    st_ent = np.empty(n_st, dtype=object)
    for c, city in enumerate(cities):
        mask = city_of == c
        counties = N.COUNTIES[city]
        centres = np.array([[k[3], k[4]] for k in counties])
        d = np.hypot(lon[mask, None] - centres[None, :, 0], lat[mask, None] - centres[None, :, 1])
        nearest = d.argmin(axis=1)
        county_idx[mask] = nearest
        county_ids[mask] = [counties[i][0] for i in nearest]
        county_zh[mask] = [counties[i][1] for i in nearest]
        county_en[mask] = [counties[i][2] for i in nearest]
        # Enterprises hold angular sectors turned against the districts, so a district
        # is served by more than one enterprise, as in a real city.
        # Equal shares of the city's stations by angle, so every enterprise has some.
        ents = np.flatnonzero(ent_city_arr == c)
        cx, cy = N.CITIES[city][3], N.CITIES[city][4]
        angle = (np.arctan2(lat[mask] - cy, lon[mask] - cx) + math.pi / 4) % (2 * math.pi)
        sector = np.empty(mask.sum(), dtype=int)
        for k, part in enumerate(np.array_split(np.argsort(angle, kind="stable"), len(ents))):
            sector[part] = k
        st_ent[mask] = [ent["enterprise_id"][ents[s]] for s in sector]
    st_ids = [f"ST{i + 1:04d}" for i in range(n_st)]
    per_county: dict[str, int] = {}
    st_zh, st_en = [], []
    for i in range(n_st):
        per_county[county_ids[i]] = per_county.get(county_ids[i], 0) + 1
        k = per_county[county_ids[i]]
        st_zh.append(f"{county_zh[i][:-1]}{k}号换热站")
        st_en.append(f"{county_en[i].removesuffix(' District')} Substation {k}")
    stations = {
        "station_id": st_ids,
        "enterprise_id": list(st_ent),
        "region_id": list(county_ids),
        "name_zh": st_zh,
        "name_en": st_en,
        "network_station_id": net_ids,
        "lon": np.round(lon, 6),
        "lat": np.round(lat, 6),
    }

    # -- households per station, communities (1–3 per station), buildings ------------
    weights = rng.lognormal(0.0, 0.5, n_st)
    # Every station gets a household first (when there are enough), the rest by weight.
    first = np.arange(min(n_st, households))
    rest = rng.choice(n_st, size=households - len(first), p=weights / weights.sum())
    hh_station = np.sort(np.concatenate([first, rest]))
    comm_per_station = rng.integers(1, 4, n_st)
    comm_first = np.concatenate([[0], np.cumsum(comm_per_station)[:-1]])
    n_comm = int(comm_per_station.sum())
    hh_comm = comm_first[hh_station] + (
        rng.random(households) * comm_per_station[hh_station]
    ).astype(int)
    order = np.argsort(hh_comm, kind="stable")
    hh_station, hh_comm = hh_station[order], hh_comm[order]
    comm_station = np.repeat(np.arange(n_st), comm_per_station)

    p_n, s_n = len(N.COMMUNITY_PREFIXES), len(N.COMMUNITY_SUFFIXES)
    comm_ids, comm_zh, comm_en = [], [], []
    for i in range(n_comm):
        pzh, pen = N.COMMUNITY_PREFIXES[i % p_n]
        szh, sen = N.COMMUNITY_SUFFIXES[(i // p_n) % s_n]
        phase = i // (p_n * s_n) + 1
        comm_ids.append(f"C{i + 1:05d}")
        comm_zh.append(f"{pzh}{szh}" + (f"{phase}期" if phase > 1 else ""))
        comm_en.append(f"{pen} {sen}" + (f" Phase {phase}" if phase > 1 else ""))
    es_name, es_phone = _people(rng, n_comm)
    gs_name, _ = _people(rng, n_comm)
    area_code = [N.CITIES[cities[city_of[s]]][5] for s in comm_station]
    gs_phone = [
        f"{a}-{n}"
        for a, n in zip(area_code, rng.integers(3_000_000, 7_000_000, n_comm), strict=True)
    ]
    communities = {
        "community_id": comm_ids,
        "region_id": list(county_ids[comm_station]),
        "name_zh": comm_zh,
        "name_en": comm_en,
        "enterprise_steward_name": es_name,
        "enterprise_steward_phone": es_phone,
        "government_steward_name": gs_name,
        "government_steward_phone": gs_phone,
    }

    # Buildings: consecutive households of a community, 4–14 monitored flats each.
    per_building = rng.integers(4, 15, n_comm)
    comm_start = np.searchsorted(hh_comm, np.arange(n_comm))
    rank = np.arange(households) - comm_start[hh_comm]
    local_b = rank // per_building[hh_comm]
    b_key = hh_comm.astype(np.int64) * 10_000 + local_b
    uniq, hh_building = np.unique(b_key, return_inverse=True)
    n_b = len(uniq)
    b_comm = (uniq // 10_000).astype(int)
    b_no = (uniq % 10_000).astype(int) + 1
    b_station = comm_station[b_comm]
    floors = rng.choice([6, 7, 11, 18, 26, 33], size=n_b, p=[0.3, 0.15, 0.2, 0.15, 0.1, 0.1])
    year = rng.integers(1988, 2023, n_b)
    roads = rng.integers(0, len(N.ROADS), n_comm)
    road_no = rng.integers(1, 300, n_comm)
    b_addr = [
        f"{county_zh[b_station[b]]}{N.ROADS[roads[c]][0]}{road_no[c]}号{comm_zh[c]}{b_no[b]}号楼"
        for b, c in enumerate(b_comm)
    ]
    buildings = {
        "building_id": [f"B{i + 1:06d}" for i in range(n_b)],
        "station_id": [st_ids[s] for s in b_station],
        "community_id": [comm_ids[c] for c in b_comm],
        "name_zh": [f"{comm_zh[c]}{b_no[b]}号楼" for b, c in enumerate(b_comm)],
        "name_en": [f"{comm_en[c]} Building {b_no[b]}" for b, c in enumerate(b_comm)],
        "address": b_addr,
        "lon": np.round(lon[b_station] + rng.normal(0, 0.003, n_b), 6),
        "lat": np.round(lat[b_station] + rng.normal(0, 0.002, n_b), 6),
        "floors": floors,
        "year_built": year,
    }

    # Households: a distinct flat (unit, floor, door) per monitored household.
    b_first = np.searchsorted(hh_building, np.arange(n_b))
    h_rank = np.arange(households) - b_first[hh_building]
    hb_floors = floors[hh_building]
    slots = hb_floors * 2 * 4  # 4 units, 2 doors a floor
    slot = (rng.integers(0, 10_000, n_b)[hh_building] + h_rank) % slots
    unit = slot // (hb_floors * 2) + 1
    floor_no = (slot // 2) % hb_floors + 1
    door = slot % 2 + 1
    res_name, res_phone = _people(rng, households)
    hh_ids = [f"H{i + 1:07d}" for i in range(households)]
    hh = {
        "household_id": hh_ids,
        "building_id": [buildings["building_id"][b] for b in hh_building],
        "address": [
            f"{b_addr[b]}{u}单元{f}{d:02d}室"
            for b, u, f, d in zip(hh_building, unit, floor_no, door, strict=True)
        ],
        "floor_area_m2": np.round(np.clip(rng.normal(88, 18, households), 55, 145), 2),
        "metered": rng.random(households) < 0.3,
        "resident_name": res_name,
        "resident_phone": res_phone,
    }

    # Sensors: one in the living room, a second in a bedroom for ~35 % of households.
    two = rng.random(households) < 0.35
    s_house = np.repeat(np.arange(households), np.where(two, 2, 1))
    s_second = np.zeros(len(s_house), dtype=bool)
    s_second[1:] = s_house[1:] == s_house[:-1]
    bedroom = np.where(rng.random(len(s_house)) < 0.7, 1, 2)
    installed = dt.datetime(2025, 10, 1, 9, tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    offsets = rng.integers(0, 14 * 24 * 60, len(s_house))
    sensors = {
        "sensor_id": [f"S{i + 1:08d}" for i in range(len(s_house))],
        "household_id": [hh_ids[h] for h in s_house],
        "room": [N.ROOMS[b] if s else N.ROOMS[0] for s, b in zip(s_second, bedroom, strict=True)],
        "model": [N.SENSOR_MODELS[m] for m in rng.integers(0, len(N.SENSOR_MODELS), len(s_house))],
        "installed_at": pa.array(
            (
                np.datetime64(installed.replace(tzinfo=None), "us")
                + offsets.astype("timedelta64[m]")
            ).astype("datetime64[us]"),
            pa.timestamp("us", tz="UTC"),
        ),
    }

    tables = {
        "regions": _table("regions", regions),
        "enterprises": _table("enterprises", ent),
        "stations": _table("stations", stations),
        "communities": _table("communities", communities),
        "buildings": _table("buildings", buildings),
        "households": _table("households", hh),
        "sensors": _table("sensors", sensors),
    }
    with store.write() as w:
        for kind, tbl in tables.items():
            upsert_table(w, KINDS[kind], tbl)
    return DemoRegistry(
        counts={k: t.num_rows for k, t in tables.items()},
        city_ids=[N.CITIES[c][0] for c in cities],
        enterprise_ids=list(ent["enterprise_id"]),
        station_ids=st_ids,
    )
