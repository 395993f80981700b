"""List pages behind the KPI tiles: households by status and offline sensors, for the
whole scope or one unit (``?level=station&id=…``), each exportable as CSV or XLSX
(``?format=csv|xlsx``: the same rows, scoped and masked as on the page)."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from nuanliu.api.deps import StoreDep
from nuanliu.errors import NotFound
from nuanliu.web import lists
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context, breadcrumbs, export_base, label, thresholds
from nuanliu.web.data import CHILD_LEVEL, household_labels, rollup, snapshot
from nuanliu.web.export import table_download
from nuanliu.web.i18n import choose_lang, translate
from nuanliu.web.pages import not_found_page, page_gate
from nuanliu.web.search import search_households
from nuanliu.web.templating import fmt_time, render

router = APIRouter(include_in_schema=False)

UNIT_LEVELS = tuple(CHILD_LEVEL)  # region … building


def _unit(request: Request, user, store, level: str | None, entity_id: str | None):  # type: ignore[no-untyped-def]
    """(level, id, heading suffix, crumbs) of a valid visible unit, or raise NotFound."""
    if not level:
        return None, None, None
    if level not in UNIT_LEVELS or not entity_id:
        raise NotFound(f"level {level!r} is not a unit level", details={"level": level})
    lang, _ = choose_lang(request)
    rollup(store, user.scope(), level, entity_id, None, th=thresholds(request))  # NotFound
    return level, entity_id, label(store, level, entity_id, lang)


def _unit_list(  # type: ignore[no-untyped-def]
    request: Request,
    user,
    store,
    unit: tuple[str | None, str | None, str | None],
    title_key: str,
    template: str,
    rows: list[dict],
    columns: dict[str, list],
    format: str | None,
    **extra,
) -> Response:
    """A list page of one unit (or the whole scope), or its rows as CSV/XLSX: the same
    rows, with ``columns`` (catalog key → values) as the table."""
    lang, _ = choose_lang(request)
    level, entity_id, unit_label = unit
    title = translate(title_key, lang)
    if format:
        frame = pd.DataFrame({translate(k, lang): v for k, v in columns.items()})
        return table_download(frame, format, stem=f"{title}-{unit_label or ''}".strip("-"))
    ctx = {
        **base_context(request, user, "overview"),
        "heading": title,
        "unit_label": unit_label,
        "breadcrumbs": breadcrumbs(store, user.scope(), level, entity_id, lang) if level else None,
        "rows": rows,
        "export_base": export_base(request),
        **extra,
    }
    return render(request, template, ctx)


@router.get("/lists/households", response_class=HTMLResponse)
def households_list(
    request: Request,
    user: PageUser,
    store: StoreDep,
    status: str = "below",
    level: str | None = None,
    id: str | None = None,
    format: str | None = None,
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    statuses = lists.BELOW if status == "below" else (status,)
    if status != "below" and status not in lists.STATUS_KINDS:
        return not_found_page(request, user)
    try:
        level, id, unit_label = _unit(request, user, store, level, id)
    except NotFound:
        return not_found_page(request, user)
    rows = lists.households(
        store, user.scope(), statuses, lang, level=level, entity_id=id, th=thresholds(request)
    )
    columns = {
        "col.household": [r["label"] for r in rows],
        "col.temp": [r["temp_c"] for r in rows],
        "col.status": [translate(f"status.{r['status']}", lang) for r in rows],
        "col.days_below": [r["days_below"] for r in rows],
        "col.last_seen": [fmt_time(r["last_ts"]) for r in rows],
        "col.household_id": [r["household_id"] for r in rows],
    }
    return _unit_list(
        request, user, store, (level, id, unit_label), f"lists.households_{status}",
        "lists/households.html", rows, columns, format, status=status,
    )  # fmt: skip


@router.get("/lists/sensors", response_class=HTMLResponse)
def sensors_list(
    request: Request,
    user: PageUser,
    store: StoreDep,
    level: str | None = None,
    id: str | None = None,
    format: str | None = None,
) -> Response:
    if (gate := page_gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    try:
        level, id, unit_label = _unit(request, user, store, level, id)
    except NotFound:
        return not_found_page(request, user)
    rows = lists.offline_sensors(
        store, user.scope(), lang, level=level, entity_id=id, th=thresholds(request)
    )
    columns = {
        "col.household": [r["label"] for r in rows],
        "col.room": [r["room"] for r in rows],
        "col.sensor": [r["sensor_id"] for r in rows],
        "col.last_seen": [fmt_time(r["last_ts"]) for r in rows],
        "col.silent_h": [None if r["silent_h"] is None else round(r["silent_h"], 1) for r in rows],
    }
    return _unit_list(
        request, user, store, (level, id, unit_label), "lists.offline_sensors",
        "lists/sensors.html", rows, columns, format,
    )  # fmt: skip


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    user: PageUser,
    store: StoreDep,
    q: str = "",
    format: str | None = None,
) -> Response:
    """Homes by address, building, resident name or phone (names and phones only for
    roles that may see them, and shown masked otherwise)."""
    if (gate := page_gate(request, user)) is not None:
        return gate
    lang, _ = choose_lang(request)
    scope = user.scope()
    found = search_households(store, scope, q[:100])
    snap = snapshot(store, scope, th=thresholds(request))
    labels = household_labels(store, lang)
    rows = [
        {
            **r,
            "label": labels.get(r["household_id"], {}).get("label", r["household_id"]),
            "href": f"/households/{r['household_id']}",
            "status": str(snap.ctx.at[r["household_id"], "status"])
            if r["household_id"] in snap.ctx.index
            else "offline",
        }
        for r in found
    ]
    if format:
        frame = pd.DataFrame(
            {
                translate("col.household", lang): [r["label"] for r in rows],
                translate("col.status", lang): [
                    translate(f"status.{r['status']}", lang) for r in rows
                ],
                translate("household.resident", lang): [r["resident_name"] for r in rows],
                translate("col.phone", lang): [r["resident_phone"] for r in rows],
                translate("col.household_id", lang): [r["household_id"] for r in rows],
            }
        )
        return table_download(frame, format, stem=translate("search.title", lang))
    ctx = {
        **base_context(request, user, "search"),
        "q": q,
        "rows": rows,
        "masked": scope.mask_personal,
        "export_base": export_base(request),
    }
    return render(request, "search.html", ctx)
