"""Data carried between the ingest stages: raw candidate rows, rejections, reports.

A ``RawBatch`` holds the four reading fields as columns exactly as they arrived (Python
lists from JSON, Arrow arrays from CSV/Parquet) plus two lazy lookups — where row ``i``
came from and its raw text — that are only called for rejected rows, so the clean path
never formats a string per row.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

FIELDS: tuple[str, ...] = ("sensor_id", "ts", "temp_c", "humidity_pct")

# The table insert_readings accepts (docs/interfaces.md §3).
READINGS_SCHEMA = pa.schema(
    [
        pa.field("sensor_id", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("temp_c", pa.float64(), nullable=False),
        pa.field("humidity_pct", pa.float64(), nullable=True),
    ]
)

Column = Sequence[Any] | pa.Array | pa.ChunkedArray


@dataclass
class RawBatch:
    """Candidate readings before validation; ``columns`` maps each of FIELDS to a column."""

    columns: dict[str, Column]
    source_of: Callable[[int], str]
    raw_of: Callable[[int], str]

    def __len__(self) -> int:
        # Every column has one value per row; readings lead with sensor_id, other
        # kinds (telemetry) with their own key column.
        return len(next(iter(self.columns.values()), ()))

    @classmethod
    def empty(cls, fields: Sequence[str] = FIELDS) -> RawBatch:
        return cls({f: [] for f in fields}, lambda i: "", lambda i: "")

    @classmethod
    def concat(cls, batches: Sequence[RawBatch]) -> RawBatch:
        """Join batches whose columns are Python lists (the MQTT and HTTP case)."""
        fields = tuple(batches[0].columns) if batches else FIELDS
        batches = [b for b in batches if len(b)]
        if len(batches) == 1:
            return batches[0]
        if not batches:
            return cls.empty(fields)
        columns: dict[str, list[Any]] = {f: [] for f in fields}
        starts: list[int] = []
        total = 0
        for b in batches:
            starts.append(total)
            total += len(b)
            for f in fields:
                col = b.columns[f]
                columns[f].extend(col.to_pylist() if hasattr(col, "to_pylist") else col)

        def locate(i: int) -> tuple[RawBatch, int]:
            k = bisect.bisect_right(starts, i) - 1
            return batches[k], i - starts[k]

        def source_of(i: int) -> str:
            b, j = locate(i)
            return b.source_of(j)

        def raw_of(i: int) -> str:
            b, j = locate(i)
            return b.raw_of(j)

        return cls(columns, source_of, raw_of)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rejection:
    """One input row (or unparseable line) that goes to quarantine, and why."""

    source: str
    reason: str
    raw: str
    sensor_id: str | None = None
    ts_text: str | None = None
    # The exact input bytes when ``raw`` cannot show them (a line that did not decode:
    # ``raw`` then shows undecodable bytes as \xNN escapes).
    raw_bytes: bytes | None = None


@dataclass
class IngestReport:
    """What happened to one ingest call (or one file, or one MQTT batch)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0  # rows (or unparseable lines/bodies) put in quarantine
    dead_lettered: int = 0  # messages, bodies or chunks whose processing raised
    reasons: list[str] = field(default_factory=list)  # a sample, at most REASON_SAMPLE
    dead_letter_ids: list[int] = field(default_factory=list)

    REASON_SAMPLE = 20

    @property
    def balanced(self) -> bool:
        """The ingest invariant: every input is stored, a duplicate, quarantined or a
        dead letter (a dead-lettered message counts once, whatever it held)."""
        return self.received == (self.stored + self.duplicates + self.rejected + self.dead_lettered)

    def summary(self) -> str:
        """One line that shows the invariant, e.g. for a CLI summary."""
        ok = "=" if self.balanced else "≠"
        return (
            f"received {self.received} {ok} stored {self.stored} + duplicates "
            f"{self.duplicates} + quarantined {self.rejected} + dead-lettered "
            f"{self.dead_lettered}"
        )

    def add(self, other: IngestReport) -> None:
        self.received += other.received
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.dead_lettered += other.dead_lettered
        keep = max(0, 100 - len(self.dead_letter_ids))  # ids of a long MQTT run: a sample
        self.dead_letter_ids.extend(other.dead_letter_ids[:keep])
        room = self.REASON_SAMPLE - len(self.reasons)
        if room > 0:
            self.reasons.extend(other.reasons[:room])

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "dead_lettered": self.dead_lettered,
            "reasons": list(self.reasons),
            "dead_letter_ids": list(self.dead_letter_ids),
        }


def json_text(obj: Any) -> str:
    """Compact JSON for a raw row kept in quarantine (never fails: falls back to repr)."""
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate: keep it as a \u escape
                return json.dumps(obj, separators=(",", ":"))
        return text
    except (TypeError, ValueError, RecursionError):
        try:
            return repr(obj)[:65536]
        except (RecursionError, ValueError):  # nested too deep even for repr
            return f"<{type(obj).__name__} nested too deeply to show>"
