"""File ingest: CSV, Parquet, NDJSON and JSON, streamed in chunks, format by suffix.

Every chunk is validated and stored as one transaction, so memory stays flat for files
of any size. CSV lines are tracked by their physical line number (header = line 1) so a
refused row is quarantined as ``file:<name>:<line>`` with the line's text; Parquet rows
by their 1-based row number. CSV holds one reading per line: quoted fields must not span
lines. ``.gz`` is read transparently.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from nuanliu.errors import InvalidInput
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.model import FIELDS, IngestReport, RawBatch, Rejection, json_text
from nuanliu.ingest.parse import parse_json, parse_ndjson, split_lines

CHUNK_BYTES = 8 << 20  # ~200k CSV readings per transaction
PARQUET_BATCH_ROWS = 200_000
REQUIRED = ("sensor_id", "ts", "temp_c")
FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
FORMATS |= {".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "json"}


def detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise InvalidInput(
            f"{path}: cannot tell the format from the suffix; use .csv, .tsv, .parquet, "
            ".ndjson/.jsonl or .json (optionally .gz)",
            details={"path": str(path)},
        )
    return fmt


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")
    return path.open("rb")


def ingest_file(
    ingestor: Ingestor, path: Path | str, *, chunk_bytes: int = CHUNK_BYTES
) -> IngestReport:
    """Ingest one file; ``InvalidInput`` if it cannot be read as its format at all."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"path": str(path)})
    fmt = detect_format(path)
    source = f"file:{path.name}"
    report = IngestReport()
    if fmt == "parquet":
        chunks = _parquet_chunks(path, source)
    elif fmt == "json":
        with _open(path) as fh:
            chunks = iter([parse_json(fh.read(), source)])
    else:
        chunks = None
    if chunks is not None:
        return _ingest_chunks(ingestor, chunks)
    with _open(path) as fh:
        if fmt == "ndjson":
            for first_line, data in _line_chunks(fh, chunk_bytes, 1):
                acc = parse_ndjson(split_lines(data, first_line), source)
                report.add(ingestor.ingest(acc.build(), acc.rejected))
        else:
            delimiter = "\t" if fmt == "tsv" else ","
            report = _ingest_chunks(ingestor, csv_chunks(fh, source, delimiter, chunk_bytes))
    return report


def _ingest_chunks(
    ingestor: Ingestor, chunks: Iterator[tuple[RawBatch, list[Rejection]]]
) -> IngestReport:
    report = IngestReport()
    with closing(checked_ahead(ingestor, chunks)) as ahead:
        for item, checked in ahead:
            report.add(commit_or_ingest(ingestor, item, checked))
    return report


Chunk = tuple[RawBatch, list[Rejection]]


def checked_ahead(
    ingestor: Ingestor, chunks: Iterator[Chunk]
) -> Iterator[tuple[Chunk, tuple[Any, int] | None]]:
    """Each chunk with its validation (None if validating raised), the next chunk being
    read and validated in a thread while the caller writes this one.

    Arrow, NumPy and the database drivers release the GIL, so parsing and validation
    overlap the writes (at most two chunks in memory). An error reading the file is
    raised here, in order, as a plain loop would raise it. Close the generator (e.g.
    ``contextlib.closing``) before closing the file: that waits for the reader thread.
    """
    from concurrent.futures import ThreadPoolExecutor

    def step() -> tuple[Chunk, tuple[Any, int] | None]:
        item = next(chunks)  # StopIteration and read errors travel through the future
        try:
            return item, ingestor.check(*item)
        except Exception:
            return item, None  # the caller's ingest() decides what to do with it

    with ThreadPoolExecutor(1, thread_name_prefix="nuanliu-read") as pool:
        pending = pool.submit(step)
        while True:
            try:
                item, checked = pending.result()
            except StopIteration:
                return
            pending = pool.submit(step)
            yield item, checked


def commit_or_ingest(ingestor: Ingestor, item: Chunk, checked: tuple[Any, int] | None) -> Any:
    """Write a chunk validated ahead; if that raised (rolled back), or validating it did,
    the chunk takes ``ingestor.ingest`` like any other, which reports or raises it."""
    if checked is not None:
        try:
            return ingestor.commit(*checked)
        except Exception:
            pass
    return ingestor.ingest(*item)


def ingest_csv_bytes(ingestor: Ingestor, body: bytes, source: str = "http") -> IngestReport:
    report = IngestReport()
    for batch, rejected in csv_chunks(io.BytesIO(body), source):
        report.add(ingestor.ingest(batch, rejected))
    return report


def _line_chunks(fh: IO[bytes], chunk_bytes: int, first_line: int) -> Iterator[tuple[int, bytes]]:
    """Blocks of whole lines and the number of each block's first line."""
    carry = b""
    line = first_line
    while True:
        block = fh.read(chunk_bytes)
        if not block:
            if carry:
                yield line, carry
            return
        data = carry + block
        cut = data.rfind(b"\n")
        if cut < 0:
            carry = data
            continue
        data, carry = data[: cut + 1], data[cut + 1 :]
        yield line, data
        line += data.count(b"\n")


# ---------------------------------------------------------------------------- CSV


def csv_chunks(
    fh: IO[bytes], source: str, delimiter: str = ",", chunk_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[RawBatch, list[Rejection]]]:
    header = fh.readline()
    if not header.strip():
        raise InvalidInput(f"{source}: empty CSV (no header line)")
    try:
        names = next(csv.reader([header.decode("utf-8-sig").strip("\r\n")], delimiter=delimiter))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source}: header line is not UTF-8") from exc
    names = [n.strip() for n in names]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(
            f"{source}: CSV header lacks column(s) {', '.join(missing)} "
            f"(found: {', '.join(names)})",
            details={"missing": missing, "found": names},
        )
    header_line = delimiter.join(f'"{n}"' for n in names).encode() + b"\n"
    present = [f for f in FIELDS if f in names]
    for first_line, data in _line_chunks(fh, chunk_bytes, 2):
        yield _parse_csv_block(
            data, first_line, header_line, present, len(names), source, delimiter
        )


def _parse_csv_block(
    data: bytes,
    first_line: int,
    header_line: bytes,
    present: list[str],
    n_columns: int,
    source: str,
    delimiter: str,
) -> tuple[RawBatch, list[Rejection]]:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Keep going with the bad bytes replaced; such a row then fails a check visibly.
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    buf = np.frombuffer(data, dtype=np.uint8)
    nl = np.flatnonzero(buf == 10)
    ends = nl if data.endswith(b"\n") else np.append(nl, len(data))
    starts = np.concatenate(([0], nl + 1))[: len(ends)]
    lines = np.arange(first_line, first_line + len(ends))
    # Strip a trailing CR so raw text and blank-line detection ignore Windows endings.
    has_cr = (ends > starts) & (buf[np.maximum(ends - 1, 0)] == 13)
    ends = ends - has_cr
    blank = ends == starts
    if blank.any():
        keep = ~blank
        starts, ends, lines = starts[keep], ends[keep], lines[keep]
        data = b"\n".join(data[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True))
        data += b"\n"
        # Offsets into the compacted block.
        lengths = ends - starts + 1
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        ends = starts + lengths - 1
    rejected: list[Rejection] = []
    bad_idx: list[int] = []

    def on_invalid(row: Any) -> str:
        k = row.number - 2  # header is row 1 of what arrow sees
        no = int(lines[k])
        bad_idx.append(k)
        rejected.append(
            Rejection(
                f"{source}:{no}",
                f"malformed CSV at line {no}: {row.actual_columns} field(s), "
                f"expected {row.expected_columns}",
                row.text,
            )
        )
        return "skip"

    tbl = pcsv.read_csv(
        io.BytesIO(header_line + data),
        read_options=pcsv.ReadOptions(
            use_threads=False, block_size=len(data) + len(header_line) + 1
        ),
        parse_options=pcsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
        convert_options=pcsv.ConvertOptions(
            column_types={f: pa.string() for f in present},
            include_columns=present,
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    rows = np.delete(np.arange(len(lines)), bad_idx) if bad_idx else np.arange(len(lines))
    n = tbl.num_rows
    if len(rows) != n:  # should not happen; never mislabel a row's line
        raise InvalidInput(f"{source}: could not map CSV rows to lines near line {first_line}")
    columns: dict[str, Any] = {
        f: tbl.column(f) if f in present else pa.nulls(n, pa.string()) for f in FIELDS
    }

    def source_of(i: int) -> str:
        return f"{source}:{int(lines[rows[i]])}"

    def raw_of(i: int) -> str:
        k = rows[i]
        return data[int(starts[k]) : int(ends[k])].decode("utf-8", errors="replace")

    return RawBatch(columns, source_of, raw_of), rejected


# ------------------------------------------------------------------------ Parquet


def _parquet_chunks(path: Path, source: str) -> Iterator[tuple[RawBatch, list[Rejection]]]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from exc
    names = pf.schema_arrow.names
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InvalidInput(
            f"{path}: Parquet file lacks column(s) {', '.join(missing)} "
            f"(found: {', '.join(names)})",
            details={"missing": missing, "found": names},
        )
    present = [f for f in FIELDS if f in names]
    base = 0
    for rb in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=present):
        n = rb.num_rows
        columns = {f: rb.column(f) if f in present else pa.nulls(n) for f in FIELDS}
        yield RawBatch(columns, _row_source(source, base), _row_raw(rb)), []
        base += n


def _row_source(source: str, base: int) -> Any:
    return lambda i: f"{source}:{base + i + 1}"


def _row_raw(rb: pa.RecordBatch) -> Any:
    return lambda i: json_text({k: _plain(v) for k, v in rb.slice(i, 1).to_pylist()[0].items()})


def _plain(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v
