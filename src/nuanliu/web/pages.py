"""Dashboard pages: login, overview, drill-down, station, household."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from nuanliu.api.deps import StoreDep
from nuanliu.api.login_csrf import login_token, set_login_cookie
from nuanliu.errors import NotFound
from nuanliu.web import alerts_view, lists, ranges
from nuanliu.web.auth import PageUser
from nuanliu.web.building import building_grid
from nuanliu.web.context import (
    base_context,
    breadcrumbs,
    export_base,
    href,
    label,
    scope_label,
    thresholds,
    unit_query,
)
from nuanliu.web.data import (
    CHILD_LEVEL,
    SNAPSHOT_CACHE,
    daily_compliance,
    first_split_level,
    household_detail,
    household_labels,
    household_series,
    household_status,
    names,
    now_utc,
    outdoor_hourly,
    rollup,
    scope_key,
    snapshot,
    store_key,
    target_of,
    trend_json,
)
from nuanliu.web.export import table_download
from nuanliu.web.i18n import choose_lang, enum_label, local_name, translate
from nuanliu.web.tables import households_frame, rollup_frame
from nuanliu.web.templating import render
from nuanliu.web.twin import station_results

router = APIRouter(include_in_schema=False)

DRILL_LEVELS = ("region", "city", "enterprise", "building")


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


def page_gate(request: Request, user: Any, *, resident: bool = False) -> Response | None:
    """Log in first; API-only roles (data gateways) have no dashboard, and residents see
    their own household and alerts but no roll-up pages (``resident=True`` allows)."""
    if user is None:
        return login_redirect(request)
    role = str(user.role)
    if role == "gateway" or (role == "resident" and not resident):
        return forbidden_page(request, user)
    return None


def forbidden_page(request: Request, user: Any) -> HTMLResponse:
    """The 403 page: logged in, but this page is not for this role."""
    return render(
        request,
        "error.html",
        {**base_context(request, user, ""), "code": "forbidden"},
        status_code=403,
    )


def not_found_page(request: Request, user: Any) -> HTMLResponse:
    ctx = base_context(request, user, "") if user else {}
    return render(request, "error.html", {**ctx, "code": "not_found"}, status_code=404)


def json_for_script(data: Any) -> str:
    """JSON to embed in ``<script type="application/json">`` (no ``</script>`` break-out)."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def labelled(rows: list[dict[str, Any]], level: str, lang: str) -> list[dict[str, Any]]:
    return [
        {**r, "label": local_name(r, lang) or r["id"], "href": href(level, r["id"])} for r in rows
    ]


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: PageUser, next: str = "/", error: str = "") -> Response:
    # Same-site paths only ("//x" and "/\\x" would leave the site).
    safe_next = (
        next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    )
    if user is not None:
        return RedirectResponse(safe_next, status_code=303)
    token = login_token(request)  # the form's CSRF token (double submit, see login_csrf)
    page = render(
        request, "login.html", {"next_url": safe_next, "error": bool(error), "csrf": token}
    )
    set_login_cookie(request, page, token)
    return page


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    if str(user.role) == "resident" and user.household_id:
        return RedirectResponse(f"/households/{user.household_id}", status_code=303)
    lang, _ = choose_lang(request)
    scope, th = user.scope(), thresholds(request)
    child = first_split_level(store, scope)
    k, rows = rollup(store, scope, None, None, child, th=th)
    span = ranges.from_request(request, now_utc())
    trend = daily_compliance(store, scope, days=span.days, th=th)
    target = target_of(store, scope)
    ctx = {
        **base_context(request, user, "overview"),
        "k": k,
        "target": target,
        "unit_q": "",
        "open_alerts": alerts_view.open_counts(store, scope),
        "actions": _actions(store, scope, lang, th),
        "refresh_url": "/partials/kpis",
        "trend_json": json_for_script(trend_json(trend, target, lang)),
        "range": span,
        "range_links": ranges.range_links(request),
        "child_level": child,
        "rows": labelled(rows, child, lang),
        "scope_label": scope_label(user, store, lang),
    }
    return render(request, "overview.html", ctx)


@router.get("/partials/kpis", response_class=HTMLResponse)
def kpis_partial(request: Request, user: PageUser, store: StoreDep) -> Response:
    if user is None:
        return Response(status_code=401)
    scope = user.scope()
    k, _ = rollup(store, scope, None, None, None, th=thresholds(request))
    ctx = {
        **base_context(request, user, "overview"),
        "k": k,
        "target": target_of(store, scope),
        "unit_q": "",
        "open_alerts": alerts_view.open_counts(store, scope),
        "refresh_url": "/partials/kpis",
    }
    return render(request, "partials/kpis.html", ctx)


@router.get("/drill", response_class=HTMLResponse)
def drill_root(
    request: Request, user: PageUser, store: StoreDep, format: str | None = None
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    k, rows = rollup(store, user.scope(), None, None, "region", th=thresholds(request))
    if format:
        frame = rollup_frame(labelled(rows, "region", lang), "region", lang)
        return table_download(frame, format, stem=translate("drill.root", lang))
    ctx = {
        **base_context(request, user, "drill"),
        "heading": translate("drill.root", lang),
        "level_label": "",
        "breadcrumbs": [(translate("drill.root", lang), None)],
        "k": k,
        "target": target_of(store, user.scope()),
        "unit_q": "",
        "open_alerts": alerts_view.open_counts(store, user.scope()),
        "refresh_url": None,
        "child_level": "region",
        "rows": labelled(rows, "region", lang),
    }
    return render(request, "drill.html", ctx)


@router.get("/drill/{level}/{entity_id}", response_class=HTMLResponse)
def drill(
    request: Request,
    level: str,
    entity_id: str,
    user: PageUser,
    store: StoreDep,
    format: str | None = None,
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if level == "station":
        return RedirectResponse(f"/stations/{quote(entity_id)}", status_code=301)
    if level not in DRILL_LEVELS:
        return not_found_page(request, user)
    lang, _ = choose_lang(request)
    scope, th = user.scope(), thresholds(request)
    child = CHILD_LEVEL[level]
    try:
        k, rows = rollup(
            store, scope, level, entity_id, None if child == "household" else child, th=th
        )
    except NotFound:
        return not_found_page(request, user)
    ctx = {
        **base_context(request, user, "drill"),
        "heading": label(store, level, entity_id, lang),
        "level_label": translate(f"level.{level}", lang),
        "breadcrumbs": breadcrumbs(store, scope, level, entity_id, lang),
        "k": k,
        "target": target_of(store, scope, level, entity_id),
        "unit_q": unit_query(level, entity_id),
        "open_alerts": alerts_view.open_counts(store, scope, level, entity_id),
        "refresh_url": None,
        "child_level": child,
    }
    span = ranges.from_request(request, now_utc())
    trend = daily_compliance(store, scope, days=span.days, level=level, unit_id=entity_id, th=th)
    ctx["trend_json"] = json_for_script(trend_json(trend, ctx["target"], lang))
    ctx["range"] = span
    ctx["range_links"] = ranges.range_links(request)
    stem = f"{ctx['heading']}-{translate('drill.children_' + child, lang)}"
    if child == "household":
        ctx["households"] = household_status(store, scope, level, entity_id, lang=lang, th=th)
        if format:
            return table_download(households_frame(ctx["households"], lang), format, stem=stem)
        if level == "building":
            ctx["grid"] = building_grid(
                store, ctx["households"], cold_c=th.cold_temp_c, hot_c=th.overheat_temp_c
            )
    else:
        ctx["rows"] = labelled(rows, child, lang)
        if format:
            return table_download(rollup_frame(ctx["rows"], child, lang), format, stem=stem)
    ctx["export_base"] = export_base(request)
    return render(request, "drill.html", ctx)


@router.get("/stations/{station_id}", response_class=HTMLResponse)
def station_page(
    request: Request,
    station_id: str,
    user: PageUser,
    store: StoreDep,
    format: str | None = None,
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    scope, th = user.scope(), thresholds(request)
    try:
        k, rows = rollup(store, scope, "station", station_id, "building", th=th)
    except NotFound:
        return not_found_page(request, user)
    if format:
        frame = rollup_frame(labelled(rows, "building", lang), "building", lang)
        stem = f"{label(store, 'station', station_id, lang)}-{translate('col.building', lang)}"
        return table_download(frame, format, stem=stem)
    net_id = names(store)["stations"].get(station_id, {}).get("network_station_id")
    twin = station_twin(request.app, net_id)
    span = ranges.from_request(request, now_utc())
    target = target_of(store, scope, "station", station_id)
    trend = daily_compliance(
        store, scope, days=span.days, level="station", unit_id=station_id, th=th
    )
    ctx = {
        **base_context(request, user, "drill"),
        "heading": label(store, "station", station_id, lang),
        "breadcrumbs": breadcrumbs(store, scope, "station", station_id, lang),
        "k": k,
        "target": target,
        "unit_q": unit_query("station", station_id),
        "open_alerts": alerts_view.open_counts(store, scope, "station", station_id),
        "refresh_url": None,
        "twin": twin,
        "curve_json": json_for_script(curve_chart(twin, lang)) if twin else None,
        "trend_json": json_for_script(trend_json(trend, target, lang)),
        "range": span,
        "range_links": ranges.range_links(request),
        # The telemetry capability's page, linked once it is installed.
        "telemetry_href": f"/stations/{quote(station_id)}/telemetry"
        if has_page(request.app, TELEMETRY_PAGE)
        else None,
        "child_level": "building",
        "rows": labelled(rows, "building", lang),
        "export_base": export_base(request),
    }
    return render(request, "station.html", ctx)


TELEMETRY_PAGE = "/stations/{station_id}/telemetry"


def has_page(app: Any, path: str) -> bool:
    """Whether a page module registered ``path`` (capabilities are optional)."""
    return any(getattr(r, "path", None) == path for r in app.router.routes)


def station_twin(app: Any, net_id: Any) -> dict[str, Any] | None:
    """The twin's state of the network station behind a registry station (None while
    the first solve runs or without a twin), with heat per m² where the area is known."""
    results = station_results(app, now_utc())
    if not results or not net_id or str(net_id) not in results["stations"]:
        return None
    row = results["stations"][str(net_id)]
    return {
        **row,
        "outdoor_temp_c": results["outdoor_temp_c"],
        "status": results["status"],
        "heat_w_m2": row["heat_mw"] * 1e6 / row["floor_area_m2"]
        if row.get("heat_mw") is not None and row.get("floor_area_m2")
        else None,
    }


def curve_chart(twin: dict[str, Any], lang: str) -> dict[str, Any]:
    """The station's secondary heating curve over the outdoor range with today's point."""
    from nuanliu.web.twin import curve_points

    return {
        **curve_points(
            twin.get("design_secondary_supply_c"), twin.get("design_secondary_return_c")
        ),
        "now": [twin["outdoor_temp_c"], twin["secondary_supply_temp_c"]],
        "labels": {
            "supply": translate("station.secondary_supply", lang),
            "return": translate("station.secondary_return", lang),
            "outdoor": translate("chart.outdoor", lang),
            "now": translate("station.now_point", lang),
        },
    }


@router.get("/households/{household_id}", response_class=HTMLResponse)
def household_page(
    request: Request, household_id: str, user: PageUser, store: StoreDep
) -> Response:
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    lang, _ = choose_lang(request)
    scope, th = user.scope(), thresholds(request)
    try:
        h = household_detail(store, scope, household_id, th=th)
    except NotFound:
        return not_found_page(request, user)
    current = h["now"]
    h["label"] = household_labels(store, lang).get(household_id, {}).get("label", household_id)
    for sensor in h["sensors"]:
        sensor["room_label"] = enum_label("room", sensor["room"], lang) or sensor["sensor_id"]
    sensor_ids = [x["sensor_id"] for x in h["sensors"]]
    span = ranges.from_request(request, now_utc(), default="7d")
    series = household_series(store, sensor_ids, since=span.start_utc())
    rooms = {s["sensor_id"]: s["room_label"] for s in h["sensors"]}
    series_json = {
        "standard": h["standard_temp_c"],
        "series": [
            {"name": f"{rooms.get(sid) or sid}", "data": points} for sid, points in series.items()
        ],
        "outdoor": outdoor_hourly(span.start_utc(), now_utc()),
        "labels": {
            "standard": translate("chart.standard", lang, standard=h["standard_temp_c"]),
            "temp": translate("chart.indoor_temp", lang),
            "outdoor": translate("chart.outdoor", lang),
        },
    }
    is_resident = str(user.role) == "resident"
    ctx = {
        **base_context(request, user, "household" if is_resident else "drill"),
        "h": h,
        "status": current["status"],
        "temp_c": current["temp_c"],
        "day_mean_c": current["day_mean_c"],
        "last_ts": current["last_ts"],
        "series_json": json_for_script(series_json),
        "range": span,
        "range_links": ranges.range_links(request),
        "breadcrumbs": None
        if is_resident
        else breadcrumbs(store, scope, "household", household_id, lang),
        "building_label": label(store, "building", h["building_id"], lang),
        "station_label": None if is_resident else label(store, "station", h["station_id"], lang),
        "station_href": None if is_resident else href("station", h["station_id"]),
        "stewards": _stewards(store, h["community_id"]),
        "alerts": alerts_view.list_alerts(
            store,
            scope,
            lang,
            household_id=household_id,
            sensor_ids=sensor_ids,
        ),  # fmt: skip
        "can_ack": alerts_view.can_acknowledge(user),
    }
    return render(request, "household.html", ctx)


def _stewards(store: Any, community_id: str | None) -> dict[str, str] | None:
    """The community's two stewards (enterprise and government) with their phones."""
    row = names(store)["communities"].get(community_id or "")
    if not row:
        return None

    def person(kind: str) -> str:
        parts = (row.get(f"{kind}_steward_name"), row.get(f"{kind}_steward_phone"))
        return " ".join(str(x) for x in parts if x and x == x)  # x == x drops NaN

    return {"enterprise": person("enterprise"), "government": person("government")}


def _actions(store: Any, scope: Any, lang: str, th: Any) -> dict[str, Any]:
    """What to look at first: worst stations and buildings, homes below standard
    (longest first), offline sensors, open alerts — five of each, each a link. Built
    once per snapshot (a minute) and scope, like the figures it explains."""

    def build() -> dict[str, Any]:
        target = target_of(store, scope)  # only what misses the target asks for action
        stations = lists.worst_units(store, scope, "station", th=th, below_pct=target)
        buildings = lists.worst_units(store, scope, "building", th=th, below_pct=target)
        return {
            "stations": labelled(stations, "station", lang),
            "buildings": labelled(buildings, "building", lang),
            "homes": lists.households(store, scope, lists.BELOW, lang, th=th, limit=5),
            "sensors": lists.offline_sensors(store, scope, lang, th=th)[:5],
        }

    snap_at = snapshot(store, scope, th=th).at
    key = ("actions", store_key(store), scope_key(scope), lang, th, snap_at)
    return {
        **SNAPSHOT_CACHE.get_or_compute(key, build),
        "alerts": alerts_view.list_alerts(store, scope, lang, state="open", limit=5),
    }
