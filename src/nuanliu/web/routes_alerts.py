"""The alerts page and acknowledgement (htmx POST, CSRF-protected)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from nuanliu.api.deps import CurrentUser, StoreDep, csrf_protect
from nuanliu.errors import NotFound
from nuanliu.web import alerts_view
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context, export_base, label
from nuanliu.web.data import LEVEL_COLUMN
from nuanliu.web.export import table_download
from nuanliu.web.i18n import choose_lang, translate
from nuanliu.web.pages import not_found_page, page_gate
from nuanliu.web.tables import alerts_frame
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)
LEVELS = tuple(k for k in LEVEL_COLUMN if k != "household")


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    user: PageUser,
    store: StoreDep,
    state: str = "open",
    level: str | None = None,
    id: str | None = None,
    format: str | None = None,
) -> Response:
    """Open (not cleared: raised or acknowledged) or all alerts; ``level``/``id`` keep
    those of one unit — the list a unit's "open alerts" tile counts."""
    if (gate := page_gate(request, user, resident=True)) is not None:
        return gate
    lang, _ = choose_lang(request)
    state = state if state in ("open", "all") else "open"
    unit = (level, id) if level in LEVELS and id else None
    alerts = alerts_view.list_alerts(store, user.scope(), lang, state=state, unit=unit)
    if format:
        stem = translate("alerts.title", lang) + (
            f"-{label(store, level, id, lang)}" if unit else ""
        )
        return table_download(alerts_frame(alerts, lang), format, stem=stem)
    ctx = {
        **base_context(request, user, "alerts"),
        "state": state,
        "unit_label": label(store, level, id, lang) if unit else None,
        "export_base": export_base(request),
        "alerts": alerts,
        "can_ack": alerts_view.can_acknowledge(user),
    }
    return render(request, "alerts.html", ctx)


@router.post(
    "/alerts/{alert_id}/ack", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)]
)
def acknowledge(request: Request, alert_id: int, user: CurrentUser, store: StoreDep) -> Response:
    """Acknowledge and return the updated table row (htmx swaps it in place)."""
    lang, _ = choose_lang(request)
    try:
        alert = alerts_view.acknowledge(store, user.scope(), user, alert_id, lang)
    except NotFound:
        return not_found_page(request, user)
    ctx = {**base_context(request, user, "alerts"), "a": alert, "can_ack": True}
    return render(request, "partials/alert_row.html", ctx)
