"""A store with a registry, one user per role (two enterprises, two residents) and an app.

``world`` names the objects the tests aim at (enterprise A and B, a household of each,
a neighbour's household) by querying the registry rather than hard-coding ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from nuanliu.api.accounts import User, create_user
from nuanliu.api.app import create_app
from nuanliu.api.sessions import create_token
from nuanliu.config import load_settings
from nuanliu.registry import build_demo_registry
from nuanliu.store import open_store

PASSWORD = "correct-horse-1"
# Hashed once with cheap argon2 parameters: every login verifies in milliseconds, and the
# first successful one upgrades the hash to the production parameters (tested below).
CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass
class World:
    store: Any
    app: Any
    client: TestClient
    ids: dict[str, str]  # named registry objects
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}


def build_registry(store: Any) -> None:
    """The store helper's demo registry: two cities, several enterprises, ~240 homes."""
    build_demo_registry(store, households=240, seed=7, include_baotou=True)


def pick_ids(store: Any) -> dict[str, str]:
    """Enterprises A and B in different cities; a household with a sensor of each; A's neighbour."""
    with store.read() as q:
        rows = q.all(
            "SELECT hc.enterprise_id, hc.household_id, hc.building_id, hc.community_id,"
            " hc.station_id, hc.city_id, hc.county_id, MIN(s.sensor_id)"
            " FROM household_context hc JOIN sensors s ON s.household_id = hc.household_id"
            " GROUP BY hc.enterprise_id, hc.household_id, hc.building_id, hc.community_id,"
            " hc.station_id, hc.city_id, hc.county_id"
            " ORDER BY hc.enterprise_id, hc.building_id, hc.household_id"
        )
    by_enterprise: dict[str, list[tuple]] = {}
    for row in rows:
        by_enterprise.setdefault(row[0], []).append(row)
    ea = sorted(by_enterprise)[0]
    city_a = by_enterprise[ea][0][5]
    others = sorted(e for e, r in by_enterprise.items() if r[0][5] != city_a)
    assert others, "the API tests need enterprises in two cities"
    eb = others[0]
    a_rows = by_enterprise[ea]
    a = a_rows[0]
    neighbour = next(r for r in a_rows[1:] if r[2] == a[2])  # same building
    b = by_enterprise[eb][0]
    return {
        "enterprise_a": ea,
        "enterprise_b": eb,
        "household_a": a[1],
        "building_a": a[2],
        "community_a": a[3],
        "station_a": a[4],
        "city_a": a[5],
        "sensor_a": a[7],
        "household_neighbour": neighbour[1],
        "sensor_neighbour": neighbour[7],
        "household_b": b[1],
        "building_b": b[2],
        "community_b": b[3],
        "station_b": b[4],
        "city_b": b[5],
        "sensor_b": b[7],
    }


# Who the tests log in as: name -> (role, scope key in ``ids``).
PERSONAS: dict[str, tuple[str, str]] = {
    "regulator": ("regulator", "city_a"),
    "admin_a": ("enterprise_admin", "enterprise_a"),
    "operator_a": ("enterprise_operator", "enterprise_a"),
    "operator_b": ("enterprise_operator", "enterprise_b"),
    "steward_a": ("steward", "community_a"),
    "resident_a": ("resident", "household_a"),
    "gateway_a": ("gateway", "enterprise_a"),
}


def make_world(db_url: str, tmp_path: Path) -> tuple[World, Any]:
    store = open_store(db_url)
    build_registry(store)
    ids = pick_ids(store)
    app = create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=store)
    world = World(store=store, app=app, client=TestClient(app), ids=ids)
    for name, (role, key) in PERSONAS.items():
        user = create_user(
            store,
            username=name,
            password="",
            password_hash=CHEAP_HASH,
            role=role,
            scope_ids=[ids[key]],
        )
        world.users[name] = user
        world.tokens[name] = create_token(store, user, name="test").token
    return world, store


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    w, store = make_world(db_url, tmp_path)
    try:
        with w.client:
            yield w
    finally:
        store.close()


@pytest.fixture
def duck_world(tmp_path: Path) -> Iterator[World]:
    """A world on DuckDB only, for behaviour that does not depend on the engine."""
    w, store = make_world(f"duckdb:///{tmp_path / 'api.duckdb'}", tmp_path)
    try:
        with w.client:
            yield w
    finally:
        store.close()
