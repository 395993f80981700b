"""Telemetry over MQTT (``nuanliu/v1/telemetry/<site_id>``) through the readings worker:
valid values stored, bad ones quarantined with a reason, malformed payloads kept,
duplicates dropped — and every message acknowledged only after its commit."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from nuanliu.ingest.mqtt import MqttConfig, MqttIngest
from nuanliu.store import Store
from nuanliu.telemetry.ingest import TelemetryIngestor
from nuanliu.telemetry.store import Site, save_sites
from tests.ingest.conftest import running_mosquitto

pytestmark = [pytest.mark.mqtt]


def test_mqtt_telemetry_quarantine_and_duplicates(store: Store, tmp_path: Path) -> None:
    save_sites(store, [Site("HH045", "station", "045站", "Station 045")])
    ts = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    scan = {"ts": ts, "primary_supply_temp_c": 95.0, "primary_return_temp_c": 47.5}
    payloads = [
        ("HH045", json.dumps(scan)),  # 2 stored
        ("HH045", json.dumps(scan)),  # 2 duplicates (a re-sent message)
        ("HH045", "{broken"),  # malformed JSON: 1 quarantined
        ("HH045", json.dumps({"ts": ts, "valve_opening_pct": 130})),  # implausible
        ("HH045", json.dumps({"site_id": "OTHER", "ts": ts, "outdoor_temp_c": -5})),
        ("GHOST", json.dumps({"ts": ts, "outdoor_temp_c": -5})),  # unknown site
    ]
    with running_mosquitto(tmp_path) as url:
        cfg = MqttConfig(url=url, topic="nuanliu/v1/telemetry/+", group="", client_id="tel-test")
        worker = MqttIngest(TelemetryIngestor(store), cfg)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        assert worker.subscribed.wait(10)
        host, port = url.removeprefix("mqtt://").split(":")
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="tel-pub")
        pub.connect(host, int(port))
        pub.loop_start()
        infos = [
            pub.publish(f"nuanliu/v1/telemetry/{site}", body, qos=1) for site, body in payloads
        ]
        for info in infos:
            info.wait_for_publish(10)
        deadline = time.monotonic() + 20
        while worker.stats.messages < len(payloads) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker.stop.set()
        thread.join(10)
        pub.loop_stop()
        pub.disconnect()
    rep = worker.stats.report
    assert worker.stats.messages == len(payloads)
    assert rep.balanced
    assert (rep.stored, rep.duplicates, rep.rejected) == (2, 2, 4)
    with store.read() as q:
        reasons = [r[0] for r in q.all("SELECT reason FROM quarantine")]
    joined = " | ".join(reasons)
    assert "malformed JSON" in joined
    assert "valve_opening_pct=130 out of range" in joined
    assert "differs from the topic's site" in joined
    assert "unknown site GHOST" in joined
