"""MQTT meter-reading ingest: ``nuanliu/v1/meters/<gateway_id>``, QoS 1, at least once.

Messages are gathered into batches; a batch is stored in one transaction and only then
acknowledged (paho ``manual_ack``), so a crash before the commit redelivers and the
redelivery counts as duplicates. A message whose processing raises is dead-lettered with
its exact payload and acknowledged, so the stream goes on; a store outage acknowledges
nothing (the broker redelivers once the store is back). With ``group`` the subscription
is shared (``$share/<group>/…``) so several workers split the stream.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from nuanliu.ingest.deadletters import dead_letter_for, is_outage
from nuanliu.meters.ingest import Candidate, MeterIngestReport, ingest
from nuanliu.meters.messages import parse_payload
from nuanliu.store import Store

TOPIC = "nuanliu/v1/meters/+"


@dataclass
class MqttStats:
    messages: int = 0
    dead_letters: int = 0
    report: MeterIngestReport = field(default_factory=MeterIngestReport)


def process_batch(
    store: Store, batch: list[tuple[str, bytes]], *, now: datetime | None = None
) -> tuple[MeterIngestReport, int]:
    """Store one batch of (topic, payload); returns the report and dead letters written."""
    now = now or datetime.now(UTC)
    candidates: list[Candidate] = []
    for topic, payload in batch:
        candidates.extend(parse_payload(payload, f"mqtt:{topic}"))
    try:
        return ingest(store, candidates, now=now), 0
    except Exception as exc:
        if is_outage(exc, store):
            raise
    # The batch failed as a whole: store message by message, dead-letter the culprits.
    total = MeterIngestReport()
    letters = 0
    for topic, payload in batch:
        try:
            rep = ingest(store, parse_payload(payload, f"mqtt:{topic}"), now=now)
        except Exception as exc:
            if is_outage(exc, store):
                raise
            store.insert_dead_letters(
                [dead_letter_for(exc, payload, transport="mqtt", source=f"mqtt:{topic}")]
            )
            letters += 1
            continue
        for k in ("received", "stored", "duplicates", "quarantined", "flagged"):
            setattr(total, k, getattr(total, k) + getattr(rep, k))
    return total, letters


def run(
    store: Store,
    url: str = "mqtt://127.0.0.1:1883",
    *,
    topic: str = TOPIC,
    group: str | None = None,
    client_id: str = "nuanliu-meters",
    batch_size: int = 500,
    idle_exit_s: float | None = None,
    stop: threading.Event | None = None,
) -> MqttStats:
    """Subscribe and ingest until ``stop`` is set (or ``idle_exit_s`` without messages)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parsed = urlparse(url)
    inbox: queue.Queue[Any] = queue.Queue()
    subscribed = threading.Event()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, manual_ack=True
    )
    subscription = f"$share/{group}/{topic}" if group else topic
    client.on_connect = lambda c, *_: c.subscribe(subscription, qos=1)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, msg: inbox.put(msg)
    client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883)
    client.loop_start()
    stats = MqttStats()
    stop = stop or threading.Event()
    last = time.monotonic()
    try:
        subscribed.wait(10)
        while not stop.is_set():
            batch = []
            try:
                batch.append(inbox.get(timeout=0.2))
                while len(batch) < batch_size:
                    batch.append(inbox.get_nowait())
            except queue.Empty:
                pass
            if not batch:
                if idle_exit_s is not None and time.monotonic() - last > idle_exit_s:
                    break
                continue
            last = time.monotonic()
            rep, letters = process_batch(store, [(m.topic, bytes(m.payload)) for m in batch])
            for m in batch:
                client.ack(m.mid, m.qos)
            stats.messages += len(batch)
            stats.dead_letters += letters
            for k in ("received", "stored", "duplicates", "quarantined", "flagged"):
                setattr(stats.report, k, getattr(stats.report, k) + getattr(rep, k))
    finally:
        client.loop_stop()
        client.disconnect()
    return stats
