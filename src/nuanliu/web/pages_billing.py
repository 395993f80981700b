"""Billing pages: a resident's bill and statement; staff's collection rates and sheets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nuanliu.api.deps import StoreDep
from nuanliu.billing import access
from nuanliu.billing.collection import LEVEL_COLUMNS, collection_rates
from nuanliu.billing.payments import season_of
from nuanliu.billing.statement import statement_data, temperature_svg
from nuanliu.errors import NotFound
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context, label
from nuanliu.web.export import download, table_download
from nuanliu.web.i18n import choose_lang
from nuanliu.web.pages import not_found_page, page_gate
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)
LOCAL = ZoneInfo("Asia/Shanghai")
LEVELS = ("community", "enterprise", "city")


def _season(season: str | None) -> str:
    import re

    if season and re.fullmatch(r"\d{4}-\d{4}", season):
        return season
    return season_of(datetime.now(UTC))


def _today() -> Any:
    return datetime.now(UTC).astimezone(LOCAL).date()


def _seasons(store: Any, current: str) -> list[str]:
    with store.read() as q:
        found = {r[0] for r in q.all("SELECT DISTINCT season FROM bills")}
    return sorted(found | {current}, reverse=True)


@router.get("/billing", response_class=HTMLResponse)
def billing_home(
    request: Request, user: PageUser, store: StoreDep, season: str | None = None,
    level: str = "community", format: str | None = None,
) -> Response:  # fmt: skip
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    s = _season(season)
    if str(user.role) == "resident":
        return RedirectResponse(f"/billing/household/{user.household_id}?season={s}", 303)
    level = level if level in LEVELS else "community"
    lang, _ = choose_lang(request)
    ids = access.visible_units(store, user.scope(), LEVEL_COLUMNS[level])
    stats = collection_rates(store, level=level, ids=ids, season=s)
    rows = [
        {
            "id": st.object_id,
            "label": label(store, level, st.object_id, lang),
            "billed_yuan": st.billed_yuan,
            "paid_yuan": st.paid_yuan,
            "rate": st.rate,
            "rate_pct": None if st.rate is None else st.rate * 100,
        }
        for st in stats
    ]
    if format in ("csv", "xlsx"):
        import pandas as pd

        return table_download(pd.DataFrame(rows), format, f"collection-{level}-{s}", sheet=level)
    billed = sum((r["billed_yuan"] for r in rows), start=0)
    paid = sum((r["paid_yuan"] for r in rows), start=0)
    ctx = {
        **base_context(request, user, "billing"),
        "season": s,
        "seasons": _seasons(store, s),
        "level": level,
        "levels": LEVELS,
        "rows": rows,
        "total_billed": billed,
        "total_paid": paid,
        "total_rate_pct": float(paid / billed * 100) if billed else None,
    }
    return render(request, "billing/collection.html", ctx)


@router.get("/billing/household/{household_id}", response_class=HTMLResponse)
def household_bill(
    request: Request, user: PageUser, store: StoreDep, household_id: str, season: str | None = None
) -> Response:
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    try:
        access.require_household(store, user.scope(), household_id)
    except NotFound:
        return not_found_page(request, user)
    s = _season(season)
    data = statement_data(store, household_id, s, as_of=_today())
    ctx = {
        **base_context(request, user, "billing"),
        "season": s,
        "seasons": _seasons(store, s),
        "st": data,
        "chart_svg": temperature_svg(data.indoor_daily, data.standard_temp_c),
        "bar_max": max([*data.neighbours_gj_m2, data.heat_gj_m2 or 0, data.building_gj_m2 or 0])
        or 1,
    }
    return render(request, "billing/statement.html", ctx)


@router.get("/billing/household/{household_id}/statement.pdf")
def household_pdf(
    request: Request, user: PageUser, store: StoreDep, household_id: str, season: str | None = None
) -> Response:
    from nuanliu.billing.statement import statement_pdf

    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    try:
        access.require_household(store, user.scope(), household_id)
    except NotFound:
        return not_found_page(request, user)
    s = _season(season)
    pdf = statement_pdf(statement_data(store, household_id, s, as_of=_today()))
    return download(pdf, f"statement-{household_id}-{s}.pdf")


@router.get("/billing/community/{community_id}/statements.xlsx")
def community_sheet(
    request: Request, user: PageUser, store: StoreDep, community_id: str, season: str | None = None
) -> Response:
    from nuanliu.billing.statement import community_xlsx

    if (gate := page_gate(request, user)) is not None:
        return gate
    try:
        access.require_unit(store, user.scope(), "community_id", community_id, "community")
    except NotFound:
        return not_found_page(request, user)
    s = _season(season)
    return download(
        community_xlsx(store, community_id, s, as_of=_today()), f"billing-{community_id}-{s}.xlsx"
    )
