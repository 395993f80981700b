"""Fixtures for the deployment tests: a private Mosquitto from deploy/mosquitto."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ingest.conftest import running_mosquitto

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
PG = "postgresql://127.0.0.1:5432/test"


def _tool(name: str) -> str:
    exe = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if exe is None:
        pytest.skip(f"{name} is not installed here")
    return exe


def self_signed(dest: Path) -> tuple[Path, Path]:
    cert, key = dest / "cert.pem", dest / "key.pem"
    subprocess.run(
        [_tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def nginx_config(dest: Path, *, https_port: int = 443, http_port: int = 80,
                 upstream: str = "127.0.0.1:8000") -> Path:  # fmt: skip
    """deploy/nginx/nuanliu.conf with a self-signed certificate, logs and ports under
    ``dest``, wrapped in a minimal nginx.conf; the path of that nginx.conf."""
    cert, key = self_signed(dest)
    site = (DEPLOY / "nginx" / "nuanliu.conf").read_text()
    site = site.replace("/etc/nuanliu/tls/fullchain.pem", str(cert))
    site = site.replace("/etc/nuanliu/tls/privkey.pem", str(key))
    site = site.replace("/var/log/nginx/", f"{dest}/")
    site = re.sub(r"listen (\[::\]:)?443 ", rf"listen \g<1>{https_port} ", site)
    site = re.sub(r"listen (\[::\]:)?80;", rf"listen \g<1>{http_port};", site)
    site = site.replace("server 127.0.0.1:8000;", f"server {upstream};")
    (dest / "site.conf").write_text(site)
    main = dest / "nginx.conf"
    main.write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # workers read the private tmp dirs
        + f"pid {dest}/nginx.pid;\nerror_log {dest}/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  include {dest}/site.conf;\n"
        f"  client_body_temp_path {dest}/body;\n  proxy_temp_path {dest}/proxy;\n}}\n"
    )
    return main


@pytest.fixture
def pg_roles() -> Iterator[dict[str, str]]:
    """A fresh database set up by deploy/postgresql/roles.sql; its owner and app URLs."""
    import psycopg

    tag = uuid.uuid4().hex[:8]
    names = {"db": f"nl_{tag}", "schema": "nuanliu", "owner": f"nl_owner_{tag}",
             "app": f"nl_app_{tag}"}  # fmt: skip
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{names["db"]}"')
    base = PG.rsplit("/", 1)[0]
    psql = _tool("psql")
    done = subprocess.run(
        [psql, "-v", "ON_ERROR_STOP=1", *(a for k, v in names.items() for a in ("-v", f"{k}={v}")),
         "-d", f"{base}/{names['db']}", "-f", str(DEPLOY / "postgresql" / "roles.sql")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    try:
        assert done.returncode == 0, done.stderr
        yield {
            **names,
            "owner_url": f"postgresql://{names['owner']}@127.0.0.1:5432/{names['db']}",
            "app_url": f"postgresql://{names['app']}@127.0.0.1:5432/{names['db']}",
        }
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{names["db"]}" WITH (FORCE)')
            for role in (names["app"], names["owner"]):
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A Mosquitto started from deploy/mosquitto/nuanliu.conf on a free loopback port."""
    work = tmp_path / "mosquitto"
    work.mkdir()
    with running_mosquitto(work) as url:
        yield url
