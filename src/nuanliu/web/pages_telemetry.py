"""Station and source telemetry pages: measured against the heating curve and the twin.

``/telemetry`` lists the sites and open faults; ``/stations/{id}/telemetry`` and
``/sources/{id}`` show a site over a chosen range (``?days=`` or ``?start=&end=``):
supply/return temperatures, ΔT, flow, heat and outdoor temperature, the heating curve's
set-point, the twin's expected values beside the measured ones, energy and GJ/m² (单耗).
Operations data: staff roles with READ_NETWORK see it (stewards and residents do not).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nuanliu.api.deps import StoreDep
from nuanliu.api.roles import PERMISSIONS, Permission, Role
from nuanliu.api.routes.telemetry import site_visible, visible_site
from nuanliu.errors import NotFound
from nuanliu.telemetry.points import POINTS
from nuanliu.telemetry.store import LOCAL_TZ, list_sites
from nuanliu.telemetry.views import station_view
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context
from nuanliu.web.pages import forbidden_page, not_found_page, page_gate
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)


def _may_read(user: object) -> bool:
    try:
        return Permission.READ_NETWORK in PERMISSIONS[Role(str(user.role))]  # type: ignore[attr-defined]
    except ValueError:
        return False


def _instant(text: str, *, end: bool) -> datetime:
    """ISO time (UTC if naive), or a date: that local day's start (its end for ``end``)."""
    if len(text) == 10:  # a date from the date picker: a local day, the end inclusive
        day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
        return datetime.combine(day, time(), ZoneInfo(LOCAL_TZ)).astimezone(UTC)
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _range(days: float, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The chosen range; text that is not a time falls back to the last ``days``."""
    now = datetime.now(UTC)
    try:
        end_ = _instant(end, end=True) if end else now
    except ValueError:
        end_ = now
    try:
        start_ = _instant(start, end=False) if start else end_ - timedelta(days=days)
    except ValueError:
        start_ = end_ - timedelta(days=days)
    if start_ >= end_:
        start_ = end_ - timedelta(days=days)
    return max(start_, end_ - timedelta(days=366)), end_


@router.get("/telemetry", response_class=HTMLResponse)
def telemetry_index(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if not _may_read(user):
        return forbidden_page(request, user)
    scope = user.scope()
    sites = [s for s in list_sites(store) if site_visible(store, scope, s)]
    ids = {s.site_id for s in sites}
    with store.read() as q:
        faults = [
            f
            for f in q.dicts(
                "SELECT fault_id, site_id, fault_class, window_start, score, message_zh,"
                " message_en FROM tel_faults WHERE is_open ORDER BY site_id, fault_class"
            )
            if f["site_id"] in ids
        ]
    ctx = {**base_context(request, user, "telemetry"), "sites": sites, "faults": faults}
    return render(request, "telemetry/index.html", ctx)


def _site_page(
    request: Request,
    user: object,
    store: object,
    site_id: str,
    kind: str,
    days: float,
    start: str | None,
    end: str | None,
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if not _may_read(user):
        return forbidden_page(request, user)
    try:
        site = visible_site(store, user.scope(), site_id)  # type: ignore[attr-defined]
    except NotFound:
        return not_found_page(request, user)
    if site.kind != kind:
        return not_found_page(request, user)
    days = min(max(days, 1.0 / 24), 366.0)
    start_, end_ = _range(days, start, end)
    view = station_view(store, site, start_, end_)
    lang = base_context(request, user, "telemetry").get("lang", "zh")
    names = {p.name: (p.name_zh if lang == "zh" else p.name_en) + f" ({p.unit})" for p in POINTS}
    ctx = {
        **base_context(request, user, "telemetry"),
        "site": site,
        "view": view,
        "days": days,
        "start": start_,
        "end": end_,
        "chart_json": json.dumps(view.to_json()),
        "point_names": names,
        "start_day": start_.date().isoformat(),
        "end_day": end_.date().isoformat(),
    }
    return render(request, "telemetry/site.html", ctx)


@router.get("/stations/{site_id}/telemetry", response_class=HTMLResponse)
def station_telemetry(
    request: Request,
    site_id: str,
    user: PageUser,
    store: StoreDep,
    days: float = 7.0,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    return _site_page(request, user, store, site_id, "station", days, start, end)


@router.get("/sources/{site_id}", response_class=HTMLResponse)
def source_page(
    request: Request,
    site_id: str,
    user: PageUser,
    store: StoreDep,
    days: float = 7.0,
    start: str | None = None,
    end: str | None = None,
) -> Response:
    return _site_page(request, user, store, site_id, "source", days, start, end)
