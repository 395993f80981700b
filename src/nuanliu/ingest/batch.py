"""The Python batch API behind the HTTP endpoint (and the writer every transport shares).

``ingest_payload(store, body, content_type)`` takes a JSON, NDJSON or CSV body;
``ingest_rows(store, rows)`` takes already-parsed dicts. Valid rows are stored through
``Store.insert_readings`` (idempotent, hooks run in its transaction); refused rows go to
quarantine with where they came from and why; a body whose processing raises becomes
a dead letter (``ingest.deadletters``). Readings, quarantine rows and dead letters of one
call commit in one transaction (``Store.write_batch``). The counts always add up:
``received == stored + duplicates + rejected + dead_lettered``.
"""

from __future__ import annotations

import io
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from nuanliu.errors import InvalidInput
from nuanliu.ingest.deadletters import dead_letter_for, is_outage, reason_of
from nuanliu.ingest.model import FIELDS as FIELDS_ORDER
from nuanliu.ingest.model import READINGS_SCHEMA, IngestReport, RawBatch, Rejection, json_text
from nuanliu.ingest.parse import Accumulator, parse_json, parse_ndjson, split_lines
from nuanliu.ingest.validate import KnownSensors, Limits, ValidationResult, Validator
from nuanliu.store import DeadLetter, QuarantineRow, Store
from nuanliu.store.readings import InsertReport

JSON_TYPES = frozenset({"application/json", "text/json"})
NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
CSV_TYPES = frozenset({"text/csv", "application/csv"})


class Ingestor:
    """Validate and store batches for one store; keeps the known-sensor cache warm.

    The machinery (quarantine, dead letters, poison isolation, one transaction per
    batch) is the same for every kind of row; a subclass for another kind (telemetry)
    sets ``schema`` and ``fields``, gives its own ``validator`` and overrides
    ``store_rows`` and ``parse_message``.
    """

    schema: pa.Schema = READINGS_SCHEMA  # the valid rows a validation returns
    fields: tuple[str, ...] = FIELDS_ORDER  # the columns of a RawBatch of this kind

    def __init__(
        self,
        store: Store,
        *,
        limits: Limits | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.validator: Any = Validator(
            KnownSensors.from_store(store), limits, clock or (lambda: datetime.now(UTC))
        )

    def store_rows(
        self,
        valid: pa.Table,
        quarantine: Sequence[QuarantineRow],
        dead_letters: Sequence[DeadLetter],
    ) -> InsertReport:
        """Valid rows, quarantine rows and dead letters in one transaction."""
        return self.store.write_batch(valid, quarantine, dead_letters)

    def parse_message(self, payload: bytes, source: str) -> Accumulator:
        """One MQTT payload (or dead letter of one) as candidate rows."""
        from nuanliu.ingest.mqtt import parse_message

        return parse_message(payload, source)

    def empty_result(self, rejected: Sequence[Rejection] = ()) -> ValidationResult:
        return ValidationResult(self.schema.empty_table(), list(rejected))

    def parse_json(self, body: bytes | str, source: str) -> tuple[RawBatch, list[Rejection]]:
        return parse_json(body, source)

    def parse_ndjson(self, lines: Iterable[tuple[int, bytes]], source: str) -> Accumulator:
        return parse_ndjson(lines, source)

    def csv_chunks(
        self,
        fh: Any,
        source: str,
        delimiter: str = ",",
        chunk_bytes: int = 8 << 20,
        encoding: str = "auto",
    ) -> Iterator[tuple[RawBatch, list[Rejection]]]:
        """The batches of a CSV stream of this kind (``files.csv_chunks`` for readings)."""
        from nuanliu.ingest.files import csv_chunks

        return csv_chunks(fh, source, delimiter, chunk_bytes, encoding)

    def parquet_chunks(self, path: Any, source: str) -> Iterator[tuple[RawBatch, list[Rejection]]]:
        """The batches of a Parquet file of this kind."""
        from nuanliu.ingest.files import parquet_chunks

        return parquet_chunks(path, source)

    def ingest(
        self, batch: RawBatch, rejected: Iterable[Rejection] = (), *, transport: str = "file"
    ) -> IngestReport:
        """Store the valid rows of ``batch``; quarantine its refused rows and ``rejected``.

        Poison-safe, like ``check`` + ``commit``: rows whose checking or writing raises
        become dead letters, the rest is stored; a store outage propagates.
        """
        return self.commit(*self.check(batch, rejected), transport=transport)

    def validate(
        self, batch: RawBatch, rejected: Iterable[Rejection] = ()
    ) -> tuple[ValidationResult, int]:
        """Validate only (no writes), raising whatever the checks raise: the result and
        how many inputs it accounts for. For callers that isolate poison themselves
        (MQTT per message, HTTP per body, replay per letter)."""
        unparsed = list(rejected)  # each unparseable line or body counts as one received
        return self.validator.validate(batch, unparsed), len(batch) + len(unparsed)

    def check(
        self, batch: RawBatch, rejected: Iterable[Rejection] = ()
    ) -> tuple[ValidationResult, int]:
        """Validate only (no writes): the result and how many inputs it accounts for.

        Split from ``commit`` so file ingest can validate the next chunk while the store
        writes this one. Never raises for the input: a batch whose checks raise comes
        back as a ``Checked`` carrying the error, and ``commit`` then isolates its poison
        rows (a store outage still raises).
        """
        unparsed = list(rejected)
        try:
            result, received = self.validate(batch, unparsed)
        except Exception as exc:
            if is_outage(exc, self.store):
                raise
            return Checked(self.empty_result().valid, [], batch, unparsed, exc), len(batch) + len(
                unparsed
            )
        return Checked(result.valid, result.rejected, batch, unparsed), received

    def commit(
        self,
        result: ValidationResult,
        received: int,
        dead_letters: Sequence[DeadLetter] = (),
        *,
        transport: str = "file",
    ) -> IngestReport:
        """Write a checked batch — readings (and their hooks), quarantine rows and dead
        letters — in one transaction; each dead letter counts as one received input.

        For a ``Checked`` result (from ``check``): if its checks raised, or the store
        refuses the write while it is up, the batch is split in halves until the rows
        that raise are found; those become dead letters (one per row, or per part once
        ``ISOLATION_SPLITS`` halvings are spent) and the rest is stored. Any other
        failure propagates, nothing of the batch stored.
        """
        poisoned = isinstance(result, Checked) and result.error is not None
        if not poisoned:
            try:
                return self._write(result, received, dead_letters)
            except Exception as exc:
                if not isinstance(result, Checked) or is_outage(exc, self.store):
                    raise
                result = Checked(result.valid, [], result.batch, result.unparsed, exc)
        assert isinstance(result, Checked) and result.error is not None
        report = IngestReport()
        if dead_letters:
            report.add(self._write(self.empty_result(), 0, dead_letters))
        report.add(self._recover(result, transport))
        return report

    def _write(
        self, result: ValidationResult, received: int, dead_letters: Sequence[DeadLetter]
    ) -> IngestReport:
        ins = self.store_rows(
            result.valid, [_quarantine_row(r) for r in result.rejected], dead_letters
        )
        report = IngestReport(
            received=received + len(dead_letters),
            stored=ins.inserted,
            duplicates=ins.duplicates,
            rejected=len(result.rejected),
            dead_lettered=len(dead_letters),
            dead_letter_ids=list(ins.dead_letter_ids),
        )
        reasons = [reason_of(d) for d in dead_letters]
        reasons += [f"{r.source}: {r.reason}" for r in result.rejected]
        report.reasons = reasons[: report.REASON_SAMPLE]
        return report

    def _recover(self, result: Checked, transport: str) -> IngestReport:
        """A batch raised: quarantine its unparseable lines, isolate its poison rows."""
        assert result.error is not None
        report = IngestReport()
        rejected = result.unparsed
        if rejected:
            try:
                report.add(self._write(self.empty_result(rejected), len(rejected), ()))
            except Exception as exc:
                if is_outage(exc, self.store):
                    raise
                text = "\n".join(r.raw or "" for r in rejected)
                letter = dead_letter_for(
                    exc,
                    text.encode("utf-8", "surrogatepass"),
                    transport=transport,
                    source=rejected[0].source,
                    content_type="text/plain",
                )
                report.add(self.dead_letter(letter, count=len(rejected)))
        report.add(self._isolate(result.batch, result.error, transport, [ISOLATION_SPLITS]))
        return report

    def _isolate(
        self, batch: RawBatch, exc: BaseException, transport: str, splits: list[int]
    ) -> IngestReport:
        """``batch`` raised ``exc``: store what of it does not, dead-letter the rest."""
        n = len(batch)
        if n == 0:
            return IngestReport()
        if n == 1 or splits[0] <= 0:
            payload, content_type = batch_payload(batch)
            letter = dead_letter_for(
                exc,
                payload,
                transport=transport,
                source=_first_source(batch),
                content_type=content_type,
            )
            return self.dead_letter(letter, count=n)
        splits[0] -= 1
        report = IngestReport()
        mid = n // 2
        for part in (slice_batch(batch, 0, mid), slice_batch(batch, mid, n)):
            try:
                report.add(self._write(*self.validate(part), ()))
            except Exception as part_exc:
                if is_outage(part_exc, self.store):
                    raise
                report.add(self._isolate(part, part_exc, transport, splits))
        return report

    def dead_letter(self, letter: DeadLetter, count: int = 1) -> IngestReport:
        """Keep one input that could not be processed; it counts as ``count`` received
        and dead-lettered inputs (1 for a message or body, the rows of a file part)."""
        report = self._write(self.empty_result(), 0, [letter])
        report.received = report.dead_lettered = count
        return report

    def check_bytes(
        self, body: bytes, content_type: str, source: str
    ) -> tuple[ValidationResult, int]:
        """Parse and validate a JSON, NDJSON or CSV body; no writes, nothing caught.

        ``InvalidInput`` when the content type is not one of those or the body is not of
        its format at all (a CSV without its header).
        """
        kind = media_type(content_type)
        if kind in JSON_TYPES or kind.endswith("+json"):
            return self.validate(*self.parse_json(body, source))
        if kind in NDJSON_TYPES:
            acc = self.parse_ndjson(split_lines(body), source)
            return self.validate(acc.build(), acc.rejected)
        if kind in CSV_TYPES:
            checked = [self.validate(b, r) for b, r in self.csv_chunks(io.BytesIO(body), source)]
            return merge_results([c[0] for c in checked], self.schema), sum(c[1] for c in checked)
        raise InvalidInput(
            f"unsupported content type {content_type!r}; send application/json, "
            "application/x-ndjson or text/csv",
            details={"content_type": content_type},
        )

    def ingest_bytes(
        self, body: bytes, content_type: str, source: str, *, transport: str = "http"
    ) -> IngestReport:
        """``check_bytes`` then ``commit``; whatever raises (other than ``InvalidInput``
        for a body that is not of its format, and a store outage) makes the body a dead
        letter instead — one input, counted once."""
        try:
            result, received = self.check_bytes(body, content_type, source)
        except InvalidInput:
            raise
        except Exception as exc:
            return self.dead_letter_body(exc, body, content_type, source, transport)
        try:
            return self.commit(result, received)
        except Exception as exc:
            # The store refused what the checks let through (e.g. text PostgreSQL cannot
            # hold): keep the body for replay after a fix.
            return self.dead_letter_body(exc, body, content_type, source, transport)

    def dead_letter_body(
        self, exc: Exception, body: bytes, content_type: str, source: str, transport: str
    ) -> IngestReport:
        """The whole body as one dead letter; a store outage is re-raised, not poison."""
        if is_outage(exc, self.store):
            raise exc
        letter = dead_letter_for(
            exc, body, transport=transport, source=source, content_type=content_type
        )
        return self.dead_letter(letter)


ISOLATION_SPLITS = 256  # halvings spent per batch to find its poison rows


@dataclass
class Checked(ValidationResult):
    """What ``Ingestor.check`` returns: the result plus what ``commit`` needs to isolate
    poison rows — the batch, its unparseable lines, and the error if the checks raised."""

    batch: RawBatch = field(default_factory=RawBatch.empty)
    unparsed: list[Rejection] = field(default_factory=list)
    error: BaseException | None = None


def empty_result(rejected: Sequence[Rejection] = ()) -> ValidationResult:
    return ValidationResult(READINGS_SCHEMA.empty_table(), list(rejected))


def slice_batch(batch: RawBatch, lo: int, hi: int) -> RawBatch:
    """Rows ``lo:hi`` of ``batch`` (columns may be Python lists or Arrow arrays)."""
    columns = {
        f: c.slice(lo, hi - lo) if isinstance(c, pa.Array | pa.ChunkedArray) else c[lo:hi]
        for f, c in batch.columns.items()
    }
    return RawBatch(
        columns,  # type: ignore[arg-type]
        lambda i: batch.source_of(lo + i),
        lambda i: batch.raw_of(lo + i),
    )


def _first_source(batch: RawBatch) -> str:
    try:
        return batch.source_of(0)
    except Exception:
        return "unknown"


def batch_payload(batch: RawBatch) -> tuple[bytes, str]:
    """A dead-lettered part of a batch as bytes replay can parse, and its content type.

    Arrow columns (CSV, Parquet) as CSV text with a header; Python values (JSON) as
    NDJSON; failing both, the rows' raw text (``text/plain``: re-run the file instead).
    """
    names = tuple(batch.columns)  # readings: FIELDS; telemetry: its own columns
    cols = [batch.columns[f] for f in names]
    try:
        if all(isinstance(c, pa.Array | pa.ChunkedArray) for c in cols):
            import pyarrow.csv as pacsv

            tbl = pa.table(
                {
                    f: pa.chunked_array([c]) if isinstance(c, pa.Array) else c
                    for f, c in zip(names, cols, strict=True)
                }
            )
            tbl = tbl.cast(pa.schema([(f, pa.string()) for f in names]))
            buf = io.BytesIO()
            pacsv.write_csv(tbl, buf)
            return buf.getvalue(), "text/csv"
        if not any(isinstance(c, pa.Array | pa.ChunkedArray) for c in cols):
            lines = [
                json_text({f: c[i] for f, c in zip(names, cols, strict=True)})
                for i in range(len(batch))
            ]
            return "\n".join(lines).encode("utf-8", "surrogatepass"), "application/x-ndjson"
    except Exception:
        pass
    texts = []
    for i in range(len(batch)):
        try:
            texts.append(batch.raw_of(i))
        except Exception:
            texts.append(f"<row {i}: raw text unavailable>")
    return "\n".join(texts).encode("utf-8", "surrogatepass"), "text/plain"


def merge_results(
    results: Sequence[ValidationResult], schema: pa.Schema = READINGS_SCHEMA
) -> ValidationResult:
    """One ValidationResult of several (valid rows concatenated, rejections in order)."""
    if len(results) == 1:
        return results[0]
    tables = [r.valid for r in results if r.valid.num_rows]
    valid = pa.concat_tables(tables) if tables else schema.empty_table()
    return ValidationResult(valid, [rej for r in results for rej in r.rejected])


def _quarantine_row(r: Rejection) -> QuarantineRow:
    return QuarantineRow(
        source=r.source,
        reason=r.reason,
        raw=r.raw,
        sensor_id=r.sensor_id,
        ts_text=r.ts_text,
        raw_bytes=r.raw_bytes,  # parsers keep undecodable input's bytes
    )


_INGESTORS: weakref.WeakKeyDictionary[Store, Ingestor] = weakref.WeakKeyDictionary()


_INGESTORS_LOCK = threading.Lock()


def ingestor_for(store: Store) -> Ingestor:
    """The shared Ingestor of ``store`` (one sensor cache per open store)."""
    with _INGESTORS_LOCK:
        ing = _INGESTORS.get(store)
        if ing is None:
            ing = _INGESTORS[store] = Ingestor(store)
        return ing


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def ingest_payload(
    store: Store, body: bytes, content_type: str, source: str = "http", *, transport: str = "http"
) -> IngestReport:
    """Ingest one request body: JSON (reading, array, gateway batch), NDJSON or CSV.

    Raises ``InvalidInput`` only for an unsupported content type or a CSV body without
    its header; everything wrong inside the body is quarantined, and a body whose
    processing raises is kept as a dead letter — all counted in the report, committed in
    one transaction. A store outage propagates (``StoreError``).
    """
    return ingestor_for(store).ingest_bytes(body, content_type, source, transport=transport)


def ingest_rows(
    store: Store, rows: Iterable[Mapping[str, Any]], source: str = "python"
) -> IngestReport:
    """Ingest reading dicts (``sensor_id``, ``ts``, ``temp_c``, ``humidity_pct``)."""
    acc = Accumulator()
    acc.add([dict(r) for r in rows], source)
    return ingestor_for(store).ingest(acc.build(), acc.rejected, transport="python")
