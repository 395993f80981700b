"""The deployment files are checked by the tools that will read them, so the guide in
docs/deploy.md cannot rot: systemd-analyze verify, nginx -t (TLS, self-signed),
logrotate, PostgreSQL (settings known to the server; roles: the application cannot
alter the schema), the env example refused while it holds placeholders, the Grafana
dashboard only plots metrics the app exports."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nuanliu.config import load_settings
from nuanliu.errors import ConfigError, StoreError
from tests.deploy.conftest import DEPLOY, PG, _tool, nginx_config

VENV = Path(sys.prefix)  # the venv: where uvicorn and nuanliu live


def units_for_this_machine(dest: Path) -> list[Path]:
    """The units with the install prefix /opt/nuanliu/venv pointed at this venv."""
    out = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text().replace("/opt/nuanliu/venv", str(VENV))
        (dest / unit.name).write_text(text)
        out.append(dest / unit.name)
    return out


def test_systemd_units_verify(tmp_path: Path) -> None:
    exe = _tool("systemd-analyze")
    units = units_for_this_machine(tmp_path)
    names = [u.name.replace("@.service", "@0.service") for u in units]
    done = subprocess.run(
        [exe, "verify", "--man=no", *(f"./{n}" for n in names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    ours = [line for line in done.stderr.splitlines() if "nuanliu" in line]
    assert done.returncode == 0 and not ours, done.stderr
    assert {"nuanliu-api.service", "nuanliu-ingest@.service", "nuanliu-scheduler.service"} <= {
        u.name for u in units
    }
    api = (tmp_path / "nuanliu-api.service").read_text()
    assert "--workers 4" in api and "--proxy-headers" in api


def test_nginx_site_with_tls(tmp_path: Path) -> None:
    exe = _tool("nginx")
    conf = nginx_config(tmp_path)
    done = subprocess.run(
        [exe, "-t", "-p", str(tmp_path), "-c", str(conf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr
    site = (tmp_path / "site.conf").read_text()
    assert "X-Forwarded-Proto $scheme" in site and "Strict-Transport-Security" in site
    assert re.search(r"location = /metrics \{[^}]*deny all;", site)


def test_logrotate_rotates_the_service_logs(tmp_path: Path) -> None:
    exe = _tool("logrotate")
    logs = tmp_path / "log"
    logs.mkdir()
    (logs / "api.log").write_text("a line\n" * 100)
    conf = (DEPLOY / "logrotate" / "nuanliu").read_text()
    conf = conf.replace("/var/log/nuanliu/", f"{logs}/").replace("su nuanliu nuanliu", "")
    (tmp_path / "nuanliu").write_text(conf)
    done = subprocess.run(
        [exe, "--force", "--state", str(tmp_path / "state"), str(tmp_path / "nuanliu")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (logs / "api.log.1").read_text().count("a line") == 100
    assert (logs / "api.log").read_text() == ""  # copytruncate: the service keeps its fd


def _pg_settings(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = (
            line.split("#", 1)[0].strip()
            if not line.strip().startswith("archive_command")
            else line
        )
        if "=" in line:
            name, value = (p.strip() for p in line.split("=", 1))
            out[name] = value.strip("'")
    return out


@pytest.mark.postgres
def test_postgresql_settings_are_known_to_the_server() -> None:
    import psycopg

    settings = _pg_settings(DEPLOY / "postgresql" / "nuanliu.conf")
    assert settings["wal_level"] == "replica" and settings["archive_mode"] == "on"
    with psycopg.connect(PG) as conn:
        rows = conn.execute(
            "SELECT lower(name), vartype, enumvals FROM pg_settings WHERE lower(name) = ANY(%s)",
            [[n.lower() for n in settings]],
        ).fetchall()
    known = {name: (kind, enumvals) for name, kind, enumvals in rows}
    assert {n.lower() for n in settings} - set(known) == set(), "unknown PostgreSQL settings"
    for name, value in settings.items():
        kind, enumvals = known[name.lower()]
        if kind == "enum":
            assert value in enumvals, (name, value)
        if kind == "bool":
            assert value in ("on", "off", "true", "false"), (name, value)


@pytest.mark.postgres
def test_application_role_cannot_alter_the_schema(pg_roles: dict[str, str]) -> None:
    import pyarrow as pa

    from nuanliu.store import READINGS_BATCH_SCHEMA, open_store

    # the app cannot create the schema's tables: migrations need the owner
    with pytest.raises(StoreError, match="permission denied"):
        open_store(pg_roles["app_url"]).close()
    with open_store(pg_roles["owner_url"]) as owner:
        assert owner.schema_version() > 0
    with open_store(pg_roles["app_url"], migrate="check") as app:
        with app.write() as w:
            w.append_arrow("sensors", pa.table({"sensor_id": ["S1"], "household_id": ["H1"]}))
        ts = pa.array([1_700_000_000_000_000], pa.timestamp("us", tz="UTC"))
        batch = pa.table({"sensor_id": ["S1"], "ts": ts, "temp_c": [19.5], "humidity_pct": [None]})
        assert app.insert_readings(batch.cast(READINGS_BATCH_SCHEMA)).inserted == 1
        for ddl in ("CREATE TABLE evil (x INT)", "DROP TABLE readings",
                    "ALTER TABLE readings ADD COLUMN evil INT", "TRUNCATE readings"):  # fmt: skip
            with (
                pytest.raises(StoreError, match="permission denied|must be owner"),
                app.write() as w,
            ):
                w.execute(ddl)
        with app.read() as q:
            assert q.scalar("SELECT count(*) FROM readings") == 1
            assert q.scalar("SELECT current_schema()") == "nuanliu"


def _env_file(path: Path) -> dict[str, str]:
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )


@pytest.mark.parametrize("name", ["nuanliu.env.example", "migrate.env.example"])
def test_env_example_is_refused_until_its_secrets_are_set(name: str) -> None:
    env = _env_file(DEPLOY / "env" / name)
    with pytest.raises(ConfigError):
        load_settings(env)
    real = {
        k: v.replace("change-me", "Zt8" + uuid.uuid4().hex + uuid.uuid4().hex)
        for k, v in env.items()
    }
    settings = load_settings(real)
    assert settings.env == "production"


def test_grafana_dashboard_plots_only_exported_metrics(tmp_path: Path) -> None:
    from nuanliu.api.app import create_app
    from nuanliu.store import open_store

    dash = json.loads((DEPLOY / "grafana" / "nuanliu-operations.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b(nuanliu_[a-z0-9_]+)", e)}
    with open_store(f"duckdb:///{tmp_path / 'm.duckdb'}") as store:
        app = create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=store)
        client = TestClient(app, client=("127.0.0.1", 40000))
        client.get("/healthz")
        text = client.get("/metrics").text
    families = set(re.findall(r"^# TYPE (\S+)", text, flags=re.M))
    for metric in used:
        base = re.sub(r"_(bucket|total)$", "", metric)
        assert base in families or metric in families, f"{metric} is not exported"
    assert len(dash["panels"]) >= 8


def test_mosquitto_limits_fit_the_ingest_defaults() -> None:
    from nuanliu.ingest.mqtt import MqttConfig

    conf = (DEPLOY / "mosquitto" / "nuanliu.conf").read_text()
    value = {m[0]: m[1] for m in re.findall(r"^(\w+) (\S+)", conf, flags=re.M)}
    assert int(value["max_inflight_messages"]) >= MqttConfig().batch_messages
    assert int(value["max_queued_messages"]) >= 100_000 and value["persistence"] == "true"
