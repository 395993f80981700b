"""Parse JSON payloads (one reading, an array, a gateway batch, or NDJSON) into a RawBatch.

Accepted JSON values (docs/ingest.md):

- a reading object ``{"sensor_id", "ts", "temp_c", "humidity_pct"?}``;
- an array of reading objects (or of gateway batches);
- an envelope ``{"gateway_id": "gw-17", "readings": [reading objects]}``;
- a gateway batch, columns instead of rows, for throughput on MQTT:
  ``{"gateway_id": "gw-17", "sensor_id": [...], "ts": [...], "temp_c": [...],
  "humidity_pct": [...]}`` (``humidity_pct`` may be left out).

NDJSON is one such value per line. Anything unparseable becomes a ``Rejection`` that says
where (line) and why; the parseable rest is kept. Nothing raises out of these parsers:
JSON nested deeper than ``MAX_DEPTH``, bytes that are not UTF-8 (kept as ``raw_bytes``,
shown as ``\\xNN`` in ``raw``), NUL bytes, huge numbers and wrong types are all reasons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import repeat
from typing import Any

import orjson

from nuanliu.ingest.model import FIELDS, RawBatch, Rejection, json_text

MAX_RAW_CHARS = 65536  # raw text kept in quarantine for one rejected body or line
MAX_RAW_BYTES = 1 << 20  # exact bytes kept (Rejection.raw_bytes) of an undecodable input
MAX_DEPTH = 1024  # orjson's nesting limit; the standard parser is held to it as well
MAX_ENVELOPES = 16  # {"readings": [{"readings": [...]}]} nested deeper is refused


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class JsonError(ValueError):
    """A JSON text that cannot be parsed; ``msg`` says why, ``colno`` where on its line."""

    def __init__(self, msg: str, lineno: int = 1, colno: int = 1) -> None:
        super().__init__(msg)
        self.msg, self.lineno, self.colno = msg, lineno, colno


def _clip(text: str) -> str:
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…[truncated]"


def _is_gateway_batch(value: Any) -> bool:
    return type(value) is dict and type(value.get("sensor_id")) is list


class Accumulator:
    """Collects parsed JSON values from many lines or messages into one RawBatch."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.sources: list[str] = []
        self.raws: list[str | None] = []
        self.batches: list[RawBatch] = []
        self.rejected: list[Rejection] = []

    def add(self, value: Any, source: str, raw: str | None = None, depth: int = 0) -> None:
        """Add one JSON value; ``raw`` is its text when it is a single reading (NDJSON line)."""
        kind = type(value)
        if kind is dict and type(value.get("readings")) is list and "sensor_id" not in value:
            # Envelope: {"gateway_id": ..., "readings": [reading, ...]}
            if depth >= MAX_ENVELOPES:
                self.rejected.append(
                    Rejection(
                        source,
                        f"envelopes nested more than {MAX_ENVELOPES} deep",
                        _clip(raw if raw is not None else json_text(value)),
                    )
                )
                return
            self.add(value["readings"], source, depth=depth + 1)
        elif kind is dict and not _is_gateway_batch(value):
            self.records.append(value)
            self.sources.append(source)
            self.raws.append(raw)
        elif kind is list:
            if set(map(type, value)) <= {dict}:  # C-speed check; batches split in build()
                self.records.extend(value)
                self.sources.extend([source] * len(value))
                self.raws.extend([None] * len(value))
            else:
                for k, v in enumerate(value):
                    if type(v) is dict:
                        self.add(v, source, depth=depth)
                    else:
                        self.rejected.append(
                            Rejection(
                                source,
                                f"array element {k} is {_kind(v)}, expected a reading object",
                                _clip(json_text(v)),
                            )
                        )
        elif _is_gateway_batch(value):
            self._add_gateway_batch(value, source, raw)
        else:
            self.rejected.append(
                Rejection(
                    source,
                    f"payload is {_kind(value)}, expected a reading object, an array or a "
                    "gateway batch",
                    _clip(raw if raw is not None else json_text(value)),
                )
            )

    def _add_gateway_batch(self, value: dict[str, Any], source: str, raw: str | None) -> bool:
        """Add a column batch (or quarantine it); False, for use as a filter."""
        n = len(value["sensor_id"])
        columns: dict[str, Any] = {}
        problems: list[str] = []
        for f in FIELDS:
            col = value.get(f)
            if col is None and f == "humidity_pct":
                col = [None] * n
            if type(col) is not list:
                problems.append(f"{f} is {_kind(col)}, expected an array of {n} values")
            elif len(col) != n:
                problems.append(f"{f} has {len(col)} values, sensor_id has {n}")
            columns[f] = col
        gateway = value.get("gateway_id")
        if problems:
            text = raw if raw is not None else json_text(value)
            self.rejected.append(
                Rejection(source, "gateway batch: " + "; ".join(problems), _clip(text))
            )
            return False

        def raw_of(i: int) -> str:
            row = {f: columns[f][i] for f in FIELDS}
            if gateway is not None:
                row = {"gateway_id": gateway, **row}
            return json_text(row)

        where = f"{source}#{{}}" if n > 1 else source
        self.batches.append(RawBatch(columns, lambda i: where.format(i), raw_of))
        return False

    def _split_out_gateway_batches(self) -> None:
        """Move gateway batches that came inside an array out of the row records."""
        kept = [
            (rec, src, raw)
            for rec, src, raw in zip(self.records, self.sources, self.raws, strict=True)
            if not _is_gateway_batch(rec) or self._add_gateway_batch(rec, src, raw)
        ]
        self.records = [k[0] for k in kept]
        self.sources = [k[1] for k in kept]
        self.raws = [k[2] for k in kept]

    def build(self) -> RawBatch:
        parts: list[RawBatch] = []
        if self.records:
            sids = list(map(dict.get, self.records, repeat("sensor_id")))
            if list in set(map(type, sids)):
                self._split_out_gateway_batches()
                sids = list(map(dict.get, self.records, repeat("sensor_id")))
            recs, sources, raws = self.records, self.sources, self.raws
            columns = {"sensor_id": sids}
            for f in FIELDS[1:]:
                columns[f] = list(map(dict.get, recs, repeat(f)))

            def raw_of(i: int) -> str:
                text = raws[i]
                return _clip(text) if text is not None else json_text(recs[i])

            parts.append(RawBatch(columns, sources.__getitem__, raw_of))
        parts.extend(self.batches)
        return RawBatch.concat(parts)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", str: "a string", int: "a number", float: "a number"}
    names |= {dict: "an object", list: "an array"}
    return names.get(type(value), type(value).__name__)


def loads(text: str | bytes) -> Any:
    """orjson for speed; the standard parser only when orjson refuses a text that holds
    the non-standard ``NaN``/``Infinity`` literals (gateways written in Python send them),
    which must reach validation (and be quarantined with a clear reason) rather than fail
    the whole body. Raises only ``JsonError``. (orjson reads an integer beyond 64 bits as
    a float; every such value is outside every range a reading may have.)"""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" in exc.msg or "recursion" in exc.msg.lower():
            msg = f"nested deeper than {MAX_DEPTH} levels"
            raise JsonError(msg, exc.lineno, exc.colno) from None
        first = exc
    if (b"NaN" if isinstance(text, bytes) else "NaN") not in text and (
        b"Infinity" if isinstance(text, bytes) else "Infinity"
    ) not in text:
        raise JsonError(first.msg, first.lineno, first.colno)
    try:
        value = json.loads(text)
        if _SURROGATE.search(text if isinstance(text, str) else text.decode("utf-8", "replace")):
            # orjson refuses a lone surrogate escape (not Unicode); so must the fallback.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise JsonError("a \\u escape is a lone surrogate, not a Unicode character") from None
    except json.JSONDecodeError as exc:
        raise JsonError(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise JsonError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise JsonError(str(exc)[:200], first.lineno, first.colno) from None


def _json_error(exc: JsonError, line: int | None = None) -> str:
    where = f"line {line if line is not None else exc.lineno} column {exc.colno}"
    return f"malformed JSON at {where}: {exc.msg}"


def _not_utf8(body: bytes, exc: UnicodeDecodeError, what: str) -> str:
    bad = body[exc.start : min(exc.end, exc.start + 4)].hex(" ")
    return f"{what} is not UTF-8 at byte {exc.start + 1} ({bad})"


def parse_json(body: bytes | str, source: str) -> tuple[RawBatch, list[Rejection]]:
    """One JSON document (reading, array, or gateway batch); malformed → one rejection."""
    acc = Accumulator()
    if isinstance(body, bytes):
        body = body.removeprefix(b"\xef\xbb\xbf")
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        assert isinstance(body, bytes)
        raw = body[:MAX_RAW_CHARS].decode("utf-8", errors="backslashreplace")
        reason = _not_utf8(body, exc, "body")
        kept = body[:MAX_RAW_BYTES]
        acc.rejected.append(Rejection(source, reason, _clip(raw), raw_bytes=kept))
        return acc.build(), acc.rejected
    try:
        value = loads(body if isinstance(body, bytes) else text)
        acc.add(value, source, text if type(value) is dict else None)
        return acc.build(), acc.rejected
    except JsonError as exc:
        reason = _json_error(exc)
    except RecursionError:
        reason = f"malformed JSON: nested deeper than Python can follow (limit {MAX_DEPTH})"
    return RawBatch.empty(), [Rejection(source, reason, _clip(text))]


def parse_ndjson(
    lines: Iterable[tuple[int, bytes | str]], source: str, acc: Accumulator | None = None
) -> Accumulator:
    """NDJSON: ``lines`` are (line number, text); the source of each row gets ``:line``.

    Fast path: the non-blank lines are joined into one JSON array and parsed by one call;
    only when that fails are lines parsed one by one to find and quarantine the bad ones.
    """
    acc = acc or Accumulator()
    numbers: list[int] = []
    texts: list[str] = []
    for no, line in lines:
        if isinstance(line, bytes):
            try:
                line = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raw = line.removesuffix(b"\r")
                text = raw[:MAX_RAW_CHARS].decode("utf-8", errors="backslashreplace")
                reason = _not_utf8(raw, exc, f"line {no}")
                kept = raw[:MAX_RAW_BYTES]
                acc.rejected.append(Rejection(f"{source}:{no}", reason, text, raw_bytes=kept))
                continue
        line = line.strip()
        if line:
            numbers.append(no)
            texts.append(line)
    if not texts:
        return acc
    try:
        values = loads("[" + ",".join(texts) + "]")
        if len(values) != len(texts):  # a line held e.g. "1, 2": parse line by line
            values = None
    except JsonError:
        values = None
    if values is not None and all(
        type(v) is dict and type(v.get("sensor_id")) is not list and "readings" not in v
        for v in values
    ):
        # The common case, every line one reading: build columns without per-line calls.
        columns = {f: [v.get(f) for v in values] for f in FIELDS}
        acc.batches.append(
            RawBatch(columns, lambda i: f"{source}:{numbers[i]}", lambda i: _clip(texts[i]))
        )
        return acc
    for k, (no, text) in enumerate(zip(numbers, texts, strict=True)):
        if values is not None:
            value = values[k]
        else:
            try:
                value = loads(text)
            except JsonError as exc:
                acc.rejected.append(Rejection(f"{source}:{no}", _json_error(exc, no), _clip(text)))
                continue
        try:
            acc.add(value, f"{source}:{no}", text)
        except RecursionError:
            reason = f"malformed JSON at line {no}: nested deeper than Python can follow"
            acc.rejected.append(Rejection(f"{source}:{no}", reason, _clip(text)))
    return acc


def split_lines(body: bytes, first_line: int = 1) -> Iterable[tuple[int, bytes]]:
    return enumerate(body.split(b"\n"), start=first_line)
