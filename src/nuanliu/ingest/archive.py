"""Raw MQTT archive: every readings message kept as received, outside the database.

The archiver is its own MQTT client with a persistent session (QoS 1, manual acks, a
stable client id): the broker queues for it while it is down, and a message is acked
only after it is written and fsync'ed. Files are JSON lines, one per UTC hour,
``<dir>/<YYYY-MM-DD>/<HH>.jsonl``: ``{"at": archiver receipt (UTC), "topic", "payload":
base64}``. Keep the directory on another disk than the database.

It is what a restore replays: ``replay_archive`` runs the messages received since a
backup's recovery point through the same parse/validate/commit path as the MQTT
workers (idempotent inserts, so overlap with the backup costs nothing).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from nuanliu.ingest.model import IngestReport
from nuanliu.ingest.mqtt import DEFAULT_TOPIC, MqttConfig, _Msg, process_messages

WEEK_S = 7 * 86_400


@dataclass
class ArchiveConfig:
    url: str = "mqtt://127.0.0.1:1883"
    directory: Path = Path("archive")
    topic: str = DEFAULT_TOPIC
    client_id: str = "nuanliu-archive-0"
    session_expiry_s: int = WEEK_S
    flush_ms: float = 200.0  # write, fsync and ack at least this often
    keep_days: int = 14  # day folders older than this are deleted (0 = keep all)


def archive_file(directory: Path, at: datetime) -> Path:
    utc = at.astimezone(UTC)
    return Path(directory) / f"{utc:%Y-%m-%d}" / f"{utc:%H}.jsonl"


class MqttArchiver:
    """Append every message of ``config.topic`` to the archive; ``run()`` until ``stop``."""

    def __init__(self, config: ArchiveConfig, out: TextIO | None = None) -> None:
        self.cfg = config
        self.out = out or sys.stderr
        self.stop = threading.Event()
        self.subscribed = threading.Event()
        self.archived = 0
        self._inbox: queue.SimpleQueue[mqtt.MQTTMessage] = queue.SimpleQueue()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=config.client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, msg: self._inbox.put(msg)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._say(f"ingest archive: broker refused {self.cfg.client_id}: {reason}")
            return
        client.subscribe(self.cfg.topic, qos=1)

    def _on_subscribe(self, _c: Any, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        if not any(r.is_failure for r in reasons):
            self._say(f"ingest archive: subscribed to {self.cfg.topic} as {self.cfg.client_id}")
            self.subscribed.set()

    def run(self) -> int:
        host, port = MqttConfig(url=self.cfg.url).host_port()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.cfg.session_expiry_s
        self.client.connect_async(host, port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()
        try:
            while not self.stop.is_set():
                batch = self._gather()
                if batch:
                    self._write(batch)
                self._prune()
        finally:
            # Unwritten messages stay unacked: the broker re-sends them next time.
            self.client.disconnect()
            self.client.loop_stop()
            self._say(f"ingest archive: {self.archived} messages archived")
        return self.archived

    def _gather(self) -> list[mqtt.MQTTMessage]:
        deadline = time.monotonic() + self.cfg.flush_ms / 1000
        batch: list[mqtt.MQTTMessage] = []
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                batch.append(self._inbox.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[mqtt.MQTTMessage]) -> None:
        at = datetime.now(UTC)
        path = archive_file(self.cfg.directory, at)
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = at.isoformat()
        lines = "".join(
            json.dumps(
                {
                    "at": stamp,
                    "topic": m.topic,
                    "payload": base64.b64encode(m.payload).decode("ascii"),
                }
            )
            + "\n"
            for m in batch
        )
        with open(path, "a", encoding="ascii") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())
        for m in batch:  # only now: a crash before this re-delivers, never loses
            self.client.ack(m.mid, m.qos)
        self.archived += len(batch)

    def _prune(self) -> None:
        if self.cfg.keep_days <= 0:
            return
        cutoff = f"{datetime.now(UTC) - timedelta(days=self.cfg.keep_days):%Y-%m-%d}"
        for day in Path(self.cfg.directory).glob("????-??-??"):
            if day.name < cutoff:
                shutil.rmtree(day, ignore_errors=True)


@dataclass(frozen=True)
class ArchivedMessage:
    at: datetime
    topic: str
    payload: bytes


def read_archive(directory: Path, since: datetime) -> Iterator[ArchivedMessage]:
    """Archived messages received at or after ``since``, oldest first."""
    first = archive_file(directory, since)
    files = sorted(Path(directory).glob("????-??-??/??.jsonl"))
    for path in files:
        if (path.parent.name, path.name) < (first.parent.name, first.name):
            continue
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash mid-write (its message was not acked)
                at = datetime.fromisoformat(rec["at"])
                if at >= since:
                    yield ArchivedMessage(at, rec["topic"], base64.b64decode(rec["payload"]))


@dataclass
class ReplayReport:
    messages: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None
    ingest: IngestReport = field(default_factory=IngestReport)


def replay_archive(
    ingestor: Any, directory: Path, since: datetime, *, batch_messages: int = 500
) -> ReplayReport:
    """Ingest the archived messages received since ``since`` (a backup's recovery
    point minus a margin) exactly as the MQTT workers would."""
    report = ReplayReport()
    batch: list[_Msg] = []

    def flush() -> None:
        if batch:
            report.ingest.add(process_messages(ingestor, batch))
            batch.clear()

    for msg in read_archive(directory, since):
        report.messages += 1
        report.first_at = report.first_at or msg.at
        report.last_at = msg.at
        batch.append(_Msg(msg.topic, msg.payload, 0, 0, 0))
        if len(batch) >= batch_messages:
            flush()
    flush()
    return report
