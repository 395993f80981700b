"""Telemetry ingest over the readings machinery: files, MQTT and the HTTP API.

``TelemetryIngestor`` is an ``ingest.batch.Ingestor`` of another kind: the same
quarantine with reasons, dead letters, poison isolation, one transaction per batch and
``received = stored + duplicates + quarantined + dead-lettered``; it changes only what
a row is (``validate.FIELDS``), how rows are parsed, checked and stored.

Shapes accepted (JSON, NDJSON, MQTT payloads, API bodies):

- long: ``{"site_id": "HH045", "ts": "...+08:00", "point": "primary_supply_temp_c",
  "value": 92.4}``;
- wide (one controller scan): ``{"site_id": "HH045", "ts": "...", "primary_supply_temp_c":
  92.4, "primary_return_temp_c": 51.0, ...}`` — every key other than ``site_id``,
  ``ts`` and ``gateway_id`` is a point; each becomes one row;
- an array of either, or ``{"site_id": ..., "rows": [...]}`` whose rows inherit the
  site. On MQTT the site is the last topic level (``nuanliu/v1/telemetry/<site_id>``);
  a row naming another site is refused.

CSV / Parquet exports: wide (``site_id``, ``ts`` and one column per point) or long
(``site_id, ts, point, value``); an empty cell is "not measured" and yields no row.
A ``Profile`` maps a controller's own export (column names, units, local time) onto
the schema — ``PROFILES["kamstrup"]`` reads the Tartu substation series.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.errors import InvalidInput
from nuanliu.ingest.batch import Ingestor
from nuanliu.ingest.csv_lines import csv_chunks
from nuanliu.ingest.files import ingest_file
from nuanliu.ingest.model import IngestReport, RawBatch, Rejection, json_text
from nuanliu.ingest.parse import Accumulator, _clip, _kind, loads
from nuanliu.ingest.validate import Limits
from nuanliu.store.readings import InsertReport
from nuanliu.telemetry import store as tstore
from nuanliu.telemetry.validate import FIELDS, TELEMETRY_SCHEMA, KnownSites, TelemetryValidator

TOPIC_ROOT = "nuanliu/v1/telemetry"
META_KEYS = frozenset({"site_id", "ts", "gateway_id"})


@dataclass(frozen=True)
class Profile:
    """How a controller's export maps onto the schema.

    ``columns``: export column → (point, factor) — the value is multiplied by factor
    (e.g. l/h → m³/h is 0.001, MWh → GJ is 3.6). ``tz``: the zone of timestamps written
    without an offset (ambiguous hours at a DST change read as the earlier one).
    """

    name: str
    site_column: str | None
    ts_column: str
    columns: dict[str, tuple[str, float]]
    tz: str | None = None
    ts_format: str = "%Y-%m-%d %H:%M:%S"
    ignore: tuple[str, ...] = ()


PROFILES: dict[str, Profile] = {
    # Kamstrup MULTICAL hourly export as read by GREN Tartu (Estonia): cumulative MWh
    # and m³, flow in l/h, local time without an offset.
    "kamstrup": Profile(
        "kamstrup",
        site_column="METERID",
        ts_column="READ_DATE",
        tz="Europe/Tallinn",
        columns={
            "ENERGY": ("primary_heat_gj", 3.6),
            "VOLUME": ("primary_volume_m3", 1.0),
            "POWER1": ("primary_heat_kw", 1.0),
            "FLOW": ("primary_flow_m3_h", 0.001),
            "FLOW_TEMP": ("primary_supply_temp_c", 1.0),
            "RETURN_TEMP": ("primary_return_temp_c", 1.0),
            "HOT_WATER": ("dhw_temp_c", 1.0),
            "SEC_FLOW": ("secondary_supply_temp_c", 1.0),
            "SEC_RETURN": ("secondary_return_temp_c", 1.0),
        },
        ignore=("HOURS",),
    ),
}


# ------------------------------------------------------------------- JSON shapes


class TelemetryAccumulator(Accumulator):
    """Collects telemetry JSON values into long rows (``site_id, ts, point, value``).

    ``site`` (from an MQTT topic) fills rows without a site and refuses rows naming
    another one.
    """

    def __init__(self, site: str | None = None) -> None:
        super().__init__()
        self.site = site

    def add(self, value: Any, source: str, raw: str | None = None, depth: int = 0) -> None:
        if type(value) is list:
            for k, v in enumerate(value):
                if type(v) is dict:
                    self.add(v, source, None, depth)
                else:
                    self.rejected.append(
                        Rejection(
                            source,
                            f"array element {k} is {_kind(v)}, expected a telemetry object",
                            _clip(json_text(v)),
                        )
                    )
            return
        if type(value) is not dict:
            self.rejected.append(
                Rejection(
                    source,
                    f"payload is {_kind(value)}, expected a telemetry object or an array",
                    _clip(raw if raw is not None else json_text(value)),
                )
            )
            return
        text = raw if raw is not None else None
        if type(value.get("rows")) is list and "point" not in value:
            if depth >= 4:
                self.rejected.append(
                    Rejection(source, "row envelopes nested too deep", _clip(json_text(value)))
                )
                return
            site = value.get("site_id")
            for k, row in enumerate(value["rows"]):
                if type(row) is dict and site is not None and "site_id" not in row:
                    row = {"site_id": site, **row}
                if type(row) is dict:
                    self.add(row, f"{source}#{k}", None, depth + 1)
                else:
                    self.rejected.append(
                        Rejection(
                            source,
                            f"rows[{k}] is {_kind(row)}, expected a telemetry object",
                            _clip(json_text(row)),
                        )
                    )
            return
        site = value.get("site_id", self.site)
        if self.site is not None and "site_id" in value and value["site_id"] != self.site:
            self.rejected.append(
                Rejection(
                    source,
                    f"site_id {value['site_id']!r} differs from the topic's site {self.site!r}",
                    _clip(text if text is not None else json_text(value)),
                    sensor_id=str(value["site_id"])[:200],
                )
            )
            return
        if "point" in value or "value" in value:
            rec = {"site_id": site, "ts": value.get("ts"), "point": value.get("point")}
            rec["value"] = value.get("value")
            self._row(rec, source, text, value)
            return
        points = [k for k in value if k not in META_KEYS]
        if not points:
            self.rejected.append(
                Rejection(
                    source,
                    "telemetry object has no point: give point/value or one key per point",
                    _clip(text if text is not None else json_text(value)),
                )
            )
            return
        for k in points:
            self._row(
                {"site_id": site, "ts": value.get("ts"), "point": k, "value": value[k]},
                f"{source}:{k}",
                text,
                value,
            )

    def _row(self, rec: dict[str, Any], source: str, text: str | None, whole: Any) -> None:
        self.records.append(rec)
        self.sources.append(source)
        self.raws.append(text if text is not None else json_text(whole))

    def build(self) -> RawBatch:
        if not self.records:
            return RawBatch.concat([RawBatch.empty(FIELDS), *self.batches])
        recs, sources, raws = self.records, self.sources, self.raws
        columns = {f: [r.get(f) for r in recs] for f in FIELDS}

        def raw_of(i: int) -> str:
            return _clip(raws[i] or json_text(recs[i]))

        return RawBatch.concat([RawBatch(columns, sources.__getitem__, raw_of), *self.batches])


def parse_json(body: bytes | str, source: str, site: str | None = None) -> Any:
    acc = TelemetryAccumulator(site)
    try:
        value = loads(body)
    except ValueError as exc:
        text = body if isinstance(body, str) else body.decode("utf-8", "surrogateescape")
        return RawBatch.empty(FIELDS), [
            Rejection(source, f"malformed JSON payload: {exc}", _clip(text))
        ]
    acc.add(value, source)
    return acc.build(), acc.rejected


def parse_ndjson(lines: Iterable[tuple[int, bytes]], source: str) -> TelemetryAccumulator:
    acc = TelemetryAccumulator()
    for no, line in lines:
        if not line.strip():
            continue
        where = f"{source}:{no}"
        try:
            value = loads(line)
        except ValueError as exc:
            text = line.decode("utf-8", "surrogateescape")
            acc.rejected.append(Rejection(where, f"line {no}: malformed JSON: {exc}", _clip(text)))
            continue
        acc.add(value, where, line.decode("utf-8", "replace") if type(value) is dict else None)
    return acc


def site_of_topic(source: str) -> str | None:
    """``mqtt:nuanliu/v1/telemetry/HH045`` → ``HH045`` (None for other topics)."""
    topic = source.removeprefix("mqtt:")
    prefix = TOPIC_ROOT + "/"
    if topic.startswith(prefix) and "/" not in topic[len(prefix) :] and topic[len(prefix) :]:
        return topic[len(prefix) :]
    return None


# --------------------------------------------------------------- wide tables


def melt(
    tbl: pa.Table | dict[str, Any],
    source_of: Any,
    raw_of: Any,
    *,
    profile: Profile | None = None,
    site: str | None = None,
) -> tuple[RawBatch, list[Rejection]]:
    """A wide (or long) table of one file chunk → long candidate rows.

    Rows keep the source and raw text of their line; a line with no value at all is
    one rejection. Columns arrive as text (CSV) or typed (Parquet).
    """
    cols: dict[str, Any] = (
        dict(tbl.items()) if isinstance(tbl, dict) else {n: tbl.column(n) for n in tbl.column_names}
    )
    n = len(next(iter(cols.values()))) if cols else 0
    rejected: list[Rejection] = []
    site_col = profile.site_column if profile else "site_id"
    ts_col = profile.ts_column if profile else "ts"
    if site is not None:
        sites: Any = pa.array([site] * n, pa.string())
    elif site_col in cols:
        sites = cols[site_col]
        if not pa.types.is_string(sites.type):
            sites = pc.cast(sites, pa.string())
    else:
        raise InvalidInput(
            f"telemetry file has no {site_col} column; give the site (--site)",
            details={"missing": [site_col]},
        )
    ts = cols[ts_col]
    if profile is not None and profile.tz is not None:
        ts = _localise(ts, profile)
    if "point" in cols and "value" in cols and (profile is None):
        # Long already.
        parts = {"point": cols["point"], "value": cols["value"]}
        columns = {"site_id": sites, "ts": ts, **parts}
        return RawBatch(columns, source_of, raw_of), rejected
    skip = {site_col, ts_col, "gateway_id", *(profile.ignore if profile else ())}
    mapping: list[tuple[str, str, float]] = []
    for name in cols:
        if name in skip:
            continue
        if profile is not None:
            point, factor = profile.columns.get(name, (name, 1.0))
        else:
            point, factor = name, 1.0
        mapping.append((name, point, factor))
    row_idx: list[np.ndarray] = []
    points: list[pa.Array] = []
    values: list[pa.Array] = []
    has_any = np.zeros(n, dtype=bool)
    for name, point, factor in mapping:
        col = cols[name]
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        present = col.is_valid()
        if pa.types.is_string(col.type):
            present = pc.and_(present, pc.not_equal(pc.utf8_trim_whitespace(col), ""))
        mask = pc.fill_null(present, False).to_numpy(zero_copy_only=False)
        if not mask.any():
            continue
        has_any |= mask
        idx = np.flatnonzero(mask)
        taken = col.take(pa.array(idx))
        if factor != 1.0:
            taken = _scaled(taken, factor)
        row_idx.append(idx)
        points.append(pa.array([point] * len(idx), pa.string()))
        values.append(taken)
    for i in np.flatnonzero(~has_any):
        rejected.append(Rejection(source_of(int(i)), "row has no telemetry value", raw_of(int(i))))
    if not row_idx:
        return RawBatch.empty(FIELDS), rejected
    order = np.concatenate(row_idx)
    take = pa.array(order)
    value_col = _concat_values(values)
    columns = {
        "site_id": pc.take(sites, take),
        "ts": pc.take(ts, take),
        "point": pa.concat_arrays(points),
        "value": value_col,
    }
    pts = columns["point"]

    def source(i: int) -> str:
        return f"{source_of(int(order[i]))}:{pts[i].as_py()}"

    def raw(i: int) -> str:
        return raw_of(int(order[i]))

    return RawBatch(columns, source, raw), rejected


def _concat_values(values: list[pa.Array]) -> pa.Array:
    """One value column; mixed kinds (numbers and text) as text, which validation parses
    exactly as it parses a CSV cell."""
    types = {v.type for v in values}
    if len(types) == 1:
        return pa.concat_arrays(values)
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in types):
        return pa.concat_arrays([v.cast(pa.float64()) for v in values])
    try:
        return pa.concat_arrays([v.cast(pa.string()) for v in values])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([json_text(x) for v in values for x in v.to_pylist()], pa.string())


def _scaled(col: pa.Array, factor: float) -> pa.Array:
    """Numbers multiplied by ``factor``; text that is not a number kept as it is, for
    validation to refuse with its reason."""
    if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
        return pc.multiply(col.cast(pa.float64()), factor)
    if not pa.types.is_string(col.type):
        return col
    try:
        return pc.multiply(pc.cast(pc.utf8_trim_whitespace(col), pa.float64()), factor)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    out: list[str | None] = []
    for v in col.to_pylist():
        try:
            out.append(repr(float(v) * factor))
        except (TypeError, ValueError):
            out.append(v)
    return pa.array(out, pa.string())


def _localise(ts: Any, profile: Profile) -> Any:
    """Local timestamps without an offset → UTC ISO text; others left as they are."""
    if isinstance(ts, pa.ChunkedArray):
        ts = ts.combine_chunks()
    if pa.types.is_timestamp(ts.type):
        if ts.type.tz is not None:
            return ts
        return pc.assume_timezone(
            ts, profile.tz, ambiguous="earliest", nonexistent="earliest"
        ).cast(pa.timestamp("us", tz="UTC"))
    if not pa.types.is_string(ts.type):
        return ts
    parsed = pc.strptime(ts, format=profile.ts_format, unit="us", error_is_null=True)
    local = pc.assume_timezone(parsed, profile.tz, ambiguous="earliest", nonexistent="earliest")
    iso = pc.strftime(local.cast(pa.timestamp("us", tz="UTC")), format="%Y-%m-%dT%H:%M:%S")
    iso = pc.binary_join_element_wise(iso, pa.scalar("Z"), "")
    return pc.if_else(pc.is_null(parsed), ts, iso)


# ----------------------------------------------------------------- the ingestor


class TelemetryIngestor(Ingestor):
    """An Ingestor whose rows are telemetry values (see the module docstring)."""

    schema = TELEMETRY_SCHEMA
    fields = FIELDS
    mqtt_transport = "telemetry-mqtt"

    def __init__(
        self,
        store: Any,
        *,
        limits: Limits | None = None,
        clock: Any = None,
        profile: Profile | None = None,
        site: str | None = None,
    ) -> None:
        self.store = store
        kwargs = {"clock": clock} if clock is not None else {}
        self.validator = TelemetryValidator(KnownSites.from_store(store), limits, **kwargs)
        self.profile = profile
        self.site = site

    # Dead letters of telemetry carry "telemetry-…" transports, so that a replay
    # (``nuanliu ingest replay``) sends them back through telemetry ingest.
    def ingest(
        self, batch: RawBatch, rejected: Iterable[Rejection] = (), *, transport: str = "file"
    ) -> IngestReport:
        return super().ingest(batch, rejected, transport=_telemetry(transport))

    def commit(
        self, result: Any, received: int, dead_letters: Any = (), *, transport: str = "file"
    ) -> IngestReport:
        return super().commit(result, received, dead_letters, transport=_telemetry(transport))

    def store_rows(self, valid: pa.Table, quarantine: Any, dead_letters: Any) -> InsertReport:
        return tstore.write_batch(self.store, valid, quarantine, dead_letters)

    def parse_message(self, payload: bytes, source: str) -> TelemetryAccumulator:
        acc = TelemetryAccumulator(site_of_topic(source))
        try:
            value = loads(payload)
        except ValueError as exc:
            text = payload.decode("utf-8", "surrogateescape")
            acc.rejected.append(Rejection(source, f"malformed JSON payload: {exc}", _clip(text)))
            return acc
        acc.add(value, source)
        return acc

    def parse_json(self, body: bytes | str, source: str) -> Any:
        return parse_json(body, source, self.site)

    def parse_ndjson(self, lines: Iterable[tuple[int, bytes]], source: str) -> Any:
        return parse_ndjson(lines, source)

    def csv_chunks(
        self,
        fh: Any,
        source: str,
        delimiter: str = ",",
        chunk_bytes: int = 8 << 20,
        encoding: str = "auto",
    ) -> Iterator[tuple[RawBatch, list[Rejection]]]:
        ts_col = self.profile.ts_column if self.profile else "ts"
        for batch, rejected in csv_chunks(
            fh, source, delimiter, chunk_bytes, encoding, fields=None, required=(ts_col,)
        ):
            long, more = melt(
                batch.columns, batch.source_of, batch.raw_of, profile=self.profile, site=self.site
            )
            yield long, rejected + more

    def parquet_chunks(self, path: Any, source: str) -> Iterator[tuple[RawBatch, list[Rejection]]]:
        import pyarrow.parquet as pq

        from nuanliu.ingest.files import READ_ERRORS, _row_raw, _row_source

        try:
            pf = pq.ParquetFile(path)
        except READ_ERRORS as exc:
            raise InvalidInput(f"{path}: not a readable Parquet file: {exc}") from exc
        base = 0
        for rb in pf.iter_batches(batch_size=200_000):
            cols = {n: rb.column(n) for n in rb.schema.names}
            yield melt(
                cols, _row_source(source, base), _row_raw(rb), profile=self.profile, site=self.site
            )
            base += rb.num_rows

    def ingest_bytes(
        self, body: bytes, content_type: str, source: str, *, transport: str = "telemetry-http"
    ) -> IngestReport:
        return super().ingest_bytes(body, content_type, source, transport=transport)


def _telemetry(transport: str) -> str:
    return transport if transport.startswith("telemetry-") else f"telemetry-{transport}"


_INGESTORS: weakref.WeakKeyDictionary[Any, TelemetryIngestor] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def telemetry_ingestor_for(store: Any) -> TelemetryIngestor:
    """The shared TelemetryIngestor of ``store`` (one site cache per open store)."""
    with _LOCK:
        ing = _INGESTORS.get(store)
        if ing is None:
            ing = _INGESTORS[store] = TelemetryIngestor(store)
        return ing


def ingest_telemetry_file(
    store: Any,
    path: Path | str,
    *,
    profile: str | Profile | None = None,
    site: str | None = None,
    ingestor: TelemetryIngestor | None = None,
    **kwargs: Any,
) -> IngestReport:
    """Ingest one CSV/TSV/Parquet/NDJSON/JSON telemetry file (see the module docstring)."""
    if isinstance(profile, str):
        if profile not in PROFILES:
            raise InvalidInput(
                f"unknown telemetry export profile {profile!r}; known: {', '.join(PROFILES)}"
            )
        profile = PROFILES[profile]
    ing = ingestor or TelemetryIngestor(store, profile=profile, site=site)
    return ingest_file(ing, path, **kwargs)


def ingest_telemetry_rows(
    store: Any, rows: Iterable[dict[str, Any]], source: str = "python"
) -> IngestReport:
    """Ingest telemetry dicts (long or wide)."""
    acc = TelemetryAccumulator()
    acc.add([dict(r) for r in rows], source)
    return telemetry_ingestor_for(store).ingest(acc.build(), acc.rejected, transport="python")


def ingest_telemetry_payload(
    store: Any, body: bytes, content_type: str, source: str = "http"
) -> IngestReport:
    """One API request body (JSON, NDJSON or CSV) of telemetry."""
    return telemetry_ingestor_for(store).ingest_bytes(body, content_type, source)


__all__ = [
    "PROFILES",
    "TOPIC_ROOT",
    "Profile",
    "TelemetryAccumulator",
    "TelemetryIngestor",
    "ingest_telemetry_file",
    "ingest_telemetry_payload",
    "ingest_telemetry_rows",
    "melt",
    "telemetry_ingestor_for",
]
