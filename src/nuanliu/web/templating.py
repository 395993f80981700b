"""Jinja2 environment and the page renderer: language, formatting, user and CSRF token."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from nuanliu.web.i18n import LANG_COOKIE, choose_lang, translate

WEB_DIR = Path(__file__).resolve().parent
TEMPLATE_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


def fmt_num(value: Any, digits: int = 1) -> str:
    return "–" if _missing(value) else f"{float(value):,.{digits}f}"


def fmt_pct(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.1f}%"


def fmt_temp(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.1f} °C"


def fmt_time(value: Any) -> str:
    """A timestamp shown in Asia/Shanghai (stored in UTC)."""
    if value is None or (not isinstance(value, datetime) and _missing(value)):
        return "–"
    if not isinstance(value, datetime):
        value = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if not isinstance(value, datetime):
        return str(value)
    if value.tzinfo is None:  # the store returns UTC; a naive value is UTC too
        value = value.replace(tzinfo=UTC)
    return value.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")


def rate_class(rate_pct: Any, target: Any = None) -> str:
    """Colour band of a compliance rate against its target (``monitor.standard``)."""
    from nuanliu.monitor.standard import DEFAULT_TARGET_PCT, rate_band

    goal = DEFAULT_TARGET_PCT if _missing(target) else float(target)
    return "rate-" + rate_band(None if _missing(rate_pct) else float(rate_pct), goal)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        fmt_num=fmt_num,
        fmt_pct=fmt_pct,
        fmt_temp=fmt_temp,
        fmt_time=fmt_time,
        rate_class=rate_class,
    )
    return env


def static_url(path: str) -> str:
    return f"/static/{path}?v={_asset_version()}"


@lru_cache(maxsize=1)
def _asset_version() -> str:
    # Changes whenever a shipped asset changes, so browsers may cache them for long.
    stamps = [p.stat().st_mtime_ns for p in STATIC_DIR.rglob("*") if p.is_file()]
    return format(max(stamps, default=0) % 0xFFFFFFFF, "x")


def _lang_url(request: Request, code: str) -> str:
    """The current page in another language (other query parameters kept)."""
    params = dict(request.query_params)
    params["lang"] = code
    return request.url.path + "?" + urlencode(params)


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render ``template`` in the request's language; remember a newly chosen language."""
    lang, chosen = choose_lang(request)
    base = {
        "request": request,
        "lang": lang,
        "t": lambda key, **kw: translate(key, lang, **kw),
        "static": static_url,
        "now": None,
        "breadcrumbs": None,
        "nav": "",
        "user": None,
        "csrf": "",
        "lang_url": lambda code: _lang_url(request, code),
    }
    base.update(context)
    html = environment().get_template(template).render(base)
    response = HTMLResponse(html, status_code=status_code)
    if chosen:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response
