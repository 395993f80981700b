"""Dashboard test fixtures: a known world on a real store and the real application."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .browser import chromium
from .world import PASSWORD, World, build_world


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, one per test module."""
    with chromium() as b:
        yield b


@pytest.fixture
def world(db_url: str) -> Iterator[World]:
    w = build_world(db_url, users=("regulator", "operator_a"))
    try:
        yield w
    finally:
        w.store.close()


@pytest.fixture(scope="module")
def duck_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One DuckDB world shared by a module's read-only page tests (it takes a second)."""
    path: Path = tmp_path_factory.mktemp("webdb") / "web.duckdb"
    w = build_world(f"duckdb:///{path}")
    try:
        yield w
    finally:
        w.store.close()


def make_client(world: World) -> TestClient:
    from nuanliu.api.app import create_app
    from nuanliu.config import load_settings

    app = create_app(load_settings({}), store=world.store)
    return TestClient(app, follow_redirects=False)


def login(client: TestClient, username: str) -> TestClient:
    client.get("/login")  # the form's CSRF token arrives as a cookie (double submit)
    token = client.cookies.get("nuanliu_login_csrf")
    r = client.post(
        "/auth/login",
        data={"username": username, "password": PASSWORD, "next": "/", "csrf_token": token},
    )
    assert r.status_code == 303, r.text
    return client
