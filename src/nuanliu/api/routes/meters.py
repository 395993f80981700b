"""Meters API: the registry's heat meters, their readings, reading ingest, frame decoding."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request

from nuanliu.api.accounts import User
from nuanliu.api.deps import CurrentUser, StoreDep, require
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.billing import access
from nuanliu.errors import InvalidInput, NotFound
from nuanliu.meters.registry import load_meters

router = APIRouter(prefix=f"{API_PREFIX}/meters", tags=["meters"], responses=ERROR_RESPONSES)

Reader = Annotated[User, Depends(require(Permission.READ))]
Ingester = Annotated[User, Depends(require(Permission.INGEST))]
MAX_BODY = 2 * 2**20


@router.get("", operation_id="meters_list", summary="Heat meters of the households in scope")
def meters(store: StoreDep, user: Reader) -> list[dict[str, Any]]:
    seen = access.visible_meters(store, user.scope())
    out = []
    for m in load_meters(store):
        if m.meter_id in seen:
            due = m.verification_due()
            d = {
                k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in m.__dict__.items()
            }
            out.append({**d, "verification_due": due.isoformat() if due else None})
    return out


@router.get("/{meter_id}/readings", operation_id="meters_readings", summary="A meter's readings")
def readings(
    store: StoreDep, user: Reader, meter_id: str, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> list[dict[str, Any]]:
    if meter_id not in access.visible_meters(store, user.scope()):
        raise NotFound(f"meter {meter_id} not found")
    with store.read() as q:
        rows = q.dicts(
            "SELECT read_at, energy_gj, volume_m3, power_kw, flow_m3_h, supply_temp_c, "
            "return_temp_c, operating_hours, meter_clock, error_flags, flags, billable, source "
            "FROM meter_readings WHERE meter_id = ? ORDER BY read_at DESC LIMIT ?",
            [meter_id, limit],
        )
    return [
        {
            k: (str(v) if v is not None and not isinstance(v, (bool, str)) else v)
            for k, v in r.items()
        }
        for r in rows
    ]


@router.post(
    "/readings",
    operation_id="meters_ingest",
    summary="Ingest meter readings: raw frames (hex/base64) or JSON, as on MQTT",
)
async def ingest_readings(request: Request, store: StoreDep, user: Ingester) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from nuanliu.meters.ingest import ingest
    from nuanliu.meters.messages import parse_payload

    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput(f"body larger than {MAX_BODY // 2**20} MiB")
    allowed = access.visible_meters(store, user.scope())
    candidates = parse_payload(body, f"http:{user.username}")
    report = await run_in_threadpool(
        lambda: ingest(store, candidates, now=datetime.now(UTC), allowed_meter_ids=allowed)
    )
    if report.received and not (report.stored or report.duplicates):
        raise InvalidInput(
            f"no reading in the body was accepted; {report.quarantined} quarantined",
            details=report.as_dict(),
        )
    return report.as_dict()


@router.post("/decode", operation_id="meters_decode", summary="Decode one M-Bus or CJ/T 188 frame")
def decode(
    user: CurrentUser,
    frame: Annotated[str, Body(embed=True, max_length=4096, description="hex or base64")],
    protocol: Annotated[str | None, Body(embed=True, pattern="^(mbus|cjt188)$")] = None,
) -> dict[str, Any]:
    from nuanliu.meters.messages import frame_bytes
    from nuanliu.meters.reading import decode_frame

    return decode_frame(frame_bytes(frame), protocol).to_json()
