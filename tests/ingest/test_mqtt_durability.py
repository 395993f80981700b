"""Must show (issue 8): the README's own command line — ``nuanliu ingest mqtt --url ...
--db ...`` plus ``--instance N`` and ``--drain`` — loses and duplicates nothing when

(a) its worker is SIGKILLed and restarted 5 times during 150,000 readings;
(b) a second worker leaves the group cleanly with ``--drain`` mid-stream;
(c) one of two workers is SIGKILLed and never restarted (the other adopts its session);
(d, e) a presumed-dead worker comes back just after, or during, its adoption.

Each test starts its own Mosquitto from the documented config
(``mosquitto -c deploy/mosquitto/nuanliu.conf -p PORT``) so sessions of one scenario
never leak into another. DuckDB lets one process hold the file, so there the workers of
a group take turns (the next one starts when the previous one stopped or died) while
their sessions all stay in the group; on PostgreSQL they run side by side.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.membership import Membership
from nuanliu.ingest.mqtt import MqttConfig, MqttIngest
from nuanliu.store import open_store

from .conftest import SENSORS, register_sensors, running_mosquitto
from .test_mqtt_reliability import Worker, gateway_message, ingest_command, reading

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

PER_MESSAGE = 500  # readings per gateway batch
MESSAGES_PER_S = 40  # 20,000 readings/s offered


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    """A broker of the test's own, from the documented config: no session of one
    scenario can leak into the next."""
    with running_mosquitto(tmp_path) as url:
        yield url


class Stream:
    """Gateway batches published at QoS 1 at a steady pace, in a background thread."""

    def __init__(self, broker: str, n_messages: int, per_s: float = MESSAGES_PER_S) -> None:
        host, port = broker.removeprefix("mqtt://").split(":")
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="gw-test", protocol=MQTTProtocolVersion.MQTTv5
        )
        self.client.max_inflight_messages_set(200)
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.n_messages = n_messages
        self.per_s = per_s
        self.published = 0
        self.sent: list[mqtt.MQTTMessageInfo] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        start = time.monotonic()
        for m in range(self.n_messages):
            gateway = f"gw{m % 7}"
            payload = gateway_message(m * PER_MESSAGE, PER_MESSAGE, gateway)
            self.sent.append(self.client.publish(f"nuanliu/v1/readings/{gateway}", payload, qos=1))
            self.published = m + 1
            pause = start + (m + 1) / self.per_s - time.monotonic()
            if pause > 0:
                time.sleep(pause)

    def start(self) -> Stream:
        self.thread.start()
        return self

    @property
    def flowing(self) -> bool:
        return self.thread.is_alive()

    def wait_until(self, share: float) -> None:
        """Until ``share`` of the messages are published."""
        while self.published < share * self.n_messages and self.thread.is_alive():
            time.sleep(0.02)

    def finish(self) -> None:
        self.thread.join(timeout=120)
        for info in self.sent:
            info.wait_for_publish(timeout=30)
        assert all(info.is_published() for info in self.sent), "the broker did not take them"
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def readings(self) -> int:
        return self.n_messages * PER_MESSAGE


class Group:
    """The workers of one scenario, each the README command with its own instance number."""

    def __init__(self, broker: str, db_url: str, tmp_path: Path) -> None:
        self.broker, self.db_url, self.tmp = broker, db_url, tmp_path
        self.one_at_a_time = db_url.startswith("duckdb")  # one process holds the file
        self.workers: dict[int, Worker] = {}

    def worker(self, instance: int) -> Worker:
        if instance not in self.workers:
            options = ["--instance", str(instance)] if instance else []
            self.workers[instance] = Worker(
                ingest_command(self.broker, self.db_url, *options),
                self.tmp / f"worker{instance}.log",
            )
        return self.workers[instance]

    def running(self) -> list[Worker]:
        return [w for w in self.workers.values() if w.proc is not None and w.proc.poll() is None]

    def start(self, instance: int) -> Worker:
        if self.one_at_a_time:
            for other in self.running():
                stop(other)
        worker = self.worker(instance)
        worker.start()
        return worker

    def drain(self, instance: int) -> str:
        """``nuanliu ingest mqtt --instance N --drain`` to its end; its output."""
        options = ["--instance", str(instance)] if instance else []
        started = time.monotonic()
        done = subprocess.run(
            ingest_command(self.broker, self.db_url, *options, "--drain"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = f"{done.stderr}{done.stdout}(took {time.monotonic() - started:.1f} s)\n"
        (self.tmp / f"drain{instance}.log").write_text(out)
        assert done.returncode == 0, out
        return out

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()


def stop(worker: Worker) -> None:
    """SIGTERM: the current batch is committed and acked, the session stays."""
    assert worker.proc is not None
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=60) == 0, worker.log.read_text()


def log_since(worker: Worker, offset: int) -> str:
    return worker.log.read_text()[offset:] if worker.log.exists() else ""


def wait_for(worker: Worker, pattern: str, offset: int = 0, timeout_s: float = 60) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if re.search(pattern, log_since(worker, offset)):
            return True
        time.sleep(0.1)
    return False


def stored_rows(db_url: str) -> list[tuple[str, datetime, float]]:
    with open_store(db_url) as store, store.read() as q:
        return q.all("SELECT sensor_id, ts, temp_c FROM readings", [])


def members(db_url: str) -> dict[str, tuple[str, str | None]]:
    with open_store(db_url) as store, store.read() as q:
        rows = q.all("SELECT client_id, state, adopted_by FROM ingest_members", [])
    return {cid: (state, by) for cid, state, by in rows}


def wait_idle(worker: Worker, timeout_s: float = 60) -> None:
    """Until the worker's last line says it had nothing to do: ``(caught up)`` (printed a
    second after a busy spell) or a periodic line with ``now 0 readings/s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = log_since(worker, worker.offset).strip().splitlines()
        if lines and re.search(r"\(caught up\)$|now 0 readings/s$", lines[-1]):
            return
        time.sleep(0.1)


def settle(group: Group, stream: Stream, *, wait_pattern: str | None = None) -> None:
    """Let the live workers ingest everything the broker still holds, then stop them.

    PostgreSQL is polled until the count is reached (or a minute passed); on DuckDB the
    file can be read only once the workers stopped, so a short count restarts them once
    more (what is still queued at the broker is then delivered; what is lost is not).
    """
    for worker in group.running():
        if wait_pattern:
            assert wait_for(worker, wait_pattern, 0), worker.log.read_text()
        wait_idle(worker)
    if not group.one_at_a_time:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open_store(group.db_url) as store, store.read() as q:
                if q.scalar("SELECT count(*) FROM readings", []) >= stream.readings:
                    break
            time.sleep(0.5)
    live = group.running()
    for worker in live:
        stop(worker)
    if group.one_at_a_time and len(stored_rows(group.db_url)) < stream.readings:
        for worker in live:
            worker.start()
            time.sleep(2)
            wait_idle(worker, timeout_s=30)
            stop(worker)


def assert_exactly_once(db_url: str, n_readings: int) -> None:
    rows = stored_rows(db_url)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    got = {(s, (ts - epoch) // timedelta(milliseconds=1), t) for s, ts, t in rows}
    expected = {reading(i) for i in range(n_readings)}
    lost, unexpected = len(expected - got), len(got - expected)
    duplicated = len(rows) - len(got)
    assert (lost, duplicated, unexpected) == (0, 0, 0), (
        f"{lost} lost, {duplicated} duplicated, {unexpected} unexpected of {n_readings}"
    )


@pytest.fixture
def group(broker: str, db_url: str, tmp_path: Path) -> Iterator[Group]:
    with open_store(db_url) as store:
        register_sensors(store, SENSORS)
    g = Group(broker, db_url, tmp_path)
    try:
        yield g
    finally:
        g.close()


def test_a_five_sigkills_during_150k_readings(group: Group) -> None:
    worker = group.start(0)
    # 150,000 readings over ~25 s: each restart of the worker takes a few seconds.
    stream = Stream(group.broker, 300, per_s=12).start()
    rng = random.Random(8)
    kills_while_flowing = 0
    for k in range(5):
        stream.wait_until((k + 1) / 6.5)
        time.sleep(rng.uniform(0.3, 1.0))  # the worker is busy by now, some of it unacked
        kills_while_flowing += stream.flowing
        worker.kill()
        worker.start()
    stream.finish()
    assert kills_while_flowing == 5, "every kill must land while readings are arriving"
    settle(group, stream)
    assert_exactly_once(group.db_url, stream.readings)


def test_b_second_worker_drains_and_leaves_mid_stream(group: Group) -> None:
    stream = Stream(group.broker, 200, per_s=12)  # 100,000 readings over ~17 s
    if group.one_at_a_time:
        # DuckDB: instance 0 first, then instance 1; both sessions are in the group,
        # so each one's share is queued at the broker while the other one runs.
        group.start(0)
        stream.start().wait_until(0.25)
        group.start(1)
        stream.wait_until(0.5)
        stop(group.worker(1))
    else:
        group.start(0)
        group.start(1)
        stream.start().wait_until(0.5)
        stop(group.worker(1))  # SIGTERM keeps its session; --drain ends it
    assert stream.flowing
    out = group.drain(1)
    assert "nuanliu-ingest-ingest-1 drained and left the group" in out, out
    if group.one_at_a_time:
        group.start(0)
    stream.finish()
    settle(group, stream)
    assert_exactly_once(group.db_url, stream.readings)
    assert members(group.db_url)["nuanliu-ingest-ingest-1"] == ("left", None)
    assert "adopting" not in group.worker(0).log.read_text()  # the drain did it alone


def test_c_sigkilled_worker_never_restarted_is_adopted(group: Group) -> None:
    stream = Stream(group.broker, 200, per_s=12)  # 100,000 readings over ~17 s
    victim = "nuanliu-ingest-ingest-1"
    if group.one_at_a_time:
        # DuckDB: instance 1 dies holding the file; instance 0 starts in its place.
        group.start(1)
        stream.start().wait_until(0.3)
        group.worker(1).kill()
        group.start(0)
    else:
        group.start(0)
        group.start(1)
        stream.start().wait_until(0.3)
        group.worker(1).kill()
    assert stream.flowing
    stream.finish()
    settle(group, stream, wait_pattern=rf"adopted {victim}: \d+ messages drained")
    assert_exactly_once(group.db_url, stream.readings)
    assert members(group.db_url)[victim] == ("left", "nuanliu-ingest-ingest-0")


def test_d_a_presumed_dead_worker_that_comes_back_keeps_its_share(group: Group) -> None:
    """The killed worker is restarted right when its adoption begins: whichever of the
    two holds the session at any moment, nothing is lost or stored twice, and the
    returning worker stays a running member."""
    if group.one_at_a_time:
        pytest.skip("DuckDB: one process per file, the returning worker cannot join the adopter")
    victim = "nuanliu-ingest-ingest-1"
    stream = Stream(group.broker, 360, per_s=10)  # 180,000 readings over ~36 s
    group.start(0)
    group.start(1)
    stream.start().wait_until(0.1)
    group.worker(1).kill()
    assert wait_for(group.worker(0), rf"adopting {victim}", timeout_s=60)
    returned = group.start(1)
    assert stream.flowing, "the returning worker should take part in the stream"
    stream.finish()
    settle(group, stream)
    assert_exactly_once(group.db_url, stream.readings)
    assert members(group.db_url)[victim] == ("running", None)
    assert "subscribed to" in log_since(returned, returned.offset)


def test_f_drain_started_while_the_worker_still_runs(group: Group) -> None:
    """Operator error: ``--drain`` while the worker of that identity still runs. The
    broker gives the session to the drain, the worker exits 1 naming it instead of
    taking it back, and nothing is lost or stored twice."""
    if group.one_at_a_time:
        pytest.skip("DuckDB: the drain cannot open the file while the worker holds it")
    stream = Stream(group.broker, 200, per_s=12)
    group.start(0)
    group.start(1)
    stream.start().wait_until(0.3)
    out = group.drain(1)
    assert "nuanliu-ingest-ingest-1 drained and left the group" in out, out
    running = group.worker(1)
    assert running.proc is not None and running.proc.wait(timeout=30) == 1
    assert "error: another process" in running.log.read_text()
    assert stream.flowing
    stream.finish()
    settle(group, stream)
    assert_exactly_once(group.db_url, stream.readings)
    assert members(group.db_url)["nuanliu-ingest-ingest-1"] == ("left", None)


class _Lines:
    """A thread-safe ``out`` for in-process workers."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.lines.extend(t for t in text.splitlines() if t)
        return len(text)

    def flush(self) -> None:
        pass

    def has(self, pattern: str) -> bool:
        with self.lock:
            return any(re.search(pattern, line) for line in self.lines)


def test_e_owner_returning_mid_adoption_takes_its_session_back(db_url: str, broker: str) -> None:
    """In-process, to land the return inside the adoption: a dead member's session holds
    400 queued gateway batches; a live worker adopts it and, as soon as it starts, the
    owner comes back with the same client id. The broker gives the owner the session,
    the adopter gives up without ending it, and every reading is stored exactly once."""
    victim, n_messages = "nuanliu-ingest-ingest-1", 400
    store = open_store(db_url)
    register_sensors(store, SENSORS)
    fast: dict[str, float] = {"heartbeat_s": 0.2, "orphan_timeout_s": 1.0}
    fast |= {"batch_messages": 20, "receive_maximum": 20}  # a slow adoption
    try:
        # The victim's session: subscribed to the group, then gone without a trace but
        # its (now old) membership row.
        owner = MqttIngest(Ingestor(store), MqttConfig(url=broker, instance=1, **fast))
        thread = threading.Thread(target=owner.run)
        thread.start()
        assert owner.subscribed.wait(10)
        owner.stop.set()
        thread.join(10)
        Membership(store, "ingest", victim, MqttConfig().subscription()).join()
        with store.write() as w:
            w.execute(
                "UPDATE ingest_members SET last_seen = ?",
                [datetime.now(UTC) - timedelta(minutes=5)],
            )
        stream = Stream(broker, n_messages, per_s=10_000).start()
        stream.finish()  # all 400 queued in the victim's session

        out_a, out_b = _Lines(), _Lines()
        adopter = MqttIngest(
            Ingestor(store), MqttConfig(url=broker, instance=0, **fast),
            membership_store=store, out=out_a,
        )  # fmt: skip
        threads = [threading.Thread(target=adopter.run)]
        threads[0].start()
        deadline = time.monotonic() + 30
        while not out_a.has(rf"draining {victim}") and time.monotonic() < deadline:
            time.sleep(0.005)
        assert out_a.has(rf"adopting {victim}"), out_a.lines
        back = MqttIngest(
            Ingestor(store), MqttConfig(url=broker, instance=1, **fast),
            membership_store=store, out=out_b,
        )  # fmt: skip
        threads.append(threading.Thread(target=back.run))
        threads[1].start()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with store.read() as q:
                if q.scalar("SELECT count(*) FROM readings", []) >= stream.readings:
                    break
            time.sleep(0.2)
        time.sleep(1.5)  # anything still arriving would be a duplicate or an extra
        adopter.stop.set()
        back.stop.set()
        for t in threads:
            t.join(30)
        assert out_a.has(rf"gave up adopting {victim}"), out_a.lines
        assert not out_a.has(rf"adopted {victim}"), out_a.lines
        assert back.error is None and back.stats.messages > 0, out_b.lines
        with store.read() as q:
            state = q.one(
                "SELECT state, adopted_by FROM ingest_members WHERE client_id = ?", [victim]
            )
        assert state == ("running", None)
    finally:
        store.close()
    assert_exactly_once(db_url, stream.readings)
