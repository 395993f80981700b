"""The Python batch API behind the HTTP endpoint (and the writer every transport shares).

``ingest_payload(store, body, content_type)`` takes a JSON, NDJSON or CSV body;
``ingest_rows(store, rows)`` takes already-parsed dicts. Valid rows are stored through
``Store.insert_readings`` (idempotent, hooks run in its transaction); refused rows go to
quarantine with where they came from and why. The counts always add up:
``received == stored + duplicates + rejected``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from nuanliu.errors import InvalidInput
from nuanliu.ingest.model import IngestReport, RawBatch, Rejection
from nuanliu.ingest.parse import Accumulator, parse_json, parse_ndjson, split_lines
from nuanliu.ingest.validate import KnownSensors, Limits, ValidationResult, Validator
from nuanliu.store import QuarantineRow, Store

JSON_TYPES = frozenset({"application/json", "text/json"})
NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
CSV_TYPES = frozenset({"text/csv", "application/csv"})


class Ingestor:
    """Validate and store batches for one store; keeps the known-sensor cache warm."""

    def __init__(
        self,
        store: Store,
        *,
        limits: Limits | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.validator = Validator(
            KnownSensors.from_store(store), limits, clock or (lambda: datetime.now(UTC))
        )

    def ingest(self, batch: RawBatch, rejected: Iterable[Rejection] = ()) -> IngestReport:
        """Store the valid rows of ``batch``; quarantine its refused rows and ``rejected``."""
        return self.commit(*self.check(batch, rejected))

    def check(
        self, batch: RawBatch, rejected: Iterable[Rejection] = ()
    ) -> tuple[ValidationResult, int]:
        """Validate only (no writes): the result and how many inputs it accounts for.

        Split from ``commit`` so file ingest can validate the next chunk while the store
        writes this one.
        """
        unparsed = list(rejected)  # each unparseable line or body counts as one received
        return self.validator.validate(batch, unparsed), len(batch) + len(unparsed)

    def commit(self, result: ValidationResult, received: int) -> IngestReport:
        """Write a checked batch: readings first, then its quarantine rows."""
        report = IngestReport(received=received)
        if result.valid.num_rows:
            ins = self.store.insert_readings(result.valid)
            report.stored, report.duplicates = ins.inserted, ins.duplicates
        if result.rejected:
            # After the readings commit: a crash in between re-sends the message, the
            # readings dedupe and the quarantine rows are written then (at least once).
            self.store.insert_quarantine([_quarantine_row(r) for r in result.rejected])
        report.rejected = len(result.rejected)
        report.reasons = [
            f"{r.source}: {r.reason}" for r in result.rejected[: report.REASON_SAMPLE]
        ]
        return report


def _quarantine_row(r: Rejection) -> QuarantineRow:
    return QuarantineRow(
        source=r.source, reason=r.reason, raw=r.raw, sensor_id=r.sensor_id, ts_text=r.ts_text
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
    store: Store, body: bytes, content_type: str, source: str = "http"
) -> IngestReport:
    """Ingest one request body: JSON (reading, array, gateway batch), NDJSON or CSV.

    Raises ``InvalidInput`` only for an unsupported content type; everything wrong
    inside the body is quarantined and counted in the report.
    """
    kind = media_type(content_type)
    if kind in JSON_TYPES or kind.endswith("+json"):
        batch, rejected = parse_json(body, source)
    elif kind in NDJSON_TYPES:
        acc = parse_ndjson(split_lines(body), source)
        batch, rejected = acc.build(), acc.rejected
    elif kind in CSV_TYPES:
        from nuanliu.ingest.files import ingest_csv_bytes

        return ingest_csv_bytes(ingestor_for(store), body, source)
    else:
        raise InvalidInput(
            f"unsupported content type {content_type!r}; send application/json, "
            "application/x-ndjson or text/csv",
            details={"content_type": content_type},
        )
    return ingestor_for(store).ingest(batch, rejected)


def ingest_rows(
    store: Store, rows: Iterable[Mapping[str, Any]], source: str = "python"
) -> IngestReport:
    """Ingest reading dicts (``sensor_id``, ``ts``, ``temp_c``, ``humidity_pct``)."""
    acc = Accumulator()
    acc.add([dict(r) for r in rows], source)
    return ingestor_for(store).ingest(acc.build(), acc.rejected)
