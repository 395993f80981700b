"""HTTP batch ingest of indoor readings (JSON array, gateway batch, NDJSON or CSV)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

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
    media_type,
)
from nuanliu.ingest.files import csv_chunks
from nuanliu.ingest.parse import parse_json, parse_ndjson, split_lines

router = APIRouter(
    prefix=API_PREFIX,
    tags=["ingest"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Ingester = Annotated[User, Depends(require(Permission.INGEST))]

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
    if not sensor_ids:
        return []
    cond, params = user.scope().where("hc")
    ids = sorted(sensor_ids)
    marks = ", ".join("?" for _ in ids)
    with store.read() as q:
        rows = q.all(
            f"SELECT s.sensor_id FROM sensors s"
            f" LEFT JOIN household_context hc ON hc.household_id = s.household_id"
            f" WHERE s.sensor_id IN ({marks}) AND NOT COALESCE(({cond}), FALSE)",
            [*ids, *params],
        )
    return sorted(r[0] for r in rows)


def _ingest_sync(request: Request, user: User, body: bytes, content_type: str) -> dict[str, Any]:
    store = request.app.state.store
    outside = foreign_sensors(store, user, sensor_ids_in(body, content_type))
    if outside:
        raise PermissionDenied(
            f"{len(outside)} sensor(s) are not in your scope; nothing stored",
            details={"sensor_ids": outside[:50]},
        )
    report = ingest_payload(store, body, content_type, source=f"http:{user.username}")
    metrics = request.app.state.metrics
    metrics.readings_ingested.inc(report.stored)
    metrics.readings_duplicate.inc(report.duplicates)
    metrics.readings_quarantined.inc(report.rejected)
    out = report.to_dict()
    record_event(
        store,
        action="readings_ingest",
        user=user,
        object_type="readings",
        after={k: out[k] for k in ("received", "stored", "duplicates", "rejected")},
        client_ip=client_ip(request),
    )
    return out


@router.post(
    "/readings",
    operation_id="readings_ingest",
    summary="Upload a batch of indoor readings; bad rows are quarantined with a reason",
    openapi_extra={"requestBody": _BODY},
)
async def readings_ingest(request: Request, user: Ingester) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise InvalidInput(f"body larger than {MAX_BODY_BYTES // 2**20} MiB; split the batch")
    return await run_in_threadpool(_ingest_sync, request, user, bytes(body), content_type)
