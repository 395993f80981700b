"""Must show: every kind of bad input ends in quarantine with a clear reason, and the
valid rows beside it are stored — on both engines, through every transport."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nuanliu.ingest.batch import ingest_payload, ingestor_for
from nuanliu.ingest.files import ingest_file
from nuanliu.store import Store


def stored(store: Store) -> set[tuple[str, datetime, float]]:
    with store.read() as q:
        rows = q.all("SELECT sensor_id, ts, temp_c FROM readings", [])
    return {(s, ts.astimezone(UTC), t) for s, ts, t in rows}


def quarantine(store: Store) -> dict[str, tuple[str, str]]:
    with store.read() as q:
        rows = q.all("SELECT source, reason, raw FROM quarantine", [])
    return {source: (reason, raw) for source, reason, raw in rows}


def iso(dt: datetime) -> str:
    return dt.isoformat()


def test_bad_csv_file(store: Store, tmp_path: Path) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    future = base + timedelta(days=2)
    lines = [
        "sensor_id,ts,temp_c,humidity_pct",
        f"S0001,{iso(base)},20.5,40",  # 2 valid
        f"S0002,{iso(base)},21.5",  # 3 malformed: a field short
        f"S0003,{iso(base)},warm,40",  # 4 wrong type
        f"S0004,{iso(base)},NaN,40",  # 5 NaN
        f"S0005,{iso(base)},75.2,40",  # 6 out of range
        f"S9999,{iso(base)},20.0,40",  # 7 unknown sensor
        f"S0006,{iso(future)},20.0,40",  # 8 future
        f"S0007,{base.replace(tzinfo=None).isoformat()},20.0,40",  # 9 naive
        f"S0008,{iso(base)},19.25,",  # 10 valid, humidity empty
    ]
    path = tmp_path / "readings.csv"
    path.write_text("\n".join(lines) + "\n")

    report = ingest_file(ingestor_for(store), path)

    assert (report.received, report.stored, report.rejected) == (9, 2, 7)
    assert stored(store) == {("S0001", base, 20.5), ("S0008", base, 19.25)}
    q = quarantine(store)
    assert q["file:readings.csv:3"][0] == "malformed CSV at line 3: 3 field(s), expected 4"
    assert q["file:readings.csv:3"][1] == lines[2]
    assert q["file:readings.csv:4"][0] == "temp_c='warm' is not a number"
    assert q["file:readings.csv:5"][0] == "temp_c=nan is not a finite number"
    assert q["file:readings.csv:6"][0] == "temp_c=75.2 out of range −40…60 °C"
    assert q["file:readings.csv:7"][0] == "unknown sensor S9999"
    assert "in the future (tolerance 5 min)" in q["file:readings.csv:8"][0]
    assert (
        q["file:readings.csv:9"][0] == f"ts {base.replace(tzinfo=None).isoformat()} has no timezone"
    )
    assert q["file:readings.csv:6"][1] == lines[5]  # the raw line is kept


def test_bad_json_body(store: Store) -> None:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    rows = [
        {"sensor_id": "S0001", "ts": iso(base), "temp_c": 18.5},
        {"sensor_id": "S0002", "ts": iso(base), "temp_c": "18.5"},
        {"sensor_id": "S0003", "ts": iso(base), "temp_c": float("nan")},
        {"sensor_id": "S0004", "ts": iso(base), "temp_c": -45},
        {"sensor_id": "S-unknown", "ts": iso(base), "temp_c": 20},
        {"sensor_id": "S0005", "ts": iso(base + timedelta(hours=3)), "temp_c": 20},
        {"sensor_id": "S0006", "ts": int(base.timestamp() * 1000), "temp_c": 22.0},
    ]
    body = json.dumps(rows).encode()  # Python writes the NaN literal, as gateways do
    report = ingest_payload(store, body, "application/json; charset=utf-8")

    assert (report.received, report.stored, report.duplicates, report.rejected) == (7, 2, 0, 5)
    assert stored(store) == {("S0001", base, 18.5), ("S0006", base, 22.0)}
    with store.read() as q:
        reasons = sorted(r[0] for r in q.all("SELECT reason FROM quarantine", []))
    future = reasons.pop(3)
    assert reasons == [
        "temp_c='18.5' is a string, expected a number",
        "temp_c=-45 out of range −40…60 °C",
        "temp_c=nan is not a finite number",
        "unknown sensor S-unknown",
    ]
    ahead = (base + timedelta(hours=3)).isoformat()
    assert future == f"ts {ahead} is 2.5 h in the future (tolerance 5 min)"
    assert len(report.reasons) == 5 and all(r.startswith("http: ") for r in report.reasons)

    # The same body again: the good rows are duplicates now, nothing stored twice.
    again = ingest_payload(store, body, "application/json")
    assert (again.stored, again.duplicates) == (0, 2)
    assert len(stored(store)) == 2


def test_malformed_json_body_and_ndjson_lines(store: Store) -> None:
    bad = ingest_payload(store, b'[{"sensor_id": "S0001", "ts": ', "application/json")
    assert (bad.received, bad.stored, bad.rejected) == (1, 0, 1)
    assert bad.reasons[0].startswith("http: malformed JSON at line 1 column")

    ts = iso(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    body = "\n".join(
        [
            json.dumps({"sensor_id": "S0010", "ts": ts, "temp_c": 20.0}),
            '{"sensor_id": "S0011", "ts": "' + ts + '", temp_c: 20}',
            "",
            json.dumps({"sensor_id": "S0012", "ts": ts, "temp_c": 21.0}),
            "42",
        ]
    ).encode()
    report = ingest_payload(store, body, "application/x-ndjson")
    assert (report.received, report.stored, report.rejected) == (4, 2, 2)
    q = quarantine(store)
    assert q["http:2"][0].startswith("malformed JSON at line 2 column")
    assert q["http:2"][1].startswith('{"sensor_id": "S0011"')
    assert q["http:5"][0] == (
        "payload is a number, expected a reading object, an array or a gateway batch"
    )
    assert {s for s, _, _ in stored(store)} == {"S0010", "S0012"}
