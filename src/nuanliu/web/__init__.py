"""Web dashboard: server-rendered pages (Jinja2 + htmx + ECharts), Chinese and English.

``mount_web(app)`` adds the pages (see docs/web.md) and ``/static``; the API factory
calls it. Pages need the app's ``state.store`` and the auth dependencies of
``nuanliu.api.deps``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

# Modules whose ``router`` holds dashboard pages; each capability adds its own line.
PAGE_MODULES: tuple[str, ...] = (
    "nuanliu.web.pages",
    "nuanliu.web.routes_alerts",
    "nuanliu.web.routes_map",
    "nuanliu.web.pages_hotline",
    "nuanliu.web.pages_scheduler",
    "nuanliu.web.pages_admin",
    "nuanliu.web.pages_telemetry",
    "nuanliu.web.pages_control",
    "nuanliu.web.pages_oversight",
    "nuanliu.web.pages_billing",  # billing (issue 11)
    "nuanliu.web.routes_lists",
)


def mount_web(app: FastAPI) -> None:
    """Attach the dashboard pages and static assets to the API application."""
    import importlib

    from nuanliu.web.templating import STATIC_DIR

    app.mount("/static", CachedStatic(directory=str(STATIC_DIR)), name="static")
    for name in PAGE_MODULES:
        app.include_router(importlib.import_module(name).router)


class CachedStatic(StaticFiles):
    """Static files with a long cache lifetime (URLs carry a version query)."""

    async def get_response(self, path, scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response
