"""Hotline pages: the queue per role, a ticket, the operator's call form, the resident's
page, statistics and the 12345 import. Server-rendered; forms post with the CSRF token
and redirect back (post/redirect/get)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nuanliu.api.deps import StoreDep, csrf_protect, require_auth
from nuanliu.api.roles import Permission, Role
from nuanliu.errors import NotFound, NuanliuError
from nuanliu.hotline import access, imports, queries, stats
from nuanliu.hotline.calendar import LOCAL_TZ, load_calendar
from nuanliu.hotline.compensation import (
    DEFAULT_PRICE_YUAN_M2,
    compensable_days,
    refund_yuan,
    rule,
)
from nuanliu.hotline.intake import find_households
from nuanliu.hotline.labels import labels
from nuanliu.hotline.model import Category, PauseReason, Satisfaction, State, Urgency
from nuanliu.hotline.stats_cache import cached, store_key
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context
from nuanliu.web.export import table_download
from nuanliu.web.i18n import choose_lang, translate
from nuanliu.web.pages import forbidden_page, not_found_page, page_gate
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)
STAFF_LEVELS = ("city", "county", "enterprise", "station", "community")


def _now() -> datetime:
    return datetime.now(UTC)


def countdown(minutes: float | None, lang: str) -> tuple[str, str]:
    """Text and CSS class of a deadline ``minutes`` away (negative: overdue)."""
    if minutes is None:
        return translate("hotline.no_clock", lang), "sla-none"
    m = abs(minutes)
    unit = "min" if m < 120 else "h"
    n = int(m) if unit == "min" else int(m // 60)
    hours = unit == "h"
    if minutes >= 0:
        if hours:
            text = translate("hotline.left_h", lang, n=n)
        else:
            text = translate("hotline.left_min", lang, n=n)
        return text, "sla-warn" if minutes < 30 else "sla-ok"
    if hours:
        return translate("hotline.over_h", lang, n=n), "sla-over"
    return translate("hotline.over_min", lang, n=n), "sla-over"


def _ctx(request: Request, user: Any, nav: str) -> dict[str, Any]:
    lang, _ = choose_lang(request)
    return {**base_context(request, user, nav), "L": labels(lang)}


def _communities(store: Any, user: Any) -> list[dict[str, Any]]:
    """Communities of the user's scope for the filter (read once a minute per scope)."""
    scope = user.scope()
    cond, params = scope.where("hc")

    def read() -> list[dict[str, Any]]:
        with store.read() as q:
            return q.dicts(
                "SELECT DISTINCT c.community_id, c.name_zh, c.name_en FROM household_context hc"
                f" JOIN communities c ON c.community_id = hc.community_id WHERE ({cond})"
                " ORDER BY c.community_id",
                params,
            )

    minute = int(_now().timestamp() // 60)
    return cached(("communities", store_key(store), scope, minute), read)


# ------------------------------------------------------------------------- the queue


@router.get("/hotline", response_class=HTMLResponse)
def queue_page(
    request: Request,
    user: PageUser,
    store: StoreDep,
    state: str = "open",
    category: str = "",
    community: str = "",
    overdue: str = "",
    q: str = "",
    fmt: str = "",
) -> Response:
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    if user.role is Role.RESIDENT:
        return RedirectResponse("/hotline/mine", status_code=303)
    lang, _ = choose_lang(request)
    state = state if state in ("open", "all", *[s.value for s in State]) else "open"
    category = category if category in [c.value for c in Category] else ""
    f = queries.QueueFilter(
        state=state,
        category=category or None,
        community_id=community or None,
        overdue_only=overdue == "1",
        text=q.strip() or None,
        limit=5000 if fmt else queries.QUEUE_LIMIT,
    )
    now = _now()
    rows = queries.queue(store, user.scope(), f, now)
    L = labels(lang)
    for r in rows:
        r["countdown"], r["sla_class"] = countdown(r["remaining_min"], lang)
    if fmt in ("csv", "xlsx"):
        frame = pd.DataFrame(
            [
                {
                    translate("hotline.col_ticket", lang): r["ticket_id"],
                    translate("hotline.order_no", lang): r["order_no_12345"],
                    translate("hotline.col_category", lang): L["cat"][r["category"]],
                    translate("hotline.col_state", lang): L["state"][r["state"]],
                    translate("hotline.col_address", lang): r["address"],
                    translate("hotline.col_community", lang): r["community_zh"]
                    if lang == "zh"
                    else (r["community_en"] or r["community_zh"]),
                    translate("hotline.col_created", lang): r["created_at"],
                    translate("hotline.col_due", lang): r["next_due_at"],
                    translate("hotline.col_handler", lang): r["handler_name"],
                    translate("hotline.col_evidence", lang): L["verdict"].get(r["verdict"] or ""),
                }
                for r in rows
            ]
        )
        return table_download(frame, fmt, f"hotline-{now.astimezone(LOCAL_TZ):%Y%m%d}")
    params = {
        "state": state,
        "category": category,
        "community": community,
        "overdue": overdue,
        "q": q,
    }
    ctx = {
        **_ctx(request, user, "hotline"),
        "rows": rows,
        "f": params,
        "states": ["open", "all", *[s.value for s in State]],
        "categories": [c.value for c in Category],
        "communities": _communities(store, user),
        "can_file": user.can(Permission.HOTLINE_FILE),
        "can_import": user.can(Permission.HOTLINE_IMPORT),
        "export_query": urlencode({k: v for k, v in params.items() if v}),
    }
    return render(request, "hotline/queue.html", ctx)


# ------------------------------------------------------------------------ one ticket


def _ticket_context(request: Request, user: Any, store: Any, ticket_id: str) -> dict[str, Any]:
    lang, _ = choose_lang(request)
    now = _now()
    d = queries.ticket_detail(store, user.scope(), ticket_id, now)
    t = d["ticket"]
    for c in d["clocks"]:
        c["countdown"], c["sla_class"] = countdown(c["remaining_min"], lang)
    ev = d["evidence"]
    chart = None
    if ev and ev["series"]:
        chart = {
            "standard": ev["standard_temp_c"],
            "series": [{"name": translate("hotline.mean_72h", lang), "data": ev["series"]}],
            "labels": {
                "standard": translate("chart.standard", lang, standard=ev["standard_temp_c"]),
                "temp": translate("chart.indoor_temp", lang),
            },
        }
    comp = None
    if t["below_confirmed_at"] is not None:
        with store.read() as q:
            threshold_h, rounding = rule(q)
            cal = load_calendar(q)
        start, end = cal.bounds(t["season"])
        until = t["fixed_at"] if t["state"] == "closed" and t["fixed_at"] else now
        days = compensable_days(until - t["created_at"], threshold_h, rounding)
        if days > 0:
            yuan = refund_yuan(
                days,
                float(t["floor_area_m2"] or 0),
                price_yuan_m2=DEFAULT_PRICE_YUAN_M2,
                season_days=(end - start).days,
            )
            comp = {"days": str(days), "yuan": str(yuan)}
    allowed = access.allowed_actions(user, t["legal_actions"])
    if t["paused_since"] is not None:
        allowed = [a for a in allowed if a != "pause"]
    else:
        allowed = [a for a in allowed if a != "resume"]
    if t["channel"] != "12345":
        allowed = [a for a in allowed if a != "feedback"]
    return {
        **_ctx(request, user, "hotline_mine" if user.role is Role.RESIDENT else "hotline"),
        **d,
        "tk": t,
        "chart_json": json.dumps(chart) if chart else None,
        "allowed": allowed,
        "comp": comp,
        "satisfactions": [s.value for s in Satisfaction],
        "pause_reasons": [p.value for p in PauseReason],
        "is_resident_view": user.role is Role.RESIDENT,
    }


@router.get("/hotline/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    request: Request, ticket_id: str, user: PageUser, store: StoreDep, error: str = ""
) -> Response:
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    try:
        ctx = _ticket_context(request, user, store, ticket_id)
    except NotFound:
        return not_found_page(request, user)
    ctx["error"] = error[:300]
    return render(request, "hotline/ticket.html", ctx)


@router.post("/hotline/tickets/{ticket_id}/act", dependencies=[Depends(csrf_protect)])
async def ticket_act(request: Request, ticket_id: str, store: StoreDep) -> Response:
    from starlette.concurrency import run_in_threadpool

    auth = await run_in_threadpool(require_auth, request)
    form = dict((await request.form()).items())
    action = str(form.pop("action", ""))
    form.pop("csrf_token", None)
    fields = {k: v for k, v in form.items() if v != ""}
    try:
        await run_in_threadpool(access.act, store, auth.user, ticket_id, action, fields, _now())
    except NotFound:
        return not_found_page(request, auth.user)
    except NuanliuError as exc:
        lang, _ = choose_lang(request)
        msg = translate("hotline.error", lang, message=exc.message)
        return RedirectResponse(
            f"/hotline/tickets/{ticket_id}?{urlencode({'error': msg})}", status_code=303
        )
    return RedirectResponse(f"/hotline/tickets/{ticket_id}", status_code=303)


# ------------------------------------------------------------- filing: operator, resident


@router.get("/hotline/new", response_class=HTMLResponse)
def new_page(
    request: Request,
    user: PageUser,
    store: StoreDep,
    q: str = "",
    household: str = "",
    error: str = "",
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if not user.can(Permission.HOTLINE_FILE):
        return forbidden_page(request, user)
    with store.read() as qq:
        matches = find_households(qq, user.scope(), q) if q else []
        chosen = None
        if household:
            found = find_households(qq, user.scope(), household, limit=1)
            chosen = found[0] if found and found[0]["household_id"] == household else None
    ctx = {
        **_ctx(request, user, "hotline"),
        "q": q,
        "matches": matches,
        "chosen": chosen,
        "categories": [c.value for c in Category],
        "urgencies": [u.value for u in Urgency],
        "error": error[:300],
    }
    return render(request, "hotline/new.html", ctx)


async def _file(request: Request, store: Any, back: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    auth = await run_in_threadpool(require_auth, request)
    form = dict((await request.form()).items())
    form.pop("csrf_token", None)
    try:
        tid = await run_in_threadpool(access.file_complaint, store, auth.user, form, _now())
    except NuanliuError as exc:
        lang, _ = choose_lang(request)
        msg = translate("hotline.error", lang, message=exc.message)
        sep = "&" if "?" in back else "?"
        return RedirectResponse(f"{back}{sep}{urlencode({'error': msg})}", status_code=303)
    return RedirectResponse(f"/hotline/tickets/{tid}", status_code=303)


@router.post("/hotline/new", dependencies=[Depends(csrf_protect)])
async def new_post(request: Request, store: StoreDep) -> Response:
    return await _file(request, store, "/hotline/new")


@router.get("/hotline/mine", response_class=HTMLResponse)
def mine_page(request: Request, user: PageUser, store: StoreDep, error: str = "") -> Response:
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    if user.role is not Role.RESIDENT:
        return RedirectResponse("/hotline", status_code=303)
    lang, _ = choose_lang(request)
    rows = queries.queue(store, user.scope(), queries.QueueFilter(state="all"), _now())
    rows.sort(key=lambda r: r["created_at"], reverse=True)
    ctx = {
        **_ctx(request, user, "hotline_mine"),
        "rows": rows,
        "categories": [c.value for c in Category],
        "error": error[:300],
    }
    return render(request, "hotline/mine.html", ctx)


@router.post("/hotline/mine", dependencies=[Depends(csrf_protect)])
async def mine_post(request: Request, store: StoreDep) -> Response:
    return await _file(request, store, "/hotline/mine")


# ------------------------------------------------------------------------ statistics


def _day(text: str, default: date) -> date:
    try:
        return date.fromisoformat(text) if text else default
    except ValueError:
        return default


@router.get("/hotline/stats", response_class=HTMLResponse)
def stats_page(
    request: Request,
    user: PageUser,
    store: StoreDep,
    level: str = "city",
    start: str = "",
    end: str = "",
    fmt: str = "",
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    level = level if level in STAFF_LEVELS else "city"
    now = _now()
    with store.read() as q:
        cal = load_calendar(q)
    season_start = cal.bounds(cal.season_label(now))[0].astimezone(LOCAL_TZ).date()
    today = now.astimezone(LOCAL_TZ).date()
    d0, d1 = _day(start, season_start), _day(end, today)
    s = datetime.combine(d0, time(), LOCAL_TZ).astimezone(UTC)
    e = min(now, datetime.combine(d1 + timedelta(days=1), time(), LOCAL_TZ).astimezone(UTC))
    if e <= s:
        s = e - timedelta(days=1)
    scope = user.scope()
    minute = now.replace(second=0, microsecond=0)
    df = cached(
        ("page-rates", store_key(store), scope, level, s, min(e, minute)),
        lambda: stats.rates_frame(store, scope, level, s, e),
    )
    names = _unit_names(store, level)
    rows = []
    for r in df.to_dict("records"):
        zh, en = names.get(r["unit_id"], (r["unit_id"], None))
        rows.append({**r, "name": (en or zh) if lang == "en" else zh})
    if fmt in ("csv", "xlsx"):
        cols = {
            "unit_id": "id",
            "name": translate("hotline.col_unit", lang),
            "opened": translate("hotline.col_opened", lang),
            "closed": translate("hotline.col_closed", lang),
            "overdue": translate("hotline.col_overdue", lang),
            "response_rate": translate("hotline.col_response", lang),
            "resolution_rate": translate("hotline.col_resolution", lang),
            "satisfaction_rate": translate("hotline.col_satisfaction", lang),
            "per_10k_m2": translate("hotline.col_per_10k", lang),
            "per_1000_households": translate("hotline.col_per_1000", lang),
            "repeats": translate("hotline.col_repeats", lang),
            "breach_rate": translate("hotline.col_breach", lang),
        }
        frame = pd.DataFrame(rows, columns=list(cols)).rename(columns=cols)
        return table_download(frame, fmt, f"hotline-rates-{level}-{d0}-{d1}")
    trend = cached(
        ("page-trend", store_key(store), scope, s, min(e, minute)),
        lambda: stats.trend_frame(store, scope, s, e),
    )
    trend_json = {
        "days": [str(x) for x in trend.day],
        "opened": [int(x) for x in trend.opened],
        "closed": [int(x) for x in trend.closed],
        "breach": [None if pd.isna(x) else round(float(x) * 100, 1) for x in trend.breach_rate],
        "labels": {
            "opened": translate("hotline.col_opened", lang),
            "closed": translate("hotline.col_closed", lang),
            "breach": translate("hotline.col_breach", lang),
        },
    }
    ctx = {
        **_ctx(request, user, "hotline"),
        "rows": rows,
        "level": level,
        "levels": STAFF_LEVELS,
        "start": d0.isoformat(),
        "end": d1.isoformat(),
        "trend_json": json.dumps(trend_json),
        "map_url": "/api/v1/hotline/stats/map?"
        + urlencode({"start": s.isoformat(), "end": e.isoformat()}),
        "query": urlencode({"level": level, "start": d0.isoformat(), "end": d1.isoformat()}),
    }
    return render(request, "hotline/stats.html", ctx)


def _unit_names(store: Any, level: str) -> dict[str, tuple[str, str | None]]:
    table, key = {
        "city": ("regions", "region_id"),
        "county": ("regions", "region_id"),
        "region": ("regions", "region_id"),
        "enterprise": ("enterprises", "enterprise_id"),
        "station": ("stations", "station_id"),
        "community": ("communities", "community_id"),
    }[level]

    def read() -> dict[str, tuple[str, str | None]]:
        with store.read() as q:
            return {
                r[0]: (r[1], r[2]) for r in q.all(f"SELECT {key}, name_zh, name_en FROM {table}")
            }

    return cached(("names", store_key(store), table, int(_now().timestamp() // 60)), read)


# ------------------------------------------------------------------------ 12345 import


@router.get("/hotline/import", response_class=HTMLResponse)
def import_page(request: Request, user: PageUser) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if not user.can(Permission.HOTLINE_IMPORT):
        return forbidden_page(request, user)
    return render(
        request, "hotline/import.html", {**_ctx(request, user, "hotline"), "report": None}
    )


@router.post("/hotline/import", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def import_post(request: Request, store: StoreDep) -> Response:
    from starlette.concurrency import run_in_threadpool

    auth = await run_in_threadpool(require_auth, request)
    user = auth.user
    ctx = _ctx(request, user, "hotline")
    if not user.can(Permission.HOTLINE_IMPORT):
        return forbidden_page(request, user)
    form = await request.form()
    upload = form.get("file")
    report = None
    error = ""
    if upload is not None and hasattr(upload, "read"):
        data = await upload.read()
        try:
            rows = await run_in_threadpool(imports.parse_file, data, upload.filename or "x.csv")
            report = (
                await run_in_threadpool(
                    lambda: imports.import_orders(
                        store,
                        rows,
                        scope=user.scope(),
                        actor=access.actor_of(user),
                        now=_now(),
                        source=upload.filename or "upload",
                    )
                )
            ).summary()
        except NuanliuError as exc:
            error = exc.message
    return render(request, "hotline/import.html", {**ctx, "report": report, "error": error})
