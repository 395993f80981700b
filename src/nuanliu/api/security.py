"""Security headers on every response, and who may read ``/metrics``.

The dashboard runs no inline script (templates carry data only in
``<script type="application/json">`` blocks, which CSP does not execute), so scripts
are limited to our own origin. Inline *styles* stay allowed: ECharts and htmx set
element styles. ``/docs`` and ``/redoc`` (FastAPI's Swagger UI / ReDoc pages) boot
with an inline script from a CDN, so they get a looser script policy of their own.
HSTS is sent when the request came over TLS (directly, or through the proxy's
``X-Forwarded-Proto``, which uvicorn applies for trusted proxies).
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nuanliu.errors import PermissionDenied

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:{tiles}; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"

BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)


def tile_origin() -> str:
    """The origin of the map's optional raster tiles (``NUANLIU_MAP_TILE_URL``), which
    the map draws as images; empty when none is configured."""
    from nuanliu.web.routes_map import tile_url

    parts = urlsplit(tile_url())
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return ""


def headers_for(path: str, scheme: str) -> list[tuple[bytes, bytes]]:
    """The security headers of a response to ``path`` requested over ``scheme``."""
    if path.startswith(DOCS_PATHS):
        csp = DOCS_CSP
    else:
        origin = tile_origin()
        csp = CSP.format(tiles=f" {origin}" if origin else "")
    out = [*BASE_HEADERS, (b"content-security-policy", csp.encode())]
    if scheme == "https":
        out.append((b"strict-transport-security", HSTS.encode()))
    return out


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response (a route's own value wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""), scope.get("scheme", "http"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in extra if k not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_wrapper)


def check_metrics_access(settings: Any, client_host: str | None, authorization: str) -> None:
    """Allow the metrics token (``Authorization: Bearer …``) or an allow-listed client."""
    token = settings.metrics_token
    sent = authorization.removeprefix("Bearer ").encode()
    if token and authorization.startswith("Bearer ") and hmac.compare_digest(sent, token.encode()):
        return
    if client_host:
        try:
            addr = ipaddress.ip_address(client_host)
        except ValueError:
            addr = None
        if addr is not None and any(addr in net for net in settings.metrics_networks()):
            return
    raise PermissionDenied(
        "metrics are for the monitoring system: scrape from an allowed network "
        "(NUANLIU_METRICS_ALLOW) or send the metrics token",
        details={"client": client_host},
    )
