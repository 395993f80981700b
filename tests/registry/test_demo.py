"""The demo city is complete, realistic and reproducible."""

from __future__ import annotations

import pandas as pd
import pytest

from nuanliu.network.model import Network
from nuanliu.registry import DemoRegistry, build_demo_registry, children
from nuanliu.scope import Scope
from nuanliu.store import Store, open_store

KINDS = ("regions", "enterprises", "stations", "communities", "buildings", "households", "sensors")


def snapshot(store: Store) -> dict[str, pd.DataFrame]:
    with store.read() as q:
        return {k: q.df(f"SELECT * FROM {k} ORDER BY 1") for k in KINDS}


def test_every_household_has_its_whole_chain(store: Store, demo: DemoRegistry) -> None:
    assert demo.counts["households"] == 400
    with store.read() as q:
        ctx = q.df("SELECT * FROM household_context")
        assert len(ctx) == 400
        assert (
            ctx[
                ["station_id", "enterprise_id", "community_id", "county_id", "city_id", "region_id"]
            ]
            .notna()
            .all()
            .all()
        )
        assert set(ctx["city_id"]) == {"150100", "150200"}  # Hohhot and Baotou
        assert set(ctx["region_id"]) == {"150000"}
        assert (ctx["standard_temp_c"] == 18.0).all()
        # Each enterprise serves households in its own city only.
        ent = q.df("SELECT enterprise_id, region_id FROM enterprises")
        merged = ctx.merge(ent, on="enterprise_id", suffixes=("", "_ent"))
        assert (merged["city_id"] == merged["region_id_ent"]).all()


def test_records_look_like_a_real_city(store: Store, demo: DemoRegistry) -> None:
    with store.read() as q:
        hh = q.df("SELECT * FROM households")
        comm = q.df("SELECT * FROM communities")
        sensors = q.df("SELECT household_id, count(*) AS n FROM sensors GROUP BY 1")
        st = q.df("SELECT * FROM stations")
    assert hh["floor_area_m2"].between(55, 145).all()
    assert 0.1 < hh["metered"].mean() < 0.5
    assert hh["address"].is_unique
    assert hh["resident_phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    for col in (
        "enterprise_steward_name",
        "enterprise_steward_phone",
        "government_steward_name",
        "government_steward_phone",
    ):
        assert comm[col].notna().all(), col
    assert comm["government_steward_phone"].str.fullmatch(r"047[12]-\d{7}").all()
    assert set(sensors["n"]) <= {1, 2} and len(sensors) == 400
    assert st["lon"].between(109, 113).all() and st["lat"].between(40, 41.5).all()
    assert 3 <= st["enterprise_id"].nunique() <= 6


def test_same_seed_same_city_other_seed_other_city(db_url: str, tmp_path) -> None:
    a = open_store(f"duckdb:///{tmp_path / 'a.duckdb'}")
    b = open_store(db_url)
    c = open_store(f"duckdb:///{tmp_path / 'c.duckdb'}")
    try:
        build_demo_registry(a, households=150, seed=11)
        build_demo_registry(b, households=150, seed=11)
        build_demo_registry(c, households=150, seed=12)
        sa, sb, sc = snapshot(a), snapshot(b), snapshot(c)
        for kind in ("households", "communities"):
            pd.testing.assert_frame_equal(sa[kind], sb[kind], check_dtype=False)
        assert not sa["households"].equals(sc["households"])
    finally:
        a.close(), b.close(), c.close()


def test_rebuilding_updates_in_place(store: Store, demo: DemoRegistry) -> None:
    before = snapshot(store)
    again = build_demo_registry(store, households=400, seed=3, include_baotou=True)
    assert again.counts == demo.counts
    after = snapshot(store)
    for kind in KINDS:
        assert len(after[kind]) == len(before[kind]), kind


def test_stations_follow_the_network_substations(store: Store) -> None:
    net = Network.from_tables(
        name="tiny",
        meta={"crs": "EPSG:4326"},
        junctions=[
            {"junction_id": "j1", "x": 111.68, "y": 40.85},
            {"junction_id": "j2", "x": 111.75, "y": 40.80},
            {"junction_id": "j3", "x": 111.60, "y": 40.78},
        ],
        stations=[
            {"station_id": "HX1", "kind": "substation", "primary_supply_junction_id": "j1"},
            {"station_id": "HX2", "kind": "substation", "primary_supply_junction_id": "j2"},
            {"station_id": "GY", "kind": "isolation", "primary_supply_junction_id": "j3"},
        ],
    )
    demo = build_demo_registry(store, network=net, households=120, seed=0)
    assert demo.counts["stations"] == 2
    with store.read() as q:
        rows = q.all("SELECT network_station_id, lon, lat FROM stations ORDER BY 1")
    assert rows == [("HX1", 111.68, 40.85), ("HX2", 111.75, 40.80)]


def test_drill_down_from_region_to_sensor(store: Store, demo: DemoRegistry) -> None:
    everything = Scope.everything()
    cities = children(store, "regions", "150000", everything)
    assert {c.id for c in cities} == {"150100", "150200"}
    assert sum(c.households for c in cities) == 400
    hohhot = next(c for c in cities if c.id == "150100")
    ents = children(store, "regions", "150100", everything)
    assert all(e.kind == "enterprises" for e in ents)
    assert sum(e.households for e in ents) == hohhot.households
    stations = children(store, "enterprises", ents[0].id, everything)
    buildings = children(store, "stations", stations[0].id, everything)
    households = children(store, "buildings", buildings[0].id, everything)
    assert households and all(h.kind == "households" for h in households)
    sensors = children(store, "households", households[0].id, everything)
    assert 1 <= len(sensors) <= 2


@pytest.mark.slow
def test_demo_scales_to_100k_households_quickly() -> None:
    import time

    with open_store("duckdb:///:memory:") as store:
        start = time.perf_counter()
        demo = build_demo_registry(store, households=100_000, seed=0)
        elapsed = time.perf_counter() - start
        with store.read() as q:
            assert q.scalar("SELECT count(*) FROM household_context") == 100_000
    assert demo.counts["sensors"] > 100_000
    assert elapsed < 30  # seconds, on a busy 2-core machine (≈4 s when idle)


def test_demo_on_the_tuoketuo_hohhot_network(store: Store) -> None:
    from nuanliu.network.examples import load_example

    net = load_example("tuoketuo-hohhot")
    subs = net.stations[net.stations["kind"] == "substation"]
    demo = build_demo_registry(store, network=net, households=600, seed=0)
    assert demo.counts["stations"] == len(subs)
    xy = net.junctions.set_index("junction_id")
    with store.read() as q:
        rows = q.all("SELECT network_station_id, lon, lat FROM stations")
        unserved = q.scalar(
            "SELECT count(*) FROM stations s WHERE NOT EXISTS"
            " (SELECT 1 FROM household_context hc WHERE hc.station_id = s.station_id)"
        )
    assert {r[0] for r in rows} == set(subs["station_id"])
    junction_of = dict(zip(subs["station_id"], subs["primary_supply_junction_id"], strict=True))
    for nid, lon, lat in rows:
        j = junction_of[nid]
        assert (lon, lat) == pytest.approx((xy.at[j, "x"], xy.at[j, "y"]), abs=1e-6)
    assert unserved == 0  # every substation has monitored households
