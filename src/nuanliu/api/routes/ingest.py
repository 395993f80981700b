"""HTTP batch ingest of indoor readings (JSON array, gateway batch, NDJSON or CSV).

No body makes this endpoint answer 5xx: a body over the size limit gets 413, a body
with nothing acceptable in it 422 with the counts (``details``), and a body whose
processing raises is kept as a dead letter (422 naming it). Only a store outage is a
503 — the body was fine, the database was not.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from nuanliu.api.accounts import User
from nuanliu.api.audit import record_event
from nuanliu.api.deps import client_ip, csrf_protect, require
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import InvalidInput, PermissionDenied
from nuanliu.ingest.batch import (
    CSV_TYPES,
    JSON_TYPES,
    NDJSON_TYPES,
    ingest_payload,
    ingestor_for,
    media_type,
)
from nuanliu.ingest.files import csv_chunks
from nuanliu.ingest.model import IngestReport
from nuanliu.ingest.parse import parse_json, parse_ndjson, split_lines
from nuanliu.store.dead_letters import needs_escape

router = APIRouter(
    prefix=API_PREFIX,
    tags=["ingest"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Ingester = Annotated[User, Depends(require(Permission.INGEST))]

# Default request body limit; an app may set ``app.state.ingest_max_body_bytes``.
MAX_BODY_BYTES = 10 * 1024 * 1024

_READING = {
    "type": "object",
    "required": ["sensor_id", "ts", "temp_c"],
    "properties": {
        "sensor_id": {"type": "string"},
        "ts": {"type": "string", "format": "date-time"},
        "temp_c": {"type": "number"},
        "humidity_pct": {"type": ["number", "null"]},
    },
}
_BODY = {
    "required": True,
    "description": "Readings as a JSON array (or one reading, or a gateway batch "
    '{"gateway": ..., "readings": [...]}), NDJSON lines or CSV with a header.',
    "content": {
        "application/json": {"schema": {"type": "array", "items": _READING}},
        "application/x-ndjson": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}},
    },
}


def _batch_ids(batch: Any) -> set[str]:
    column = batch.columns["sensor_id"]
    values = column.to_pylist() if hasattr(column, "to_pylist") else list(column)
    return {str(v) for v in values if v is not None and str(v)}


def sensor_ids_in(body: bytes, content_type: str) -> set[str]:
    """The sensor ids a body names, read by the same parsers ingest uses (rows they
    cannot parse name no sensor; ingest quarantines them)."""
    kind = media_type(content_type)
    if kind in JSON_TYPES or kind.endswith("+json"):
        return _batch_ids(parse_json(body, "scope-check")[0])
    if kind in NDJSON_TYPES:
        return _batch_ids(parse_ndjson(split_lines(body), "scope-check").build())
    if kind in CSV_TYPES:
        ids: set[str] = set()
        for batch, _ in csv_chunks(io.BytesIO(body), "scope-check"):
            ids |= _batch_ids(batch)
        return ids
    raise InvalidInput(
        f"unsupported content type {content_type!r}; send application/json, "
        "application/x-ndjson or text/csv",
        details={"content_type": content_type},
    )


def foreign_sensors(store: Any, user: User, sensor_ids: set[str]) -> list[str]:
    """Registered sensors outside the caller's scope (unknown ones are ingest's business)."""
    # Ids no registered sensor can have (NUL, lone surrogates; PostgreSQL refuses them
    # as parameters) are left to ingest, which quarantines them as unknown sensors.
    ids = sorted(i for i in sensor_ids if not needs_escape(i))
    if not ids:
        return []
    cond, params = user.scope().where("hc")
    found: list[str] = []
    with store.read() as q:
        for start in range(0, len(ids), 1000):  # PostgreSQL takes ≤ 65 535 parameters
            chunk = ids[start : start + 1000]
            marks = ", ".join("?" for _ in chunk)
            rows = q.all(
                f"SELECT s.sensor_id FROM sensors s"
                f" LEFT JOIN household_context hc ON hc.household_id = s.household_id"
                f" WHERE s.sensor_id IN ({marks}) AND NOT COALESCE(({cond}), FALSE)",
                [*chunk, *params],
            )
            found.extend(r[0] for r in rows)
    return sorted(found)


def _ingest_sync(request: Request, user: User, body: bytes, content_type: str) -> dict[str, Any]:
    store = request.app.state.store
    source = f"http:{user.username}"
    try:
        named = sensor_ids_in(body, content_type)
    except InvalidInput:
        raise  # unsupported content type, a CSV without its header: 422 as it is
    except Exception as exc:
        # A body the parsers cannot even read for its sensor ids is poison: keep it for
        # replay by an operator (never ingested unchecked on the caller's behalf). A store
        # outage is re-raised (503).
        report = ingestor_for(store).dead_letter_body(exc, body, content_type, source, "http")
    else:
        outside = foreign_sensors(store, user, named)
        if outside:
            raise PermissionDenied(
                f"{len(outside)} sensor(s) are not in your scope; nothing stored",
                details={"sensor_ids": outside[:50]},
            )
        report = ingest_payload(store, body, content_type, source=source)
    metrics = request.app.state.metrics
    metrics.readings_ingested.inc(report.stored)
    metrics.readings_duplicate.inc(report.duplicates)
    metrics.readings_quarantined.inc(report.rejected)
    out = report.to_dict()
    # Reasons quote the input: a lone surrogate in them would make the JSON response
    # itself fail to encode (a 500), so such characters travel escaped.
    out["reasons"] = [r.encode("utf-8", "backslashreplace").decode() for r in out["reasons"]]
    record_event(
        store,
        action="readings_ingest",
        user=user,
        object_type="readings",
        after={
            k: out[k] for k in ("received", "stored", "duplicates", "rejected", "dead_lettered")
        },
        client_ip=client_ip(request),
    )
    refusal = _refusal(report, out["reasons"])
    if refusal:
        raise InvalidInput(refusal, details=out)
    return out


def _refusal(report: IngestReport, reasons: list[str]) -> str | None:
    """Why the whole body is refused (4xx), or None when any of it was accepted."""
    first = reasons[0] if reasons else "no reason"
    if report.dead_lettered:
        ids = ", ".join(str(i) for i in report.dead_letter_ids) or "?"
        return (
            f"the body could not be processed and was kept as dead letter {ids} for replay "
            f"({first})"
        )
    if report.received and not (report.stored or report.duplicates):
        return f"no reading in the body was accepted; {report.rejected} quarantined ({first})"
    if not report.received:
        return "the body holds no readings"
    return None


@router.post(
    "/readings",
    operation_id="readings_ingest",
    summary="Upload a batch of indoor readings; bad rows are quarantined with a reason",
    openapi_extra={"requestBody": _BODY},
)
async def readings_ingest(request: Request, user: Ingester) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    limit = int(getattr(request.app.state, "ingest_max_body_bytes", MAX_BODY_BYTES))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit, int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _too_large(limit, None)
    return await run_in_threadpool(_ingest_sync, request, user, bytes(body), content_type)


def _too_large(limit: int, size: int | None) -> HTTPException:
    got = f" ({size:,} bytes)" if size is not None else ""
    return HTTPException(
        413,
        detail=f"request body larger than the {limit:,}-byte limit{got}; "
        "split the batch into smaller requests",
    )
