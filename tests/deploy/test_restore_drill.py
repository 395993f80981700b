"""Restore drill, on both engines: run the platform (MQTT ingest worker + raw archive),
ingest, back up while ingest goes on, ingest more, destroy the database, restore the
backup, replay the archive since the recovery point — and nothing is lost."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nuanliu.ingest.archive import ArchiveConfig, MqttArchiver, replay_archive
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.mqtt import MqttConfig, MqttIngest
from nuanliu.monitor import open_monitored_store
from nuanliu.store.backup import backup_store, read_manifest, restore_backup
from tests.ingest.conftest import SENSORS, register_sensors

pytestmark = [pytest.mark.mqtt]

PER_MESSAGE = 100
BASE_MS = int((datetime.now(UTC) - timedelta(days=2)).timestamp()) * 1000


def message(m: int) -> bytes:
    """Message ``m``: PER_MESSAGE distinct readings (sensor, minute) derived from m."""
    idx = range(m * PER_MESSAGE, (m + 1) * PER_MESSAGE)
    return orjson.dumps(
        {
            "sensor_id": [SENSORS[i % len(SENSORS)] for i in idx],
            "ts": [BASE_MS + (i // len(SENSORS)) * 60_000 for i in idx],
            "temp_c": [18 + (i % 50) / 10 for i in idx],
        }
    )


def count(store: object) -> int:
    with store.read() as q:  # type: ignore[attr-defined]
        return int(q.scalar("SELECT count(*) FROM readings"))


def wait_for(store: object, n: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while count(store) < n:
        assert time.monotonic() < deadline, f"only {count(store)} of {n} readings stored"
        time.sleep(0.1)


def destroy(db_url: str) -> None:
    if db_url.startswith("duckdb:///"):
        path = Path(db_url.removeprefix("duckdb://"))
        path.unlink()
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
        return
    import psycopg

    base, _, schema = db_url.partition("?schema=")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        # docs/deploy.md: a new server gets its roles and empty schema from roles.sql
        # before the restore, which fills that schema.
        conn.execute(f'CREATE SCHEMA "{schema}"')


def test_restore_drill(db_url: str, broker: str, tmp_path: Path) -> None:
    run = uuid.uuid4().hex[:8]
    topic_root = f"nuanliu/v1/readings/drill{run}"
    store = open_monitored_store(db_url)
    register_sensors(store, SENSORS)
    worker = MqttIngest(
        Ingestor(store),
        MqttConfig(url=broker, topic=f"{topic_root}/#", group=f"drill{run}", batch_ms=50),
    )
    archive_dir = tmp_path / "archive"
    archiver = MqttArchiver(
        ArchiveConfig(url=broker, directory=archive_dir, topic=f"{topic_root}/#",
                      client_id=f"archive-{run}", flush_ms=50)
    )  # fmt: skip
    threads = [
        threading.Thread(target=worker.run, daemon=True),
        threading.Thread(target=archiver.run, daemon=True),
    ]
    for t in threads:
        t.start()
    assert worker.subscribed.wait(10) and archiver.subscribed.wait(10)

    host, port = broker.removeprefix("mqtt://").split(":")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{run}",
                      protocol=MQTTProtocolVersion.MQTTv5)  # fmt: skip
    pub.connect(host, int(port))
    pub.loop_start()

    def publish(messages: range, pause_s: float = 0.0) -> None:
        for m in messages:
            pub.publish(f"{topic_root}/gw{m % 3}", message(m), qos=1).wait_for_publish(10)
            time.sleep(pause_s)

    # 1. ingest 40 messages; 2. back up while 40 more stream in
    publish(range(40))
    wait_for(store, 40 * PER_MESSAGE)
    during = threading.Thread(target=publish, args=(range(40, 80), 0.01))
    during.start()
    backup_dir = tmp_path / "backup"
    info = backup_store(store, backup_dir)
    during.join()
    # 3. ingest more after the backup
    publish(range(80, 120))
    total = 120 * PER_MESSAGE
    wait_for(store, total)
    time.sleep(0.3)  # the archiver's last flush
    worker.stop.set()
    archiver.stop.set()
    for t in threads:
        t.join(10)
    pub.loop_stop()
    stored_before = count(store)
    store.close()
    assert stored_before == total

    assert read_manifest(backup_dir) == info
    in_backup = info.counts["readings"]
    assert 40 * PER_MESSAGE <= in_backup <= 80 * PER_MESSAGE  # a snapshot mid-stream

    # 4. the disk dies
    destroy(db_url)
    # 5. restore and replay the archive since the recovery point (with a margin)
    restored = restore_backup(backup_dir, db_url)
    assert restored.counts == info.counts
    with open_monitored_store(db_url) as back:
        assert count(back) == in_backup
        since = info.snapshot_at - timedelta(seconds=60)
        replay = replay_archive(Ingestor(back), archive_dir, since)
        recovered = count(back)
        with back.read() as q:
            sensors = q.scalar("SELECT count(*) FROM sensors")
            hourly = q.scalar("SELECT count(*) FROM mon_sensor_hourly")
    engine = "duckdb" if db_url.startswith("duckdb") else "postgresql"
    print(
        f"\nrestore drill [{engine}]: stored before loss {stored_before:,}; "
        f"recovery point {info.snapshot_at.isoformat()} holds {in_backup:,} readings; "
        f"replayed {replay.messages} archived messages since {since.isoformat()} "
        f"({replay.ingest.summary()}); recovered {recovered:,} of {stored_before:,} readings, "
        f"{sensors:,} sensors"
    )
    assert recovered == stored_before
    assert replay.ingest.balanced and replay.ingest.stored == stored_before - in_backup
    assert sensors == len(SENSORS) and hourly > 0
