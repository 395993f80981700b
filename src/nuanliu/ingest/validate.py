"""Validate candidate readings: typed, finite, plausible, timely and from known sensors.

``Validator.validate(batch)`` returns the valid rows as the Arrow table that
``Store.insert_readings`` accepts and a ``Rejection`` (with every reason that applies)
for each refused row. All checks are vectorised over the batch; Python only formats the
reasons of refused rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.ingest.coerce import TS_TYPE, coerce_float, coerce_string, coerce_ts
from nuanliu.ingest.model import READINGS_SCHEMA, RawBatch, Rejection
from nuanliu.ingest.timestamps import fmt_us


@dataclass(frozen=True)
class Limits:
    """Plausibility limits; defaults suit indoor room sensors in a heated home."""

    temp_min_c: float = -40.0
    temp_max_c: float = 60.0
    humidity_min_pct: float = 0.0
    humidity_max_pct: float = 100.0
    future_tolerance: timedelta = timedelta(minutes=5)
    # Before this a timestamp is almost surely a unit mistake or an unset clock.
    earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    # How epoch numbers are read: "auto" (by magnitude, see ingest/timestamps.py), or
    # "s", "ms", "us", "ns" for every number.
    ts_unit: str = "auto"


@dataclass
class ValidationResult:
    valid: pa.Table
    rejected: list[Rejection] = field(default_factory=list)


def _fmt_num(x: float) -> str:
    return f"{x:g}".replace("-", "\u2212")  # typographic minus, as in "−40…60 °C"


def _fmt_delta(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _chunks(arr: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]


class KnownSensors:
    """Cache of registered sensor ids; asks the store only about ids it has not seen."""

    def __init__(self, lookup: Callable[[list[str]], Iterable[str]]) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()
        self._known_arr = pa.array([], pa.string())

    @classmethod
    def from_store(cls, store: Any) -> KnownSensors:
        def lookup(ids: list[str]) -> list[str]:
            found: list[str] = []
            with store.read() as q:
                for start in range(0, len(ids), 1000):
                    chunk = ids[start : start + 1000]
                    marks = ", ".join("?" for _ in chunk)
                    rows = q.all(
                        f"SELECT sensor_id FROM sensors WHERE sensor_id IN ({marks})", chunk
                    )
                    found.extend(r[0] for r in rows)
            return found

        known = cls(lookup)
        with store.read() as q:
            # One Arrow column: a city's ~10^5 ids as Python strings, set and sorted list
            # cost ~0.1-0.2 s of every `nuanliu ingest` start.
            known._add(q.arrow("SELECT sensor_id FROM sensors").column(0))
        return known

    def _add(self, ids: Iterable[str] | pa.Array | pa.ChunkedArray) -> None:
        if not isinstance(ids, pa.Array | pa.ChunkedArray):
            ids = pa.array(list(ids), pa.string())
        with self._lock:  # web requests validate concurrently
            merged = pa.chunked_array([self._known_arr, *_chunks(ids.cast(pa.string()))])
            self._known_arr = pc.unique(pc.drop_null(merged).combine_chunks())

    def mask(self, ids: pa.Array) -> np.ndarray:
        """True where the id is a registered sensor (nulls count as known: reported elsewhere)."""
        absent = ids.is_null()
        known = pc.or_(pc.is_in(ids, value_set=self._known_arr), absent)
        if pc.all(known).as_py():
            return known.to_numpy(zero_copy_only=False)
        unseen = pc.unique(pc.filter(ids, pc.invert(known))).to_pylist()
        # The registry may have grown since the cache was filled: ask about these ids only.
        # An id with a NUL cannot be registered (PostgreSQL text refuses NUL): never ask.
        self._add(self._lookup([u for u in unseen if u is not None and "\x00" not in u]))
        known = pc.or_(pc.is_in(ids, value_set=self._known_arr), absent)
        return known.to_numpy(zero_copy_only=False)


class Validator:
    def __init__(
        self,
        known: KnownSensors | None,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.known = known
        self.limits = limits or Limits()
        self.clock = clock

    def validate(self, batch: RawBatch, extra: Iterable[Rejection] = ()) -> ValidationResult:
        n = len(batch)
        rejected = list(extra)
        if n == 0:
            return ValidationResult(READINGS_SCHEMA.empty_table(), rejected)
        lim = self.limits
        cols = batch.columns
        per_row: dict[int, list[str]] = {}

        def note(found: dict[int, str]) -> None:
            for i, text in found.items():
                per_row.setdefault(i, []).append(text)

        sensor_id, r = coerce_string(cols["sensor_id"], "sensor_id")
        note(r)
        ts, r = coerce_ts(cols["ts"], lim.ts_unit)
        note(r)
        temp_c, r = coerce_float(cols["temp_c"], "temp_c", required=True)
        note(r)
        humidity_pct, r = coerce_float(cols["humidity_pct"], "humidity_pct", required=False)
        note(r)

        def flag(mask: pa.Array | np.ndarray, make: Callable[[int], str]) -> None:
            m = mask if isinstance(mask, np.ndarray) else pc.fill_null(mask, False).to_numpy(False)
            for i in np.flatnonzero(m):
                per_row.setdefault(int(i), []).append(make(int(i)))

        for arr, name in ((temp_c, "temp_c"), (humidity_pct, "humidity_pct")):
            vals = arr.to_numpy(zero_copy_only=False)
            flag(
                arr.is_valid().to_numpy(False) & ~np.isfinite(vals),
                lambda i, v=vals, nm=name: f"{nm}={v[i]} is not a finite number",
            )
        tv = temp_c.to_numpy(zero_copy_only=False)
        flag(
            pc.or_(pc.less(temp_c, lim.temp_min_c), pc.greater(temp_c, lim.temp_max_c)),
            lambda i: (
                f"temp_c={tv[i]:g} out of range "
                f"{_fmt_num(lim.temp_min_c)}…{_fmt_num(lim.temp_max_c)} °C"
            ),
        )
        hv = humidity_pct.to_numpy(zero_copy_only=False)
        flag(
            pc.or_(
                pc.less(humidity_pct, lim.humidity_min_pct),
                pc.greater(humidity_pct, lim.humidity_max_pct),
            ),
            lambda i: (
                f"humidity_pct={hv[i]:g} out of range "
                f"{_fmt_num(lim.humidity_min_pct)}…{_fmt_num(lim.humidity_max_pct)} %"
            ),
        )
        flag_ts_window(flag, ts, lim, self.clock())
        if self.known is not None:
            known = self.known.mask(sensor_id)
            if not known.all():  # an empty id is refused as empty, not also as unknown
                known = known | pc.fill_null(pc.equal(sensor_id, ""), False).to_numpy(False)
            flag(~known, lambda i: f"unknown sensor {_printable(sensor_id[i].as_py())}")

        if per_row:
            rejected += row_rejections(batch, per_row, "sensor_id")
            keep = keep_mask(n, per_row)
            sensor_id, ts, temp_c, humidity_pct = (
                pc.filter(a, keep) for a in (sensor_id, ts, temp_c, humidity_pct)
            )
        valid = pa.Table.from_arrays([sensor_id, ts, temp_c, humidity_pct], schema=READINGS_SCHEMA)
        return ValidationResult(valid, rejected)


def flag_ts_window(
    flag: Callable[[pa.Array, Callable[[int], str]], None],
    ts: pa.Array,
    lim: Limits,
    now: datetime,
) -> None:
    """Refuse times beyond ``now`` + the tolerance, and before ``lim.earliest``."""
    tsv = ts.cast(pa.int64()).to_numpy(zero_copy_only=False)
    tol = _fmt_delta(lim.future_tolerance)
    flag(
        pc.greater(ts, pa.scalar(now + lim.future_tolerance, TS_TYPE)),
        lambda i: (
            f"ts {fmt_us(int(tsv[i]))} is "
            f"{_fmt_delta(timedelta(microseconds=int(tsv[i]) - _us(now)))}"
            f" in the future (tolerance {tol})"
        ),
    )
    flag(
        pc.less(ts, pa.scalar(lim.earliest, TS_TYPE)),
        lambda i: f"ts {fmt_us(int(tsv[i]))} is before {lim.earliest.date().isoformat()}",
    )


def row_rejections(batch: RawBatch, per_row: dict[int, list[str]], id_col: str) -> list[Rejection]:
    """One rejection per refused row, its reasons joined, with where it came from."""
    cols = batch.columns
    return [
        Rejection(
            source=batch.source_of(i),
            reason="; ".join(per_row[i]),
            raw=batch.raw_of(i),
            sensor_id=_text_or_none(cols[id_col], i),
            ts_text=_text_or_none(cols["ts"], i),
        )
        for i in sorted(per_row)
    ]


def keep_mask(n: int, per_row: dict[int, list[str]]) -> pa.Array:
    """True for the rows with no reason against them."""
    bad = np.zeros(n, dtype=bool)
    bad[list(per_row)] = True
    return pa.array(~bad)


def _us(t: datetime) -> int:
    return (t - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _printable(text: str) -> str:
    """Text for a reason: control characters (NUL, CR) escaped, the rest as is."""
    if text.isprintable():
        return text if len(text) <= 60 else text[:57] + "..."
    return _printable(text.encode("unicode_escape", "backslashreplace").decode("ascii"))


def _text_or_none(col: Any, i: int) -> str | None:
    v = col[i]
    if isinstance(v, pa.Scalar):
        try:
            v = v.as_py()
        except (pa.ArrowException, ValueError, OverflowError):  # e.g. year 300000
            v = str(v.cast(pa.int64()).as_py()) if pa.types.is_timestamp(v.type) else None
    if v is None:
        return None
    if isinstance(v, datetime):
        return v.isoformat()
    try:
        text = v if isinstance(v, str) else str(v)
    except (RecursionError, ValueError):  # nested 1000 deep, or an int of 5000 digits
        return f"<{type(v).__name__}>"
    return text[:200].encode("utf-8", "backslashreplace").decode("utf-8")
