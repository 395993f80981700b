"""File ingest: CSV, Parquet, NDJSON and JSON, streamed in chunks, format by suffix.

Every chunk is validated and stored as one transaction, so memory stays flat for files
of any size. CSV lines are tracked by their physical line number (header = line 1) so a
refused row is quarantined as ``file:<name>:<line>`` with the line's text; Parquet rows
by their 1-based row number. CSV holds one reading per line (``csv_lines.py`` says how
broken lines are found and quarantined). Text files are UTF-8 or GB18030, detected or
given (``encoding.py``). ``.gz`` is read transparently.

A file that cannot be read as its format at all (empty, no header, not Parquet, missing
columns) raises ``InvalidInput`` before anything of it is stored; a file that becomes
unreadable part way (a truncated ``.gz``, a corrupt Parquet row group) keeps what was
stored and counts the unreadable rest as one quarantined item.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from collections.abc import Iterator
from contextlib import closing
from itertools import chain
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from nuanliu.errors import InvalidInput
from nuanliu.ingest import encoding as enc
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.csv_lines import REQUIRED, csv_chunks, line_blocks, to_utf8
from nuanliu.ingest.model import FIELDS, IngestReport, RawBatch, Rejection, json_text
from nuanliu.ingest.parse import parse_json, parse_ndjson, split_lines

__all__ = ["csv_chunks", "detect_format", "ingest_file"]

CHUNK_BYTES = 8 << 20  # ~200k CSV readings per transaction
PARQUET_BATCH_ROWS = 200_000
NDJSON_MAX_LINE = 16 << 20  # one NDJSON line may be a big gateway batch
MAX_JSON_BYTES = 256 << 20  # a .json file is one document, parsed in memory
# What a file that breaks part way raises while it is read (not while it is stored).
READ_ERRORS = (pa.ArrowException, OSError, EOFError, zlib.error, ValueError)
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
    ingestor: Ingestor,
    path: Path | str,
    *,
    chunk_bytes: int = CHUNK_BYTES,
    encoding: str = "auto",
) -> IngestReport:
    """Ingest one file; ``InvalidInput`` if it cannot be read as its format at all.

    ``encoding`` (text formats): ``auto`` (UTF-8 or GB18030, see ``encoding.py``),
    ``utf-8`` or ``gb18030``.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", details={"path": str(path)})
    fmt = detect_format(path)
    encoding = enc.check_encoding(encoding)
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path}: empty file (0 bytes)", details={"path": str(path)})
    source = f"file:{path.name}"
    report = IngestReport()
    # The read-ahead closes first (it waits for its reader thread), then the file.
    with (
        _open(path) as fh,
        closing(
            checked_ahead(ingestor, _chunks(ingestor, fh, path, fmt, source, chunk_bytes, encoding))
        ) as ahead,
    ):
        done = 0
        while True:
            try:
                item, checked = next(ahead)
            except StopIteration:
                break
            except InvalidInput:
                if done:
                    raise InvalidInput(
                        f"{path}: unreadable after {report.received} item(s) were taken"
                    ) from None
                raise
            except READ_ERRORS as exc:
                what = f"{type(exc).__name__}: {exc}"[:500]
                if not done:
                    raise InvalidInput(
                        f"{path}: not a readable {fmt.upper()} file ({what})",
                        details={"path": str(path)},
                    ) from exc
                # Part of the file is stored: the unreadable rest is one quarantined item.
                rest = Rejection(source, f"the rest of the file is unreadable: {what}", "")
                fields = getattr(ingestor, "fields", FIELDS)
                report.add(ingestor.ingest(RawBatch.empty(fields), [rest]))
                break
            report.add(commit_or_ingest(ingestor, item, checked))
            done += 1
    return report


def _chunks(
    ingestor: Ingestor,
    fh: IO[bytes],
    path: Path,
    fmt: str,
    source: str,
    chunk_bytes: int,
    encoding: str,
) -> Iterator[tuple[RawBatch, list[Rejection]]]:
    # An ingestor of another kind (telemetry) reads its files its own way; stand-ins
    # without the hooks (tests of the parsers) read readings.
    if fmt == "parquet":
        return _hook(ingestor, "parquet_chunks", parquet_chunks)(path, source)
    if fmt == "json":
        return _json_chunks(ingestor, fh, path, source, encoding)
    if fmt == "ndjson":
        return _ndjson_chunks(ingestor, fh, source, chunk_bytes, encoding)
    delimiter = "\t" if fmt == "tsv" else ","
    return _hook(ingestor, "csv_chunks", csv_chunks)(fh, source, delimiter, chunk_bytes, encoding)


def _hook(ingestor: Any, name: str, default: Any) -> Any:
    return getattr(ingestor, name, None) or default


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


def _strip_bom(data: bytes) -> bytes:
    return data.removeprefix(codecs.BOM_UTF8)


def _json_chunks(
    ingestor: Ingestor, fh: IO[bytes], path: Path, source: str, encoding: str
) -> Iterator[tuple[RawBatch, list[Rejection]]]:
    yield _json_document(ingestor, fh, path, source, encoding)  # read when asked: in order


def _json_document(
    ingestor: Ingestor, fh: IO[bytes], path: Path, source: str, encoding: str
) -> tuple[RawBatch, list[Rejection]]:
    data = fh.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise InvalidInput(
            f"{path}: a JSON document larger than {MAX_JSON_BYTES >> 20} MiB; "
            "send NDJSON (one reading or batch per line) instead"
        )
    if encoding == "auto":
        encoding = enc.detect(data[: 8 << 20])
    if encoding != "utf-8" and enc.decode_problem(data, encoding) is None:
        data = data.decode(encoding).encode("utf-8")
    return _hook(ingestor, "parse_json", parse_json)(data, source)  # drops a BOM


def _ndjson_chunks(
    ingestor: Ingestor, fh: IO[bytes], source: str, chunk_bytes: int, encoding: str
) -> Iterator[tuple[RawBatch, list[Rejection]]]:
    blocks = line_blocks(fh, chunk_bytes, 1, NDJSON_MAX_LINE)
    first = next(blocks, None)
    if first is None:
        return
    if encoding == "auto":
        encoding = enc.detect(first[1])
    for first_line, data, overlong, _ in chain([first], blocks):
        data, rejected = to_utf8(data, first_line, source, encoding)
        if first_line == 1:
            data = _strip_bom(data)
        for no, head in overlong:
            rejected.append(
                Rejection(
                    f"{source}:{no}",
                    f"line {no} is longer than {NDJSON_MAX_LINE >> 20} MiB",
                    enc.escaped(head, encoding) + "…[truncated]",
                )
            )
        acc = _hook(ingestor, "parse_ndjson", parse_ndjson)(split_lines(data, first_line), source)
        acc.rejected.extend(rejected)
        yield acc.build(), acc.rejected


# ------------------------------------------------------------------------ Parquet


def parquet_chunks(path: Path, source: str) -> Iterator[tuple[RawBatch, list[Rejection]]]:
    try:
        pf = pq.ParquetFile(path)
        names = pf.schema_arrow.names
    except READ_ERRORS as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from exc
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
        columns = {f: _utf8_checked(rb.column(f)) if f in present else pa.nulls(n) for f in FIELDS}
        # Wrong-typed or unreadable values are refused row by row by validation.
        yield RawBatch(columns, _row_source(source, base), _row_raw(rb)), []
        base += n


def _utf8_checked(col: pa.Array) -> Any:
    """A Parquet string column as is if valid UTF-8 (the reader does not check), else a
    list with each undecodable value as ``bytes`` — refused by validation with its type."""
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        return col
    try:
        col.validate(full=True)
        return col
    except pa.ArrowInvalid:
        pass
    out: list[Any] = []
    for v in col.cast(pa.binary() if pa.types.is_string(col.type) else pa.large_binary()):
        b = v.as_py()
        try:
            out.append(None if b is None else b.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(b)
    return out


def _row_source(source: str, base: int) -> Any:
    return lambda i: f"{source}:{base + i + 1}"


def _row_raw(rb: pa.RecordBatch) -> Any:
    return lambda i: json_text({name: _cell(rb.column(name), i) for name in rb.schema.names})


def _cell(col: pa.Array, i: int) -> Any:
    """One Parquet value as plain JSON-able Python, never raising (ns, year 300000, ...)."""
    try:
        v = col[i].as_py()
    except (*READ_ERRORS, OverflowError):
        try:
            return str(_int_text(col, i))
        except (*READ_ERRORS, OverflowError):
            return f"<{col.type}>"
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    return v.isoformat() if hasattr(v, "isoformat") else v


def _int_text(col: pa.Array, i: int) -> Any:
    return f"{col.slice(i, 1).cast(pa.int64())[0].as_py()} ({col.type})"
