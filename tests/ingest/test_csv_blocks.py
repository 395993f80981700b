"""A big CSV file read in many blocks, with bad lines scattered through it: each bad line
is quarantined under its own physical line number with its reason, every other line is
stored, and a second run stores nothing twice — on both engines, through the typed
(Arrow-converted) fast path for clean blocks and the text and line-by-line paths for
the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from nuanliu.ingest.batch import ingestor_for
from nuanliu.ingest.csv_lines import count_lf, csv_chunks
from nuanliu.ingest.files import ingest_file
from nuanliu.store import Store

from .conftest import SENSORS

START = (datetime.now(UTC) - timedelta(days=3)).replace(second=0, microsecond=0)
N_LINES = 60_000
CHUNK = 256 << 10  # ~5,500 lines a block: ~11 blocks


def _ts(i: int) -> str:
    return (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _line(i: int) -> str:
    return f"{SENSORS[i % 1000]},{_ts(i)},{15 + i % 10}.5,{30 + i % 40}"


# Physical line (header = 1) -> (the line, the start of its reason). Spread over the
# file: the first and last data lines, the middle of blocks, around block boundaries.
BAD = {
    2: ("S0001,{ts},20.5", "malformed CSV at line 2: 3 field(s), expected 4"),
    7_001: ("S0002,{ts},20.5,40,extra", "malformed CSV at line 7001: 5 field(s), expected 4"),
    13_003: ("S0003,{ts},warm,40", "temp_c='warm' is not a number"),
    20_000: ("S0004,2026-11-22T10:00:00,20.5,40", "ts 2026-11-22T10:00:00 has no timezone"),
    25_000: ('S0005,"{ts},20.5,40', "malformed CSV at line 25000: a quoted field is not closed"),
    33_333: ("S0006,{ts},75.2,40", "temp_c=75.2 out of range"),
    41_000: ("S0007,{ts},20.5,1e400", "humidity_pct=inf is not a finite number"),
    47_777: ("NOSUCH,{ts},20.5,40", "unknown sensor NOSUCH"),
    N_LINES + 1: ("S0008,{ts},20.5,40,1,2", f"malformed CSV at line {N_LINES + 1}: 6 field(s)"),
}
BLANK = {10_000, 30_001}  # blank lines count for numbering and store nothing


def _write(path: Path) -> set[tuple[str, str]]:
    """The file; the (sensor_id, ts text) of every line that must be stored."""
    lines = ["sensor_id,ts,temp_c,humidity_pct"]
    good: set[tuple[str, str]] = set()
    for no in range(2, N_LINES + 2):
        i = no - 2
        if no in BAD:
            lines.append(BAD[no][0].format(ts=_ts(i)))
        elif no in BLANK:
            lines.append("")
        else:
            lines.append(_line(i))
            good.add((SENSORS[i % 1000], _ts(i)))
    path.write_text("\n".join(lines) + "\n\n")  # and a blank last line
    return good


def test_bad_lines_anywhere_in_a_big_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    good = _write(path)
    assert len(list(csv_chunks(path.open("rb"), "x", chunk_bytes=CHUNK))) > 8  # many blocks

    rep = ingest_file(ingestor_for(store), path, chunk_bytes=CHUNK)

    assert (rep.received, rep.stored, rep.rejected) == (len(good) + len(BAD), len(good), len(BAD))
    with store.read() as q:
        quarantined = dict(q.all("SELECT source, reason FROM quarantine", []))
        stored = {
            (s, ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            for s, ts in q.all("SELECT sensor_id, ts FROM readings", [])
        }
    assert set(quarantined) == {f"file:big.csv:{no}" for no in BAD}
    for no, (_, reason) in BAD.items():
        assert reason in quarantined[f"file:big.csv:{no}"], (no, quarantined[f"file:big.csv:{no}"])
    assert stored == good

    again = ingest_file(ingestor_for(store), path, chunk_bytes=CHUNK)
    assert (again.stored, again.duplicates, again.rejected) == (0, len(good), len(BAD))
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM readings", []) == len(good)


def test_count_lf() -> None:
    for data in (b"", b"no newline", b"a\nb\r\n\n", b"\n" * 1000):
        assert count_lf(data) == data.count(b"\n")
