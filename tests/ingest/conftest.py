"""Fixtures for ingest tests: a store with registered sensors, and a private Mosquitto."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pytest

from nuanliu.store import Store, open_store

SENSORS = [f"S{i:04d}" for i in range(1000)]


def register_sensors(store: Store, ids: list[str]) -> None:
    tbl = pa.table(
        {"sensor_id": ids, "household_id": [f"H-{s}" for s in ids], "room": ["living"] * len(ids)}
    )
    with store.write() as w:
        w.append_arrow("sensors", tbl)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An empty store on each engine with sensors S0000…S0999 registered."""
    s = open_store(db_url)
    register_sensors(s, SENSORS)
    try:
        yield s
    finally:
        s.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


MOSQUITTO_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "nuanliu.conf"


@contextmanager
def running_mosquitto(workdir: Path) -> Iterator[str]:
    """Mosquitto from the documented config (``deploy/mosquitto/nuanliu.conf``: queue
    limits raised for gateway load) on a free loopback port; its URL."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        pytest.fail("mosquitto is not installed (apt-get install mosquitto)")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "-c", str(MOSQUITTO_CONF), "-p", str(port)],
        cwd=workdir,  # persistence writes mosquitto.db here
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"mosquitto -c {MOSQUITTO_CONF} did not start on port {port}: {err}")
            time.sleep(0.05)
    try:
        yield f"mqtt://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private broker for the module, its limits raised for the gateway load.

    The system broker keeps Mosquitto's defaults (1000 queued messages per offline client),
    which would drop readings while the ingest process is being killed; a broker of our
    own also keeps these tests independent of whoever else uses port 1883.
    """
    with running_mosquitto(tmp_path_factory.mktemp("mosquitto")) as url:
        yield url
