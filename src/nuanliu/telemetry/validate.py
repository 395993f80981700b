"""Validate candidate telemetry rows: typed, finite, plausible, timely, known site and point.

The same checks as indoor readings (``ingest.validate``) with the same coercions and
the same reasons for time; the ranges come from ``points.POINTS``. Vectorised over the
batch; Python only formats the reasons of refused rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.ingest.coerce import TS_TYPE, coerce_float, coerce_string, coerce_ts
from nuanliu.ingest.model import RawBatch, Rejection
from nuanliu.ingest.validate import (
    Limits,
    ValidationResult,
    _printable,
    _text_or_none,
    flag_ts_window,
    keep_mask,
    row_rejections,
)
from nuanliu.telemetry.points import POINTS, SITE_KINDS

FIELDS: tuple[str, ...] = ("site_id", "ts", "point", "value")

TELEMETRY_SCHEMA = pa.schema(
    [
        pa.field("site_id", pa.string(), nullable=False),
        pa.field("point", pa.string(), nullable=False),
        pa.field("ts", TS_TYPE, nullable=False),
        pa.field("value", pa.float64(), nullable=False),
    ]
)

_NAMES = pa.array([p.name for p in POINTS], pa.string())
_MIN = np.array([p.min_value for p in POINTS], dtype=np.float64)
_MAX = np.array([p.max_value for p in POINTS], dtype=np.float64)
# allowed[k, j]: site kind k may report point j
_ALLOWED = np.array([[kind in p.kinds for p in POINTS] for kind in SITE_KINDS], dtype=bool)


def _fmt(x: float) -> str:
    return f"{x:g}".replace("-", "\u2212")


def _point_text(col: Any, i: int) -> str:
    name = _text_or_none(col, i)
    return _printable(name) if name else "point ?"


class KnownSites:
    """Cache of registered sites and their kinds; asks the store only about new ids."""

    def __init__(self, lookup: Callable[[list[str]], Iterable[tuple[str, str]]]) -> None:
        self._lookup = lookup
        self._lock = threading.Lock()
        self._kind: dict[str, str] = {}

    @classmethod
    def from_store(cls, store: Any) -> KnownSites:
        def lookup(ids: list[str]) -> list[tuple[str, str]]:
            found: list[tuple[str, str]] = []
            with store.read() as q:
                for start in range(0, len(ids), 1000):
                    chunk = ids[start : start + 1000]
                    marks = ", ".join("?" for _ in chunk)
                    found += q.all(
                        f"SELECT site_id, kind FROM tel_sites WHERE site_id IN ({marks})", chunk
                    )
            return found

        known = cls(lookup)
        with store.read() as q:
            known._kind = dict(q.all("SELECT site_id, kind FROM tel_sites"))
        return known

    def kinds(self, ids: pa.Array) -> np.ndarray:
        """Kind index (into SITE_KINDS) per row; -1 for an unknown or missing site."""
        uniq = [u for u in pc.unique(ids).to_pylist() if u is not None]
        unseen = [u for u in uniq if u not in self._kind and "\x00" not in u]
        if unseen:
            found = dict(self._lookup(unseen))
            with self._lock:
                self._kind.update(found)
        code = {u: SITE_KINDS.index(self._kind[u]) for u in uniq if u in self._kind}
        keys = pa.array(list(code), pa.string())
        vals = np.array(list(code.values()) + [-1], dtype=np.int64)
        idx = pc.index_in(ids, value_set=keys).to_numpy(zero_copy_only=False)
        idx = np.where(np.isnan(idx.astype(float)), len(code), idx).astype(np.int64)
        return vals[idx]


class TelemetryValidator:
    def __init__(
        self,
        known: KnownSites | None,
        limits: Limits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.known = known
        self.limits = limits or Limits()
        self.clock = clock

    def validate(self, batch: RawBatch, extra: Iterable[Rejection] = ()) -> ValidationResult:
        n = len(batch)
        rejected = list(extra)
        if n == 0:
            return ValidationResult(TELEMETRY_SCHEMA.empty_table(), rejected)
        lim = self.limits
        cols = batch.columns
        per_row: dict[int, list[str]] = {}

        def note(found: dict[int, str]) -> None:
            for i, text in found.items():
                per_row.setdefault(i, []).append(text)

        def flag(mask: Any, make: Callable[[int], str]) -> None:
            m = mask if isinstance(mask, np.ndarray) else pc.fill_null(mask, False).to_numpy(False)
            for i in np.flatnonzero(m):
                per_row.setdefault(int(i), []).append(make(int(i)))

        site_id, r = coerce_string(cols["site_id"], "site_id")
        note(r)
        point, r = coerce_string(cols["point"], "point")
        note(r)
        ts, r = coerce_ts(cols["ts"], lim.ts_unit)
        note(r)
        value, r = coerce_float(cols["value"], "value", required=True)
        # Name the point: a wide scan puts several values on one line.
        note({i: f"{_point_text(cols['point'], i)}: {text}" for i, text in r.items()})

        # Point: in the schema, and reported by a site of a kind that has it.
        j = pc.index_in(point, value_set=_NAMES).to_numpy(zero_copy_only=False)
        j_known = ~np.isnan(j.astype(float))
        jj = np.where(j_known, j, 0).astype(np.int64)
        pv = point
        flag(
            ~j_known
            & point.is_valid().to_numpy(False)
            & pc.fill_null(pc.not_equal(point, ""), False).to_numpy(False),
            lambda i: f"unknown point {_printable(pv[i].as_py())} (see docs/telemetry.md)",
        )
        vals = value.to_numpy(zero_copy_only=False)
        present = value.is_valid().to_numpy(False)
        flag(present & ~np.isfinite(vals), lambda i: f"value={vals[i]} is not a finite number")
        with np.errstate(invalid="ignore"):
            out = present & j_known & ((vals < _MIN[jj]) | (vals > _MAX[jj]))
        flag(
            out,
            lambda i: (
                f"{pv[i].as_py()}={vals[i]:g} out of range "
                f"{_fmt(_MIN[jj[i]])}…{_fmt(_MAX[jj[i]])} {POINTS[jj[i]].unit}"
            ),
        )
        flag_ts_window(flag, ts, lim, self.clock())
        if self.known is not None:
            kind = self.known.kinds(site_id)
            nonempty = pc.fill_null(pc.not_equal(site_id, ""), False).to_numpy(False)
            flag(
                (kind < 0) & nonempty,
                lambda i: f"unknown site {_printable(site_id[i].as_py())}",
            )
            wrong = (kind >= 0) & j_known & ~_ALLOWED[np.maximum(kind, 0), jj]
            flag(
                wrong,
                lambda i: (
                    f"point {pv[i].as_py()} does not apply to a {SITE_KINDS[kind[i]]} "
                    f"(site {_printable(site_id[i].as_py())})"
                ),
            )

        if per_row:
            rejected += row_rejections(batch, per_row, "site_id")
            keep = keep_mask(n, per_row)
            site_id, point, ts, value = (pc.filter(a, keep) for a in (site_id, point, ts, value))
        valid = pa.Table.from_arrays([site_id, point, ts, value], schema=TELEMETRY_SCHEMA)
        return ValidationResult(valid, rejected)
