"""Web dashboard: server-rendered pages (Jinja2 + htmx + ECharts), Chinese and English.

``mount_web(app)`` adds the pages (see docs/web.md) and ``/static``; the API factory
calls it. Pages need the app's ``state.store`` and the auth dependencies of
``nuanliu.api.deps``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles


def mount_web(app: FastAPI) -> None:
    """Attach the dashboard pages and static assets to the API application."""
    from nuanliu.web import pages, routes_alerts, routes_map
    from nuanliu.web.templating import STATIC_DIR

    app.mount("/static", CachedStatic(directory=str(STATIC_DIR)), name="static")
    app.include_router(pages.router)
    app.include_router(routes_alerts.router)
    app.include_router(routes_map.router)


class CachedStatic(StaticFiles):
    """Static files with a long cache lifetime (URLs carry a version query)."""

    async def get_response(self, path, scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response
