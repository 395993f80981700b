"""Streaming simulated readings end to end: store, MQTT broker, HTTP API, files, runner, CLI."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nuanliu.registry import build_demo_registry
from nuanliu.sensors import FaultConfig, SensorSimulator, simulate_readings, synthetic_sensors
from nuanliu.sensors.registry import sensors_from_csv, sensors_from_store
from nuanliu.sensors.runner import SimulatorRunner
from nuanliu.sensors.sinks import (
    FileSink,
    HttpSink,
    MqttSink,
    SinkError,
    StoreSink,
    gateway_map,
)
from nuanliu.store import open_store

START = "2026-01-20T00:00:00+08:00"


def _count(store, sql: str, params: list | None = None) -> int:  # type: ignore[no-untyped-def]
    with store.read() as q:
        return int(q.one(sql, params or [])[0])


def test_stream_into_the_store_with_quarantine(db_url: str) -> None:
    store = open_store(db_url)
    try:
        build_demo_registry(store, households=40, seed=3)
        sensors = sensors_from_store(store)
        assert {"floor_area_m2", "year_built", "floors", "floor"} <= set(sensors.columns)
        ghost = pd.DataFrame(
            {"sensor_id": ["GHOST-1"], "household_id": ["H-none"], "building_id": ["B-none"]}
        )
        everyone = pd.concat([sensors, ghost], ignore_index=True)
        sink = StoreSink(store)
        stream = simulate_readings(everyone, START, "2026-01-20T06:00:00+08:00", seed=1)
        for tbl in stream:
            sink.send(tbl)
        steps = 36
        known = len(sensors)
        assert sink.report.rows == (known + 1) * steps
        assert sink.report.stored == known * steps
        assert sink.report.rejected == steps
        assert _count(store, "SELECT COUNT(*) FROM readings") == known * steps
        assert _count(store, "SELECT COUNT(*) FROM readings WHERE sensor_id = 'GHOST-1'") == 0
        with store.read() as q:
            rows = q.all("SELECT sensor_id, source, reason FROM quarantine", [])
        assert len(rows) == steps
        assert {r[0] for r in rows} == {"GHOST-1"}
        assert all("unknown" in r[2].lower() or "not registered" in r[2].lower() for r in rows)
        # Sending the same readings again is idempotent: duplicates, nothing new stored.
        again = simulate_readings(sensors, START, "2026-01-20T01:00:00+08:00", seed=1)
        for tbl in again:
            sink.send(tbl)
        assert sink.report.duplicates == known * 6
        assert _count(store, "SELECT COUNT(*) FROM readings") == known * steps
    finally:
        store.close()


@pytest.mark.mqtt
def test_publish_gateway_batches_to_mosquitto(tmp_path: Path) -> None:
    import paho.mqtt.client as mqtt

    from nuanliu.ingest.batch import ingest_payload

    store = open_store(f"duckdb:///{tmp_path / 'mq.duckdb'}")
    build_demo_registry(store, households=90, seed=4)
    sensors = sensors_from_store(store)
    root = f"nuanliu-test/{uuid.uuid4().hex[:8]}"
    received: list[tuple[str, dict]] = []
    subscribed = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_connect = lambda c, *a: c.subscribe(f"{root}/#", qos=1)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, m: received.append((m.topic, json.loads(m.payload)))
    sub.connect("127.0.0.1", 1883)
    sub.loop_start()
    try:
        assert subscribed.wait(10)
        sink = MqttSink("mqtt://127.0.0.1:1883", gateway_map(sensors), topic_root=root)
        stream = simulate_readings(sensors, START, "2026-01-20T00:30:00+08:00", seed=2)
        sent = pa.concat_tables(list(stream))
        sink.send(sent)
        sink.close()
        deadline = time.monotonic() + 10
        while sum(len(b["sensor_id"]) for _, b in received) < sent.num_rows:
            assert time.monotonic() < deadline, "not all readings arrived"
            time.sleep(0.05)
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert sink.report.messages == len(received) == sensors["building_id"].nunique() > 1
    rows = []
    for topic, body in received:
        gw = topic.rsplit("/", 1)[1]
        assert body["gateway_id"] == gw
        for sid, ts, t, h in zip(
            body["sensor_id"], body["ts"], body["temp_c"], body["humidity_pct"], strict=True
        ):
            rows.append((gw, sid, pd.Timestamp(ts), t, h))
    got = pd.DataFrame(rows, columns=["gw", "sensor_id", "ts", "temp_c", "humidity_pct"])
    # every reading arrived once, under its building's gateway, with its values
    exp = sent.to_pandas()
    merged = exp.merge(got, on=["sensor_id", "ts"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == len(exp)
    assert (merged["temp_c_x"] == merged["temp_c_y"]).all()
    building = dict(zip(sensors["sensor_id"], sensors["building_id"], strict=True))
    assert (merged["gw"] == "gw-" + merged["sensor_id"].map(building)).all()
    # The platform's ingest accepts the gateway batches as they arrived on the broker.
    for topic, body in received:
        rep = ingest_payload(store, json.dumps(body).encode(), "application/json", f"mqtt:{topic}")
        assert rep.rejected == 0
    assert _count(store, "SELECT COUNT(*) FROM readings") == sent.num_rows
    store.close()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_files_round_trip_and_ingest(tmp_path: Path, suffix: str) -> None:
    from nuanliu.ingest.batch import ingestor_for
    from nuanliu.ingest.files import ingest_file

    store = open_store(f"duckdb:///{tmp_path / 'f.duckdb'}")
    build_demo_registry(store, households=25, seed=5)
    sensors = sensors_from_store(store)
    out = tmp_path / f"readings{suffix}"
    sink = FileSink(out)
    stream = simulate_readings(sensors, START, "2026-01-20T02:00:00+08:00", seed=3, chunk_rows=100)
    expected = []
    for tbl in stream:
        sink.send(tbl)
        expected.append(tbl)
    sink.close()
    exp = pa.concat_tables(expected).to_pandas()
    if suffix == ".parquet":
        back = pq.read_table(out).to_pandas()
    elif suffix == ".csv":
        back = pd.read_csv(out)
    else:
        back = pd.read_json(out, lines=True, convert_dates=False)
    assert len(back) == len(exp) == sink.report.rows
    assert list(back["sensor_id"]) == list(exp["sensor_id"])
    assert (pd.to_datetime(back["ts"], utc=True) == exp["ts"]).all()
    assert (back["temp_c"].to_numpy() == exp["temp_c"].to_numpy()).all()
    # and the platform's own file ingest accepts what we wrote
    report = ingest_file(ingestor_for(store), out)
    assert report.stored == len(exp) and report.rejected == 0
    store.close()


def test_runner_backfills_then_follows_the_clock(tmp_path: Path) -> None:
    sensors = synthetic_sensors(50, seed=6)
    now = [datetime(2026, 1, 20, 3, 5, tzinfo=UTC).timestamp()]
    sink = FileSink(tmp_path / "live.parquet")
    runner = SimulatorRunner.live(
        sensors,
        sink,
        history=timedelta(hours=2),
        now=datetime.fromtimestamp(now[0], UTC),
        faults=FaultConfig(offline_sensors=["S0000007"]),
        clock=lambda: now[0],
        tick_s=1.0,
    )
    back = runner.backfill()
    # 01:10 … 03:00 UTC: twelve 10-minute instants up to now, never in the future
    assert back.steps == 12
    assert back.ts_to == datetime(2026, 1, 20, 3, 0, tzinfo=UTC)
    assert runner.tick().steps == 0  # nothing new yet
    now[0] += 25 * 60
    t = runner.tick()
    assert (t.steps, t.ts_to) == (3, datetime(2026, 1, 20, 3, 30, tzinfo=UTC))
    sink.close()
    r = pq.read_table(tmp_path / "live.parquet").to_pandas()
    assert r["ts"].max() <= pd.Timestamp(now[0], unit="s", tz="UTC")
    truth = runner.sim.truth()
    off = truth[truth["kind"] == "offline"].iloc[0]
    assert r.loc[r["sensor_id"] == "S0000007", "ts"].max() < off["start"]
    assert r.groupby("ts").size().max() == 50


def test_runner_accelerated_and_threaded(tmp_path: Path) -> None:
    sensors = synthetic_sensors(20, seed=7)
    sim = SensorSimulator(sensors, "2026-01-20T00:00:00+08:00")
    sink = FileSink(tmp_path / "fast.csv")
    runner = SimulatorRunner(sim, sink, tick_s=0.05, acceleration=3600.0, cap_at_now=False)
    th = runner.start_thread(duration_s=0.5)
    th.join(10)
    assert not th.is_alive()
    r = pd.read_csv(tmp_path / "fast.csv")
    # half a second at 3600× is half an hour of readings or more (ticks take time too)
    assert r["ts"].nunique() >= 3
    assert set(r["sensor_id"]) == set(sensors["sensor_id"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_post_to_the_running_api(tmp_path: Path) -> None:
    import uvicorn

    from nuanliu.api.accounts import create_user
    from nuanliu.api.app import create_app
    from nuanliu.api.sessions import create_token
    from nuanliu.config import load_settings

    store = open_store(f"duckdb:///{tmp_path / 'api.duckdb'}")
    build_demo_registry(store, households=30, seed=8)
    with store.read() as q:
        ent = q.all("SELECT enterprise_id FROM enterprises ORDER BY enterprise_id", [])[0][0]
        mine = {
            r[0]
            for r in q.all(
                "SELECT s.sensor_id FROM sensors s JOIN household_context hc"
                " ON hc.household_id = s.household_id WHERE hc.enterprise_id = ?",
                [ent],
            )
        }
    sensors = sensors_from_store(store)
    sensors = sensors[sensors["sensor_id"].isin(mine)].reset_index(drop=True)
    user = create_user(
        store, username="gw-test", password="x" * 12, role="gateway", scope_ids=[ent]
    )
    token = create_token(store, user).token
    app = create_app(load_settings({"NUANLIU_DATA_DIR": str(tmp_path)}), store=store)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        sink = HttpSink(
            f"http://127.0.0.1:{port}/api/v1/readings",
            gateway_map(sensors),
            token=token,
            max_rows=len(sensors) * 2,
        )
        for tbl in simulate_readings(sensors, START, "2026-01-20T01:00:00+08:00", seed=4):
            sink.send(tbl)
        sink.close()
        intruder = HttpSink(
            f"http://127.0.0.1:{port}/api/v1/readings", gateway_map(sensors), token="bogus"
        )
        with pytest.raises(SinkError, match="401"):
            intruder.send(tbl)
        intruder.close()
    finally:
        server.should_exit = True
        th.join(10)
    n = len(sensors) * 6
    assert sink.report.rows == n and sink.report.stored == n and sink.report.messages == 3
    assert _count(store, "SELECT COUNT(*) FROM readings") == n
    store.close()


def test_cli_simulates_from_a_registry_csv(tmp_path: Path) -> None:
    from nuanliu.cli import app

    reg = tmp_path / "sensors.csv"
    synthetic_sensors(60, seed=9).to_csv(reg, index=False)
    assert len(sensors_from_csv(reg)) == 60
    out, truth = tmp_path / "out.csv", tmp_path / "truth.csv"
    result = CliRunner().invoke(
        app,
        [
            "sensors",
            "simulate",
            "--sensors",
            str(reg),
            "--out",
            str(out),
            "--start",
            "2026-01-20T00:00",
            "--days",
            "0.5",
            "--step-min",
            "30",
            "--offline-fraction",
            "0.1",
            "--cold-fraction",
            "0.5",
            "--seed",
            "3",
            "--truth",
            str(truth),
        ],
    )
    assert result.exit_code == 0, result.output
    r = pd.read_csv(out)
    t = pd.read_csv(truth)
    assert set(t["kind"]) == {"offline", "cold"}
    assert (t["kind"] == "offline").sum() == 6
    assert len(r) < 60 * 24 and r["ts"].nunique() == 24
    assert pd.Timestamp(r["ts"].min()) == pd.Timestamp("2026-01-19T16:00:00Z")
    # errors are reported, not raised
    bad = CliRunner().invoke(
        app, ["sensors", "simulate", "--sensors", str(tmp_path / "nope.csv"), "--out", str(out)]
    )
    assert bad.exit_code == 2 and "not found" in bad.output
    two = CliRunner().invoke(
        app, ["sensors", "simulate", "--sensors", str(reg), "--out", str(out), "--mqtt", "mqtt://x"]
    )
    assert two.exit_code == 2 and "choose one sink" in two.output


def test_cli_backfills_then_follows_into_a_store(tmp_path: Path) -> None:
    from nuanliu.cli import app

    url = f"duckdb:///{tmp_path / 'live.duckdb'}"
    store = open_store(url)
    build_demo_registry(store, households=30, seed=2)
    n = len(sensors_from_store(store))
    store.close()
    result = CliRunner().invoke(
        app,
        [
            "sensors",
            "simulate",
            "--db",
            url,
            "--days",
            "0.125",
            "--follow",
            "--duration-s",
            "0.5",
            "--tick-s",
            "0.1",
            "--demo-faults",
        ],
    )
    assert result.exit_code == 0, result.output
    store = open_store(url)
    stored = _count(store, "SELECT COUNT(*) FROM readings")
    with store.read() as q:
        newest = q.one("SELECT MAX(ts) FROM readings", [])[0]
    store.close()
    # three hours of 10-minute history (18 or 19 instants), minus sensors gone offline
    assert n * 15 <= stored <= n * 19
    assert pd.Timestamp(newest) <= pd.Timestamp.now(tz="UTC")
    assert "done:" in result.output


def test_unreachable_broker_and_bad_file_names(tmp_path: Path) -> None:
    from nuanliu.errors import ConfigError, InvalidInput

    with pytest.raises(ConfigError, match="cannot connect"):
        MqttSink(f"mqtt://127.0.0.1:{_free_port()}", {})
    with pytest.raises(ConfigError, match="not understood"):
        MqttSink("http://127.0.0.1:1883", {})
    with pytest.raises(InvalidInput, match="unknown output format"):
        FileSink(tmp_path / "readings.xlsx")
