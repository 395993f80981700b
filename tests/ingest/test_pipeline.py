"""File ingest reads and validates the next chunk while the store writes this one; what
is stored, counted and raised is what a chunk-after-chunk loop gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from nuanliu.errors import StoreError
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.coerce import coerce_float
from nuanliu.ingest.files import csv_chunks, ingest_file
from nuanliu.store import Store, Writer, open_store

from .conftest import SENSORS, register_sensors

BASE = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)


POISON_C = 33.25


def _csv(tmp_path: Path, rows: int, bad_every: int = 0, poison_row: int = -1) -> Path:
    lines = ["sensor_id,ts,temp_c,humidity_pct"]
    for i in range(rows):
        temp = 99.0 if bad_every and i % bad_every == 0 else 20.0 + i % 7
        temp = POISON_C if i == poison_row else temp
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


def _outcome(store: Store, run: Callable[[], object]) -> tuple[str, int, int]:
    try:
        run()
        raised = ""
    except StoreError as exc:
        raised = exc.message
    return raised, _count(store, "readings"), _count(store, "quarantine")


def test_a_failing_write_ends_as_in_a_chunk_after_chunk_loop(db_url: str, tmp_path: Path) -> None:
    """A write that fails whenever one row in the middle of the file is in it: the
    read-ahead ends the file exactly as `Ingestor.ingest` chunk after chunk does (raise,
    or isolate that row), and never writes the chunk it validated ahead out of turn."""
    path = _csv(tmp_path, 3_000, bad_every=500, poison_row=1_700)
    outcomes = []
    for pipelined in (True, False):
        with open_store(db_url) as store:
            with store.write() as w:
                w.execute("DELETE FROM readings")
                w.execute("DELETE FROM quarantine")
            if not _count(store, "sensors"):
                register_sensors(store, SENSORS)
            calls: list[int] = []

            def hook(w: Writer, new_rows: pa.Table, calls: list[int] = calls) -> None:
                calls.append(new_rows.num_rows)
                if pc.any(pc.equal(new_rows["temp_c"], POISON_C)).as_py():
                    raise StoreError("the store refuses this row (test)")

            store.add_readings_hook(hook)
            ing = Ingestor(store)
            if pipelined:
                run = partial(ingest_file, ing, path, chunk_bytes=32_768)
            else:

                def run(ing: Ingestor = ing) -> None:
                    with path.open("rb") as fh:
                        for item in csv_chunks(fh, f"file:{path.name}", ",", 32_768):
                            ing.ingest(*item)

            outcomes.append(_outcome(store, run))
    assert outcomes[0] == outcomes[1]
    raised, stored, _ = outcomes[0]
    assert 0 < stored < 3_000


@pytest.mark.parametrize(
    "values",
    [
        ["20.5", "21", "-3e1", ""],  # clean: the one-cast path
        ["20.5", "9007199254740993"],  # an integer beyond 2^53: refused, not rounded
        ["20.5", "nan(1)"],  # Arrow reads NaN; the reason shows the text
        ["20.5", " 21 ", "warm"],  # spaces and words: the checked path
    ],
)
def test_csv_floats_one_cast_path_refuses_what_the_checks_refuse(values: list[str]) -> None:
    """The fast path (one Arrow cast for a clean column) gives the values and reasons the
    per-value checks give."""
    got, reasons = coerce_float(pa.array(values), "temp_c", required=False)
    for i, text in enumerate(values):
        stripped = text.strip()
        if i in reasons or stripped == "":
            assert got[i].as_py() is None
        else:
            assert got[i].as_py() == float(stripped)
    if "9007199254740993" in values:
        assert "2^53" in reasons[values.index("9007199254740993")]
    if "warm" in values:
        assert "is not a number" in reasons[values.index("warm")]
    if "nan(1)" in values:
        assert values.index("nan(1)") in reasons
