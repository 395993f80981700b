"""Telemetry ingest on both engines: every plausibility case, malformed payloads and
duplicates end in quarantine with a reason (or as duplicates), valid rows are stored,
and the counts always add up."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.store import Store
from nuanliu.telemetry.ingest import (
    TelemetryIngestor,
    ingest_telemetry_file,
    ingest_telemetry_payload,
    ingest_telemetry_rows,
)
from nuanliu.telemetry.store import Site, save_sites

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _sites(store: Store) -> None:
    save_sites(
        store,
        [
            Site("HH045", "station", "呼和浩特045站", "Station HH045", heated_area_m2=80_000.0),
            Site("SRC1", "source", "托电", "Tuoketuo source"),
            Site("P1", "pump", "循环泵1", "Pump 1"),
        ],
    )


def _quarantine(store: Store) -> list[tuple[str, str]]:
    with store.read() as q:
        return q.all("SELECT source, reason FROM quarantine ORDER BY quarantine_id")


def _count(store: Store) -> int:
    with store.read() as q:
        return int(q.scalar("SELECT COUNT(*) FROM telemetry"))


def test_every_plausibility_case_is_quarantined_with_its_reason(store: Store) -> None:
    _sites(store)
    ts = "2026-11-30T08:00:00+08:00"
    rows = [
        {"site_id": "HH045", "ts": ts, "point": "primary_supply_temp_c", "value": 95.2},  # ok
        {"site_id": "HH045", "ts": ts, "point": "primary_return_temp_c", "value": 250.0},
        {"site_id": "HH045", "ts": ts, "point": "valve_opening_pct", "value": -3},
        {"site_id": "HH045", "ts": ts, "point": "primary_flow_m3_h", "value": "NaN"},
        {"site_id": "HH045", "ts": ts, "point": "primary_flow_m3_h", "value": float("inf")},
        {"site_id": "HH045", "ts": ts, "point": "no_such_point", "value": 1.0},
        {"site_id": "GHOST", "ts": ts, "point": "primary_supply_temp_c", "value": 90.0},
        {"site_id": "P1", "ts": ts, "point": "secondary_supply_temp_c", "value": 50.0},
        {"site_id": "HH045", "ts": "2026-11-30T08:00:00", "point": "outdoor_temp_c", "value": 1},
        {"site_id": "HH045", "ts": "2027-06-01T00:00:00Z", "point": "outdoor_temp_c", "value": 1},
        {"site_id": "HH045", "ts": "1999-01-01T00:00:00Z", "point": "outdoor_temp_c", "value": 1},
        {"site_id": "HH045", "ts": ts, "point": "pump_speed_pct", "value": "fast"},
        {"site_id": "HH045", "ts": ts, "point": "pump_power_kw"},
        {"site_id": "", "ts": ts, "point": "pump_power_kw", "value": 3},
    ]
    ing = TelemetryIngestor(store, clock=lambda: NOW)
    from nuanliu.telemetry.ingest import TelemetryAccumulator

    acc = TelemetryAccumulator()
    acc.add(rows, "test")
    rep = ing.ingest(acc.build(), acc.rejected)
    assert rep.balanced
    assert (rep.received, rep.stored, rep.rejected) == (14, 1, 13)
    reasons = " | ".join(r for _, r in _quarantine(store))
    for expected in (
        "primary_return_temp_c=250 out of range −20…200 °C",
        "valve_opening_pct=-3 out of range 0…100 %",
        "not a finite number",
        "unknown point no_such_point",
        "unknown site GHOST",
        "point secondary_supply_temp_c does not apply to a pump",
        "has no timezone",
        "in the future",
        "is before 2000-01-01",
        "pump_speed_pct",
        "value is missing",
        "site_id is empty",
    ):
        assert expected in reasons, expected
    assert _count(store) == 1


def test_wide_scan_and_duplicates(store: Store) -> None:
    _sites(store)
    scan = {
        "site_id": "HH045",
        "ts": "2026-11-30T08:00:00+08:00",
        "primary_supply_temp_c": 95.0,
        "primary_return_temp_c": 48.0,
        "secondary_supply_temp_c": 55.0,
        "valve_opening_pct": 140.0,  # implausible: only this value is refused
    }
    rep = ingest_telemetry_rows(store, [scan, scan])
    assert rep.balanced
    assert (rep.received, rep.stored, rep.duplicates, rep.rejected) == (8, 3, 3, 2)
    again = ingest_telemetry_rows(store, [scan])
    assert (again.stored, again.duplicates, again.rejected) == (0, 3, 1)
    with store.read() as q:
        hourly = q.all(
            "SELECT point, n, sum_value FROM tel_hourly WHERE site_id = 'HH045' ORDER BY point"
        )
    assert hourly == [
        ("primary_return_temp_c", 1, 48.0),
        ("primary_supply_temp_c", 1, 95.0),
        ("secondary_supply_temp_c", 1, 55.0),
    ]


def test_malformed_payloads_are_quarantined(store: Store) -> None:
    _sites(store)
    bodies = [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'"text"', "application/json"),
        (b'{"site_id": "HH045", "ts": "2026-11-30T00:00:00Z"}', "application/json"),
        (
            b'{"site_id":"HH045","ts":"2026-11-30T00:00:00Z","outdoor_temp_c":-9}\n{oops\n',
            "application/x-ndjson",
        ),
    ]
    total_rejected = 0
    for body, ctype in bodies:
        rep = ingest_telemetry_payload(store, body, ctype, "http")
        assert rep.balanced
        total_rejected += rep.rejected
    assert total_rejected == 6
    assert _count(store) == 1
    reasons = [r for _, r in _quarantine(store)]
    assert any("malformed JSON" in r for r in reasons)
    assert any("array element 0 is a number" in r for r in reasons)
    assert any("has no point" in r for r in reasons)


def test_csv_file_wide_with_bad_lines(store: Store, tmp_path: Path) -> None:
    _sites(store)
    path = tmp_path / "hh045.csv"
    path.write_text(
        "site_id,ts,primary_supply_temp_c,primary_return_temp_c,valve_opening_pct\n"
        "HH045,2026-11-30T00:00:00Z,95.1,47.9,55\n"
        "HH045,2026-11-30T01:00:00Z,95.3,,56\n"  # return not measured: no row
        'HH045,2026-11-30T02:00:00Z,"95.0,48\n'  # stray quote
        "HH045,2026-11-30T03:00:00Z,abc,48.0,57\n"
        "HH045,2026-11-30T00:00:00Z,95.1,47.9,55\n"  # duplicate line
        "HH045,2026-11-30T04:00:00Z,,,\n"  # nothing measured
    )
    rep = ingest_telemetry_file(store, path)
    assert rep.balanced
    assert rep.stored == 3 + 2 + 2
    assert rep.duplicates == 3
    assert rep.rejected == 3  # the stray quote line, "abc", the empty row
    sources = [s for s, _ in _quarantine(store)]
    assert "file:hh045.csv:4" in sources
    assert "file:hh045.csv:5:primary_supply_temp_c" in sources
    assert "file:hh045.csv:7" in sources


def test_parquet_long_file(store: Store, tmp_path: Path) -> None:
    _sites(store)
    t0 = datetime(2026, 11, 30, tzinfo=UTC)
    tbl = pa.table(
        {
            "site_id": ["SRC1"] * 3,
            "ts": [t0, t0 + timedelta(hours=1), t0 + timedelta(hours=2)],
            "point": ["primary_supply_temp_c", "primary_supply_temp_c", "primary_heat_kw"],
            "value": [110.0, 500.0, 90_000.0],
        }
    )
    path = tmp_path / "src.parquet"
    pq.write_table(tbl, path)
    rep = ingest_telemetry_file(store, path)
    assert (rep.stored, rep.rejected) == (2, 1)


def test_file_without_site_needs_one(store: Store, tmp_path: Path) -> None:
    _sites(store)
    path = tmp_path / "x.csv"
    path.write_text("ts,outdoor_temp_c\n2026-11-30T00:00:00Z,-5\n")
    with pytest.raises(InvalidInput, match="site"):
        ingest_telemetry_file(store, path)
    rep = ingest_telemetry_file(store, path, site="HH045")
    assert rep.stored == 1


def test_tartu_export_with_duplicates_and_dst(store: Store) -> None:
    save_sites(store, [Site("10259", "station", "塔尔图10259", "Tartu 10259")])
    path = DATA / "tartu_10259_2019_slice.csv"
    rep = ingest_telemetry_file(store, path, profile="kamstrup")
    assert rep.balanced
    assert rep.rejected == 0
    lines = len(path.read_text().splitlines()) - 1
    assert rep.received == lines * 9  # nine mapped columns per line
    assert rep.duplicates >= 9 * 40  # the hours stored twice around 31 January
    with store.read() as q:
        heat = q.all(
            "SELECT MIN(value), MAX(value) FROM telemetry WHERE point = 'primary_heat_gj'"
        )[0]
        flow = q.scalar("SELECT MAX(value) FROM telemetry WHERE point = 'primary_flow_m3_h'")
        first = q.scalar("SELECT MIN(ts) FROM telemetry")
    assert heat[0] == pytest.approx(3.6 * 29.0, rel=0.05)  # MWh counter → GJ
    assert flow < 5  # l/h → m³/h
    assert first == datetime(2019, 1, 27, 22, tzinfo=UTC)  # 00:00 EET is 22:00 UTC
    again = ingest_telemetry_file(store, path, profile="kamstrup")
    assert again.stored == 0


def test_mqtt_payload_site_from_topic(store: Store) -> None:
    _sites(store)
    ing = TelemetryIngestor(store)
    acc = ing.parse_message(
        json.dumps(
            [
                {"ts": "2026-11-30T00:00:00Z", "outdoor_temp_c": -12.0},
                {"site_id": "SRC1", "ts": "2026-11-30T00:00:00Z", "outdoor_temp_c": -12.0},
            ]
        ).encode(),
        "mqtt:nuanliu/v1/telemetry/HH045",
    )
    rep = ing.ingest(acc.build(), acc.rejected)
    assert (rep.stored, rep.rejected) == (1, 1)
    assert "differs from the topic's site" in _quarantine(store)[0][1]


def test_telemetry_dead_letters_replay_through_telemetry_ingest(store: Store) -> None:
    """A dead letter of telemetry goes back through telemetry ingest, a readings letter
    through readings ingest — one replay call for both."""
    from nuanliu.ingest.replay import replay_dead_letters
    from nuanliu.store import DeadLetter

    _sites(store)
    body = json.dumps({"ts": "2026-11-30T00:00:00Z", "outdoor_temp_c": -7.5}).encode()
    store.insert_dead_letters(
        [
            DeadLetter(
                "telemetry-mqtt",
                "mqtt:nuanliu/v1/telemetry/HH045",
                body,
                "RuntimeError",
                "store refused",
                content_type="application/json",
            )
        ]
    )
    outcomes = replay_dead_letters(store)
    assert [o.replayed for o in outcomes] == [True]
    assert outcomes[0].report is not None and outcomes[0].report.stored == 1
    with store.read() as q:
        assert q.all("SELECT site_id, point, value FROM telemetry") == [
            ("HH045", "outdoor_temp_c", -7.5)
        ]


def test_aggregates_equal_a_recomputation_from_raw(store: Store) -> None:
    """Late, repeated and out-of-order rows: the maintained hourly/daily aggregates equal
    the same aggregates computed from the stored rows."""
    import numpy as np

    _sites(store)
    rng = np.random.default_rng(3)
    t0 = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai: days cross
    rows = [
        {
            "site_id": "HH045",
            "ts": (t0 + timedelta(minutes=int(m))).isoformat(),
            "point": "primary_supply_temp_c",
            "value": round(float(v), 2),
        }
        for m, v in zip(rng.permutation(300), rng.normal(95, 2, 300), strict=True)
    ]
    for part in (rows[:120], rows[80:250], rows[200:]):  # overlapping: duplicates
        assert ingest_telemetry_rows(store, part).balanced
    with store.read() as q:
        raw = q.df("SELECT ts, value FROM telemetry ORDER BY ts")
        hourly = q.df("SELECT * FROM tel_hourly ORDER BY hour_ts")
        daily = q.df("SELECT * FROM tel_daily ORDER BY local_day")
    assert len(raw) == 300
    raw["ts"] = pd.to_datetime(raw["ts"], utc=True)
    by_hour = raw.groupby(raw["ts"].dt.floor("h"))["value"]
    assert list(hourly["n"]) == list(by_hour.size())
    assert np.allclose(hourly["sum_value"], by_hour.sum())
    assert list(hourly["first_value"]) == list(by_hour.first())
    assert list(hourly["last_value"]) == list(by_hour.last())
    local = raw["ts"].dt.tz_convert("Asia/Shanghai").dt.date
    by_day = raw.groupby(local)["value"]
    assert list(daily["n"]) == list(by_day.size()) and len(daily) == 2
    assert np.allclose(daily["max_value"], by_day.max())
