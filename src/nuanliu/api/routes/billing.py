"""Billing API: bills, statements, collection rates, billing runs, payment imports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from nuanliu.api.accounts import User
from nuanliu.api.deps import StoreDep, require
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.billing import access
from nuanliu.billing.collection import LEVEL_COLUMNS, collection_rates
from nuanliu.billing.payments import import_payments, season_of
from nuanliu.billing.runs import latest_bills, run_billing
from nuanliu.billing.tariffs import load_tariffs
from nuanliu.errors import InvalidInput, PermissionDenied

router = APIRouter(prefix=f"{API_PREFIX}/billing", tags=["billing"], responses=ERROR_RESPONSES)

Reader = Annotated[User, Depends(require(Permission.READ))]
Manager = Annotated[User, Depends(require(Permission.MANAGE_BILLING))]
SeasonQ = Annotated[str | None, Query(pattern=r"^\d{4}-\d{4}$", description="e.g. 2026-2027")]
LOCAL = ZoneInfo("Asia/Shanghai")
MAX_UPLOAD_BYTES = 20 * 2**20


def _season(season: str | None) -> str:
    return season or season_of(datetime.now(UTC))


def _today() -> date:
    return datetime.now(UTC).astimezone(LOCAL).date()


def _not_resident(user: User, what: str) -> None:
    if str(user.role) == "resident":
        raise PermissionDenied(f"role resident may not read {what}", details={"role": "resident"})


def _bill_json(b: dict[str, Any]) -> dict[str, Any]:
    import json

    out = {
        k: (str(v) if v is not None and k in ("total_yuan", "energy_gj") else v)
        for k, v in b.items()
    }
    out["lines"] = json.loads(b["lines"])
    for k in ("issued_on", "due_on"):
        out[k] = b[k].isoformat() if b.get(k) else None
    out.pop("inputs_sha256", None)
    return out


@router.get("/tariffs", operation_id="billing_tariffs", summary="Tariff versions (examples marked)")
def tariffs(store: StoreDep, user: Reader) -> list[dict[str, Any]]:
    return [
        {
            **{
                k: (str(v) if v is not None and not isinstance(v, (bool, int, str)) else v)
                for k, v in t.__dict__.items()
            },
        }
        for t in load_tariffs(store)
    ]


@router.get(
    "/bills", operation_id="billing_bills", summary="Current bills of the households in scope"
)
def bills(
    store: StoreDep,
    user: Reader,
    season: SeasonQ = None,
    kind: Annotated[str | None, Query(pattern="^(advance|settlement)$")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    rows = latest_bills(store, _season(season), kind, scope=user.scope())
    return {"total": len(rows), "bills": [_bill_json(b) for b in rows[offset : offset + limit]]}


@router.get(
    "/households/{household_id}/bills",
    operation_id="billing_household_bills",
    summary="Every version of a household's bills for a season",
)
def household_bills(
    store: StoreDep, user: Reader, household_id: str, season: SeasonQ = None
) -> list[dict[str, Any]]:
    access.require_household(store, user.scope(), household_id)
    with store.read() as q:
        rows = q.dicts(
            "SELECT * FROM bills WHERE household_id = ? AND season = ? ORDER BY kind, version",
            [household_id, _season(season)],
        )
    return [_bill_json(r) for r in rows]


@router.get(
    "/households/{household_id}/statement.pdf",
    operation_id="billing_statement_pdf",
    summary="The household's statement as PDF",
    response_class=Response,
)
def statement_pdf(
    store: StoreDep, user: Reader, household_id: str, season: SeasonQ = None
) -> Response:
    from nuanliu.billing.statement import statement_data
    from nuanliu.billing.statement import statement_pdf as render

    access.require_household(store, user.scope(), household_id)
    s = _season(season)
    pdf = render(statement_data(store, household_id, s, as_of=_today()))
    from nuanliu.web.export import download

    return download(pdf, f"statement-{household_id}-{s}.pdf")


@router.get(
    "/collection",
    operation_id="billing_collection",
    summary="Collection rate (收缴率) per object at a level, within scope",
)
def collection(
    store: StoreDep,
    user: Reader,
    level: Annotated[
        str, Query(pattern="^(region|city|county|enterprise|station|community|building)$")
    ] = "community",
    season: SeasonQ = None,
) -> list[dict[str, Any]]:
    _not_resident(user, "collection rates")
    ids = access.visible_units(store, user.scope(), LEVEL_COLUMNS[level])
    return [
        {**s.__dict__, "billed_yuan": str(s.billed_yuan), "paid_yuan": str(s.paid_yuan)}
        for s in collection_rates(store, level=level, ids=ids, season=_season(season))
    ]


@router.get(
    "/communities/{community_id}/statements.xlsx",
    operation_id="billing_community_xlsx",
    summary="The community's bills, payments and collection rate as XLSX",
    response_class=Response,
)
def community_xlsx(
    store: StoreDep, user: Reader, community_id: str, season: SeasonQ = None
) -> Response:
    from nuanliu.billing.statement import community_xlsx as build
    from nuanliu.web.export import download

    _not_resident(user, "community statements")
    access.require_unit(store, user.scope(), "community_id", community_id, "community")
    s = _season(season)
    return download(
        build(store, community_id, s, as_of=_today()), f"billing-{community_id}-{s}.xlsx"
    )


class RunRequest(BaseModel):
    season: str = Field(pattern=r"^\d{4}-\d{4}$")
    kind: str = Field(pattern="^(advance|settlement)$")
    issued_on: date | None = None


@router.post("/runs", operation_id="billing_run", summary="Run billing for the households in scope")
def run(store: StoreDep, user: Manager, body: RunRequest) -> dict[str, Any]:
    ids = sorted(access.visible_households(store, user.scope()))
    if not ids:
        raise InvalidInput("no households in your scope to bill")
    report = run_billing(
        store,
        season=body.season,
        kind=body.kind,
        issued_on=body.issued_on or _today(),
        household_ids=ids,
    )
    return report.as_dict()


@router.post(
    "/payments",
    operation_id="billing_payments_import",
    summary="Import a bank or channel payment file",
)
async def payments(
    store: StoreDep,
    user: Manager,
    file: Annotated[UploadFile, File(description="CSV (UTF-8) or XLSX")],
    channel: Annotated[str, Form(max_length=40)] = "bank",
) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"file larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
    allowed = access.visible_households(store, user.scope())
    report = await run_in_threadpool(
        lambda: import_payments(
            store,
            file.filename or "payments.csv",
            data,
            channel=channel,
            allowed_households=allowed,
        )
    )
    return report.as_dict()
