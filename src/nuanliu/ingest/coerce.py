"""Turn one raw column into a typed Arrow array plus a reason for every value it refused.

Fast path: one vectorised conversion of the whole column. Only a column that contains a
value of the wrong type falls back to a per-value pass, so clean batches never loop in
Python. A refused value becomes null in the typed array and gets a reason keyed by row.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.ingest.model import Column

TS_TYPE = pa.timestamp("us", tz="UTC")
# An ISO 8601 string carries its offset at the end: Z, +08, +08:00 or +0800.
_OFFSET_RE = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
Reasons = dict[int, str]


def _type_name(value: Any) -> str:
    """The JSON-ish kind of a value, with its article ("an integer", "a string")."""
    kinds = {bool: "boolean", str: "string", int: "integer", float: "number", dict: "object"}
    name = kinds.get(type(value), "array" if isinstance(value, list) else type(value).__name__)
    return ("an " if name[0] in "aeiou" else "a ") + name


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_array(values: Column) -> pa.Array | None:
    """The column as one Arrow array with an inferred type, or None if types are mixed."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return None


def _pylist(values: Column) -> list[Any]:
    return values.to_pylist() if hasattr(values, "to_pylist") else list(values)


def coerce_string(values: Column, name: str) -> tuple[pa.Array, Reasons]:
    """A required identifier: a non-empty string."""
    arr = _as_array(values)
    reasons: Reasons = {}
    if arr is not None and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    elif arr is not None and pa.types.is_null(arr.type):
        arr = pa.nulls(len(arr), pa.string())
    else:
        out: list[str | None] = []
        for i, v in enumerate(_pylist(values)):
            if v is None or isinstance(v, str):
                out.append(v)
            else:
                out.append(None)
                reasons[i] = f"{name}={_show(v)} is {_type_name(v)}, expected a string"
        arr = pa.array(out, pa.string())
    missing = np.flatnonzero(
        pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True).to_numpy(zero_copy_only=False)
    )
    for i in missing:
        reasons.setdefault(
            int(i), f"{name} is missing" if arr[i].as_py() is None else f"{name} is empty"
        )
    return arr, reasons


def coerce_float(values: Column, name: str, *, required: bool) -> tuple[pa.Array, Reasons]:
    """A measured value: a JSON/Parquet number or a CSV numeric string."""
    arr = _as_array(values)
    reasons: Reasons = {}
    if arr is not None and (
        pa.types.is_integer(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_null(arr.type)
    ):
        arr = arr.cast(pa.float64())
    elif arr is not None and pa.types.is_string(arr.type):
        arr, reasons = _parse_float_strings(arr, name)
    else:
        out: list[float | None] = []
        for i, v in enumerate(_pylist(values)):
            if v is None:
                out.append(None)
            elif isinstance(v, bool) or not isinstance(v, int | float):
                out.append(None)
                reasons[i] = f"{name}={_show(v)} is {_type_name(v)}, expected a number"
            else:
                try:
                    out.append(float(v))
                except OverflowError:
                    out.append(None)
                    reasons[i] = f"{name}={_show(v)} is too large"
        arr = pa.array(out, pa.float64())
    if required:
        for i in np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False)):
            reasons.setdefault(int(i), f"{name} is missing")
    return arr, reasons


_NUMBER_RE = (
    r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
    r"|^\s*[+-]?(?i:nan|inf|infinity)\s*$"
)


def _parse_float_strings(arr: pa.Array, name: str) -> tuple[pa.Array, Reasons]:
    """CSV text to float64; empty text is a missing value, other non-numbers are refused."""
    # A clean column takes one cast (~10x faster than the checks below): Arrow parses
    # only complete numbers, all of which the checks accept too. A column with anything
    # else (spaces, words, a NaN whose text the reason should show) takes the checks.
    blank = pc.equal(arr, "")
    try:
        fast = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), arr), pa.float64())
        if not pc.any(pc.is_nan(fast)).as_py():
            return fast, {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pc.utf8_trim_whitespace(arr)
    empty = pc.fill_null(pc.equal(text, ""), True)
    ok = pc.fill_null(pc.match_substring_regex(text, _NUMBER_RE), False)
    bad = pc.and_(pc.invert(ok), pc.invert(empty))
    reasons: Reasons = {}
    for i in np.flatnonzero(bad.to_numpy(zero_copy_only=False)):
        reasons[int(i)] = f"{name}={_show(arr[i].as_py())} is not a number"
    clean = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    return pc.cast(clean, pa.float64()), reasons


def coerce_ts(values: Column) -> tuple[pa.Array, Reasons]:
    """A timezone-aware instant: ISO 8601 with offset, epoch milliseconds, or a tz timestamp."""
    arr = _as_array(values)
    if arr is not None:
        t = arr.type
        if pa.types.is_timestamp(t):
            return _from_timestamps(arr)
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return _from_iso(arr.cast(pa.string()))
        if pa.types.is_integer(t) or pa.types.is_floating(t):
            return _from_epoch_ms(arr)
        if pa.types.is_null(t):
            return pa.nulls(len(arr), TS_TYPE), {i: "ts is missing" for i in range(len(arr))}
    # Mixed kinds: split strings and numbers, refuse the rest.
    items = _pylist(values)
    reasons: Reasons = {}
    strings: list[str | None] = [None] * len(items)
    numbers: list[float | None] = [None] * len(items)
    for i, v in enumerate(items):
        if isinstance(v, str):
            strings[i] = v
        elif isinstance(v, int | float) and not isinstance(v, bool):
            numbers[i] = float(v) if abs(v) < 2**62 else math.nan
        elif v is None:
            reasons[i] = "ts is missing"
        else:
            reasons[i] = f"ts={_show(v)} is {_type_name(v)}, expected ISO 8601 text or epoch ms"
    s_arr, s_reasons = _from_iso(pa.array(strings, pa.string()), missing_ok=True)
    n_arr, n_reasons = _from_epoch_ms(pa.array(numbers, pa.float64()), missing_ok=True)
    merged = pc.coalesce(s_arr, n_arr)
    reasons.update(s_reasons)
    reasons.update(n_reasons)
    return merged, reasons


def _missing(arr: pa.Array) -> Reasons:
    return {int(i): "ts is missing" for i in np.flatnonzero(arr.is_null().to_numpy(False))}


def _from_timestamps(arr: pa.Array) -> tuple[pa.Array, Reasons]:
    if arr.type.tz is None:
        # A naive timestamp column (e.g. Parquet written without tz): every value is refused.
        reasons = {
            i: f"ts {v.isoformat()} has no timezone"
            for i, v in enumerate(arr.to_pylist())
            if v is not None
        }
        reasons.update(_missing(arr))
        return pa.nulls(len(arr), TS_TYPE), reasons
    return arr.cast(TS_TYPE), _missing(arr)


def _from_epoch_ms(arr: pa.Array, *, missing_ok: bool = False) -> tuple[pa.Array, Reasons]:
    reasons: Reasons = {} if missing_ok else _missing(arr)
    if pa.types.is_floating(arr.type):
        vals = arr.to_numpy(zero_copy_only=False)
        finite = np.isfinite(vals)
        for i in np.flatnonzero(arr.is_valid().to_numpy(False) & ~finite):
            reasons[int(i)] = f"ts={vals[i]} is not a finite epoch ms"
        us = np.where(finite, np.round(vals * 1000.0), 0).astype("int64")
        mask = ~finite
        return pa.array(us, pa.int64(), mask=mask).cast(TS_TYPE), reasons
    ms = arr.cast(pa.int64())
    return pc.multiply(ms, 1000).cast(TS_TYPE), reasons


_EPOCH_RE = r"^[+-]?\d+(\.\d*)?$"


def _from_iso(arr: pa.Array, *, missing_ok: bool = False) -> tuple[pa.Array, Reasons]:
    reasons: Reasons = {} if missing_ok else _missing(arr)
    try:
        # Clean batches: one cast. Arrow refuses text without an offset, so a naive
        # timestamp can never slip through here; such batches take the path below.
        return pc.cast(arr, TS_TYPE), reasons
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pc.utf8_trim_whitespace(arr)
    epoch = pc.fill_null(pc.match_substring_regex(text, _EPOCH_RE), False)
    aware = pc.fill_null(pc.match_substring_regex(text, _OFFSET_RE), False)
    naive = pc.and_(pc.and_(pc.invert(aware), pc.invert(epoch)), arr.is_valid())
    for i in np.flatnonzero(naive.to_numpy(zero_copy_only=False)):
        v = arr[i].as_py()
        reasons[int(i)] = f"ts {_show(v).strip(chr(39))} has no timezone" if v else "ts is empty"
    candidates = pc.if_else(aware, text, pa.scalar(None, pa.string()))
    if pc.any(epoch).as_py():
        # Epoch milliseconds written as text (CSV): numbers, not naive local times.
        ms_text = pc.if_else(epoch, text, pa.scalar(None, pa.string()))
        ms, ms_reasons = _from_epoch_ms(pc.cast(ms_text, pa.float64()), missing_ok=True)
        reasons.update(ms_reasons)
        parsed, iso_reasons = _from_iso(candidates, missing_ok=True)
        reasons.update(iso_reasons)
        return pc.coalesce(parsed, ms), reasons
    try:
        return pc.cast(candidates, TS_TYPE), reasons
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Some value is not parseable by Arrow: convert one by one (only on such batches).
    out: list[Any] = []
    for i, v in enumerate(candidates.to_pylist()):
        if v is None:
            out.append(None)
            continue
        try:
            # Via nanoseconds so that 9-digit fractions (valid ISO 8601) are accepted too.
            ns = pc.cast(pa.scalar(v), pa.timestamp("ns", tz="UTC"))
            out.append(ns.value // 1000)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            out.append(None)
            reasons[i] = f"ts {_show(v)} is not an ISO 8601 timestamp"
    return pa.array(out, pa.int64()).cast(TS_TYPE), reasons
