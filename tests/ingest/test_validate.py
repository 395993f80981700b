"""Validation reasons say which field and value is wrong; clean rows pass untouched."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.ingest.model import FIELDS, RawBatch
from nuanliu.ingest.parse import Accumulator, parse_ndjson
from nuanliu.ingest.validate import KnownSensors, Limits, Validator

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def validator(known: set[str] | None = None, **limits: object) -> Validator:
    registry = known if known is not None else {"S1", "S2"}
    ks = KnownSensors(lambda ids: [i for i in ids if i in registry])
    return Validator(ks, Limits(**limits), clock=lambda: NOW)  # type: ignore[arg-type]


def batch_of(rows: list[dict]) -> RawBatch:
    acc = Accumulator()
    acc.add(rows, "test")
    return acc.build()


def reasons_of(rows: list[dict], **kw: object) -> list[str]:
    return [r.reason for r in validator(**kw).validate(batch_of(rows)).rejected]


def test_clean_rows_become_the_insert_table() -> None:
    rows = [
        {"sensor_id": "S1", "ts": "2026-11-22T09:30:00+08:00", "temp_c": 20.5, "humidity_pct": 41},
        {"sensor_id": "S2", "ts": 1763776800000, "temp_c": -3},  # epoch ms, no humidity
    ]
    result = validator().validate(batch_of(rows))
    assert result.rejected == []
    got = result.valid.to_pylist()
    assert got[0]["ts"] == datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
    assert got[1]["ts"] == datetime.fromtimestamp(1763776800, UTC)
    assert [g["temp_c"] for g in got] == [20.5, -3.0]
    assert got[1]["humidity_pct"] is None
    assert result.valid.schema.field("ts").type == pa.timestamp("us", tz="UTC")


def test_out_of_range_names_field_value_and_range() -> None:
    rows = [{"sensor_id": "S1", "ts": "2026-11-22T01:00:00Z", "temp_c": 75.2, "humidity_pct": 120}]
    (reason,) = reasons_of(rows)
    assert "temp_c=75.2 out of range −40…60 °C" in reason
    assert "humidity_pct=120 out of range 0…100 %" in reason


def test_naive_timestamp_is_refused_saying_so() -> None:
    rows = [{"sensor_id": "S1", "ts": "2026-11-22T10:00:00", "temp_c": 20}]
    assert reasons_of(rows) == ["ts 2026-11-22T10:00:00 has no timezone"]


def test_future_beyond_tolerance_is_refused_within_is_kept() -> None:
    rows = [
        {"sensor_id": "S1", "ts": (NOW + timedelta(minutes=3)).isoformat(), "temp_c": 20},
        {"sensor_id": "S1", "ts": (NOW + timedelta(hours=2)).isoformat(), "temp_c": 20},
    ]
    result = validator().validate(batch_of(rows))
    assert result.valid.num_rows == 1
    (rej,) = result.rejected
    assert "in the future (tolerance 5 min)" in rej.reason and "2.0 h" in rej.reason
    # A looser tolerance (configurable) accepts both.
    assert reasons_of(rows, future_tolerance=timedelta(hours=3)) == []


def test_wrong_types_nan_and_missing_fields() -> None:
    rows = [
        {"sensor_id": "S1", "ts": "2026-11-22T01:00:00Z", "temp_c": "21.5"},
        {"sensor_id": "S1", "ts": "2026-11-22T01:01:00Z", "temp_c": math.nan},
        {"sensor_id": "S1", "ts": "2026-11-22T01:02:00Z", "temp_c": True},
        {"sensor_id": 17, "ts": "2026-11-22T01:03:00Z", "temp_c": 20},
        {"ts": "2026-11-22T01:04:00Z"},
        {"sensor_id": "S1", "ts": "yesterday+08:00", "temp_c": 20},
        {"sensor_id": "S1", "ts": 17637768, "temp_c": 20},  # no plausible epoch unit
    ]
    assert reasons_of(rows) == [
        "temp_c='21.5' is a string, expected a number",
        "temp_c=nan is not a finite number",
        "temp_c=True is a boolean, expected a number",
        "sensor_id=17 is an integer, expected a string",
        "sensor_id is missing; temp_c is missing",
        "ts 'yesterday+08:00' is not an ISO 8601 timestamp",
        "ts=17637768 is not an epoch time between 2000 and 2100 in s, ms, µs or ns "
        "(give the unit with --ts-unit to read it otherwise)",
    ]


def test_unknown_sensor_and_cache_refresh() -> None:
    registry = {"S1"}
    v = validator(known=registry)
    rows = [{"sensor_id": "S123", "ts": "2026-11-22T01:00:00Z", "temp_c": 20}]
    assert [r.reason for r in v.validate(batch_of(rows)).rejected] == ["unknown sensor S123"]
    registry.add("S123")  # registered after the cache was filled
    assert v.validate(batch_of(rows)).rejected == []


def test_rejections_keep_source_and_raw_text() -> None:
    acc = parse_ndjson(
        [
            (1, '{"sensor_id":"S1","ts":"2026-11-22T01:00:00Z","temp_c":20}'),
            (2, '{"sensor_id":"S1","ts":"2026-11-22T01:01:00Z","temp_c":99}'),
            (3, '{"sensor_id": "S1", oops'),
            (4, ""),
        ],
        "file:x.ndjson",
    )
    result = validator().validate(acc.build(), acc.rejected)
    assert result.valid.num_rows == 1
    by_source = {r.source: r for r in result.rejected}
    assert set(by_source) == {"file:x.ndjson:2", "file:x.ndjson:3"}
    assert (
        by_source["file:x.ndjson:2"].raw
        == '{"sensor_id":"S1","ts":"2026-11-22T01:01:00Z","temp_c":99}'
    )
    assert by_source["file:x.ndjson:3"].reason.startswith("malformed JSON at line 3 column")


def test_gateway_batch_columns() -> None:
    acc = Accumulator()
    acc.add(
        {
            "gateway_id": "gw-1",
            "sensor_id": ["S1", "S2", "S9"],
            "ts": [1763776800000, 1763776800000, 1763776800000],
            "temp_c": [20.1, 61.0, 19.0],
        },
        "mqtt:nuanliu/v1/readings/gw-1",
    )
    acc.add({"sensor_id": ["S1"], "ts": [], "temp_c": [1]}, "mqtt:nuanliu/v1/readings/gw-2")
    result = validator().validate(acc.build(), acc.rejected)
    assert result.valid["sensor_id"].to_pylist() == ["S1"]
    reasons = sorted((r.source, r.reason) for r in result.rejected)
    assert reasons == [
        ("mqtt:nuanliu/v1/readings/gw-1#1", "temp_c=61 out of range −40…60 °C"),
        ("mqtt:nuanliu/v1/readings/gw-1#2", "unknown sensor S9"),
        ("mqtt:nuanliu/v1/readings/gw-2", "gateway batch: ts has 0 values, sensor_id has 1"),
    ]


readings = st.fixed_dictionaries(
    {
        "sensor_id": st.sampled_from(["S1", "S2"]),
        "ts": st.integers(946684800000, 1763776800000),
        "temp_c": st.floats(-40, 60, allow_nan=False),
        "humidity_pct": st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
    }
)


@settings(max_examples=40, deadline=None)
@given(st.lists(readings, max_size=30))
def test_plausible_readings_all_pass_unchanged(rows: list[dict]) -> None:
    result = validator().validate(batch_of(rows))
    assert result.rejected == []
    got = result.valid.to_pylist()
    assert [g["temp_c"] for g in got] == [r["temp_c"] for r in rows]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert [(g["ts"] - epoch) // timedelta(milliseconds=1) for g in got] == [r["ts"] for r in rows]
    assert [g["humidity_pct"] for g in got] == [r["humidity_pct"] for r in rows]
    assert set(result.valid.column_names) == set(FIELDS)


def test_csv_text_timestamps_epoch_ms_accepted_naive_refused() -> None:
    cols = {
        "sensor_id": pa.array(["S1", "S1", "S2"]),
        "ts": pa.array(["1763776800000", "2026-11-22 09:00", "2026-11-22T09:00:00+08:00"]),
        "temp_c": pa.array(["20", "21", " 22.5 "]),
        "humidity_pct": pa.array(["", "40", "1e1"]),
    }
    result = validator().validate(RawBatch(cols, lambda i: f"f:{i + 2}", lambda i: ""))
    assert [(r.source, r.reason) for r in result.rejected] == [
        ("f:3", "ts 2026-11-22 09:00 has no timezone")
    ]
    got = result.valid.to_pylist()
    assert got[0]["ts"] == datetime.fromtimestamp(1763776800, UTC)
    assert got[1]["ts"] == datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert [g["temp_c"] for g in got] == [20.0, 22.5]
    assert [g["humidity_pct"] for g in got] == [None, 10.0]


def test_epoch_unit_by_magnitude_and_explicit_unit() -> None:
    """Each band reads in its unit, exactly (no float rounding of ns); --ts-unit forces one."""
    s = 1763776800  # 2025-11-22T02:00Z
    rows = [
        {"sensor_id": "S1", "ts": s, "temp_c": 20},
        {"sensor_id": "S1", "ts": s * 1000 + 1, "temp_c": 20},
        {"sensor_id": "S1", "ts": s * 10**6 + 2, "temp_c": 20},
        {"sensor_id": "S1", "ts": s * 10**9 + 3999, "temp_c": 20},
        {"sensor_id": "S1", "ts": s + 0.5, "temp_c": 20},
        {"sensor_id": "S1", "ts": 2**64, "temp_c": 20},
    ]
    result = validator().validate(batch_of(rows))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    got = [(g["ts"] - epoch) // timedelta(microseconds=1) for g in result.valid.to_pylist()]
    base = s * 10**6
    assert got == [base, base + 1000, base + 2, base + 3, base + 500_000]
    (rej,) = result.rejected
    assert rej.reason.startswith(f"ts={2**64} is not an epoch time between 2000 and 2100")
    as_ms = validator(ts_unit="ms").validate(batch_of(rows[:2])).rejected
    assert [r.reason for r in as_ms] == ["ts 1970-01-21T09:56:16.800000+00:00 is before 2000-01-01"]


def test_huge_values_never_crash_formatting() -> None:
    rows = [
        {"sensor_id": "S1", "ts": 10**17, "temp_c": 20},  # year 3.2 million as seconds
        {"sensor_id": "S1", "ts": "9999-12-31T23:59:59Z", "temp_c": 20},
        {"sensor_id": "S1", "ts": 1763776800, "temp_c": 2**53 + 1},
    ]
    reasons = [r.reason for r in validator(ts_unit="s").validate(batch_of(rows)).rejected]
    assert reasons[0] == "ts=100000000000000000 is out of range as epoch s"
    assert reasons[1].startswith("ts 9999-12-31T23:59:59+00:00 is ")
    assert reasons[1].endswith("in the future (tolerance 5 min)")
    assert reasons[2] == (
        "temp_c=9007199254740993 is an integer beyond ±2^53, where a float would round it"
    )
