"""The production stack as real processes on loopback, set up as docs/deploy.md says:
PostgreSQL with the owner/app roles (migrations as the owner), Mosquitto from
deploy/mosquitto, the API under uvicorn with 2 workers behind nginx with TLS
(self-signed), 2 MQTT ingest workers in one shared-subscription group and 2 scheduler
instances. Readings go in through MQTT, pages come out through HTTPS, and every
scheduled job slot runs exactly once although two schedulers compete for it."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from tests.deploy.conftest import _tool, nginx_config
from tests.deploy.processes import NUANLIU, Proc, free_port, wait_port, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]

MESSAGES = 30
PER_MESSAGE = 40
BUILTIN_JOBS = ("alerts", "aggregates", "dead_letters", "db_backup")
DAILY_JOBS = ("aggregates", "dead_letters", "db_backup")


def _scalar(url: str, sql: str, params: list[object] | None = None) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]


def _all_sensors(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute("SELECT sensor_id FROM sensors").fetchall()]


def test_stack_on_loopback(pg_roles: dict[str, str], broker: str, tmp_path: Path) -> None:
    owner_url, app_url = pg_roles["owner_url"], pg_roles["app_url"]
    base_env = {
        **os.environ,
        "NUANLIU_ENV": "production",
        "NUANLIU_SECRET_KEY": secrets.token_urlsafe(48),
        "NUANLIU_DATA_DIR": str(tmp_path / "data"),
    }
    # 1. migrations as the schema owner (nuanliu-migrate.service)
    done = subprocess.run(
        [*NUANLIU, "db", "migrate"], env={**base_env, "NUANLIU_DB_URL": owner_url},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr

    # 2. a small city and its logins, written as the application's role
    from nuanliu.api.demo import create_demo_users
    from nuanliu.registry import build_demo_registry
    from nuanliu.store import open_store

    with open_store(app_url, migrate="check") as store:
        build_demo_registry(store, households=40)
        logins = {login.role: login for login in create_demo_users(store)}
        with store.read() as q:
            sensors = [r[0] for r in q.all("SELECT sensor_id FROM sensors ORDER BY 1 LIMIT 40")]

    # 3. the processes
    run = uuid.uuid4().hex[:8]
    topic_root = f"nuanliu/v1/readings/stack{run}"
    api_port, https_port, http_port = free_port(), free_port(), free_port()
    backups = tmp_path / "backups"
    env = {
        **base_env,
        "NUANLIU_DB_URL": app_url,
        "NUANLIU_MQTT_URL": broker,
        "NUANLIU_READY_REQUIRE": "store,ingest,scheduler",
        "NUANLIU_BACKUP_DIR": str(backups),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    conf = nginx_config(
        tmp_path, https_port=https_port, http_port=http_port, upstream=f"127.0.0.1:{api_port}"
    )
    api = Proc("api", [sys.executable, "-m", "uvicorn", "nuanliu.api.app:create_app",
                       "--factory", "--workers", "2", "--host", "127.0.0.1",
                       "--port", str(api_port), "--proxy-headers",
                       "--forwarded-allow-ips", "127.0.0.1"], logs, env)  # fmt: skip
    ingest = [
        Proc(
            f"ingest-{i}",
            [
                *NUANLIU,
                "ingest",
                "mqtt",
                "--group",
                f"stack{run}",
                "--instance",
                str(i),
                "--topic",
                f"{topic_root}/#",
                "--stats-interval-s",
                "1",
            ],
            logs,
            env,
        )  # fmt: skip
        for i in range(2)
    ]
    schedulers = [
        Proc(f"scheduler-{i}", [*NUANLIU, "scheduler", "run", "--poll-s", "0.5"], logs, env)
        for i in range(2)
    ]
    nginx = Proc("nginx", [_tool("nginx"), "-p", str(tmp_path), "-c", str(conf),
                           "-g", "daemon off;"], logs, env)  # fmt: skip
    procs = [api, *ingest, *schedulers, nginx]
    try:
        for p in procs:
            p.start()
        wait_port(api_port, api)
        wait_port(https_port, nginx)
        wait_until(
            "both ingest workers subscribed",
            lambda: all("subscribed to $share" in w.text() for w in ingest),
        )

        # 4. readings through MQTT, split between the two workers
        host, port = broker.removeprefix("mqtt://").split(":")
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{run}",
                          protocol=MQTTProtocolVersion.MQTTv5)  # fmt: skip
        pub.connect(host, int(port))
        pub.loop_start()
        start_ms = int((datetime.now(UTC) - timedelta(hours=2)).timestamp()) * 1000
        for m in range(MESSAGES):
            body = {
                "sensor_id": sensors[:PER_MESSAGE],
                "ts": [start_ms + m * 60_000] * PER_MESSAGE,
                "temp_c": [17.0 + (i % 8) / 2 for i in range(PER_MESSAGE)],
            }
            pub.publish(f"{topic_root}/gw{m % 3}", orjson.dumps(body), qos=1).wait_for_publish(10)
        pub.loop_stop()
        total = MESSAGES * PER_MESSAGE
        wait_until(
            f"{total} readings stored",
            lambda: _scalar(owner_url, "SELECT count(*) FROM readings") == total,
        )
        per_worker = []
        for w in ingest:
            wait_until(f"{w.name} stats", lambda w=w: "caught up" in w.text())
            counts = re.findall(r"ingest mqtt: (\d+) messages", w.text())
            per_worker.append(int(counts[-1]))
        assert sum(per_worker) == MESSAGES and min(per_worker) > 0, per_worker

        # 5. pages through nginx with TLS
        https = httpx.Client(base_url=f"https://127.0.0.1:{https_port}", verify=False)
        redirect = httpx.get(f"http://127.0.0.1:{http_port}/alerts")
        assert redirect.status_code == 301
        assert redirect.headers["location"].startswith("https://")
        health = https.get("/healthz")
        assert health.status_code == 200 and health.json()["engine"] == "postgresql"
        for name in ("content-security-policy", "x-content-type-options", "referrer-policy"):
            assert name in health.headers
        assert health.headers.get_list("strict-transport-security") == [
            "max-age=31536000; includeSubDomains"
        ]
        https.get("/login")
        login = logins["regulator"]
        r = https.post(
            "/auth/login",
            data={
                "username": login.username,
                "password": login.password,
                "next": "/",
                "csrf_token": https.cookies.get("nuanliu_login_csrf"),
            },
        )
        assert r.status_code == 303 and r.headers["location"] == "/", r.text
        page = https.get("/")
        assert page.status_code == 200 and "<html" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert https.get("/alerts").status_code == 200

        # 6. every job slot ran once: two schedulers, one run per (job, slot)
        def builtins_done() -> bool:
            with psycopg.connect(owner_url) as conn:
                rows = conn.execute(
                    "SELECT job_name, status FROM sched_runs WHERE job_name = ANY(%s)",
                    [list(BUILTIN_JOBS)],
                ).fetchall()
            return {j for j, _ in rows} == set(BUILTIN_JOBS) and all(
                s != "running" for _, s in rows
            )

        wait_until("the built-in jobs", builtins_done, timeout_s=120)
        with psycopg.connect(owner_url) as conn:
            runs = conn.execute(
                "SELECT job_name, slot_at, instance_id, status, error FROM sched_runs"
            ).fetchall()
            instances = conn.execute(
                "SELECT count(*) FROM sched_instances WHERE state = 'running'"
            ).fetchone()[0]
        assert instances == 2
        failed = [(j, e) for j, _, _, s, e in runs if j in BUILTIN_JOBS and s != "ok"]
        assert not failed, (failed, [p.text()[-3000:] for p in schedulers])
        for job in DAILY_JOBS:
            assert [r[0] for r in runs].count(job) == 1, job
        alert_slots = [r[1] for r in runs if r[0] == "alerts"]
        assert len(alert_slots) == len(set(alert_slots))
        # the backup job's side effect happened once, not once per scheduler
        made = sorted(p.name for p in backups.iterdir())
        assert len(made) == 1, made
        manifest = json.loads((backups / made[0] / "manifest.json").read_text())
        assert manifest["engine"] == "postgresql" and manifest["counts"]["sensors"] == len(
            _all_sensors(owner_url)
        )
        page = https.get("/scheduler")
        assert page.status_code == 200 and "db_backup" in page.text

        # 7. readiness sees both workers on the broker and the schedulers; metrics
        ready = https.get("/readyz")
        body = ready.json()
        assert ready.status_code == 200 and body["ready"], body
        members = body["checks"]["ingest"]["items"]
        assert len(members) == 2 and all(m["broker_connected"] for m in members)
        metrics = https.get("/metrics")
        assert metrics.status_code == 200
        lag = re.search(r"^nuanliu_ingest_lag_seconds (\S+)", metrics.text, flags=re.M)
        assert lag is not None and float(lag.group(1)) > 0
        assert 'nuanliu_ingest_member_broker_connected{client_id="nuanliu-ingest' in metrics.text
        print(
            f"\nstack: api 2 workers behind nginx TLS, ingest per worker {per_worker} "
            f"messages ({total} readings), scheduler runs "
            + ", ".join(f"{j}×{[r[0] for r in runs].count(j)}" for j in BUILTIN_JOBS)
            + f", backups made {len(made)}, ready={body['ready']}"
        )
    finally:
        codes = {p.name: p.stop() for p in reversed(procs)}
    for p in (*ingest, *schedulers):
        assert codes[p.name] == 0, f"{p.name} exited {codes[p.name]}:\n{p.text()[-2000:]}"
    time.sleep(0)
