"""Must show: no input stops ingestion. Each hostile input below goes, beside valid
readings, to a real ``nuanliu ingest mqtt`` worker process and to the HTTP endpoint on
both engines: the worker keeps running and stores the later valid messages, the valid
rows are stored, each bad input is stored correctly, quarantined or dead-lettered (one
of them, exactly once), HTTP never answers 5xx, and
``received == stored + duplicates + quarantined + dead_lettered`` holds.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nuanliu.ingest.batch import ingest_payload
from nuanliu.ingest.replay import replay_dead_letters
from nuanliu.store import Store, open_store
from nuanliu.store.dead_letters import unescape_text

from .conftest import SENSORS, register_sensors

POISON_SENSOR = "S0990"  # what tests/ingest/poison_inject.py makes validation raise on
# (never imported here: it patches the validator of the process that imports it)

BASE = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
BASE_MS = int(BASE.timestamp() * 1000)
MB50 = 50 * 1024 * 1024


@dataclass(frozen=True)
class Hostile:
    name: str
    payload: bytes
    sensor: str | None = None  # the registered sensor it names, if any
    may_store: bool = False  # a correct reading in an unusual form (stored at BASE if so)
    units: int = 1  # values it holds: each stored or quarantined (or all one dead letter)


def _reading(sensor: str, ts: object, temp: object = 20.5, **extra: object) -> bytes:
    return json.dumps({"sensor_id": sensor, "ts": ts, "temp_c": temp, **extra}).encode()


def hostile_inputs(big: bool = True) -> list[Hostile]:
    iso = BASE.isoformat()
    items = [
        Hostile("epoch_us", _reading("S0901", BASE_MS * 1000), "S0901", may_store=True),
        Hostile("epoch_ns", _reading("S0902", BASE_MS * 1_000_000), "S0902", may_store=True),
        Hostile("deep_array", b"[" * 3000 + b"]" * 3000),
        Hostile("deep_object", b'{"a":' * 3000 + b"1" + b"}" * 3000),
        Hostile("nul_in_sensor_id", _reading("S09\u000003", BASE_MS)),
        Hostile("nul_in_ts", _reading("S0904", iso + "\u0000"), "S0904"),
        Hostile("raw_nul_bytes", b'{"sensor_id": "S0905\x00", "ts": 1, "temp_c": 2}', "S0905"),
        Hostile("binary", bytes(range(256)) * 16 + b"\x00\xff\xfe\xc0\x80", None),
        Hostile("int_2_53_plus_1", _reading("S0906", 2**53 + 1), "S0906"),
        Hostile("ts_wraps", _reading("S0907", 2305844744903293952), "S0907"),
        Hostile("temp_2_64", _reading("S0912", BASE_MS, 2**64 + 1), "S0912"),
        Hostile("empty", b""),
        Hostile("invalid_utf8", b'{"sensor_id": "S0908\xff\xfe", "ts": 1, "temp_c": 2}', "S0908"),
        Hostile(
            "gb18030",
            f'{{"sensor_id": "S0909", "ts": "{iso}", "temp_c": 20.5, "room": "客厅"}}'.encode(
                "gb18030"
            ),
            "S0909",
            may_store=True,  # if the body's encoding is detected
        ),
        Hostile("lone_surrogate", b'{"sensor_id": "\\ud800", "ts": 1, "temp_c": 2}'),
        Hostile("array_of_junk", b'[1, "x", null, [[]], {"sensor_id": []}]', units=5),
    ]
    if big:
        pad = "x" * MB50
        items.append(Hostile("50MB", _reading("S0911", iso, pad=pad), "S0911", may_store=True))
    return items


def stored_at(store: Store, sensor: str) -> list[datetime]:
    with store.read() as q:
        return [r[0] for r in q.all("SELECT ts FROM readings WHERE sensor_id = ?", [sensor])]


def refusals(store: Store, source: str) -> tuple[list[str], list[str]]:
    """Quarantine reasons and dead-letter errors recorded for ``source``."""
    with store.read() as q:
        quarantined = q.all(
            "SELECT source, reason, escaped FROM quarantine WHERE source = ? OR source LIKE ?",
            [source, source + "#%"],
        )
        dead = q.all(
            "SELECT error_type, error_message FROM dead_letters WHERE source = ?", [source]
        )
    reasons = [unescape_text(r) if "reason" in (esc or "") else r for _, r, esc in quarantined]
    return reasons, [f"{t}: {m}" for t, m in dead]


def assert_accounted(store: Store, h: Hostile, source: str) -> None:
    """The hostile input is stored correctly, or refused once with a reason."""
    reasons, dead = refusals(store, source)
    stored = stored_at(store, h.sensor) if h.sensor else []
    assert all(ts == BASE for ts in stored), f"{h.name}: stored at a wrong time {stored}"
    if stored:
        assert h.may_store, f"{h.name} must not be stored"
    if dead:
        assert (len(dead), stored, reasons) == (1, [], []), (h.name, stored, reasons, dead)
    else:
        assert len(stored) + len(reasons) == h.units, (h.name, stored, reasons)
    assert all(r.strip() for r in reasons + dead), f"{h.name}: refused without a reason"


# ---------------------------------------------------------------------------- MQTT


class Worker:
    def __init__(self, broker: str, db_url: str, run: str, log: Path) -> None:
        self.cmd = [
            # The real CLI, with one injected validation bug (tests/ingest/poison_inject.py).
            sys.executable, "-c",
            "import tests.ingest.poison_inject; from nuanliu.cli import main; main()",
            "ingest", "mqtt",
            "--url", broker, "--db", db_url, "--client-id", f"poison-{run}", "--group", run,
            "--topic", f"nuanliu/v1/readings/{run}/#", "--stats-interval-s", "0.1",
            "--batch-messages", "50",
        ]  # fmt: skip
        self.log = log
        root = Path(__file__).resolve().parents[2]
        with log.open("ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_subscribed(self) -> None:
        deadline = time.monotonic() + 60
        while "subscribed to" not in self.text():
            assert self.proc.poll() is None, f"worker exited:\n{self.text()}"
            assert time.monotonic() < deadline, f"worker did not subscribe:\n{self.text()}"
            time.sleep(0.05)

    def messages(self) -> int:
        found = re.findall(r"(\d+) messages, ", self.text())
        return int(found[-1]) if found else 0

    def wait_messages(self, n: int, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while self.messages() < n:
            assert self.proc.poll() is None, f"worker died:\n{self.text()[-3000:]}"
            assert time.monotonic() < deadline, f"only {self.messages()} of {n}:\n{self.text()}"
            time.sleep(0.1)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def worker_box() -> Iterator[list[Worker]]:
    box: list[Worker] = []
    yield box
    for w in box:
        w.close()


def test_mqtt_worker_survives_every_hostile_message(
    db_url: str, mosquitto: str, tmp_path: Path, worker_box: list[Worker]
) -> None:
    with open_store(db_url) as store:
        register_sensors(store, SENSORS)
    run = f"poison{uuid.uuid4().hex[:8]}"
    worker = Worker(mosquitto, db_url, run, tmp_path / "worker.log")
    worker_box.append(worker)
    worker.wait_subscribed()

    host, port = mosquitto.removeprefix("mqtt://").split(":")
    pub = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"gw-{run}", protocol=MQTTProtocolVersion.MQTTv5
    )
    pub.connect(host, int(port))
    pub.loop_start()
    sent: list[mqtt.MQTTMessageInfo] = []
    valid: list[str] = []

    def send_valid(k: int) -> None:
        sensor = SENSORS[k]
        valid.append(sensor)
        sent.append(pub.publish(f"nuanliu/v1/readings/{run}/ok", _reading(sensor, BASE_MS), 1))

    injected = Hostile("injected_bug", _reading(POISON_SENSOR, BASE_MS), POISON_SENSOR)
    hostile = [*hostile_inputs(), injected]
    for i, h in enumerate(hostile):
        send_valid(2 * i)
        sent.append(pub.publish(f"nuanliu/v1/readings/{run}/{h.name}", h.payload, qos=1))
        send_valid(2 * i + 1)
    for info in sent:
        info.wait_for_publish(timeout=120)
    worker.wait_messages(len(sent))
    # Later valid messages are still taken: the worker kept running.
    for k in range(100, 110):
        send_valid(k)
    for info in sent:
        info.wait_for_publish(timeout=60)
    pub.loop_stop()
    pub.disconnect()
    worker.wait_messages(len(sent))
    assert worker.proc.poll() is None
    assert worker.stop() == 0, worker.text()[-3000:]

    with open_store(db_url) as store:
        for sensor in valid:
            assert stored_at(store, sensor) == [BASE], sensor
        for h in hostile:
            assert_accounted(store, h, f"mqtt:nuanliu/v1/readings/{run}/{h.name}")
        with store.read() as q:
            n_stored = q.scalar("SELECT count(*) FROM readings")
            n_quarantined = q.scalar("SELECT count(*) FROM quarantine")
            n_dead = q.scalar("SELECT count(*) FROM dead_letters")
            dead_names = {r[0].rsplit("/", 1)[1] for r in q.all("SELECT source FROM dead_letters")}
        # received (one per message here) == stored + quarantined + dead-lettered.
        assert n_stored + n_quarantined + n_dead == len(valid) + sum(
            1 if h.name in dead_names else h.units for h in hostile
        )
        # The message that makes validation raise is a dead letter, bytes exact; the
        # valid messages of its batch were stored all the same (checked above).
        letters = {d.source.rsplit("/", 1)[1]: d for d in store.list_dead_letters()}
        assert letters["injected_bug"].payload == injected.payload
        assert letters["injected_bug"].error_type == "OverflowError"
        for name, letter in letters.items():
            payload = next(h.payload for h in hostile if h.name == name)
            assert letter.payload == payload, name


# ---------------------------------------------------------------------------- HTTP


@pytest.fixture
def api(db_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Store, dict[str, str], str]]:
    from tests.api.conftest import make_world

    world, store = make_world(db_url, tmp_path)
    try:
        with world.client:
            yield world.client, store, world.auth("gateway_a"), world.ids["sensor_a"]
    finally:
        store.close()


def _check_response(r, name: str) -> dict:
    assert r.status_code < 500, (name, r.status_code, r.text[:500])
    body = r.json()
    if r.status_code == 200:
        report = body
    else:
        error = body["error"]
        assert set(error) == {"code", "message", "message_zh", "details"}, name
        assert error["message"], name
        report = error["details"] if isinstance(error["details"], dict) else None
    if report is not None and "received" in report:
        total = (
            report["stored"] + report["duplicates"] + report["rejected"] + report["dead_lettered"]
        )
        assert report["received"] == total, (name, report)
    return body


def test_http_never_answers_5xx_and_accounts_for_every_body(
    api: tuple[TestClient, Store, dict[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nuanliu.ingest import validate

    client, store, auth, sensor = api
    real = validate.Validator.validate

    def buggy(self, batch, unparsed=()):  # the bug of the day, on temperatures of 33.3
        col = batch.columns["temp_c"]
        if 33.3 in (col.to_pylist() if hasattr(col, "to_pylist") else col):
            raise OverflowError("injected bug")
        return real(self, batch, unparsed)

    monkeypatch.setattr(validate.Validator, "validate", buggy)
    minute = timedelta(minutes=1)

    def post_valid(k: int) -> None:
        ts = (BASE + k * minute).isoformat()
        r = client.post(
            "/api/v1/readings", json=[{"sensor_id": sensor, "ts": ts, "temp_c": 20.5}], headers=auth
        )
        assert r.status_code == 200 and r.json()["stored"] == 1, r.text

    csv_header = "sensor_id,ts,temp_c\n"
    csv_ok = f"{sensor},{BASE.isoformat()},20.5\n"
    bodies: list[tuple[str, bytes, str]] = [
        (h.name, h.payload, "application/json") for h in hostile_inputs(big=False)
    ]
    bodies += [
        (f"ndjson_{h.name}", csv_ok.encode()[:0] + h.payload + b"\n", "application/x-ndjson")
        for h in hostile_inputs(big=False)
    ]
    bodies += [
        ("csv_lone_cr", (csv_header + csv_ok + f"{sensor},x\r,1\n").encode(), "text/csv"),
        (
            "csv_stray_quote",
            (csv_header + f'{sensor},"{BASE.isoformat()},20\n').encode(),
            "text/csv",
        ),
        ("csv_nul", (csv_header + f"{sensor}\x00,{BASE.isoformat()},20\n").encode(), "text/csv"),
        ("csv_gb18030_header", "传感器,时间,温度\nA,B,1\n".encode("gb18030"), "text/csv"),
        ("csv_binary", csv_header.encode() + bytes(range(256)), "text/csv"),
        ("csv_empty", b"", "text/csv"),
        ("no_type", b"\x00\x01", ""),
    ]
    k = 0
    for name, payload, ctype in bodies:
        post_valid(k)
        k += 1
        headers = {**auth, "Content-Type": ctype} if ctype else dict(auth)
        _check_response(client.post("/api/v1/readings", content=payload, headers=headers), name)
    # A 50 MB body: over the limit it gets 413 with a clear message, in the one shape.
    big = _reading(sensor, BASE.isoformat(), pad="x" * MB50)
    r = client.post(
        "/api/v1/readings", content=big, headers={**auth, "Content-Type": "application/json"}
    )
    body = _check_response(r, "50MB")
    assert r.status_code == 413 and "limit" in body["error"]["message"]
    post_valid(k)  # still taking readings
    assert len(stored_at(store, sensor)) == k + 1
    # A body the code chokes on: 422 naming its dead letter, the bytes kept exactly.
    poison = json.dumps([{"sensor_id": sensor, "ts": BASE.isoformat(), "temp_c": 33.3}])
    r = client.post(
        "/api/v1/readings", content=poison, headers={**auth, "Content-Type": "application/json"}
    )
    error = _check_response(r, "injected")["error"]
    assert r.status_code == 422 and error["details"]["dead_lettered"] == 1
    [letter] = store.list_dead_letters(ids=error["details"]["dead_letter_ids"])
    assert letter.payload == poison.encode() and letter.error_type == "OverflowError"
    assert letter.transport == "http" and letter.source == "http:gateway_a"
    post_valid(k + 1)


def test_every_hostile_input_is_accounted_once_through_the_batch_api(store: Store) -> None:
    """The same inputs through ``ingest_payload`` (what HTTP runs), one source each."""
    for h in hostile_inputs():
        source = f"python:{h.name}"
        rep = ingest_payload(store, h.payload, "application/json", source, transport="python")
        assert rep.balanced, (h.name, rep)
        assert rep.received in (1, h.units), (h.name, rep)
        assert_accounted(store, h, source)


def test_replay_after_a_fix_stores_and_is_idempotent(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nuanliu.ingest import batch

    good = _reading("S0001", BASE_MS)
    real_check = batch.Ingestor.validate

    def broken(self, raw, rejected=()):  # the bug of the day: validation raises
        raise OverflowError("Python int too large to convert to C long")

    monkeypatch.setattr(batch.Ingestor, "validate", broken)
    rep = ingest_payload(store, good, "application/json", "http:gw", transport="http")
    assert (rep.received, rep.dead_lettered, rep.stored) == (1, 1, 0)
    failed = replay_dead_letters(store)  # not fixed yet: stays, with the new error
    assert [o.replayed for o in failed] == [False]
    letter = store.list_dead_letters()[0]
    assert letter.attempts == 2 and letter.error_type == "OverflowError"

    monkeypatch.setattr(batch.Ingestor, "validate", real_check)  # the fix
    outcomes = replay_dead_letters(store)
    assert [o.replayed for o in outcomes] == [True]
    assert outcomes[0].report is not None and outcomes[0].report.stored == 1
    assert stored_at(store, "S0001") == [BASE]
    letter = store.list_dead_letters()[0]
    assert letter.replayed_at is not None and letter.replay_result["stored"] == 1
    assert replay_dead_letters(store) == []  # idempotent: nothing pending
    assert stored_at(store, "S0001") == [BASE]


# ---------------------------------------------------------------------------- files


def test_a_file_run_never_dies_poison_rows_become_dead_letters(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows whose checking raises (here: an injected bug on sensor S0950) are found by
    halving the chunk; exactly they are dead-lettered, everything else is stored, and
    replay stores them once the bug is fixed."""
    from nuanliu.ingest import validate
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.files import ingest_file

    real = validate.Validator.validate

    def buggy(self, batch, unparsed=()):
        col = batch.columns["sensor_id"]
        ids = col.to_pylist() if hasattr(col, "to_pylist") else col
        if "S0950" in ids:
            raise OverflowError("injected: Python int too large to convert to C long")
        return real(self, batch, unparsed)

    monkeypatch.setattr(validate.Validator, "validate", buggy)
    rows = [f"{SENSORS[i]},{(BASE + timedelta(seconds=i)).isoformat()},20.5" for i in range(900)]
    for k in (17, 400, 401):
        rows[k] = f"S0950,{(BASE + timedelta(seconds=k)).isoformat()},21.5"
    rows.insert(500, "S0001,not a time,20")  # an ordinary bad row: quarantined
    path = tmp_path / "readings.csv"
    path.write_text("sensor_id,ts,temp_c\n" + "\n".join(rows) + "\n")

    rep = ingest_file(Ingestor(store), path)
    assert (rep.received, rep.stored, rep.rejected, rep.dead_lettered) == (901, 897, 1, 3)
    assert rep.balanced, rep.summary()
    letters = store.list_dead_letters(transport="file")
    assert [d.source for d in letters] == [
        "file:readings.csv:19",
        "file:readings.csv:402",
        "file:readings.csv:403",
    ]
    assert all(d.content_type == "text/csv" and b"S0950" in d.payload for d in letters)

    monkeypatch.setattr(validate.Validator, "validate", real)  # the fix
    outcomes = replay_dead_letters(store, transport="file")
    assert [o.replayed for o in outcomes] == [True, True, True]
    assert sorted(stored_at(store, "S0950")) == [
        BASE + timedelta(seconds=k) for k in (17, 400, 401)
    ]


def test_hostile_values_in_a_csv_file_are_accounted(store: Store, tmp_path: Path) -> None:
    """Epoch µs/ns and out-of-range integers in a CSV: whatever path each takes (stored
    correctly, quarantined, dead letter), the run ends and the counts add up."""
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.files import ingest_file

    odd = [BASE_MS * 1000, BASE_MS * 1_000_000, 2**53 + 1, 2305844744903293952]
    lines = [f"S0001,{BASE.isoformat()},20.5"]
    lines += [f"S09{20 + i},{v},20.5" for i, v in enumerate(odd)]
    lines += [f"S0002,{BASE.isoformat()},20.5"]
    path = tmp_path / "odd.csv"
    path.write_text("sensor_id,ts,temp_c\n" + "\n".join(lines) + "\n")
    rep = ingest_file(Ingestor(store), path)
    assert rep.received == len(lines) and rep.balanced, rep.summary()
    assert stored_at(store, "S0001") == stored_at(store, "S0002") == [BASE]
    for i in range(len(odd)):
        got = stored_at(store, f"S09{20 + i}")
        if i >= 2:  # 2^53+1 and the wrapping value have no right reading
            assert got == [], (odd[i], got)
        else:  # µs and ns: read in their unit, or refused
            assert got in ([], [BASE]), (odd[i], got)


def test_cli_lists_and_replays_dead_letters(db_url: str) -> None:
    from typer.testing import CliRunner

    from nuanliu.ingest.cli import app
    from nuanliu.store import DeadLetter

    with open_store(db_url) as store:
        register_sensors(store, SENSORS[:3])
        store.insert_dead_letters(
            [
                DeadLetter(
                    "mqtt",
                    "mqtt:nuanliu/v1/readings/gw1",
                    _reading("S0001", BASE_MS),  # fine now: the bug was fixed meanwhile
                    "OverflowError",
                    "date value out of range",
                    content_type="application/json",
                ),
                DeadLetter(  # one no code will take: it stays
                    "http", "http:gw", b"<r/>", "InvalidInput", "xml", content_type="text/xml"
                ),
            ]
        )
    runner = CliRunner(env={"COLUMNS": "240"})  # rich tables must not wrap the text
    listed = runner.invoke(app, ["dead-letters", "--db", db_url, "--pending"])
    assert listed.exit_code == 0, listed.output
    assert "2 dead letter(s), 2 pending" in listed.output and "OverflowError" in listed.output
    first = runner.invoke(app, ["replay", "--db", db_url, "--no-aggregates"])
    assert first.exit_code == 1, first.output  # the deep one still fails
    assert "replayed 1 of 2" in first.output and "still failing: InvalidInput" in first.output
    again = runner.invoke(app, ["replay", "--db", db_url, "--transport", "mqtt"])
    assert again.exit_code == 0 and "replayed 0 of 0" in again.output, again.output
    with open_store(db_url) as store:
        assert stored_at(store, "S0001") == [BASE]
        letters = store.list_dead_letters()
        assert [d.replayed_at is not None for d in letters] == [True, False]
        assert [d.attempts for d in letters] == [2, 2]  # the second run was mqtt only


def test_check_and_commit_apart_isolate_poison_too(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that validates the next chunk while the last one is written calls
    ``check`` and ``commit`` apart; poison rows are isolated all the same."""
    from nuanliu.ingest import validate
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.model import RawBatch, Rejection

    real = validate.Validator.validate

    def buggy(self, batch, unparsed=()):
        if POISON_SENSOR in batch.columns["sensor_id"]:
            raise OverflowError("injected")
        return real(self, batch, unparsed)

    monkeypatch.setattr(validate.Validator, "validate", buggy)
    ids = [SENSORS[i] for i in range(40)]
    ids[7] = POISON_SENSOR
    ts = [BASE_MS + i for i in range(40)]
    batch = RawBatch(
        {"sensor_id": ids, "ts": ts, "temp_c": [20.5] * 40, "humidity_pct": [None] * 40},
        lambda i: f"file:x.ndjson:{i + 1}",
        lambda i: f"row {i}",
    )
    unparsed = [Rejection("file:x.ndjson:41", "malformed JSON at line 41", "{")]
    ing = Ingestor(store)
    checked, received = ing.check(batch, unparsed)  # does not raise
    rep = ing.commit(checked, received)
    assert (rep.received, rep.stored, rep.rejected, rep.dead_lettered) == (41, 39, 1, 1)
    [letter] = store.list_dead_letters()
    assert letter.source == "file:x.ndjson:8" and letter.content_type == "application/x-ndjson"
    assert json.loads(letter.payload) == {
        "sensor_id": POISON_SENSOR,
        "ts": BASE_MS + 7,
        "temp_c": 20.5,
        "humidity_pct": None,
    }


def test_poison_messages_are_found_among_many_in_one_batch(store: Store) -> None:
    from nuanliu.ingest.batch import Ingestor
    from nuanliu.ingest.mqtt import _Msg, process_messages

    def msg(i: int, payload: bytes) -> _Msg:
        fields = {"topic": f"nuanliu/v1/readings/gw{i}", "payload": payload, "mid": i}
        fields |= {"qos": 1, "generation": 0, "conn": None}
        return _Msg(**{k: v for k, v in fields.items() if k in _Msg.__dataclass_fields__})

    poison = {3: b"[" * 3000 + b"]" * 3000, 77: b'{"sensor_id": "\\ud800"}', 150: b"\xff"}
    batch = [msg(i, poison.get(i, _reading(SENSORS[i], BASE_MS))) for i in range(200)]
    rep = process_messages(Ingestor(store), batch)
    assert rep.balanced and rep.received == 200, rep.summary()
    assert rep.stored == 197 and rep.rejected + rep.dead_lettered == 3
    for i in range(200):
        if i not in poison:
            assert stored_at(store, SENSORS[i]) == [BASE]
    by_topic = {d.source: d.payload for d in store.list_dead_letters()}
    for source, payload in by_topic.items():
        assert payload == poison[int(source.rsplit("gw", 1)[1])]
