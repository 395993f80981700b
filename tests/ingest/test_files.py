"""File ingest: CSV/TSV/Parquet/NDJSON/JSON by suffix, chunked, with exact line numbers."""

from __future__ import annotations

import gzip
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nuanliu.cli import app as nuanliu_app
from nuanliu.errors import InvalidInput
from nuanliu.ingest.batch import ingestor_for
from nuanliu.ingest.files import csv_chunks, ingest_file
from nuanliu.ingest.validate import Validator
from nuanliu.store import Store, open_store

from .conftest import SENSORS, register_sensors

BASE = (datetime.now(UTC) - timedelta(days=5)).replace(microsecond=0)


def count(store: Store, table: str) -> int:
    with store.read() as q:
        return int(q.scalar(f"SELECT count(*) FROM {table}", []))


def quarantine(store: Store) -> dict[str, tuple[str, str]]:
    with store.read() as q:
        return {
            s: (r, raw) for s, r, raw in q.all("SELECT source, reason, raw FROM quarantine", [])
        }


def test_csv_chunks_keep_physical_line_numbers(store: Store, tmp_path: Path) -> None:
    """Bad rows, blank lines and CRLF across many small chunks: every refused row is
    quarantined under its own line number with its own text; every good row is stored."""
    lines = ["sensor_id,ts,temp_c,humidity_pct"]
    bad: dict[int, str] = {}
    good = 0
    for i in range(3000):
        ts = (BASE + timedelta(minutes=i)).isoformat()
        if i % 97 == 5:
            lines.append(f"{SENSORS[i % 1000]},{ts},99.5,40")
            bad[len(lines)] = "temp_c=99.5 out of range −40…60 °C"
        elif i % 89 == 7:
            lines.append(f"{SENSORS[i % 1000]},{ts},20.0")
            bad[len(lines)] = "malformed CSV at line {n}: 3 field(s), expected 4"
        elif i % 101 == 3:
            lines.append("")
        else:
            lines.append(f"{SENSORS[i % 1000]},{ts},{15 + i % 10},{30 + i % 50}")
            good += 1
    path = tmp_path / "big.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())

    report = ingest_file(ingestor_for(store), path, chunk_bytes=4096)

    assert report.stored == good == count(store, "readings")
    assert report.rejected == len(bad)
    q = quarantine(store)
    assert set(q) == {f"file:big.csv:{n}" for n in bad}
    for n, reason in bad.items():
        got_reason, raw = q[f"file:big.csv:{n}"]
        assert got_reason == reason.format(n=n)
        assert raw == lines[n - 1]


def test_parquet_rows_and_naive_timestamps(store: Store, tmp_path: Path) -> None:
    ts = [BASE + timedelta(minutes=i) for i in range(6)]
    aware = pa.table(
        {
            "sensor_id": ["S0001", "S0002", "S0003", "S0004", "S0005", "S0006"],
            "ts": pa.array(ts, pa.timestamp("ms", tz="Asia/Shanghai")),
            "temp_c": [20.0, float("nan"), 21.0, -41.0, 22.0, 23.0],
            "humidity_pct": [40.0, 40.0, None, 40.0, 101.0, 40.0],
            "battery_v": [3.0] * 6,  # extra columns are ignored
        }
    )
    pq.write_table(aware, tmp_path / "a.parquet")
    naive = aware.set_column(1, "ts", pa.array([t.replace(tzinfo=None) for t in ts]))
    pq.write_table(naive, tmp_path / "n.parquet")

    ing = ingestor_for(store)
    rep = ingest_file(ing, tmp_path / "a.parquet")
    assert (rep.stored, rep.rejected) == (3, 3)
    q = quarantine(store)
    assert q["file:a.parquet:2"][0] == "temp_c=nan is not a finite number"
    assert q["file:a.parquet:4"][0] == "temp_c=-41 out of range −40…60 °C"
    assert q["file:a.parquet:5"][0] == "humidity_pct=101 out of range 0…100 %"
    assert json.loads(q["file:a.parquet:4"][1])["sensor_id"] == "S0004"

    rep = ingest_file(ing, tmp_path / "n.parquet")
    assert (rep.stored, rep.rejected) == (0, 6)
    naive_text = ts[0].replace(tzinfo=None).isoformat()
    assert quarantine(store)["file:n.parquet:1"][0] == f"ts {naive_text} has no timezone"


def test_ndjson_gz_and_json_files(store: Store, tmp_path: Path) -> None:
    rows = [
        {"sensor_id": SENSORS[i], "ts": (BASE + timedelta(minutes=i)).isoformat(), "temp_c": 20.0}
        for i in range(50)
    ]
    text = "\n".join(json.dumps(r) for r in rows) + "\n{broken\n"
    with gzip.open(tmp_path / "r.ndjson.gz", "wt") as fh:
        fh.write(text)
    (tmp_path / "r.json").write_text(json.dumps(rows))
    ing = ingestor_for(store)
    rep = ingest_file(ing, tmp_path / "r.ndjson.gz")
    assert (rep.received, rep.stored, rep.rejected) == (51, 50, 1)
    assert "file:r.ndjson.gz:51" in quarantine(store)
    rep = ingest_file(ing, tmp_path / "r.json")
    assert (rep.stored, rep.duplicates) == (0, 50)


def test_unusable_files_are_errors_not_silence(store: Store, tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("sensor,ts,temp\nS0001,2026-01-01T00:00:00Z,20\n")
    with pytest.raises(InvalidInput, match="lacks column.*sensor_id.*temp_c"):
        ingest_file(ingestor_for(store), tmp_path / "x.csv")
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        ingest_file(ingestor_for(store), tmp_path / "x.xlsx")
    assert count(store, "readings") == 0


def test_cli_both_forms(db_url: str, tmp_path: Path) -> None:
    with open_store(db_url) as s:
        register_sensors(s, SENSORS[:10])
    for k, name in enumerate(["one.csv", "two.tsv"]):
        sep = "\t" if name.endswith(".tsv") else ","
        ts = (BASE + timedelta(hours=k)).isoformat()
        (tmp_path / name).write_text(
            sep.join(["sensor_id", "ts", "temp_c"]) + "\n"
            + sep.join(["S0001", ts, "20.5"]) + "\n"
            + sep.join(["S0002", ts, "120"]) + "\n"
        )  # fmt: skip
    runner = CliRunner()
    first = runner.invoke(nuanliu_app, ["ingest", str(tmp_path / "one.csv"), "--db", db_url])
    assert first.exit_code == 0, first.output
    assert "temp_c=120 out of range" in first.output
    second = runner.invoke(
        nuanliu_app, ["ingest", "files", str(tmp_path / "two.tsv"), "--db", db_url, "--strict"]
    )
    assert second.exit_code == 1  # --strict: a refused row fails the command
    with open_store(db_url) as s:
        assert count(s, "readings") == 2
        assert count(s, "quarantine") == 2
    # `ingest mqtt` is the sub-command, not a file called "mqtt".
    bad = runner.invoke(nuanliu_app, ["ingest", "mqtt", "--url", "http://x", "--db", db_url])
    assert bad.exit_code == 1 and "expected mqtt://host:port" in bad.output


LINE_KINDS = st.sampled_from(["good", "short", "long", "blank", "badnum", "crlf"])


@settings(max_examples=40, deadline=None)
@given(st.lists(LINE_KINDS, min_size=1, max_size=60), st.integers(16, 400), st.booleans())
def test_csv_line_numbers_hold_for_any_layout_and_chunking(
    kinds: list[str], chunk: int, final_newline: bool
) -> None:
    """Whatever the mix of good, malformed and blank lines and wherever the chunks are cut,
    each refused row is reported under its own physical line with its own text."""
    ts = "2026-11-20T10:00:00Z"
    text = ["sensor_id,ts,temp_c"]
    expect_bad: dict[int, str] = {}
    good = 0
    for k, kind in enumerate(kinds):
        line = {
            "good": f"S{k},{ts},20",
            "short": f"S{k},{ts}",
            "long": f"S{k},{ts},20,1",
            "blank": "",
            "badnum": f"S{k},{ts},x{k}",
            "crlf": f"S{k},{ts},21\r",
        }[kind]
        text.append(line)
        n = len(text)
        if kind in ("good", "crlf"):
            good += 1
        elif kind != "blank":
            expect_bad[n] = line
    body = ("\n".join(text) + ("\n" if final_newline else "")).encode()
    checker = Validator(None)
    got_bad: dict[int, str] = {}
    stored = 0
    for batch, rejected in csv_chunks(io.BytesIO(body), "f", chunk_bytes=chunk):
        result = checker.validate(batch, rejected)
        stored += result.valid.num_rows
        for r in result.rejected:
            got_bad[int(r.source.rsplit(":", 1)[1])] = r.raw
    assert stored == good
    assert got_bad == expect_bad
