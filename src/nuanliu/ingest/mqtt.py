"""MQTT ingest worker: at-least-once delivery made exactly-once by idempotent storage.

- MQTT 5, QoS 1, persistent session (``clean_start=False`` + session expiry) so that the
  broker keeps queueing while this process is down, and re-sends what was not acked;
- shared subscription ``$share/<group>/nuanliu/v1/readings/#``: several workers split
  one stream, each message goes to one of them;
- manual acknowledgement: a message is acked only after its rows (and its quarantine
  rows) are committed, so a crash at any point loses nothing — the broker re-sends the
  unacked messages and ``insert_readings`` drops the rows already stored;
- batching: messages are gathered into one store transaction until ``batch_messages``
  arrived, ``batch_ms`` passed, or the stream paused for ``idle_ms`` (the broker stops
  sending when its in-flight window is full of unacked messages, so waiting longer
  would only stall).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from nuanliu.errors import ConfigError
from nuanliu.ingest.batch import Ingestor, empty_result, merge_results
from nuanliu.ingest.deadletters import dead_letter_for, is_outage
from nuanliu.ingest.model import IngestReport, Rejection
from nuanliu.ingest.parse import Accumulator, loads
from nuanliu.ingest.validate import ValidationResult
from nuanliu.store import DeadLetter

log = logging.getLogger(__name__)

TOPIC_ROOT = "nuanliu/v1/readings"
DEFAULT_TOPIC = f"{TOPIC_ROOT}/#"


@dataclass
class MqttConfig:
    url: str = "mqtt://127.0.0.1:1883"
    topic: str = DEFAULT_TOPIC
    group: str = "ingest"  # shared-subscription group; "" subscribes without sharing
    client_id: str = ""  # stable id = persistent session; empty: ingest-<random>
    batch_messages: int = 1000
    batch_ms: float = 200.0
    idle_ms: float = 5.0
    session_expiry_s: int = 3600
    receive_maximum: int = 1000  # unacked messages the broker may have in flight to us
    keepalive_s: int = 30
    stats_interval_s: float = 10.0

    def host_port(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ConfigError(
                f"MQTT url {self.url!r} not understood; expected mqtt://host:port",
                details={"url": self.url},
            )
        return parts.hostname, parts.port or 1883

    def subscription(self) -> str:
        return f"$share/{self.group}/{self.topic}" if self.group else self.topic


@dataclass
class Stats:
    messages: int = 0
    batches: int = 0
    report: IngestReport = field(default_factory=IngestReport)
    started: float = field(default_factory=time.monotonic)

    _last: tuple[float, int] | None = None

    def line(self) -> str:
        now = time.monotonic()
        secs = max(now - self.started, 1e-9)
        r = self.report
        per_batch = self.messages / self.batches if self.batches else 0.0
        last_t, last_n = self._last or (self.started, 0)
        recent = (r.received - last_n) / max(now - last_t, 1e-9)
        self._last = (now, r.received)
        return (
            f"ingest mqtt: {self.messages} messages, {r.received} readings "
            f"(stored {r.stored}, duplicates {r.duplicates}, rejected {r.rejected}, "
            f"dead-lettered {r.dead_lettered}) in "
            f"{secs:.1f} s = {r.received / secs:,.0f} readings/s, "
            f"{self.messages / secs:,.0f} messages/s, {per_batch:.0f} messages/batch; "
            f"now {recent:,.0f} readings/s"
        )


@dataclass
class _Msg:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int  # connection it arrived on: acks go back on that connection only


class MqttIngest:
    """One ingest worker. ``run()`` blocks until ``stop`` is set (SIGTERM in the CLI)."""

    def __init__(
        self,
        ingestor: Ingestor,
        config: MqttConfig,
        *,
        out: TextIO | None = None,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.cfg = config
        self.out = out or sys.stderr
        self.on_batch = on_batch
        self.stats = Stats()
        self.stop = threading.Event()
        self.subscribed = threading.Event()
        self._inbox: queue.SimpleQueue[_Msg] = queue.SimpleQueue()
        self._generation = 0
        client_id = config.client_id or f"ingest-{uuid.uuid4().hex[:12]}"
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)

    # ---------------------------------------------------------- paho callbacks

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._say(f"ingest mqtt: broker refused the connection: {reason}")
            return
        self._generation += 1
        client.subscribe(self.cfg.subscription(), qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            self._say(f"ingest mqtt: subscription {self.cfg.subscription()} refused: {failed[0]}")
            self.stop.set()
            return
        self._say(f"ingest mqtt: subscribed to {self.cfg.subscription()} as {self.client_id}")
        self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self._inbox.put(_Msg(msg.topic, msg.payload, msg.mid, msg.qos, self._generation))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not self.stop.is_set():
            self._say(f"ingest mqtt: disconnected ({reason}); reconnecting")

    @property
    def client_id(self) -> str:
        cid = self.client._client_id
        return cid.decode() if isinstance(cid, bytes) else str(cid)

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -------------------------------------------------------------- main loop

    def run(self) -> Stats:
        host, port = self.cfg.host_port()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.cfg.session_expiry_s
        props.ReceiveMaximum = self.cfg.receive_maximum
        self.client.connect_async(
            host, port, keepalive=self.cfg.keepalive_s, clean_start=False, properties=props
        )
        self.client.loop_start()
        next_stats = time.monotonic() + self.cfg.stats_interval_s
        try:
            while not self.stop.is_set():
                batch = self._gather()
                if batch:
                    self._process(batch)
                if time.monotonic() >= next_stats:
                    self._say(self.stats.line())
                    next_stats = time.monotonic() + self.cfg.stats_interval_s
        finally:
            # Unprocessed messages stay unacked: the broker re-sends them to the session.
            self.client.disconnect()
            self.client.loop_stop()
            self._say(self.stats.line())
        return self.stats

    def _gather(self) -> list[_Msg]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self.cfg.batch_ms / 1000
        idle = self.cfg.idle_ms / 1000
        while len(batch) < self.cfg.batch_messages:
            try:
                batch.append(self._inbox.get_nowait())
                continue
            except queue.Empty:
                pass
            wait = min(idle, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                batch.append(self._inbox.get(timeout=wait))
            except queue.Empty:
                break
        return batch

    def _process(self, batch: list[_Msg]) -> None:
        """Store a batch of messages, then acknowledge them all.

        A message whose handling raises is poison for itself only: it becomes a dead
        letter (committed with the batch) and is acknowledged like the others. A store
        outage is not poison: nothing is acked, and the batch is retried with back-off
        until it commits (or the worker is stopped: the broker then re-sends it).
        """
        delay_s = 1.0
        while True:
            try:
                report = process_messages(self.ingestor, batch)
                break
            except Exception as exc:
                self._say(
                    f"ingest mqtt: store failed ({type(exc).__name__}: {exc}); "
                    f"{len(batch)} message(s) stay unacknowledged, retrying in {delay_s:.0f} s"
                )
                if self.stop.wait(delay_s):
                    return  # stopping: unacked messages are re-sent to the session
                delay_s = min(delay_s * 2, 30.0)
        # Committed: now the broker may forget these messages.
        generation = self._generation
        for m in batch:
            if m.qos > 0 and m.generation == generation:
                self.client.ack(m.mid, m.qos)
        self.stats.messages += len(batch)
        self.stats.batches += 1
        self.stats.report.add(report)
        if self.on_batch is not None:
            self.on_batch(report)


class _Part:
    """One message on its way: parsed, then checked, or a dead letter."""

    __slots__ = ("msg", "source", "acc", "result", "received", "letter")

    def __init__(self, msg: _Msg) -> None:
        self.msg = msg
        self.source = f"mqtt:{msg.topic}"
        self.acc: Accumulator | None = None
        self.result: ValidationResult | None = None
        self.received = 0
        self.letter: DeadLetter | None = None

    def poison(self, exc: BaseException) -> None:
        self.acc = self.result = None
        self.received = 0
        self.letter = dead_letter_for(
            exc,
            self.msg.payload,
            transport="mqtt",
            source=self.source,
            content_type="application/json",
        )


def parse_message(payload: bytes, source: str) -> Accumulator:
    """One MQTT payload as readings; JSON it cannot read becomes one quarantine row."""
    acc = Accumulator()
    try:
        value = loads(payload)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        acc.rejected.append(
            Rejection(source, f"malformed JSON payload: {exc}", _payload_text(payload))
        )
        return acc
    acc.add(value, source, None)
    return acc


def process_messages(ingestor: Ingestor, batch: list[_Msg]) -> IngestReport:
    """Parse, validate and commit a batch, isolating poison messages as dead letters.

    The clean path validates and commits all messages together (one vectorised pass,
    one transaction). Only when validation raises are the messages halved until the
    poison ones are found; if the store refuses the batch, they are committed one by
    one, so one bad message cannot hold back the rest. A ``StoreError`` while the store
    is down propagates instead.
    """
    store = ingestor.store
    parts = [_Part(m) for m in batch]
    for p in parts:
        try:
            p.acc = parse_message(p.msg.payload, p.source)
        except Exception as exc:  # RecursionError on deep nesting, and anything else
            p.poison(exc)
    results, received = _check_halving(ingestor, [p for p in parts if p.acc is not None])
    result = merge_results(results) if results else empty_result()
    letters = [p.letter for p in parts if p.letter is not None]
    try:
        return ingestor.commit(result, received, letters)
    except Exception as exc:
        if is_outage(exc, store):
            raise
    # The store refused the batch though it is up: some message holds what it cannot
    # take. Commit message by message; whichever is refused becomes a dead letter.
    unchecked = [p for p in parts if p.result is None and p.letter is None]
    if unchecked:
        _check_each(ingestor, unchecked)
    report = IngestReport()
    for p in parts:
        if p.letter is None and p.result is not None:
            try:
                report.add(ingestor.commit(p.result, p.received))
                continue
            except Exception as exc:
                if is_outage(exc, store):
                    raise
                p.poison(exc)
        if p.letter is not None:
            report.add(ingestor.dead_letter(p.letter))
    return report


def _check_halving(ingestor: Ingestor, parts: list[_Part]) -> tuple[list[ValidationResult], int]:
    """Validate the messages together; a group that raises is halved until the messages
    that raise are found (they become dead letters): ~2·log2(n) passes per poison
    message instead of n."""
    if not parts:
        return [], 0
    try:
        merged = Accumulator()
        for p in parts:
            _extend(merged, p.acc)  # type: ignore[arg-type]
        result, received = ingestor.validate(merged.build(), merged.rejected)
        return [result], received
    except Exception as exc:
        if is_outage(exc, ingestor.store):
            raise
        if len(parts) == 1:
            parts[0].poison(exc)
            return [], 0
    mid = len(parts) // 2
    left, n_left = _check_halving(ingestor, parts[:mid])
    right, n_right = _check_halving(ingestor, parts[mid:])
    return left + right, n_left + n_right


def _check_each(ingestor: Ingestor, parts: list[_Part]) -> tuple[ValidationResult, int]:
    """Validate each message alone; the ones that raise become dead letters."""
    results: list[ValidationResult] = []
    received = 0
    for p in parts:
        assert p.acc is not None
        try:
            p.result, p.received = ingestor.validate(p.acc.build(), p.acc.rejected)
        except Exception as exc:
            if is_outage(exc, ingestor.store):
                raise
            p.poison(exc)
            continue
        results.append(p.result)
        received += p.received
    return (merge_results(results) if results else empty_result()), received


def _extend(into: Accumulator, part: Accumulator) -> None:
    into.records.extend(part.records)
    into.sources.extend(part.sources)
    into.raws.extend(part.raws)
    into.batches.extend(part.batches)
    into.rejected.extend(part.rejected)


def _payload_text(payload: bytes) -> str:
    # surrogateescape keeps undecodable bytes recoverable: the quarantine stores such
    # text escaped (docs/store.md) and encode("utf-8", "surrogateescape") gives them back.
    text = payload.decode("utf-8", errors="surrogateescape")
    return text if len(text) <= 65536 else text[:65536] + "…[truncated]"
