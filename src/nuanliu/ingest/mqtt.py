"""MQTT ingest worker: at-least-once delivery made exactly-once by idempotent storage.

- MQTT 5, QoS 1, persistent session (``clean_start=False`` + session expiry) under a
  **stable client id** (``--client-id``, else ``nuanliu-ingest-<group>-<instance>``):
  the broker keeps queueing while this process is down and re-sends what was not acked;
- shared subscription ``$share/<group>/nuanliu/v1/readings/#``: several workers split
  one stream, each message goes to one of them;
- manual acknowledgement: a message is acked only after its rows (and its quarantine
  rows) are committed, so a crash at any point loses nothing — the broker re-sends the
  unacked messages and ``insert_readings`` drops the rows already stored;
- batching: messages are gathered into one store transaction until ``batch_messages``
  arrived, ``batch_ms`` passed, or the stream paused for ``idle_ms`` (the broker stops
  sending when its in-flight window is full of unacked messages, so waiting longer
  would only stall);
- leaving the group (``--drain``) and adopting a dead member's session both *drain* a
  session: unsubscribe, publish a barrier message to a topic only that session
  subscribes to, process everything up to the barrier (the broker sends one session's
  messages in order), then disconnect with session expiry 0 so the broker forgets it;
- membership (``ingest/membership.py``): heartbeats in the store; a live worker claims
  a member silent for ``orphan_timeout_s`` and drains its session with a second client.
"""

from __future__ import annotations

import logging
import queue
import re
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
from nuanliu.ingest.batch import Ingestor, merge_results
from nuanliu.ingest.deadletters import dead_letter_for, is_outage
from nuanliu.ingest.membership import DRAINING, RUNNING, Membership
from nuanliu.ingest.model import IngestReport, Rejection
from nuanliu.ingest.parse import Accumulator, loads
from nuanliu.ingest.validate import ValidationResult
from nuanliu.store import DeadLetter

log = logging.getLogger(__name__)

TOPIC_ROOT = "nuanliu/v1/readings"
DEFAULT_TOPIC = f"{TOPIC_ROOT}/#"
BARRIER_ROOT = "nuanliu/v1/control/drain"
DAY_S = 86_400
CAUGHT_UP_S = 1.0  # no message for this long after a busy spell: print a stats line


@dataclass
class MqttConfig:
    url: str = "mqtt://127.0.0.1:1883"
    topic: str = DEFAULT_TOPIC
    group: str = "ingest"  # shared-subscription group; "" subscribes without sharing
    client_id: str = ""  # empty: nuanliu-ingest-<group>-<instance> (never random)
    instance: int = 0
    batch_messages: int = 1000
    batch_ms: float = 200.0
    idle_ms: float = 5.0
    # Long enough to outlive a restart or an outage of the worker; dead members are
    # adopted long before it runs out (orphan_timeout_s).
    session_expiry_s: int = DAY_S
    receive_maximum: int = 1000  # unacked messages the broker may have in flight to us
    keepalive_s: int = 30
    stats_interval_s: float = 10.0
    heartbeat_s: float = 5.0
    orphan_timeout_s: float = 15.0  # a member silent this long is adopted
    drain_idle_s: float = 1.0  # after the barrier: nothing more for this long = drained
    drain: bool = False  # leave the group: drain our own session, end it, exit

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

    def identity(self) -> str:
        """The client id: configured, else derived from the group and instance number."""
        if self.orphan_timeout_s < 2 * self.heartbeat_s:
            # Else a live member whose heartbeat is a little late is adopted.
            raise ConfigError(
                f"--orphan-timeout-s {self.orphan_timeout_s} must be at least twice "
                f"--heartbeat-s {self.heartbeat_s} (3× or more recommended)",
                details={"orphan_timeout_s": self.orphan_timeout_s},
            )
        if self.client_id:
            return self.client_id
        if self.instance < 0:
            raise ConfigError(
                f"--instance {self.instance} must be ≥ 0", details={"instance": self.instance}
            )
        return f"nuanliu-ingest-{self.group or 'nogroup'}-{self.instance}"


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
    conn: _Session | None = None  # the session it arrived on (acks go there)


class _Session:
    """One broker session under one client id, on its own paho client.

    ``member`` sessions subscribe to the group and stay; ``drain`` sessions (our own
    with ``--drain``, or an adopted orphan's) unsubscribe, send themselves a barrier and
    are drained once everything before the barrier is committed and acknowledged.
    """

    def __init__(
        self,
        worker: MqttIngest,
        client_id: str,
        subscription: str,
        *,
        drain: bool,
        adopted: bool = False,
    ) -> None:
        self.worker = worker
        self.client_id = client_id
        self.subscription = subscription
        self.drain = drain
        self.adopted = adopted
        self.generation = 0
        self.received = 0  # messages handed to the worker (redeliveries count again)
        self.settled = 0  # of those, processed (and acked when still on their connection)
        self.last_message = time.monotonic()
        self.barrier = ""  # payload of the current connection's barrier
        self.barrier_seen = False
        self.lost = threading.Event()  # taken over, or refused: give up (adopted only)
        self.ended = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
            # An adopted session is never re-taken: if its owner came back, it wins.
            reconnect_on_failure=not adopted,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)

    @property
    def barrier_topic(self) -> str:
        return f"{BARRIER_ROOT}/{re.sub(r'[+#/]', '_', self.client_id)}"

    def start(self) -> None:
        host, port = self.worker.cfg.host_port()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.worker.cfg.session_expiry_s
        props.ReceiveMaximum = self.worker.cfg.receive_maximum
        self.client.connect_async(
            host, port, keepalive=self.worker.cfg.keepalive_s, clean_start=False, properties=props
        )
        self.client.loop_start()

    # paho callbacks (its network thread)

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self.worker._say(f"ingest mqtt: broker refused {self.client_id}: {reason}")
            if self.adopted:
                self.lost.set()
                client.disconnect()
            return
        self.generation += 1
        self.barrier_seen = False
        if not self.drain:
            client.subscribe(self.subscription, qos=1)
            return
        # Barrier first, then leave the group; the barrier is published on UNSUBACK, so
        # it is queued behind every message the group routed to this session.
        self.barrier = f"{self.generation}:{uuid.uuid4().hex}"
        client.subscribe(self.barrier_topic, qos=1)
        client.unsubscribe(self.subscription)
        present = "with" if flags.session_present else "without"
        self.worker._say(f"ingest mqtt: draining {self.client_id} (session {present} queued state)")

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        failed = [r for r in reasons if r.is_failure]
        if failed:
            self.worker._say(f"ingest mqtt: subscription refused for {self.client_id}: {failed[0]}")
            if self.adopted:
                self.lost.set()
            else:
                self.worker.fail(f"subscription refused: {failed[0]}")
            return
        if not self.drain:
            self.worker._say(f"ingest mqtt: subscribed to {self.subscription} as {self.client_id}")
            self.worker.subscribed.set()

    def _on_unsubscribe(self, client: mqtt.Client, _u: Any, _mid: int, _r: Any, _p: Any) -> None:
        client.publish(self.barrier_topic, self.barrier.encode(), qos=1)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        self.last_message = time.monotonic()
        if msg.topic == self.barrier_topic:
            client.ack(msg.mid, msg.qos)
            if msg.payload.decode(errors="replace") == self.barrier:
                self.barrier_seen = True
            return
        self.received += 1
        self.worker._inbox.put(
            _Msg(msg.topic, msg.payload, msg.mid, msg.qos, self.generation, self)
        )

    def _on_disconnect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self.ended or self.worker.stop.is_set():
            return
        if self.adopted:
            # Its owner came back (session taken over) or the broker went away: the
            # owner, or a later adoption, takes care of what is left.
            self.worker._say(f"ingest mqtt: gave up adopting {self.client_id} ({reason})")
            self.lost.set()
            return
        # Mosquitto 2.0 just closes the socket of a session taken over (no DISCONNECT
        # 0x8E), so the store says whether another process has our identity now.
        if not self.worker._may_reconnect():
            self.ended = True
            client.disconnect()  # no socket: only stops paho from reconnecting
            return
        self.worker._say(f"ingest mqtt: disconnected ({reason}); reconnecting")

    # called by the worker

    def ack(self, m: _Msg) -> None:
        if m.qos > 0 and m.generation == self.generation and not self.ended:
            self.client.ack(m.mid, m.qos)
        self.settled += 1

    def drained(self, idle_s: float) -> bool:
        """Everything before the barrier is committed and acknowledged, and quiet since."""
        return (
            self.drain
            and self.barrier_seen
            and self.settled >= self.received
            and time.monotonic() - self.last_message >= idle_s
        )

    def end(self, keep_session: bool) -> None:
        """Disconnect; unless ``keep_session``, with session expiry 0: the broker drops it."""
        self.ended = True
        if keep_session:
            self.client.disconnect()
        else:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
            self.client.disconnect(properties=props)
        self.client.loop_stop()


class MqttIngest:
    """One ingest worker. ``run()`` blocks until ``stop`` is set (SIGTERM in the CLI),
    or, with ``config.drain``, until its session is drained and ended."""

    def __init__(
        self,
        ingestor: Ingestor,
        config: MqttConfig,
        *,
        membership_store: Any | None = None,
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
        self.error: str | None = None
        self._inbox: queue.SimpleQueue[_Msg] = queue.SimpleQueue()
        self.session = _Session(self, config.identity(), config.subscription(), drain=config.drain)
        # Separate store connection: heartbeats must not wait behind a long batch.
        self.membership = (
            Membership(membership_store, config.group, self.client_id, config.subscription())
            if membership_store is not None
            else None
        )
        self._adoptions: dict[str, _Session] = {}
        self._adopt_lock = threading.Lock()

    @property
    def client_id(self) -> str:
        return self.session.client_id

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def fail(self, message: str) -> None:
        self.error = message
        self.stop.set()

    def _may_reconnect(self) -> bool:
        """After losing the connection: reconnect, unless another process took our
        identity (a second worker, or a ``--drain``, started with it — the newest wins).

        A peer that adopted us while we were silent too long has claimed our row but not
        taken it: we take the session back (paho reconnects; the adopter never does).
        """
        if self.membership is None:
            return True
        try:
            member = self.membership.get()
        except Exception:  # the store is away too: keep trying the broker
            return True
        if member is None:
            return True
        if not self.membership.owns_row(member) and member.adopted_by is None:
            self.fail(
                f"another process ({member.host}, pid {member.pid}) connected as "
                f"{self.client_id}; it has the session now (give each worker its own "
                "--instance; stop a worker before --drain)"
            )
            return False
        if member.adopted_by is not None:
            self._say(
                f"ingest mqtt: {member.adopted_by} was adopting {self.client_id}; taking it back"
            )
            self.membership.join(DRAINING if self.cfg.drain else RUNNING)
        return True

    # -------------------------------------------------------------- main loop

    def run(self) -> Stats:
        self.cfg.host_port()
        if self.membership is not None:
            # Before connecting: every session the group creates is in the table.
            self.membership.join(DRAINING if self.cfg.drain else RUNNING)
            threading.Thread(target=self._heartbeats, name="ingest-heartbeat", daemon=True).start()
            if self.cfg.drain and not self.membership.others_alive(self.cfg.orphan_timeout_s):
                self._say(
                    f"ingest mqtt: warning: {self.client_id} is the last live member of group "
                    f"{self.cfg.group!r}; once it has left, the broker keeps nothing for the "
                    "group until a worker joins (stop with SIGTERM instead to keep queueing)"
                )
        self.session.start()
        next_stats = time.monotonic() + self.cfg.stats_interval_s
        keep_session = True
        busy_since_line, last_batch = False, time.monotonic()
        try:
            while not self.stop.is_set():
                batch = self._gather()
                if batch:
                    self._process(batch)
                    busy_since_line, last_batch = True, time.monotonic()
                elif busy_since_line and time.monotonic() - last_batch >= CAUGHT_UP_S:
                    # The broker had nothing more for us for a while: say where we are.
                    self._say(f"{self.stats.line()} (caught up)")
                    busy_since_line = False
                if time.monotonic() >= next_stats:
                    self._say(self.stats.line())
                    next_stats = time.monotonic() + self.cfg.stats_interval_s
                self._finish_adoptions()
                if self.cfg.drain and self.session.drained(self.cfg.drain_idle_s):
                    keep_session = False
                    break
        finally:
            self.stop.set()
            with self._adopt_lock:
                adopted = list(self._adoptions.values())
                self._adoptions.clear()
            for s in adopted:  # unfinished: its row goes silent, a peer claims it later
                s.end(keep_session=True)
            # Unprocessed messages stay unacked: the broker re-sends them to the session.
            self.session.end(keep_session=keep_session)
            if not keep_session and self.membership is not None:
                self.membership.leave()
                self._say(f"ingest mqtt: {self.client_id} drained and left the group")
            self._say(self.stats.line())
        return self.stats

    def _heartbeats(self) -> None:
        assert self.membership is not None
        while not self.stop.wait(self.cfg.heartbeat_s):
            try:
                with self._adopt_lock:
                    adopting = list(self._adoptions)
                self.membership.heartbeat(adopting, connected=self.session.client.is_connected())
                if not self.cfg.drain:
                    self._adopt_orphans()
            except Exception as exc:  # the store may be briefly away; ingest reports that
                self._say(f"ingest mqtt: heartbeat failed: {exc}")

    def _adopt_orphans(self) -> None:
        assert self.membership is not None
        for member in self.membership.orphans(self.cfg.orphan_timeout_s):
            with self._adopt_lock:
                if member.client_id in self._adoptions or self.stop.is_set():
                    continue
            if not self.membership.claim(member.client_id, self.cfg.orphan_timeout_s):
                continue  # another live worker won
            silent_s = time.time() - member.last_seen.timestamp()
            self._say(
                f"ingest mqtt: adopting {member.client_id} "
                f"(last heartbeat {silent_s:.0f} s ago, host {member.host}, pid {member.pid})"
            )
            session = _Session(
                self, member.client_id, member.subscription, drain=True, adopted=True
            )
            with self._adopt_lock:
                if self.stop.is_set():  # stopping: the claim lapses, a peer takes it later
                    return
                self._adoptions[member.client_id] = session
                session.start()

    def _finish_adoptions(self) -> None:
        if not self._adoptions:
            return
        with self._adopt_lock:
            sessions = list(self._adoptions.values())
        for s in sessions:
            if s.lost.is_set():
                s.end(keep_session=True)
            elif s.drained(self.cfg.drain_idle_s):
                assert self.membership is not None
                if self.membership.still_adopting(s.client_id):
                    s.end(keep_session=False)
                    self.membership.leave(s.client_id)
                    self._say(
                        f"ingest mqtt: adopted {s.client_id}: {s.settled} messages drained, "
                        "session ended"
                    )
                else:  # its worker came back meanwhile: the session is its own again
                    s.end(keep_session=True)
                    self._say(f"ingest mqtt: {s.client_id} is back; adoption dropped")
            else:
                continue
            with self._adopt_lock:
                self._adoptions.pop(s.client_id, None)

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
        for m in batch:
            (m.conn or self.session).ack(m)
        self.stats.messages += len(batch)
        self.stats.batches += 1
        self.stats.report.add(report)
        if self.on_batch is not None:
            self.on_batch(report)


class _Part:
    """One message on its way: parsed, then checked, or a dead letter."""

    __slots__ = ("msg", "source", "acc", "result", "received", "letter", "transport")

    def __init__(self, msg: _Msg, transport: str = "mqtt") -> None:
        self.msg = msg
        self.transport = transport
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
            transport=self.transport,
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
    parts = [_Part(m, getattr(ingestor, "mqtt_transport", "mqtt")) for m in batch]
    for p in parts:
        try:
            p.acc = ingestor.parse_message(p.msg.payload, p.source)
        except Exception as exc:  # RecursionError on deep nesting, and anything else
            p.poison(exc)
    results, received = _check_halving(ingestor, [p for p in parts if p.acc is not None])
    result = merge_results(results, ingestor.schema)
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
        merged = type(parts[0].acc)()  # the ingestor's kind of accumulator
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
    return merge_results(results, ingestor.schema), received


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
