"""Properties of the engine-independent pieces: batch de-duplication, placeholders."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.store.engine import _qmark_to_format
from nuanliu.store.readings import dedupe_batch, normalise_readings

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 4), st.floats(10, 30))))
def test_dedupe_keeps_the_first_of_each_key_in_order(rows: list[tuple[str, int, float]]) -> None:
    tbl = normalise_readings(
        pa.table(
            {
                "sensor_id": pa.array([r[0] for r in rows], pa.string()),
                "ts": pa.array(
                    [T0 + dt.timedelta(minutes=r[1]) for r in rows], pa.timestamp("us", tz="UTC")
                ),
                "temp_c": pa.array([r[2] for r in rows], pa.float64()),
            }
        )
    )
    out = dedupe_batch(tbl).to_pylist()
    expected: dict[tuple[str, int], float] = {}
    for sensor, minute, temp in rows:
        expected.setdefault((sensor, minute), temp)
    got = [((r["sensor_id"], int((r["ts"] - T0).total_seconds() // 60)), r["temp_c"]) for r in out]
    assert got == list(expected.items())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["?", "%", "'", "a", " ", "''", "'?'", '"?"']), max_size=30))
def test_placeholders_outside_quotes_become_format_marks(parts: list[str]) -> None:
    sql = "".join(parts)
    out = _qmark_to_format(sql)
    # Undoing the rewrite gives the original text back, and only unquoted marks change.
    assert out.replace("%s", "?").replace("%%", "%") == sql
    unquoted = 0
    quote = None
    for ch in sql:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            unquoted += 1
    assert out.count("%s") == unquoted
