"""File ingest reads and validates the next chunk while the store writes this one; what
is stored, counted and raised is what a chunk-after-chunk loop gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from nuanliu.errors import StoreError
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.files import ingest_file
from nuanliu.store import Store, Writer

from .conftest import SENSORS

BASE = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)


def _csv(tmp_path: Path, rows: int, bad_every: int = 0) -> Path:
    lines = ["sensor_id,ts,temp_c,humidity_pct"]
    for i in range(rows):
        temp = 99.0 if bad_every and i % bad_every == 0 else 20.0 + i % 7
        ts = (BASE + timedelta(minutes=i // 1000)).isoformat()
        lines.append(f"{SENSORS[i % 1000]},{ts},{temp},{40 + i % 9}")
    path = tmp_path / "many.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _count(store: Store, table: str) -> int:
    with store.read() as q:
        return int(q.scalar(f"SELECT count(*) FROM {table}"))


def test_many_chunks_store_and_quarantine_everything_once(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path, 12_000, bad_every=101)
    report = ingest_file(Ingestor(store), path, chunk_bytes=16_384)  # ~30 chunks
    bad = len(range(0, 12_000, 101))
    assert (report.received, report.stored, report.rejected) == (12_000, 12_000 - bad, bad)
    assert _count(store, "readings") == 12_000 - bad
    with store.read() as q:
        lines = sorted(int(r[0].rsplit(":", 1)[1]) for r in q.all("SELECT source FROM quarantine"))
    assert lines == [i + 2 for i in range(0, 12_000, 101)]  # header is line 1


def test_a_failing_write_stops_the_file_at_that_chunk(store: Store, tmp_path: Path) -> None:
    """The chunk validated ahead is never written after an earlier chunk failed."""
    path = _csv(tmp_path, 6_000)
    calls: list[int] = []

    def hook(w: Writer, new_rows: pa.Table) -> None:
        calls.append(new_rows.num_rows)
        if len(calls) >= 3:
            raise StoreError("disk full (test)")

    store.add_readings_hook(hook)
    with pytest.raises(StoreError, match="disk full"):
        ingest_file(Ingestor(store), path, chunk_bytes=32_768)
    stored = _count(store, "readings")
    # Two chunks committed; the third rolled back (tried as validated ahead, then once
    # more through ingest(), which raises) and the one read ahead never written.
    assert stored == calls[0] + calls[1]
    assert 0 < stored < 6_000
    assert len(calls) == 4
