"""Idempotent reading inserts with hooks, and the quarantine for rows that failed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.errors import InvalidInput
from nuanliu.store.dead_letters import escape_text, needs_escape
from nuanliu.store.engine import READINGS_BATCH_SCHEMA

if TYPE_CHECKING:
    from nuanliu.store.core import Store


@dataclass(frozen=True)
class InsertReport:
    inserted: int  # rows newly stored
    duplicates: int  # rows already stored, or repeated within the batch
    dead_letter_ids: tuple[int, ...] = ()  # ids of the dead letters written with them


@dataclass(frozen=True)
class QuarantineRow:
    """A row ingest could not accept, kept with the reason so nothing is silently lost."""

    source: str  # file:readings.csv:17, mqtt:nuanliu/v1/readings/gw1, http
    reason: str
    raw: str | None = None
    sensor_id: str | None = None
    ts_text: str | None = None
    received_at: dt.datetime | None = None  # default: now (UTC)
    raw_bytes: bytes | None = None  # the exact input when ``raw`` cannot show it


QUARANTINE_SCHEMA = pa.schema(
    [
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
        ("sensor_id", pa.string()),
        ("ts_text", pa.string()),
        ("raw", pa.string()),
        ("reason", pa.string()),
        ("escaped", pa.string()),  # the columns stored escaped, comma-separated
        ("raw_bytes", pa.binary()),
    ]
)
_QUARANTINE_TEXT = ("source", "sensor_id", "ts_text", "raw", "reason")


def normalise_readings(tbl: pa.Table) -> pa.Table:
    """The batch in the store's column types; ``InvalidInput`` says what does not fit."""
    missing = [c for c in ("sensor_id", "ts", "temp_c") if c not in tbl.column_names]
    if missing:
        raise InvalidInput(
            f"readings table lacks column(s) {', '.join(missing)}",
            details=[{"column": c, "problem": "missing"} for c in missing],
        )
    ts = tbl.column("ts")
    if not pa.types.is_timestamp(ts.type) or ts.type.tz is None:
        raise InvalidInput(
            f"readings column ts must be a timezone-aware timestamp, got {ts.type}",
            details=[{"column": "ts", "problem": f"type {ts.type}"}],
        )
    humidity = (
        tbl.column("humidity_pct")
        if "humidity_pct" in tbl.column_names
        else pa.nulls(tbl.num_rows, pa.float64())
    )
    try:
        out = pa.Table.from_arrays(
            [
                tbl.column("sensor_id").cast(pa.string()),
                ts.cast(pa.timestamp("us", tz="UTC")),
                tbl.column("temp_c").cast(pa.float64()),
                humidity.cast(pa.float64()),
            ],
            schema=READINGS_BATCH_SCHEMA,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InvalidInput(f"readings table has unusable column types: {exc}") from exc
    for name in ("sensor_id", "ts", "temp_c"):
        nulls = out.column(name).null_count
        if nulls:
            raise InvalidInput(
                f"readings column {name} has {nulls} empty value(s); quarantine such rows",
                details=[{"column": name, "problem": f"{nulls} null value(s)"}],
            )
    return out


def dedupe_batch(tbl: pa.Table) -> pa.Table:
    """Keep the first row of each (sensor_id, ts) in batch order."""
    if tbl.num_rows < 2 or _strictly_ordered(tbl):
        return tbl
    key = _reading_keys(tbl)
    if key is None:  # the batch spans too long a time to pack its keys: hash instead
        return _dedupe_by_group_by(tbl)
    # Sorting one int64 column (and comparing neighbours) is ~6x faster than grouping
    # by (string, timestamp), and the usual batch has no repeats at all.
    ordered = np.sort(key)
    if not (ordered[1:] == ordered[:-1]).any():
        return tbl
    _, first = np.unique(key, return_index=True)  # index of each key's first row
    first.sort()
    return tbl.take(first)


def _strictly_ordered(tbl: pa.Table) -> bool:
    """True if the rows are strictly increasing in (ts, sensor_id) or (sensor_id, ts):
    then no key repeats. Exports and gateway batches usually come so ordered, and
    comparing neighbours is ~4x cheaper than hashing the ids to look for repeats."""
    ids = tbl.column("sensor_id").combine_chunks()
    ts = tbl.column("ts").combine_chunks()
    if ids.null_count or ts.null_count:
        return False
    a_id, b_id, a_ts, b_ts = ids[:-1], ids[1:], ts[:-1], ts[1:]
    for major, minor in (((a_ts, b_ts), (a_id, b_id)), ((a_id, b_id), (a_ts, b_ts))):
        if not pc.all(pc.less_equal(*major)).as_py():
            continue
        tie_ok = pc.or_(pc.less(*major), pc.less(*minor))
        if pc.all(tie_ok).as_py():
            return True
    return False


def _reading_keys(tbl: pa.Table) -> np.ndarray | None:
    """One int64 per row, equal exactly when (sensor_id, ts) is; None if it overflows."""
    if tbl.column("sensor_id").null_count or tbl.column("ts").null_count:
        return None
    codes = pc.dictionary_encode(tbl.column("sensor_id").combine_chunks())
    n_ids = len(codes.dictionary)
    ts = tbl.column("ts").combine_chunks().cast(pa.int64()).to_numpy()
    lo, hi = int(ts.min()), int(ts.max())
    if (hi - lo + 1) * n_ids >= 2**62:
        return None
    ids = codes.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return (ts - lo) * n_ids + ids


def _dedupe_by_group_by(tbl: pa.Table) -> pa.Table:
    indexed = tbl.append_column("_row", pa.array(np.arange(tbl.num_rows), pa.int64()))
    firsts = indexed.group_by(["sensor_id", "ts"], use_threads=False).aggregate([("_row", "min")])
    if firsts.num_rows == tbl.num_rows:
        return tbl
    keep = pc.sort_indices(firsts.column("_row_min"))
    return tbl.take(pc.take(firsts.column("_row_min"), keep))


def insert_readings(store: Store, tbl: pa.Table) -> InsertReport:
    """Store the readings not stored yet; hooks see exactly those, in the same transaction."""
    batch = dedupe_batch(normalise_readings(tbl))
    with store.write() as w:
        new_rows = w._insert_new_readings(batch)
        for hook in store.readings_hooks:
            if new_rows.num_rows:
                hook(w, new_rows)
    return InsertReport(inserted=new_rows.num_rows, duplicates=tbl.num_rows - new_rows.num_rows)


def _storable(row: QuarantineRow) -> tuple[list[str | None], str | None]:
    """The row's text columns, each holding NUL or a lone surrogate escaped
    (``escape_text``): PostgreSQL refuses NUL in text and neither engine can encode a
    surrogate. The second value names the escaped columns (``unescape_text`` them)."""
    texts = [getattr(row, c) for c in _QUARANTINE_TEXT]
    marked = [t is not None and needs_escape(t) for t in texts]
    if not any(marked):
        return texts, None
    out = [escape_text(t) if m else t for t, m in zip(texts, marked, strict=True)]  # type: ignore[arg-type]
    return out, ",".join(c for c, m in zip(_QUARANTINE_TEXT, marked, strict=True) if m)


def insert_quarantine(store: Store, rows: Sequence[QuarantineRow]) -> int:
    """Keep rows ingest refused, with where they came from and why; rows stored.

    Joins the caller's write transaction when there is one (``Store.write_batch``).
    """
    if not rows:
        return 0
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        if row.received_at is not None and row.received_at.tzinfo is None:
            raise InvalidInput(f"quarantine row from {row.source} has a naive received_at; use UTC")
    columns: dict[str, list[object]] = {c: [] for c in _QUARANTINE_TEXT}
    escaped: list[str | None] = []
    for row in rows:
        texts, flag = _storable(row)
        for c, t in zip(_QUARANTINE_TEXT, texts, strict=True):
            columns[c].append(t)
        escaped.append(flag)
    tbl = pa.table(
        {
            "received_at": [r.received_at or now for r in rows],
            **columns,
            "escaped": escaped,
            "raw_bytes": [r.raw_bytes for r in rows],
        },
        schema=QUARANTINE_SCHEMA,
    )
    with store.write() as w:
        return w.append_arrow("quarantine", tbl)
