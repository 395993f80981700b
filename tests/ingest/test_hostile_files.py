"""The files half of the poison suite, on both engines: every hostile input beside valid
rows — the valid rows are stored, each bad one is quarantined with its line and a reason,
the run never dies, and ``received == stored + duplicates + quarantined`` holds."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.ingest.batch import ingestor_for
from nuanliu.ingest.files import ingest_file
from nuanliu.ingest.model import IngestReport
from nuanliu.store import Store

from .conftest import SENSORS

CORPUS = Path(__file__).parent / "corpus"
BASE_S = int((datetime.now(UTC) - timedelta(days=3)).timestamp())
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def balanced(rep: IngestReport) -> None:
    assert rep.received == rep.stored + rep.duplicates + rep.rejected, rep


def stored_keys(store: Store) -> set[tuple[str, int]]:
    """(sensor_id, epoch µs) of every stored reading."""
    with store.read() as q:
        rows = q.all("SELECT sensor_id, ts FROM readings", [])
    return {(s, (ts.astimezone(UTC) - EPOCH) // timedelta(microseconds=1)) for s, ts in rows}


def quarantine(store: Store) -> dict[str, tuple[str, str]]:
    with store.read() as q:
        rows = q.all("SELECT source, reason, raw FROM quarantine", [])
    return {source: (reason, raw) for source, reason, raw in rows}


def count(store: Store, table: str) -> int:
    with store.read() as q:
        return int(q.scalar(f"SELECT count(*) FROM {table}", []))


def good_line(i: int) -> str:
    return f"S{i % 1000:04d},{BASE_S + i},{15 + i % 10}.5"


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`nuanliu ingest ...` as its own process (PYTHONPATH is inherited)."""
    return subprocess.run(
        [sys.executable, "-c", "from nuanliu.cli import main; main()", "ingest", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "250", "NUANLIU_DB_URL": db_url},
    )


# ------------------------------------------------------------------------- CSV


def test_stray_quote_in_a_big_file_costs_one_line_cli(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """200,000 rows, a stray quote near the start: Arrow alone would read the rest of its
    block as one quoted field; every other valid row must be stored."""
    n = 200_000
    lines = ["sensor_id,ts,temp_c"] + [good_line(i) for i in range(n)]
    lines[12] = f'S0011,"{BASE_S + 11},15.5'  # line 13 of the file
    path = tmp_path / "stray.csv"
    path.write_text("\n".join(lines) + "\n")
    store.close()  # the CLI process opens the database itself (DuckDB: one writer)

    done = cli(db_url, str(path), "--db", db_url)

    assert done.returncode == 0, done.stderr + done.stdout
    assert f"received {n} == stored {n - 1} + duplicates 0 + quarantined 1" in done.stdout
    from nuanliu.store import open_store

    with open_store(db_url) as s:
        assert count(s, "readings") == n - 1
        q = quarantine(s)
        assert list(q) == ["file:stray.csv:13"]
        reason, raw = q["file:stray.csv:13"]
        assert reason.startswith("malformed CSV at line 13: a quoted field is not closed")
        assert raw == lines[12]
        assert ("S0011", (BASE_S + 11) * 10**6) not in stored_keys(s)
        assert ("S0012", (BASE_S + 12) * 10**6) in stored_keys(s)


def test_lone_cr_quoted_newline_and_field_counts_keep_line_numbers(
    store: Store, tmp_path: Path
) -> None:
    """CRLF endings, a lone CR inside a line, a quoted field spanning two lines, a short
    and a long row, a NUL and blank lines: each broken line is quarantined under its own
    physical line number with its own text."""
    rows = [good_line(i) for i in range(40)]
    body = [
        "sensor_id,ts,temp_c",  # 1
        *rows[:5],  # 2-6
        f"S0100,{BASE_S + 100}\r,20",  # 7: lone CR
        "",  # 8: blank
        f'S0101,"{BASE_S + 101}',  # 9: quoted field spanning to line 10
        '",20',  # 10
        *rows[5:10],  # 11-15
        f"S0102,{BASE_S + 102}",  # 16: a field short
        f"S0103,{BASE_S + 103},20,1",  # 17: a field too many
        f"S0104\x00,{BASE_S + 104},20",  # 18: NUL in the id → unknown sensor
        *rows[10:],  # 19-48
    ]
    path = tmp_path / "mixed.csv"
    path.write_bytes(("\r\n".join(body) + "\r\n").encode())

    rep = ingest_file(ingestor_for(store), path, chunk_bytes=256)

    balanced(rep)
    assert (rep.received, rep.stored, rep.rejected) == (46, 40, 6)
    assert count(store, "readings") == 40
    q = quarantine(store)
    assert set(q) == {f"file:mixed.csv:{n}" for n in (7, 9, 10, 16, 17, 18)}
    assert "carriage return" in q["file:mixed.csv:7"][0]
    assert q["file:mixed.csv:7"][1] == body[6]
    assert "quoted field is not closed" in q["file:mixed.csv:9"][0]
    assert q["file:mixed.csv:16"][0] == "malformed CSV at line 16: 2 field(s), expected 3"
    assert q["file:mixed.csv:17"][0] == "malformed CSV at line 17: 4 field(s), expected 3"
    assert q["file:mixed.csv:18"][0] == "unknown sensor S0104\\x00"


def test_epoch_units_wraparound_and_beyond_2_53(store: Store, tmp_path: Path) -> None:
    """Epoch seconds, ms, µs and ns are each read in their unit; the value that used to
    wrap to 2025 is read as ns (2043: in the future, refused); integers beyond 2^53
    are refused, never rounded."""
    t = BASE_S
    lines = [
        "sensor_id,ts,temp_c",
        f"S0001,{t},20",
        f"S0002,{t * 1000 + 123},20",
        f"S0003,{t * 10**6 + 123456},20",
        f"S0004,{t * 10**9 + 123456789},20",
        "S0005,2305844744903293952,20",
        f"S0006,{2**53 + 1},20",
        f"S0007,{t},{2**53 + 1}",
        "S0008,99999999999999999999999999,20",
        f"S0009,{t}.25,20",
    ]
    path = tmp_path / "units.csv"
    path.write_text("\n".join(lines) + "\n")

    rep = ingest_file(ingestor_for(store), path)

    balanced(rep)
    assert stored_keys(store) == {
        ("S0001", t * 10**6),
        ("S0002", t * 10**6 + 123_000),
        ("S0003", t * 10**6 + 123_456),
        ("S0004", t * 10**6 + 123_456),
        ("S0009", t * 10**6 + 250_000),
    }
    q = quarantine(store)
    assert "2043-01-26T00:25:44.903293+00:00 is" in q["file:units.csv:6"][0]
    assert "in the future" in q["file:units.csv:6"][0]
    assert q["file:units.csv:7"][0].startswith(f"ts={2**53 + 1} is not an epoch time")
    assert "beyond ±2^53" in q["file:units.csv:8"][0]
    assert "ts=99999999999999999999999999 is not an epoch time" in q["file:units.csv:9"][0]


def test_ts_unit_option_reads_every_number_in_that_unit(db_url: str, tmp_path: Path) -> None:
    from nuanliu.store import open_store

    from .conftest import register_sensors

    with open_store(db_url) as s:
        register_sensors(s, SENSORS[:3])
    path = tmp_path / "sec.csv"
    path.write_text(f"sensor_id,ts,temp_c\nS0001,{BASE_S},20\nS0002,{BASE_S * 1000},20\n")
    done = cli(db_url, "files", str(path), "--db", db_url, "--ts-unit", "ms")
    assert done.returncode == 0, done.stderr + done.stdout
    with open_store(db_url) as s:
        assert stored_keys(s) == {("S0002", BASE_S * 10**6)}
        ((reason, _),) = quarantine(s).values()
    assert "before 2000-01-01" in reason  # BASE_S read as ms is in January 1970


def test_gb18030_header_and_body_and_a_bad_byte(store: Store, tmp_path: Path) -> None:
    """A GB18030 file (Chinese header column and remarks) is read as GB18030; a line with
    a byte that is not GB18030 is quarantined naming the encoding, its bytes kept."""
    head = "sensor_id,ts,temp_c,备注\n".encode("gb18030")
    good = [f"{good_line(i)},客厅暖流{i}\n".encode("gb18030") for i in range(30)]
    bad = f"S0500,{BASE_S},20,".encode() + b"\x81\x20broken\n"
    path = tmp_path / "gb.csv"
    path.write_bytes(head + b"".join(good[:10]) + bad + b"".join(good[10:]))

    rep = ingest_file(ingestor_for(store), path)

    balanced(rep)
    assert (rep.stored, rep.rejected) == (30, 1)
    reason, raw = quarantine(store)["file:gb.csv:12"]
    assert reason.startswith("line 12 is not valid GB18030 at byte 21 (81)")
    assert raw == f"S0500,{BASE_S},20,\\x81 broken"


def test_utf8_bom_and_encoding_option(db_url: str, tmp_path: Path) -> None:
    from nuanliu.store import open_store

    from .conftest import register_sensors

    with open_store(db_url) as s:
        register_sensors(s, SENSORS[:10])
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + f"sensor_id,ts,temp_c,备注\nS0001,{BASE_S},20,好\n".encode())
    gb = tmp_path / "gb.csv"
    gb.write_bytes(f"sensor_id,ts,temp_c,备注\nS0002,{BASE_S},20,暖\n".encode("gb18030"))
    done = cli(db_url, str(bom), "--db", db_url)
    assert done.returncode == 0, done.stderr + done.stdout
    done = cli(db_url, str(gb), "--db", db_url, "--encoding", "gb18030")
    assert done.returncode == 0, done.stderr + done.stdout
    with open_store(db_url) as s:
        assert {k for k, _ in stored_keys(s)} == {"S0001", "S0002"}
    done = cli(db_url, str(gb), "--db", db_url, "--encoding", "latin-9")
    assert done.returncode == 2 and "not supported" in done.stdout


def test_binary_lines_inside_a_csv_are_quarantined_with_their_bytes(
    store: Store, tmp_path: Path
) -> None:
    junk = bytes(range(256)) * 3
    path = tmp_path / "bin.csv"
    path.write_bytes(
        b"sensor_id,ts,temp_c\n"
        + f"{good_line(1)}\n".encode()
        + junk.replace(b"\n", b"")
        + b"\n"
        + f"{good_line(2)}\n".encode()
    )
    rep = ingest_file(ingestor_for(store), path)
    balanced(rep)
    assert (rep.stored, rep.rejected) == (2, 1)
    reason, raw = quarantine(store)["file:bin.csv:3"]
    assert reason.startswith("line 3 is not valid UTF-8 at byte 128 (80)")
    assert "\\x80" in raw and "\\xff" in raw


def test_a_50_mb_line_is_skipped_not_loaded(store: Store, tmp_path: Path) -> None:
    """A 50 MB file that is one giant line between valid rows: streamed, the giant line
    quarantined (its first 64 KiB kept), the rows around it stored."""
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(b"sensor_id,ts,temp_c\n")
        fh.write("".join(good_line(i) + "\n" for i in range(5)).encode())
        for _ in range(50):
            fh.write(b"x" * (1 << 20))
        fh.write(b"\n")
        fh.write("".join(good_line(i) + "\n" for i in range(5, 10)).encode())
    assert path.stat().st_size > 50 << 20

    rep = ingest_file(ingestor_for(store), path)

    balanced(rep)
    assert (rep.received, rep.stored, rep.rejected) == (11, 10, 1)
    reason, raw = quarantine(store)["file:huge.csv:7"]
    assert "longer than 1048576 bytes" in reason
    assert len(raw) < 70_000 and raw.startswith("xxxx")


# ------------------------------------------------------------- whole files


def test_whole_file_failures_never_stop_a_run(db_url: str, tmp_path: Path) -> None:
    """Zero bytes, a header only, binary named .csv, garbage named .parquet, a truncated
    .gz: each is reported and counted; the good file after them is stored."""
    from nuanliu.store import open_store

    from .conftest import register_sensors

    with open_store(db_url) as s:
        register_sensors(s, SENSORS[:10])
    (tmp_path / "zero.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("sensor_id,ts,temp_c\n")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "junk.parquet").write_bytes(b"PAR1" + os.urandom(300))
    (tmp_path / "empty.ndjson").write_bytes(b"")
    (tmp_path / "good.csv").write_text(f"sensor_id,ts,temp_c\nS0001,{BASE_S},20\n")
    names = ["zero.csv", "header.csv", "binary.csv", "junk.parquet", "empty.ndjson", "good.csv"]

    done = cli(db_url, *(str(tmp_path / n) for n in names), "--db", db_url)

    out = done.stdout
    assert done.returncode == 1, out + done.stderr  # some files failed as a whole
    assert "zero.csv: empty file (0 bytes)" in out
    assert "file:binary.csv: CSV header lacks column(s) sensor_id, ts, temp_c" in out
    assert "junk.parquet: not a readable Parquet file" in out
    assert "empty.ndjson: empty file (0 bytes)" in out
    assert "received 1 == stored 1 + duplicates 0 + quarantined 0; 4 file(s) failed" in out
    with open_store(db_url) as s:
        assert count(s, "readings") == 1


def test_unreadable_files_raise_invalid_input(store: Store, tmp_path: Path) -> None:
    ing = ingestor_for(store)
    cases = {
        "zero.csv": b"",
        "binary.csv": bytes(range(256)) * 64,
        "cr_only.csv": b"sensor_id,ts,temp_c\rS0001,1763776800,20\r",
        "junk.parquet": b"PAR1" + bytes(300),
        "junk.csv.gz": b"\x1f\x8b" + bytes(100),
        "big.json": b"",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InvalidInput):
            ingest_file(ing, tmp_path / name)
    assert count(store, "readings") == count(store, "quarantine") == 0


# ----------------------------------------------------------------- NDJSON/JSON


def test_ndjson_poison_lines(store: Store, tmp_path: Path) -> None:
    """Deep nesting, NUL, binary, a huge integer, ns/µs epochs, NaN: one line each."""
    t = BASE_S
    lines = [
        f'{{"sensor_id":"S0001","ts":{t * 10**9},"temp_c":20}}'.encode(),  # 1 ns
        f'{{"sensor_id":"S0002","ts":{t * 10**6},"temp_c":20}}'.encode(),  # 2 µs
        b"[" * 3000 + b"]" * 3000,  # 3 deep
        b'{"sensor_id":"S0003","ts":\x00,"temp_c":20}',  # 4 NUL
        bytes(range(128, 256)),  # 5 binary
        f'{{"sensor_id":"S0004","ts":{t},"temp_c":{2**53 + 1}}}'.encode(),  # 6
        f'{{"sensor_id":"S0005","ts":{t},"temp_c":NaN}}'.encode(),  # 7
        b'{"sensor_id":"S0006","ts":' + b"9" * 5000 + b',"temp_c":20}',  # 8
        f'{{"sensor_id":"S0007","ts":{t},"temp_c":21}}'.encode(),  # 9 seconds
    ]
    path = tmp_path / "poison.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")

    rep = ingest_file(ingestor_for(store), path)

    balanced(rep)
    assert (rep.received, rep.stored, rep.rejected) == (9, 3, 6)
    assert stored_keys(store) == {("S0001", t * 10**6), ("S0002", t * 10**6), ("S0007", t * 10**6)}
    q = quarantine(store)
    assert "nested deeper than 1024 levels" in q["file:poison.ndjson:3"][0]
    assert q["file:poison.ndjson:4"][0].startswith("malformed JSON at line 4")
    assert q["file:poison.ndjson:5"][0].startswith("line 5 is not valid UTF-8 at byte 1 (80)")
    assert "beyond ±2^53" in q["file:poison.ndjson:6"][0]
    assert q["file:poison.ndjson:7"][0] == "temp_c=nan is not a finite number"
    assert "file:poison.ndjson:8" in q


# ------------------------------------------------------------------- Parquet


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_parquet_timestamps_of_every_unit(store: Store, tmp_path: Path, unit: str) -> None:
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    ticks = [(BASE_S + i) * per_s + (7 if unit != "s" else 0) for i in range(4)]
    tbl = pa.table(
        {
            "sensor_id": ["S0001", "S0002", "S0003", "S0004"],
            "ts": pa.array(ticks, pa.timestamp(unit, tz="UTC")),
            "temp_c": [20.0, 21.0, 22.0, 23.0],
        }
    )
    pq.write_table(tbl, tmp_path / "aware.parquet")
    naive = tbl.set_column(1, "ts", pa.array(ticks, pa.timestamp(unit)))
    pq.write_table(naive, tmp_path / "naive.parquet")
    ints = tbl.set_column(1, "ts", pa.array(ticks, pa.int64()))
    pq.write_table(ints, tmp_path / "ints.parquet")

    ing = ingestor_for(store)
    rep = ingest_file(ing, tmp_path / "aware.parquet")
    balanced(rep)
    assert rep.stored == 4
    expect = {(f"S000{i + 1}", tk * 10**6 // per_s) for i, tk in enumerate(ticks)}
    assert stored_keys(store) == expect
    rep = ingest_file(ing, tmp_path / "naive.parquet")
    balanced(rep)
    assert (rep.stored, rep.rejected) == (0, 4)
    assert "has no timezone" in quarantine(store)["file:naive.parquet:1"][0]
    rep = ingest_file(ing, tmp_path / "ints.parquet")  # integer epochs: unit by magnitude
    balanced(rep)
    assert rep.duplicates == 4 and stored_keys(store) == expect


def test_parquet_wrong_types_and_huge_instants(store: Store, tmp_path: Path) -> None:
    tbl = pa.table(
        {
            "sensor_id": pa.array(["S0001", "S0002", "S0003"]).dictionary_encode(),
            "ts": pa.array([BASE_S, 2**50, BASE_S + 1], pa.timestamp("s", tz="Asia/Shanghai")),
            "temp_c": pa.array([2**53 + 1, 20, 21], pa.int64()),
            "humidity_pct": pa.array([True, None, False]),
        }
    )
    pq.write_table(tbl, tmp_path / "odd.parquet")
    rep = ingest_file(ingestor_for(store), tmp_path / "odd.parquet")
    balanced(rep)
    assert (rep.stored, rep.rejected) == (0, 3)
    q = quarantine(store)
    assert "beyond ±2^53" in q["file:odd.parquet:1"][0]
    # Parquet keeps seconds as milliseconds.
    assert f"ts {2**50 * 1000} ms since 1970 is out of range" in q["file:odd.parquet:2"][0]
    assert "humidity_pct=False is a boolean" in q["file:odd.parquet:3"][0]


def test_corpus_files_never_raise(store: Store) -> None:
    """Inputs the fuzzers found (tests/ingest/corpus): each is read without an exception
    other than InvalidInput for a whole-file refusal, and the counts balance."""
    ing = ingestor_for(store)
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.suffix != ".md")
    assert files
    for path in files:
        with contextlib.suppress(InvalidInput):
            balanced(ingest_file(ing, path))


def test_truncated_gzip_keeps_what_was_read(store: Store, tmp_path: Path) -> None:
    """A .gz cut in half: the blocks before the cut are stored, the unreadable rest is one
    quarantined item, and the counts balance."""
    import gzip

    text = "sensor_id,ts,temp_c\n" + "".join(good_line(i) + "\n" for i in range(20_000))
    whole = gzip.compress(text.encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])

    rep = ingest_file(ingestor_for(store), path, chunk_bytes=16 << 10)

    balanced(rep)
    assert 0 < rep.stored < 20_000 and rep.rejected == 1
    assert count(store, "readings") == rep.stored
    ((reason, _),) = quarantine(store).values()
    assert reason.startswith("the rest of the file is unreadable: EOFError")


def test_a_50_mb_ndjson_line_is_refused_clearly(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "huge.ndjson"
    row = f'{{"sensor_id":"S0001","ts":{BASE_S * 1000},"temp_c":20}}\n'
    with path.open("wb") as fh:
        fh.write(row.encode())
        fh.write(b'{"sensor_id":"' + b"x" * (50 << 20) + b'"}\n')
        fh.write(row.replace("S0001", "S0002").encode())
    rep = ingest_file(ingestor_for(store), path)
    balanced(rep)
    assert (rep.received, rep.stored, rep.rejected) == (3, 2, 1)
    assert quarantine(store)["file:huge.ndjson:2"][0] == "line 2 is longer than 16 MiB"


def test_a_50_mb_json_file_is_one_clear_refusal_or_read(store: Store, tmp_path: Path) -> None:
    """50 MB JSON documents: broken at the very end → one quarantined body (its first
    64 KiB kept); valid gateway batch → every reading accounted for."""
    n = 600_000
    ids = ",".join(f'"S{i % 1000:04d}"' for i in range(n))
    tss = ",".join(str((BASE_S - n + i) * 1000) for i in range(n))
    body = f'{{"sensor_id":[{ids}],"ts":[{tss}],"temp_c":[{",".join(["20.5"] * n)}]}}'
    assert len(body) > 15 << 20
    pad = " " * ((50 << 20) - len(body))
    (tmp_path / "broken.json").write_text(body[:-1] + pad)  # the closing brace is missing
    (tmp_path / "batch.json").write_text(body + pad)

    ing = ingestor_for(store)
    rep = ingest_file(ing, tmp_path / "broken.json")
    balanced(rep)
    assert (rep.received, rep.rejected) == (1, 1)
    reason, raw = quarantine(store)["file:broken.json"]
    assert reason.startswith("malformed JSON at line 1")
    assert len(raw) < 70_000
    rep = ingest_file(ing, tmp_path / "batch.json")
    balanced(rep)
    assert rep.received == n and rep.rejected == 0
