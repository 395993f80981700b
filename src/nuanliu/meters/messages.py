"""Meter readings as they arrive: MQTT/API payloads and reading-round files → candidates.

Payloads (MQTT ``nuanliu/v1/meters/<gateway_id>`` and ``POST /api/v1/meters/readings``):

- a raw frame as hex text (``68 13 13 68 …``) or base64 — the protocol is detected;
- JSON: one object or a list of objects, each either ``{"frame": "<hex|base64>",
  "protocol"?: "mbus|cjt188", "read_at"?: ISO-8601, "meter_id"?: …}`` or a decoded
  reading ``{"meter_id": …, "read_at": …, "energy_gj"|"energy_kwh"|"energy_mwh": …,
  "volume_m3"?, "power_kw"?, "flow_m3_h"?, "supply_temp_c"?, "return_temp_c"?,
  "operating_hours"?, "error_flags"?: [...]}``.

Files from manual reading rounds (CSV or XLSX) carry the decoded columns, one reading a
row. Anything that cannot be read becomes a candidate with an ``error`` (quarantined
with its source line), never an exception.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import string
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from nuanliu.meters.errors import FrameError
from nuanliu.meters.ingest import Candidate
from nuanliu.meters.reading import MeterReading, decode_frame

_HEX = set(string.hexdigits + " \t\r\n:,")
_ENERGY = {"energy_gj": Decimal(1), "energy_kwh": Decimal("0.0036"), "energy_mwh": Decimal("3.6")}
_NUMBERS = (
    "volume_m3", "power_kw", "flow_m3_h", "supply_temp_c", "return_temp_c", "operating_hours",
)  # fmt: skip


def frame_bytes(text: str) -> bytes:
    from nuanliu.meters.mbus import parse_hex

    t = text.strip()
    if t and set(t) <= _HEX:
        return parse_hex(t)
    try:
        return base64.b64decode(t, validate=True)
    except (binascii.Error, ValueError):
        raise FrameError("frame", 0, "payload is neither hex nor base64") from None


def _time(value: Any, field: str) -> datetime:
    try:
        t = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field} {value!r} is not an ISO-8601 time") from None
    if t.tzinfo is None:
        raise ValueError(f"{field} {value!r} has no time zone")
    return t


def _number(value: Any, field: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value != value:  # NaN from an empty spreadsheet cell
        return None
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field} {value!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{field} {value!r} is not finite")
    return d


def decoded_reading(obj: dict[str, Any]) -> tuple[MeterReading, datetime | None, str]:
    """A reading from decoded fields; raises ValueError naming the field."""
    meter_id = str(obj.get("meter_id") or "").strip()
    if not meter_id:
        raise ValueError("meter_id is missing")
    energy = None
    for key, factor in _ENERGY.items():
        v = _number(obj.get(key), key)
        if v is not None:
            energy = v * factor
            break
    values = {k: _number(obj.get(k), k) for k in _NUMBERS}
    flags = obj.get("error_flags") or ()
    if isinstance(flags, str):
        flags = tuple(f.strip() for f in flags.split(";") if f.strip())
    read_at = _time(obj["read_at"], "read_at") if obj.get("read_at") not in (None, "") else None
    reading = MeterReading("manual", meter_id, energy_gj=energy, error_flags=tuple(flags), **values)  # type: ignore[arg-type]
    return reading, read_at, meter_id


def _from_object(obj: Any, source: str) -> Candidate:
    raw = json.dumps(obj, ensure_ascii=False, default=str)[:2000]
    if not isinstance(obj, dict):
        return Candidate(source, raw, error=f"expected a JSON object, got {type(obj).__name__}")
    try:
        if "frame" in obj:
            reading = decode_frame(frame_bytes(str(obj["frame"])), obj.get("protocol"))
            read_at = _time(obj["read_at"], "read_at") if obj.get("read_at") else None
            return Candidate(source, raw, reading, read_at=read_at, meter_id=obj.get("meter_id"))
        reading, read_at, meter_id = decoded_reading(obj)
        return Candidate(source, raw, reading, read_at=read_at, meter_id=meter_id)
    except (ValueError, KeyError) as exc:
        return Candidate(source, raw, error=str(exc))


def parse_payload(payload: bytes, source: str) -> list[Candidate]:
    """Candidates from one MQTT message or API body (never raises on bad input)."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return [Candidate(source, payload[:200].hex(" "), error="payload is not UTF-8 text")]
    if text.startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            return [Candidate(source, text[:2000], error=f"JSON: {exc}")]
        items = doc if isinstance(doc, list) else [doc]
        return [
            _from_object(o, f"{source}#{i}" if len(items) > 1 else source)
            for i, o in enumerate(items)
        ]
    try:
        return [Candidate(source, text[:2000], decode_frame(frame_bytes(text)))]
    except ValueError as exc:
        return [Candidate(source, text[:2000], error=str(exc))]


def parse_round_file(path: Path, content: bytes | None = None) -> list[Candidate]:
    """Candidates from a CSV or XLSX reading round (header row; one reading a row)."""
    import pandas as pd

    data = content if content is not None else path.read_bytes()
    name = path.name
    try:
        if name.lower().endswith((".xlsx", ".xlsm")):
            frame = pd.read_excel(io.BytesIO(data), dtype=object)
            first_row = 2
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
            first_row = 2
    except Exception as exc:
        return [
            Candidate(
                f"file:{name}",
                data[:500].decode("utf-8", "replace"),
                error=f"unreadable file: {exc}",
            )
        ]
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    out = []
    for i, row in enumerate(frame.to_dict("records")):
        source = f"file:{name}:{i + first_row}"
        raw = ",".join("" if v is None else str(v) for v in row.values())
        obj = {
            k: (None if v is None or (isinstance(v, float) and v != v) else v)
            for k, v in row.items()
        }
        if isinstance(obj.get("read_at"), datetime):
            obj["read_at"] = obj["read_at"].isoformat()
        try:
            reading, read_at, meter_id = decoded_reading(obj)
        except (ValueError, KeyError) as exc:
            out.append(Candidate(source, raw, error=str(exc)))
            continue
        out.append(Candidate(source, raw, reading, read_at=read_at, meter_id=meter_id))
    return out
