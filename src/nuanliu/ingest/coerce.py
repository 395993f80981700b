"""Turn one raw column into a typed Arrow array plus a reason for every value it refused.

Fast path: one vectorised conversion of the whole column. Only a column that contains a
value of the wrong type falls back to a per-value pass, so clean batches never loop in
Python. A refused value becomes null in the typed array and gets a reason keyed by row.
Nothing here raises on bad data: any value Arrow or Python cannot convert is a reason.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.ingest import timestamps as tsu
from nuanliu.ingest.model import Column

TS_TYPE = pa.timestamp("us", tz="UTC")
# An ISO 8601 string carries its offset at the end: Z, +08, +08:00 or +0800.
_OFFSET_RE = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"
# Integers beyond this lose digits as float64 (the type of temp_c and humidity_pct).
EXACT_INT = 2**53
Reasons = dict[int, str]
_CONVERT_ERRORS = (pa.ArrowException, OverflowError, RecursionError, TypeError, ValueError)


def _type_name(value: Any) -> str:
    """The JSON-ish kind of a value, with its article ("an integer", "a string")."""
    kinds = {bool: "boolean", str: "string", int: "integer", float: "number", dict: "object"}
    kinds[Unreadable] = "unreadable value"
    name = kinds.get(type(value), "array" if isinstance(value, list) else type(value).__name__)
    return ("an " if name[0] in "aeiou" else "a ") + name


def _show(value: Any) -> str:
    """A value for a reason: short, one line, control characters escaped, never raising."""
    try:
        if isinstance(value, list | dict | tuple):
            text = _shallow(value)
        else:
            text = repr(value) if isinstance(value, str | bytes) else str(value)
    except (RecursionError, ValueError, TypeError):  # e.g. an int of 5000 digits
        text = f"<{type(value).__name__}>"
    if not text.isprintable():
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "..."


def _shallow(value: Any) -> str:
    """Outline of a container without recursing (a value may be nested 1000 deep)."""
    if isinstance(value, dict):
        return "{" + ", ".join(repr(k)[:20] for k in list(value)[:4]) + "...}"
    kinds = ", ".join(
        "[...]" if isinstance(v, list) else "{...}" if isinstance(v, dict) else _show(v)
        for v in value[:4]
    )
    return "[" + kinds + (", ...]" if len(value) > 4 else "]")


def _unicode(text: str) -> bool:
    """False for a str Arrow cannot hold: one with a lone surrogate (Python API input)."""
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _plain(arr: pa.Array) -> pa.Array:
    """Decode dictionary columns and widen string variants, so one check fits them all."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    t = arr.type
    if pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", lambda _: False)(t):
        arr = arr.cast(pa.string())
    return arr


def _as_array(values: Column) -> pa.Array | None:
    """The column as one Arrow array with an inferred type, or None if types are mixed."""
    try:
        if isinstance(values, pa.ChunkedArray):
            return _plain(values.combine_chunks())
        if isinstance(values, pa.Array):
            return _plain(values)
        return pa.array(values)
    except _CONVERT_ERRORS:
        return None


class Unreadable:
    """An Arrow value Python cannot represent (e.g. a date beyond year 9999)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _pylist(values: Column) -> list[Any]:
    if not hasattr(values, "to_pylist"):
        return list(values)
    try:
        return values.to_pylist()
    except _CONVERT_ERRORS:
        out: list[Any] = []
        for v in values:
            try:
                out.append(v.as_py())
            except _CONVERT_ERRORS:
                out.append(Unreadable(f"<{v.type} value>"))
        return out


def _nulls_where(arr: pa.Array, reasons: Reasons) -> pa.Array:
    if not reasons:
        return arr
    mask = np.zeros(len(arr), dtype=bool)
    mask[list(reasons)] = True
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def coerce_string(values: Column, name: str) -> tuple[pa.Array, Reasons]:
    """A required identifier: a non-empty string."""
    arr = _as_array(values)
    reasons: Reasons = {}
    if arr is not None and pa.types.is_string(arr.type):
        pass
    elif arr is not None and pa.types.is_null(arr.type):
        arr = pa.nulls(len(arr), pa.string())
    else:
        out: list[str | None] = []
        for i, v in enumerate(_pylist(values)):
            if v is None or (isinstance(v, str) and _unicode(v)):
                out.append(v)
            elif isinstance(v, str):
                out.append(None)
                reasons[i] = f"{name}={_show(v)} is not valid Unicode (a lone surrogate)"
            else:
                out.append(None)
                reasons[i] = f"{name}={_show(v)} is {_type_name(v)}, expected a string"
        arr = pa.array(out, pa.string())
    # Byte length from the offsets: empty exactly when the text is (utf8_length would
    # walk every character).
    missing = np.flatnonzero(
        pc.fill_null(pc.equal(pc.binary_length(arr), 0), True).to_numpy(zero_copy_only=False)
    )
    for i in missing:
        reasons.setdefault(
            int(i), f"{name} is missing" if arr[i].as_py() is None else f"{name} is empty"
        )
    return arr, reasons


def _beyond_exact(name: str, v: Any) -> str:
    return f"{name}={_show(v)} is an integer beyond ±2^53, where a float would round it"


def coerce_float(values: Column, name: str, *, required: bool) -> tuple[pa.Array, Reasons]:
    """A measured value: a JSON/Parquet number or a CSV numeric string."""
    arr = _as_array(values)
    reasons: Reasons = {}
    if arr is not None and pa.types.is_integer(arr.type):
        # Exact test only where the float says "maybe": the integers compare exactly.
        f64 = arr.cast(pa.float64(), safe=False)
        too_big = pc.fill_null(pc.greater_equal(pc.abs(f64), float(EXACT_INT)), False)
        for i in np.flatnonzero(too_big.to_numpy(zero_copy_only=False)):
            v = arr[int(i)].as_py()
            if abs(v) > EXACT_INT:
                reasons[int(i)] = _beyond_exact(name, v)
        arr = _nulls_where(arr, reasons).cast(pa.float64(), safe=False)
    elif arr is not None and (pa.types.is_floating(arr.type) or pa.types.is_null(arr.type)):
        arr = arr.cast(pa.float64())
    elif arr is not None and pa.types.is_decimal(arr.type):
        arr = arr.cast(pa.float64(), safe=False)
    elif arr is not None and pa.types.is_string(arr.type):
        values, reasons = _parse_float_strings(arr, name)
        arr = _refuse_rounded_ints(arr, values, name, reasons)
    else:
        out: list[float | None] = []
        for i, v in enumerate(_pylist(values)):
            if v is None:
                out.append(None)
            elif isinstance(v, bool) or not isinstance(v, int | float):
                out.append(None)
                reasons[i] = f"{name}={_show(v)} is {_type_name(v)}, expected a number"
            elif isinstance(v, int) and abs(v) > EXACT_INT:
                out.append(None)
                reasons[i] = _beyond_exact(name, v)
            else:
                out.append(float(v))
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


def _refuse_rounded_ints(arr: pa.Array, values: pa.Array, name: str, reasons: Reasons) -> pa.Array:
    """Integer text beyond ±2^53 is rounded by the cast to float: refuse it. Only values
    whose float is that large can be, so the exact check runs on those few alone."""
    big = pc.fill_null(pc.greater_equal(pc.abs(values), float(EXACT_INT)), False)
    if not pc.any(big).as_py():
        return values
    found: Reasons = {}
    for i in np.flatnonzero(big.to_numpy(zero_copy_only=False)):
        s = arr[int(i)].as_py().strip()
        digits = s.lstrip("+-")
        if digits.isdigit() and (len(digits) > 40 or int(digits) > EXACT_INT):
            found[int(i)] = _beyond_exact(name, s)
    reasons.update(found)
    return _nulls_where(values, found)


# -------------------------------------------------------------------------- time


def coerce_ts(values: Column, unit: str = "auto") -> tuple[pa.Array, Reasons]:
    """A timezone-aware instant: ISO 8601 with offset, an epoch number, or a tz timestamp.

    Epoch numbers are read by ``unit`` (``auto``: by magnitude, see ``timestamps``).
    """
    arr = _as_array(values)
    if arr is not None:
        t = arr.type
        if pa.types.is_timestamp(t):
            return _from_timestamps(arr)
        if pa.types.is_string(t):
            return _from_text(arr, unit)
        if pa.types.is_integer(t):
            return _from_ints(arr, unit)
        if pa.types.is_floating(t):
            return _from_floats(arr, unit)
        if pa.types.is_decimal(t):
            return _from_text(arr.cast(pa.string()), unit)
        if pa.types.is_null(t):
            return pa.nulls(len(arr), TS_TYPE), {i: "ts is missing" for i in range(len(arr))}
    # Mixed kinds: strings parsed as text, numbers one by one (exactly), the rest refused.
    items = _pylist(values)
    reasons: Reasons = {}
    strings: list[str | None] = [None] * len(items)
    micros: list[int | None] = [None] * len(items)
    for i, v in enumerate(items):
        if isinstance(v, str) and _unicode(v):
            strings[i] = v
        elif isinstance(v, str):
            reasons[i] = f"ts={_show(v)} is not valid Unicode (a lone surrogate)"
        elif isinstance(v, int | float) and not isinstance(v, bool):
            got = tsu.scalar_to_us(v, unit)
            if isinstance(got, str):
                reasons[i] = got
            else:
                micros[i] = got
        elif v is None:
            reasons[i] = "ts is missing"
        else:
            reasons[i] = f"ts={_show(v)} is {_type_name(v)}, expected ISO 8601 text or epoch time"
    s_arr, s_reasons = _from_text(pa.array(strings, pa.string()), unit, missing_ok=True)
    n_arr = pa.array(micros, pa.int64()).cast(TS_TYPE)
    reasons.update(s_reasons)
    return pc.coalesce(s_arr, n_arr), reasons


def _missing(arr: pa.Array) -> Reasons:
    return {int(i): "ts is missing" for i in np.flatnonzero(arr.is_null().to_numpy(False))}


def _timestamp_text(arr: pa.Array, i: int) -> str:
    """One timestamp of any unit as ISO text, without Python datetime (ns, year 300000)."""
    unit = arr.type.unit
    v = arr.cast(pa.int64())[i].as_py()
    per_s = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    secs, frac = divmod(v, per_s)
    us = secs * 10**6
    if not (tsu.MIN_US <= us <= tsu.MAX_US):
        return f"{v} {unit} since 1970"
    text = tsu.fmt_us(us).removesuffix("+00:00")
    if frac:
        text += "." + str(frac).rjust(len(str(per_s)) - 1, "0").rstrip("0")
    return text


def _from_timestamps(arr: pa.Array) -> tuple[pa.Array, Reasons]:
    """Arrow/Parquet timestamps of any unit (s, ms, us, ns); naive ones are refused."""
    reasons = _missing(arr)
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    if arr.type.tz is None:
        # A naive timestamp column (e.g. Parquet written without tz): refused like naive text.
        for i in np.flatnonzero(valid):
            reasons[int(i)] = f"ts {_timestamp_text(arr, int(i))} has no timezone"
        return pa.nulls(len(arr), TS_TYPE), reasons
    unit = arr.type.unit
    if unit in ("us", "ns"):
        # Finer or equal unit: every value fits in µs; ns is truncated to the stored µs.
        return pc.cast(arr, TS_TYPE, safe=False), reasons
    raw = arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    # Integer µs without overflow: coarser units are range-checked before they are scaled.
    us, bad = tsu.ints_to_us(raw, valid, unit)
    bad = {i: f"ts {_timestamp_text(arr, i)} is out of range" for i in bad}
    return _timestamps(us, valid, bad, reasons)


def _from_ints(arr: pa.Array, unit: str, *, missing_ok: bool = False) -> tuple[pa.Array, Reasons]:
    reasons: Reasons = {} if missing_ok else _missing(arr)
    if arr.type == pa.uint64():
        # Above int64: out of every band and of every unit's range.
        big = pc.fill_null(pc.greater(arr, pa.scalar(2**63 - 1, pa.uint64())), False)
        found = {
            int(i): tsu.out_of_range(arr[int(i)].as_py(), unit)
            for i in np.flatnonzero(big.to_numpy(zero_copy_only=False))
        }
        reasons.update(found)
        arr = _nulls_where(arr, found)
    v64 = arr.cast(pa.int64())
    valid = v64.is_valid().to_numpy(zero_copy_only=False)
    us, bad = tsu.ints_to_us(v64.fill_null(0).to_numpy(zero_copy_only=False), valid, unit)
    return _timestamps(us, valid, bad, reasons)


def _from_floats(arr: pa.Array, unit: str, *, missing_ok: bool = False) -> tuple[pa.Array, Reasons]:
    reasons: Reasons = {} if missing_ok else _missing(arr)
    f64 = arr.cast(pa.float64())
    valid = f64.is_valid().to_numpy(zero_copy_only=False)
    us, bad = tsu.floats_to_us(f64.fill_null(0.0).to_numpy(zero_copy_only=False), valid, unit)
    return _timestamps(us, valid, bad, reasons)


def _timestamps(
    us: np.ndarray, valid: np.ndarray, bad: Reasons, reasons: Reasons
) -> tuple[pa.Array, Reasons]:
    """Epoch µs as timestamps; missing values and the refused ones (``bad``) are null."""
    reasons.update(bad)
    mask = ~valid
    if bad:
        mask[list(bad)] = True
    return pa.array(us, pa.int64(), mask=mask).cast(TS_TYPE), reasons


_INT_TEXT_RE = r"^[+-]?\d+$"
_DEC_TEXT_RE = r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+|\.\d+[eE][+-]?\d+)$"


def _from_text(
    arr: pa.Array, unit: str = "auto", *, missing_ok: bool = False
) -> tuple[pa.Array, Reasons]:
    reasons: Reasons = {} if missing_ok else _missing(arr)
    try:
        # Clean batches: one cast. Arrow refuses text without an offset, so a naive
        # timestamp can never slip through here; such batches take the path below.
        return pc.cast(arr, TS_TYPE), reasons
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    text = pc.utf8_trim_whitespace(arr)
    is_int = pc.fill_null(pc.match_substring_regex(text, _INT_TEXT_RE), False)
    is_dec = pc.fill_null(pc.match_substring_regex(text, _DEC_TEXT_RE), False)
    epoch = pc.or_(is_int, is_dec)
    aware = pc.fill_null(pc.match_substring_regex(text, _OFFSET_RE), False)
    aware = pc.and_(aware, pc.invert(epoch))
    naive = pc.and_(pc.and_(pc.invert(aware), pc.invert(epoch)), arr.is_valid())
    for i in np.flatnonzero(naive.to_numpy(zero_copy_only=False)):
        v = arr[i].as_py()
        reasons[int(i)] = f"ts {_show(v).strip(chr(39))} has no timezone" if v else "ts is empty"
    parts: list[pa.Array] = []
    none = pa.scalar(None, pa.string())
    if pc.any(is_int).as_py():
        # Epoch numbers written as digits (CSV): exact integers, never via float.
        digits = pc.if_else(is_int, text, none)
        try:
            ints = pc.cast(digits, pa.int64())
            got, r = _from_ints(ints, unit, missing_ok=True)
        except pa.ArrowInvalid:  # beyond int64: one by one, as Python integers
            got, r = _big_int_texts(digits, unit)
        reasons.update(r)
        parts.append(got)
    if pc.any(is_dec).as_py():
        got, r = _from_floats(
            pc.cast(pc.if_else(is_dec, text, none), pa.float64()), unit, missing_ok=True
        )
        reasons.update(r)
        parts.append(got)
    candidates = pc.if_else(aware, text, none)
    if pc.any(aware).as_py():
        got, r = _iso(candidates)
        reasons.update(r)
        parts.append(got)
    if not parts:
        return pa.nulls(len(arr), TS_TYPE), reasons
    return (pc.coalesce(*parts) if len(parts) > 1 else parts[0]), reasons


def _big_int_texts(digits: pa.Array, unit: str) -> tuple[pa.Array, Reasons]:
    reasons: Reasons = {}
    out: list[int | None] = []
    for i, s in enumerate(digits.to_pylist()):
        if s is None:
            out.append(None)
            continue
        try:
            got = tsu.scalar_to_us(int(s), unit) if len(s) < 40 else tsu.out_of_range(s, unit)
        except ValueError:
            got = tsu.out_of_range(s, unit)
        if isinstance(got, str):
            reasons[i] = got
            out.append(None)
        else:
            out.append(got)
    return pa.array(out, pa.int64()).cast(TS_TYPE), reasons


def _iso(candidates: pa.Array) -> tuple[pa.Array, Reasons]:
    try:
        return pc.cast(candidates, TS_TYPE), {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Some value is not parseable by Arrow: convert one by one (only on such batches).
    reasons: Reasons = {}
    out: list[Any] = []
    for i, v in enumerate(candidates.to_pylist()):
        if v is None:
            out.append(None)
            continue
        us = None
        for unit, div in (("us", 1), ("ns", 1000)):  # ns: 9-digit fractions are ISO 8601 too
            try:
                us = pc.cast(pa.scalar(v), pa.timestamp(unit, tz="UTC")).value // div
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OverflowError):
                continue
        if us is None or not (tsu.MIN_US <= us <= tsu.MAX_US):
            reasons[i] = f"ts {_show(v)} is not an ISO 8601 timestamp"
            us = None
        out.append(us)
    return pa.array(out, pa.int64()).cast(TS_TYPE), reasons
