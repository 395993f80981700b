"""Shared test configuration.

Store tests run on every engine: the ``db_url`` fixture is parametrized over the URLs
given with ``--dburl`` (repeatable) or ``NUANLIU_TEST_DBURLS`` (comma-separated); by
default both the embedded DuckDB and the local PostgreSQL. ``store`` is a migrated
store on that database, closed after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from nuanliu.paths import shared_data_dir

if TYPE_CHECKING:
    from nuanliu.store import Store

DEFAULT_DBURLS = ["duckdb", "postgresql://127.0.0.1:5432/test"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dburl",
        action="append",
        default=None,
        help="store URL to run store tests on ('duckdb' = a fresh file per test); repeatable",
    )


def _dburls(config: pytest.Config) -> list[str]:
    urls = config.getoption("--dburl")
    if urls:
        return urls
    env = os.environ.get("NUANLIU_TEST_DBURLS")
    if env:
        return [u.strip() for u in env.split(",") if u.strip()]
    return DEFAULT_DBURLS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_url" in metafunc.fixturenames:
        urls = _dburls(metafunc.config)
        ids = ["duckdb" if u == "duckdb" else u.split(":", 1)[0] for u in urls]
        marks = [[] if u == "duckdb" else [pytest.mark.postgres] for u in urls]
        metafunc.parametrize(
            "engine_url",
            [pytest.param(u, id=i, marks=m) for u, i, m in zip(urls, ids, marks, strict=True)],
            indirect=False,
        )


@pytest.fixture
def db_url(engine_url: str, tmp_path: Path) -> Iterator[str]:
    """A store URL of an empty database: a new DuckDB file, or a new PostgreSQL schema."""
    if engine_url == "duckdb":
        yield f"duckdb:///{tmp_path / 'test.duckdb'}"
        return
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(engine_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in engine_url else "?"
    try:
        yield f"{engine_url}{sep}schema={schema}"
    finally:
        with psycopg.connect(engine_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open, fully migrated store on an empty database of each engine."""
    from nuanliu.store import open_store

    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if not path.is_dir():
        pytest.fail(f"shared data folder not found at {path} (set NUANLIU_SHARED_DATA)")
    return path
