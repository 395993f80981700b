"""Must show: ≥ 100,000 readings published at QoS 1 while the MQTT ingest process is
SIGKILLed and restarted several times are afterwards stored exactly once.

The ingest process is a real subprocess (``nuanliu ingest mqtt ...``) against a
private Mosquitto (see conftest: the system broker's default 1000-message queue per
offline client would drop readings while the worker is down).
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nuanliu.store import open_store

from .conftest import SENSORS, register_sensors

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

# Enough per part (200 messages, 4 commits) that a kill right after the first commit
# lands mid-part however fast the worker ingests.
READINGS = 200_000
PER_MESSAGE = 250  # a gateway's batch
KILLS = 3
BASE_MS = int((datetime.now(UTC) - timedelta(days=3)).timestamp()) * 1000


def reading(i: int) -> tuple[str, int, float]:
    """The i-th reading of the run: a distinct (sensor, ts) with a value derived from i."""
    return SENSORS[i % len(SENSORS)], BASE_MS + (i // len(SENSORS)) * 60_000, 15 + (i % 97) / 10


def gateway_message(first: int, count: int, gateway: str) -> bytes:
    rows = [reading(i) for i in range(first, first + count)]
    return orjson.dumps(
        {
            "gateway_id": gateway,
            "sensor_id": [r[0] for r in rows],
            "ts": [r[1] for r in rows],
            "temp_c": [r[2] for r in rows],
        }
    )


def ingest_command(broker: str, db_url: str, *options: str) -> list[str]:
    """``nuanliu ingest mqtt --url BROKER --db DB [options]``, exactly what the console
    script runs."""
    return [
        sys.executable, "-c", "from nuanliu.cli import main; main()", "ingest", "mqtt",
        "--url", broker, "--db", db_url, *options,
    ]  # fmt: skip


class Worker:
    """One ``nuanliu ingest mqtt`` process; its output goes to a log file."""

    def __init__(self, cmd: list[str], log: Path) -> None:
        self.cmd = cmd
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.offset = 0

    def start(self) -> None:
        self.offset = offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while "subscribed to" not in self.log.read_text()[offset:]:
            assert self.proc.poll() is None, f"ingest exited early:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"ingest did not subscribe:\n{self.log.read_text()}"
            time.sleep(0.05)

    def last_stats(self) -> tuple[int, int]:
        """(messages, stored) from this process's last stats line."""
        text = self.log.read_text()[self.offset :]
        lines = re.findall(r"(\d+) messages, \d+ readings \(stored (\d+)", text)
        return (int(lines[-1][0]), int(lines[-1][1])) if lines else (0, 0)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        """Never leave a worker behind, whatever the test's outcome."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop_when_idle(self, idle_s: float = 1.5, timeout_s: float = 60) -> int:
        """SIGTERM once no message arrived for ``idle_s``; the exit code."""
        assert self.proc is not None
        last, since = None, time.monotonic()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            now = self.last_stats()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since > idle_s:
                break
            time.sleep(0.1)
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


@pytest.fixture
def workers() -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.close()


def test_kill_9_while_ingesting_loses_and_duplicates_nothing(
    db_url: str, mosquitto: str, tmp_path: Path, workers: list[Worker]
) -> None:
    store = open_store(db_url)
    register_sensors(store, SENSORS)
    store.close()  # DuckDB: one process at a time holds the file

    run = uuid.uuid4().hex[:8]
    group = f"rel{run}"
    options = ["--client-id", f"ingest-{run}", "--group", group]
    options += ["--topic", f"nuanliu/v1/readings/{group}/#", "--stats-interval-s", "0.1"]
    options += ["--batch-messages", "50"]
    worker = Worker(ingest_command(mosquitto, db_url, *options), tmp_path / "ingest.log")
    workers.append(worker)
    worker.start()

    host, port = mosquitto.removeprefix("mqtt://").split(":")
    pub = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"gw-{run}", protocol=MQTTProtocolVersion.MQTTv5
    )
    pub.max_inflight_messages_set(200)
    pub.connect(host, int(port))
    pub.loop_start()
    n_messages = READINGS // PER_MESSAGE
    chunk = n_messages // (KILLS + 1)
    sent: list[mqtt.MQTTMessageInfo] = []

    def publish(messages: range) -> None:
        for m in messages:
            topic = f"nuanliu/v1/readings/{group}/gw{m % 7}"
            payload = gateway_message(m * PER_MESSAGE, PER_MESSAGE, f"gw{m % 7}")
            sent.append(pub.publish(topic, payload, qos=1))
            if m % 10 == 9:
                time.sleep(0.02)  # gateways report over a while, not in one burst

    # The stream comes in KILLS + 1 parts; during each of the first KILLS parts the worker
    # is SIGKILLed once it has committed part of it (it commits 50 messages per
    # transaction, so the rest is unacked or still queued at the broker), then restarted.
    rng = random.Random(run)
    killed_mid_part = 0
    for part in range(KILLS + 1):
        end = n_messages if part == KILLS else (part + 1) * chunk
        publisher = threading.Thread(target=publish, args=(range(part * chunk, end),))
        publisher.start()
        if part < KILLS:
            deadline = time.monotonic() + 30
            while worker.last_stats()[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.02)  # let this process commit something before it dies
            time.sleep(rng.uniform(0.0, 0.03))
            killed_mid_part += worker.last_stats()[0] < chunk
            worker.kill()
            worker.start()
        publisher.join(timeout=60)
    # A gateway that did not see its PUBACK sends again: the same 10 messages twice.
    publish(range(10))
    for info in sent:
        info.wait_for_publish(timeout=30)
    pub.disconnect()
    pub.loop_stop()
    assert all(info.is_published() for info in sent)
    assert killed_mid_part >= 2, "the kills should land while a part is being ingested"

    assert worker.stop_when_idle() == 0  # SIGTERM is a clean exit
    assert "ingest mqtt:" in worker.log.read_text().splitlines()[-1]

    store = open_store(db_url)
    try:
        with store.read() as q:
            total, distinct = q.one(
                "SELECT count(*), count(DISTINCT (sensor_id, ts)) FROM readings", []
            )
            rows = q.all("SELECT sensor_id, ts, temp_c FROM readings", [])
            quarantined = q.scalar("SELECT count(*) FROM quarantine", [])
    finally:
        store.close()
    assert (total, distinct) == (READINGS, READINGS)
    expected = {reading(i) for i in range(READINGS)}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    got = {(s, (ts - epoch) // timedelta(milliseconds=1), t) for s, ts, t in rows}
    assert got == expected
    assert quarantined == 0
