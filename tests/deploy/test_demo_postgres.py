"""``nuanliu demo --db postgresql://…``: the same demo city on the server engine, its
live readings published through MQTT and stored by two ingest worker processes in one
shared-subscription group, the scheduler running, the dashboard serving."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.deploy.conftest import PG
from tests.deploy.processes import NUANLIU, Proc, free_port, wait_port, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]


CONNECTED = (
    "SELECT client_id FROM ingest_members WHERE broker_connected AND state = 'running' "
    "ORDER BY client_id"
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL (the DuckDB demo: tests/web/test_demo.py)."""
    schema = f"demo_{uuid.uuid4().hex[:10]}"
    yield f"{PG}?schema={schema}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_demo_on_postgresql(pg_url: str, broker: str, tmp_path: Path) -> None:
    db_url = pg_url
    base, _, schema = db_url.partition("?schema=")
    port = free_port()
    env = {**os.environ, "NUANLIU_MQTT_URL": broker}
    demo = Proc("demo", [*NUANLIU, "demo", "--db", db_url, "--data-dir", str(tmp_path / "d"),
                         "--households", "40", "--history-days", "0.05", "--port", str(port),
                         "--live-step-s", "5", "--ingest-workers", "2"], tmp_path, env)  # fmt: skip

    def q(sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(base, options=f"-c search_path={schema}") as conn:
            return conn.execute(sql).fetchall()

    try:
        demo.start()
        wait_port(port, demo, timeout_s=180)
        assert "2 MQTT ingest workers share group 'demo'" in demo.text()
        started = q("SELECT now()")[0][0]
        wait_until(
            "live readings stored by the workers",
            lambda: q(f"SELECT count(*) FROM readings WHERE received_at > '{started}'")[0][0] > 0,
            timeout_s=60,
        )
        members = q(
            "SELECT client_id, broker_connected FROM ingest_members WHERE state = 'running'"
        )
        wait_until(
            "both workers heartbeat as connected",
            lambda: q(CONNECTED) == [("nuanliu-ingest-demo-0",), ("nuanliu-ingest-demo-1",)],
            timeout_s=30,
        )
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz").json()
        assert ready["ready"] and len(ready["checks"]["ingest"]["items"]) == 2, ready
        assert ready["checks"]["scheduler"]["ok"]
        assert httpx.get(f"http://127.0.0.1:{port}/login").status_code == 200
        assert q("SELECT count(*) FROM households")[0][0] == 40
        assert len(members) == 2
    finally:
        if demo.alive():
            assert demo.proc is not None
            os.killpg(demo.proc.pid, signal.SIGINT)  # Ctrl-C: stops workers, then itself
            demo.proc.wait(timeout=60)
    assert "stopped;" in demo.text()
