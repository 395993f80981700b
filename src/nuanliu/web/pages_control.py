"""The dispatch page (调度): forecast beside what happened, the proposed schedule beside
the heating curve with its expected savings, accept / edit / reject, shadow history."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nuanliu.api.deps import CurrentUser, StoreDep, csrf_protect
from nuanliu.api.roles import Permission
from nuanliu.control import store as cstore
from nuanliu.errors import Conflict, InvalidInput, NotFound
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context
from nuanliu.web.i18n import choose_lang, translate
from nuanliu.web.pages import forbidden_page, not_found_page, page_gate
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)
DEFAULT_NETWORK = "tuoketuo-hohhot"


def _visible(store: Any, user: Any) -> set[str | None]:
    from nuanliu.api.routes.control import visible_enterprises

    return visible_enterprises(store, user)


def status_labels(lang: str) -> dict[str, str]:
    return {
        "proposed": translate("control.status_proposed", lang),
        "accepted": translate("control.status_accepted", lang),
        "edited": translate("control.status_edited", lang),
        "rejected": translate("control.status_rejected", lang),
        "shadow": translate("control.status_shadow", lang),
    }


def _chart(hours: pd.DataFrame, lang: str) -> dict[str, Any]:
    """Proposed and curve supply temperatures (and edits) per supply point."""
    series = []
    for sp, part in hours.groupby("supply_point", sort=True):
        ts = [t.isoformat() for t in part["ts"]]
        series.append(
            {
                "name": translate("control.proposed", lang, sp=sp),
                "data": list(zip(ts, part["proposed_c"].round(1), strict=True)),
            }
        )
        series.append(
            {
                "name": translate("control.curve", lang, sp=sp),
                "data": list(zip(ts, part["curve_c"].round(1), strict=True)),
                "dashed": True,
            }
        )
        if part["edited_c"].notna().any():
            e = part[part["edited_c"].notna()]
            series.append(
                {
                    "name": translate("control.edited", lang, sp=sp),
                    "data": list(zip([t.isoformat() for t in e["ts"]], e["edited_c"], strict=True)),
                    "points": True,
                }
            )
    return {"series": series, "unit": "°C"}


def _forecast_chart(frame: pd.DataFrame, lang: str) -> dict[str, Any]:
    ts = [t.isoformat() for t in frame["ts"]]

    def pts(col: str) -> list[Any]:
        return [
            [t, None if pd.isna(v) else round(float(v), 1)]
            for t, v in zip(ts, frame[col], strict=True)
        ]

    return {
        "series": [
            {"name": translate("control.actual", lang), "data": pts("actual_kw")},
            {
                "name": translate("control.forecast", lang),
                "data": pts("forecast_kw"),
                "dashed": True,
            },
        ],
        "unit": "kW",
    }


@router.get("/control", response_class=HTMLResponse)
def dispatch_page(
    request: Request,
    user: PageUser,
    store: StoreDep,
    schedule: str | None = None,
    site: str | None = None,
    error: str | None = None,
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if not user.can(Permission.READ_NETWORK):
        return forbidden_page(request, user)
    lang, _ = choose_lang(request)
    seen = _visible(store, user)
    rows = [r for r in cstore.list_schedules(store, limit=500) if r["enterprise_id"] in seen][:30]
    current = None
    chart = None
    savings = None
    if rows:
        sid = (
            schedule
            if schedule and any(r["schedule_id"] == schedule for r in rows)
            else rows[0]["schedule_id"]
        )
        head, hours = cstore.get_schedule(store, sid)
        current = head
        chart = _chart(hours, lang)
        s, c = head["cost"], head["curve_cost"]
        heat_s = s.get("heat_delivered_mwh", 0) + s.get("supply_loss_mwh", 0)
        heat_c = c.get("heat_delivered_mwh", 0) + c.get("supply_loss_mwh", 0)
        savings = {
            "heat_mwh": heat_c - heat_s,
            "heat_pct": 100 * (heat_c - heat_s) / heat_c if heat_c else None,
            "loss_mwh": c.get("supply_loss_mwh", 0) - s.get("supply_loss_mwh", 0),
            "pump_mwh": c.get("pump_mwh", 0) - s.get("pump_mwh", 0),
            "cost_yuan": c.get("total_cost", 0) - s.get("total_cost", 0),
        }
        current["points"] = sorted(set(hours["supply_point"]))
        current["hours_list"] = [t.isoformat() for t in sorted(set(hours["ts"]))]
    with store.read() as q:
        sites = [r[0] for r in q.all("SELECT DISTINCT site_id FROM ctl_forecasts ORDER BY site_id")]
    from nuanliu.api.routes.control import _site_visible

    sites = [s for s in sites if _site_visible(store, user, s)]
    site = site if site in sites else (sites[0] if sites else None)
    fchart = None
    if site:
        end = datetime.now(UTC) + timedelta(days=2)
        frame = cstore.forecast_vs_actual(store, site, start=end - timedelta(days=9), end=end)
        if len(frame):
            fchart = _forecast_chart(frame, lang)
    shadow = cstore.shadow_days(store, current["network"] if current else DEFAULT_NETWORK, limit=14)
    ctx = {
        **base_context(request, user, "control"),
        "schedules": rows,
        "current": current,
        "chart_json": json.dumps(chart, ensure_ascii=False) if chart else None,
        "savings": savings,
        "sites": sites,
        "site": site,
        "forecast_json": json.dumps(fchart, ensure_ascii=False) if fchart else None,
        "shadow": shadow.to_dict("records"),
        "can_dispatch": user.can(Permission.DISPATCH)
        and current is not None
        and current.get("enterprise_id") == user.enterprise_id
        and current["status"] == "proposed",
        "error": error[:300] if error else None,
        "status_label": status_labels(lang),
        "can_propose": user.can(Permission.DISPATCH) and user.enterprise_id is not None,
    }
    return render(request, "control/dispatch.html", ctx)


@router.post("/control/schedules/{schedule_id}/decide", dependencies=[Depends(csrf_protect)])
def decide_form(
    request: Request,
    schedule_id: str,
    user: CurrentUser,
    store: StoreDep,
    decision: str = Form(...),
    supply_point: str = Form(""),
    hour: str = Form(""),
    supply_temp_c: str = Form(""),
) -> Response:
    if not user.can(Permission.DISPATCH):
        return forbidden_page(request, user)
    try:
        head, _ = cstore.get_schedule(store, schedule_id)
        if head.get("enterprise_id") != user.enterprise_id:
            raise NotFound(schedule_id)
        edits = None
        if decision == "edited":
            try:
                value = float(supply_temp_c)
            except ValueError as exc:
                raise InvalidInput(f"supply temperature {supply_temp_c!r} is not a number") from exc
            edits = {(supply_point, pd.Timestamp(hour).to_pydatetime()): value}
        cstore.decide(
            store,
            schedule_id,
            decision=decision,
            user=user.username,
            now=datetime.now(UTC),
            edits=edits,
        )
    except NotFound:
        return not_found_page(request, user)
    except (InvalidInput, Conflict) as exc:
        from urllib.parse import quote

        return RedirectResponse(
            f"/control?schedule={schedule_id}&error={quote(exc.message)}", status_code=303
        )
    return RedirectResponse(f"/control?schedule={schedule_id}", status_code=303)


@router.post("/control/propose", dependencies=[Depends(csrf_protect)])
def propose_form(request: Request, user: CurrentUser, store: StoreDep) -> Response:
    """Propose tomorrow's 48 h schedule for the enterprise (takes a few seconds)."""
    if not (user.can(Permission.DISPATCH) and user.enterprise_id):
        return forbidden_page(request, user)
    from nuanliu.control import service

    start = pd.Timestamp.now(tz="Asia/Shanghai").normalize() + pd.Timedelta(days=1)
    prop = service.propose(DEFAULT_NETWORK, start=start, hours=48, store=store)
    sid = cstore.save_schedule(
        store,
        network=DEFAULT_NETWORK,
        enterprise_id=user.enterprise_id,
        hourly=prop.schedule.hourly,
        sp_ids=prop.problem.sp_ids,
        curve=prop.curve_c,
        cost=prop.schedule.cost,
        curve_cost=prop.curve.cost,
        status="proposed",
        now=datetime.now(UTC),
    )
    return RedirectResponse(f"/control?schedule={sid}", status_code=303)
