"""Station and source telemetry: sites, hourly series, detected faults, and ingest.

Telemetry is operations data (like the twin's results): reading it needs
``READ_NETWORK``, posting it ``INGEST``. A site linked to a registry station is visible
only to callers whose scope covers that station's homes (404 otherwise, as for other
registry objects); the twin's own sites (not linked) are visible to every caller with
the permission. Posting telemetry naming a site the caller's scope does not cover is
refused as a whole (403).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from nuanliu.api.accounts import User
from nuanliu.api.deps import StoreDep, csrf_protect, require
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import InvalidInput, NotFound, PermissionDenied
from nuanliu.scope import Scope
from nuanliu.telemetry.ingest import telemetry_ingestor_for
from nuanliu.telemetry.store import Site, get_site, list_sites

router = APIRouter(
    prefix=f"{API_PREFIX}/telemetry",
    tags=["telemetry"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Reader = Annotated[User, Depends(require(Permission.READ_NETWORK))]
Ingester = Annotated[User, Depends(require(Permission.INGEST))]
MAX_BODY_BYTES = 10 * 1024 * 1024


def site_visible(store: Any, scope: Scope, site: Site) -> bool:
    if scope.is_unrestricted or site.station_id is None:
        return True
    cond, params = scope.where("hc")
    with store.read() as q:
        found = q.all(
            f"SELECT 1 FROM household_context hc WHERE ({cond}) AND hc.station_id = ? LIMIT 1",
            [*params, site.station_id],
        )
    return bool(found)


def visible_site(store: Any, scope: Scope, site_id: str) -> Site:
    site = get_site(store, site_id)
    if not site_visible(store, scope, site):
        raise NotFound(f"telemetry site {site_id!r} does not exist", details={"site_id": site_id})
    return site


def _site_dict(s: Site) -> dict[str, Any]:
    return {
        "site_id": s.site_id,
        "kind": s.kind,
        "name_zh": s.name_zh,
        "name_en": s.name_en,
        "station_id": s.station_id,
        "network_element_id": s.network_element_id,
        "heated_area_m2": s.heated_area_m2,
        "design_heat_kw": s.design_heat_kw,
        "curve": [list(p) for p in s.curve],
    }


@router.get("/sites", operation_id="telemetry_sites", summary="Telemetry sites in my scope")
def sites(store: StoreDep, user: Reader, kind: str | None = Query(default=None)) -> list[dict]:
    scope = user.scope()
    return [_site_dict(s) for s in list_sites(store, kind=kind) if site_visible(store, scope, s)]


@router.get(
    "/sites/{site_id}/series",
    operation_id="telemetry_series",
    summary="Hourly means of a site's points over a time range",
)
def series(
    store: StoreDep,
    user: Reader,
    site_id: str = Path(...),
    start: datetime | None = Query(default=None),
    end: datetime | None = Query(default=None),
) -> dict[str, Any]:
    from nuanliu.telemetry.views import station_view

    site = visible_site(store, user.scope(), site_id)
    end_ = end or datetime.now(UTC)
    start_ = start or end_ - timedelta(days=7)
    if start_.tzinfo is None or end_.tzinfo is None:
        raise InvalidInput("start and end need a timezone offset")
    view = station_view(store, site, start_, end_, with_twin=False)
    return {"site": _site_dict(site), **view.to_json()}


@router.get("/faults", operation_id="telemetry_faults", summary="Detected substation faults")
def faults(
    store: StoreDep, user: Reader, open_only: bool = Query(default=True, alias="open")
) -> list[dict[str, Any]]:
    scope = user.scope()
    visible = {s.site_id for s in list_sites(store) if site_visible(store, scope, s)}
    where = "WHERE is_open" if open_only else ""
    with store.read() as q:
        rows = q.dicts(
            "SELECT fault_id, site_id, fault_class, first_detected_at, last_detected_at,"
            f" window_start, window_end, score, message_zh, message_en, is_open, alert_id"
            f" FROM tel_faults {where} ORDER BY last_detected_at DESC, fault_id DESC"
        )
    return [r for r in rows if r["site_id"] in visible]


@router.get(
    "/faults/{fault_id}", operation_id="telemetry_fault", summary="One fault with its evidence"
)
def fault(store: StoreDep, user: Reader, fault_id: int = Path(...)) -> dict[str, Any]:
    import json

    with store.read() as q:
        rows = q.dicts("SELECT * FROM tel_faults WHERE fault_id = ?", [fault_id])
    if not rows:
        raise NotFound(f"fault {fault_id} does not exist", details={"fault_id": fault_id})
    row = rows[0]
    visible_site(store, user.scope(), row["site_id"])
    row["evidence"] = json.loads(row.pop("evidence_json"))
    return row


def _post_sync(store: Any, user: User, body: bytes, content_type: str) -> dict[str, Any]:
    ing = telemetry_ingestor_for(store)
    result, received = ing.check_bytes(body, content_type, f"http:{user.username}")
    scope = user.scope()
    if not scope.is_unrestricted and result.valid.num_rows:
        ids = set(result.valid.column("site_id").to_pylist())
        foreign = [
            s.site_id
            for s in list_sites(store)
            if s.site_id in ids and not site_visible(store, scope, s)
        ]
        if foreign:
            raise PermissionDenied(
                f"telemetry for site(s) outside your scope: {', '.join(sorted(foreign)[:5])}",
                details={"sites": sorted(foreign)[:50]},
            )
    return ing.commit(result, received).to_dict()


@router.post("", operation_id="telemetry_ingest", summary="Post telemetry (JSON, NDJSON or CSV)")
async def ingest(request: Request, store: StoreDep, user: Ingester) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInput(f"body of {len(body)} bytes is over the {MAX_BODY_BYTES} byte limit")
    content_type = request.headers.get("content-type", "application/json")
    return await run_in_threadpool(_post_sync, store, user, body, content_type)
