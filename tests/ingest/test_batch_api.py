"""The batch API behind HTTP and the in-process MQTT worker."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pyarrow as pa
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from nuanliu.errors import InvalidInput
from nuanliu.ingest.batch import Ingestor, ingest_payload, ingest_rows
from nuanliu.ingest.mqtt import MqttConfig, MqttIngest
from nuanliu.store import Store

from .conftest import register_sensors

TS = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)


def test_counts_add_up_and_hooks_see_only_new_rows(store: Store) -> None:
    seen: list[pa.Table] = []
    store.add_readings_hook(lambda w, new: seen.append(new))
    rows = [
        {"sensor_id": "S0001", "ts": TS.isoformat(), "temp_c": 20.0},
        {"sensor_id": "S0001", "ts": TS.isoformat(), "temp_c": 20.0},  # repeated in batch
        {"sensor_id": "S0002", "ts": TS.isoformat(), "temp_c": 99.0},
    ]
    rep = ingest_rows(store, rows)
    assert (rep.received, rep.stored, rep.duplicates, rep.rejected) == (3, 1, 1, 1)
    assert rep.received == rep.stored + rep.duplicates + rep.rejected
    assert sum(t.num_rows for t in seen) == 1
    again = ingest_rows(store, rows[:1])
    assert (again.stored, again.duplicates) == (0, 1)
    assert sum(t.num_rows for t in seen) == 1  # nothing new, no hook rows


def test_csv_body_and_gateway_batch_body(store: Store) -> None:
    csv_body = f"sensor_id,ts,temp_c\nS0003,{TS.isoformat()},19.5\nS0004,{TS.isoformat()},x\n"
    rep = ingest_payload(store, csv_body.encode(), "text/csv")
    assert (rep.stored, rep.rejected) == (1, 1)
    assert rep.reasons == ["http:3: temp_c='x' is not a number"]
    ms = int(TS.timestamp() * 1000)
    gw = {"gateway_id": "gw-9", "sensor_id": ["S0005", "S0006"], "ts": [ms, ms], "temp_c": [1, 2]}
    rep = ingest_payload(store, json.dumps(gw).encode(), "application/json")
    assert (rep.stored, rep.rejected) == (2, 0)
    envelope = {
        "gateway": "gw-9",
        "readings": [
            {"sensor_id": "S0007", "ts": TS.isoformat(), "temp_c": 18.0},
            {"sensor_id": "S0008", "ts": TS.isoformat(), "temp_c": 61.0},
        ],
    }
    rep = ingest_payload(store, json.dumps(envelope).encode(), "application/json")
    assert (rep.stored, rep.rejected) == (1, 1)
    assert rep.reasons == ["http: temp_c=61 out of range −40…60 °C"]


def test_unsupported_content_type_is_an_error(store: Store) -> None:
    with pytest.raises(InvalidInput, match="unsupported content type 'application/xml'"):
        ingest_payload(store, b"<r/>", "application/xml")


def test_sensor_registered_after_start_is_accepted(store: Store) -> None:
    row = {"sensor_id": "NEW-1", "ts": TS.isoformat(), "temp_c": 20.0}
    assert ingest_rows(store, [row]).reasons == ["python: unknown sensor NEW-1"]
    register_sensors(store, ["NEW-1"])
    assert ingest_rows(store, [row]).stored == 1


@pytest.mark.mqtt
def test_mqtt_worker_stores_quarantines_and_acks(store: Store, mosquitto: str) -> None:
    run = uuid.uuid4().hex[:8]
    cfg = MqttConfig(
        url=mosquitto, topic=f"nuanliu/v1/readings/{run}/#", group=run, client_id=f"w-{run}"
    )
    worker = MqttIngest(Ingestor(store), cfg)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.subscribed.wait(10)
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        host, port = mosquitto.removeprefix("mqtt://").split(":")
        pub.connect(host, int(port))
        pub.loop_start()
        topic = f"nuanliu/v1/readings/{run}/gw1"
        one = {"sensor_id": "S0010", "ts": TS.isoformat(), "temp_c": 21.0}
        arr = [{"sensor_id": f"S00{i}", "ts": TS.isoformat(), "temp_c": 21.0} for i in (11, 12)]
        for payload in (json.dumps(one), json.dumps(arr), "{not json", json.dumps([one])):
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
        pub.disconnect()
        pub.loop_stop()
        deadline = time.monotonic() + 10
        while worker.stats.messages < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop.set()
        thread.join(10)
    r = worker.stats.report
    assert (worker.stats.messages, r.stored, r.duplicates, r.rejected) == (4, 3, 1, 1)
    with store.read() as q:
        source, reason = q.one("SELECT source, reason FROM quarantine", [])
    assert source == f"mqtt:{topic}"
    assert reason.startswith("malformed JSON payload")
    assert "ingest mqtt: 4 messages, 5 readings" in worker.stats.line()

    # Every message was acked after its commit: the resumed session has nothing pending.
    again = MqttIngest(Ingestor(store), cfg)
    thread = threading.Thread(target=again.run)
    thread.start()
    try:
        assert again.subscribed.wait(10)
        time.sleep(0.5)
    finally:
        again.stop.set()
        thread.join(10)
    assert again.stats.messages == 0
