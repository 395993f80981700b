"""Hotline API: tickets in my scope, filing, actions, 12345 import, rates, compensation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Path, Query, Request, UploadFile

from nuanliu.api.accounts import User
from nuanliu.api.audit import record_event
from nuanliu.api.deps import CurrentUser, StoreDep, client_ip, csrf_protect, require
from nuanliu.api.frames import dict_record, frame_records
from nuanliu.api.roles import Permission, Role
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.routes.monitoring import aware
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import InvalidInput, PermissionDenied
from nuanliu.hotline import access, imports, queries, stats
from nuanliu.hotline.calendar import load_calendar
from nuanliu.hotline.compensation import compensation_claims
from nuanliu.hotline.intake import find_households
from nuanliu.hotline.stats_cache import cached, store_key

router = APIRouter(
    prefix=f"{API_PREFIX}/hotline",
    tags=["hotline"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Reader = Annotated[User, Depends(require(Permission.READ))]
Filer = Annotated[User, Depends(require(Permission.HOTLINE_FILE))]
Importer = Annotated[User, Depends(require(Permission.HOTLINE_IMPORT))]
TicketId = Annotated[str, Path(pattern=r"^HL\d{8}$")]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _now() -> datetime:
    return datetime.now(UTC)


def staff(user: Reader) -> User:
    """Readers other than residents (statistics are not a resident's business)."""
    if user.role is Role.RESIDENT:
        raise PermissionDenied("residents see their own tickets, not statistics")
    return user


Staff = Annotated[User, Depends(staff)]


def ticket_reader(user: CurrentUser) -> User:
    """Whoever reads data or files complaints sees the tickets of their scope."""
    if not (user.can(Permission.READ) or user.can(Permission.HOTLINE_FILE)):
        raise PermissionDenied(f"role {user.role} may not read tickets")
    return user


TicketReader = Annotated[User, Depends(ticket_reader)]


@router.get("/tickets", operation_id="hotline_tickets", summary="Tickets in my scope (queue)")
def tickets(
    store: StoreDep,
    user: TicketReader,
    state: str = Query(
        default="open", pattern=r"^(open|all|new|signed|on_site|measured|fixed|reopened|closed)$"
    ),
    category: str | None = Query(default=None, max_length=20),
    community_id: str | None = Query(default=None, max_length=64),
    channel: str | None = Query(default=None, max_length=20),
    overdue: bool = False,
    q: str | None = Query(default=None, max_length=100),
    limit: int = Query(default=200, ge=1, le=5000),
) -> list[dict[str, Any]]:
    try:
        f = queries.QueueFilter(state, category, community_id, channel, overdue, q, limit)
        rows = queries.queue(store, user.scope(), f, _now())
    except ValueError as exc:
        raise InvalidInput(str(exc), details={"field": "category"}) from None
    return [dict_record(r) for r in rows]


@router.post("/tickets", operation_id="hotline_file", summary="File a complaint", status_code=201)
def file_ticket(
    request: Request,
    store: StoreDep,
    user: Filer,
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {"household_id": "H0000001", "category": "temp_low", "description": "卧室只有16度"}
            ]
        ),
    ],
) -> dict[str, Any]:
    tid = access.file_complaint(store, user, body, _now())
    record_event(
        store,
        action="hotline_file",
        user=user,
        object_type="ticket",
        object_id=tid,
        client_ip=client_ip(request),
    )
    return {"ticket_id": tid}


@router.get("/tickets/{ticket_id}", operation_id="hotline_ticket", summary="One ticket, all of it")
def ticket(store: StoreDep, user: TicketReader, ticket_id: TicketId) -> dict[str, Any]:
    detail = queries.ticket_detail(store, user.scope(), ticket_id, _now())
    detail["ticket"]["allowed_actions"] = access.allowed_actions(
        user, detail["ticket"]["legal_actions"]
    )
    return _jsonable(detail)


@router.post(
    "/tickets/{ticket_id}/actions/{action}",
    operation_id="hotline_act",
    summary="Apply an action (sign, arrive, measure, fix, confirm, reject, …)",
)
def act(
    request: Request,
    store: StoreDep,
    user: TicketReader,
    ticket_id: TicketId,
    action: Annotated[str, Path(pattern=r"^[a-z_]{2,30}$")],
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    row = access.act(store, user, ticket_id, action, dict(body or {}), _now())
    record_event(
        store,
        action=f"hotline_{action}",
        user=user,
        object_type="ticket",
        object_id=ticket_id,
        after={"state": row["state"]},
        client_ip=client_ip(request),
    )
    return dict_record(queries._mask(row, user.scope()))


@router.get(
    "/households",
    operation_id="hotline_find_household",
    summary="Find a household by address, phone or name",
)
def households(
    store: StoreDep, user: Filer, q: str = Query(min_length=2, max_length=100)
) -> list[dict[str, Any]]:
    if user.role is Role.RESIDENT:
        raise PermissionDenied("residents file for their own household")
    with store.read() as qq:
        return find_households(qq, user.scope(), q)


@router.post(
    "/imports/12345",
    operation_id="hotline_import_json",
    summary="Import 12345 work orders (JSON list)",
)
def import_json(
    request: Request, store: StoreDep, user: Importer, body: Annotated[Any, Body()]
) -> dict[str, Any]:
    rows = imports.parse_json(body)
    report = imports.import_orders(
        store, rows, scope=user.scope(), actor=access.actor_of(user), now=_now(), source="api"
    )
    record_event(
        store,
        action="hotline_import",
        user=user,
        object_type="import",
        object_id=str(report.import_id),
        client_ip=client_ip(request),
    )
    return report.summary()


@router.post(
    "/imports/12345/file",
    operation_id="hotline_import_file",
    summary="Import a 12345 export (CSV in UTF-8 or GB18030, or XLSX)",
)
async def import_file(
    request: Request,
    store: StoreDep,
    user: Importer,
    file: Annotated[UploadFile, File(description="CSV or XLSX export of 12345 orders")],
) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"file larger than {MAX_UPLOAD_BYTES} bytes")
    name = file.filename or "upload.csv"
    rows = await run_in_threadpool(imports.parse_file, data, name)
    report = await run_in_threadpool(
        lambda: imports.import_orders(
            store, rows, scope=user.scope(), actor=access.actor_of(user), now=_now(), source=name
        )
    )
    record_event(
        store,
        action="hotline_import",
        user=user,
        object_type="import",
        object_id=str(report.import_id),
        client_ip=client_ip(request),
    )
    return report.summary()


def _window(request: Request, start: datetime | None, end: datetime | None, store: Any):
    end_at = aware(request, end) or _now()
    if start is None:
        with store.read() as q:
            cal = load_calendar(q)
        start_at = cal.bounds(cal.season_label(end_at))[0]
    else:
        start_at = aware(request, start)
    if end_at <= start_at or end_at - start_at > timedelta(days=400):
        raise InvalidInput("the window must be 1 s to 400 days long", details={"field": "start"})
    return start_at, end_at


@router.get(
    "/stats",
    operation_id="hotline_stats",
    summary="The 12345 rates, complaint rates, repeats and SLA breaches per unit",
)
def rates(
    request: Request,
    store: StoreDep,
    user: Staff,
    level: str = Query(
        default="city", pattern=r"^(region|city|county|enterprise|station|community)$"
    ),
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    s, e = _window(request, start, end, store)
    scope = user.scope()
    key = (
        "rates",
        store_key(store),
        scope,
        level,
        s.replace(second=0, microsecond=0),
        e.replace(second=0, microsecond=0),
    )
    df = cached(key, lambda: stats.rates_frame(store, scope, level, s, e))
    return frame_records(df)


@router.get("/stats/trend", operation_id="hotline_trend", summary="Daily tickets and rates")
def trend(
    request: Request,
    store: StoreDep,
    user: Staff,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    s, e = _window(request, start, end, store)
    return frame_records(stats.trend_frame(store, user.scope(), s, e))


@router.get(
    "/stats/map",
    operation_id="hotline_map",
    summary="Stations as GeoJSON points with complaint and SLA figures",
)
def map_layer(
    request: Request,
    store: StoreDep,
    user: Staff,
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, Any]:
    s, e = _window(request, start, end, store)
    return _jsonable(stats.map_layer(store, user.scope(), s, e))


@router.get(
    "/compensation",
    operation_id="hotline_compensation",
    summary="Households owed compensation in a season (what billing receives)",
)
def compensation(
    store: StoreDep,
    user: Staff,
    season: str = Query(pattern=r"^\d{4}-\d{4}$"),
) -> list[dict[str, Any]]:
    cond, params = user.scope().where("hc")
    with store.read() as q:
        ids = [
            r[0]
            for r in q.all(
                "SELECT DISTINCT t.household_id FROM hl_tickets t JOIN household_context hc"
                f" ON hc.household_id = t.household_id WHERE ({cond}) AND t.season = ?",
                [*params, season],
            )
        ]
    claims = compensation_claims(store, household_ids=ids, season=season)
    return [
        {
            "household_id": c.household_id,
            "season": c.season,
            "ticket_id": c.ticket_id,
            "below_from": c.below_from.isoformat(),
            "below_until": c.below_until.isoformat(),
            "days": str(c.days),
        }
        for c in claims
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
