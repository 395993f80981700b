"""The application factory: ``create_app(settings=None, *, store=None)``.

Nothing is opened at import time. The store is opened in the lifespan from
``settings.database_url`` unless one is passed in (tests, the demo), in which case the
caller keeps ownership and the app never closes it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

import nuanliu
from nuanliu.api.error_handlers import install_error_handlers
from nuanliu.api.metrics import ApiMetrics, MetricsMiddleware
from nuanliu.api.ops_metrics import StoreCollector
from nuanliu.api.ratelimit import LoginLimiter
from nuanliu.api.routes import auth, system
from nuanliu.api.security import SecurityHeadersMiddleware
from nuanliu.api.sessions import SESSION_TTL
from nuanliu.api.simcache import SimCache
from nuanliu.config import Settings, load_settings

log = logging.getLogger(__name__)

TAGS = [
    {"name": "auth", "description": "Login, logout, tokens, current user / 登录与令牌"},
    {
        "name": "registry",
        "description": "Regions, enterprises, stations, buildings, households, sensors / 档案",
    },
    {"name": "ingest", "description": "Batch upload of indoor readings / 室温数据上报"},
    {
        "name": "monitoring",
        "description": "Compliance, cold/overheated/offline lists, series / 室温监测",
    },
    {"name": "alerts", "description": "Alerts and acknowledgement / 告警"},
    {"name": "simulation", "description": "Network twin results / 管网仿真"},
    {"name": "admin", "description": "Users and audit log / 用户与审计"},
    {"name": "system", "description": "Health, readiness and metrics"},
]


def _operation_id(route: APIRoute) -> str:
    """Routes name their operation explicitly; this is only the fallback."""
    return route.name


def _open_store(url: str) -> Any:
    from nuanliu.store import open_store  # imported late: the app module must not need a DB

    # "check": a current schema costs one read and needs no DDL right, so the API can
    # run as a role that cannot alter the schema (migrations: `nuanliu db migrate`).
    return open_store(url, migrate="check")


def _register_hooks(app: FastAPI, store: Any) -> None:
    """Keep the monitoring aggregates current for readings ingested through this app."""
    from nuanliu.monitor import register_aggregates

    register_aggregates(store)


def _start_scheduler(store: Any) -> Any:
    """The periodic jobs in this process (NUANLIU_SCHEDULER_IN_PROCESS): for DuckDB,
    whose file only one process may open; with PostgreSQL run ``nuanliu scheduler``."""
    from nuanliu.scheduler.runner import Scheduler

    scheduler = Scheduler(store)
    scheduler.start_thread()
    return scheduler


def _include_routers(app: FastAPI) -> None:
    app.include_router(system.router)
    app.include_router(auth.router)
    # Routers over other capabilities join as those capabilities land.
    from nuanliu.api.routes import optional_routers

    for router in optional_routers():
        app.include_router(router)


def create_app(
    settings: Settings | None = None,
    *,
    store: Any = None,
    login_limiter: LoginLimiter | None = None,
    session_ttl: timedelta = SESSION_TTL,
) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A store given to the factory (or attached before start-up) belongs to the
        # caller; only a store opened here is closed here.
        owned = app.state.store is None
        if owned:
            app.state.store = _open_store(settings.database_url)
            _register_hooks(app, app.state.store)
        scheduler = _start_scheduler(app.state.store) if settings.scheduler_in_process else None
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.close()
            if owned:
                app.state.store.close()
                app.state.store = None

    app = FastAPI(
        title="Nuanliu (暖流) API",
        version=nuanliu.__version__,
        description="Smart district heating: registry, indoor-temperature monitoring, alerts, "
        'network twin. Errors: {"error": {code, message, message_zh, details}}.',
        openapi_tags=TAGS,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = ApiMetrics()
    app.state.login_limiter = login_limiter or LoginLimiter()
    app.state.session_ttl = session_ttl
    app.state.login_url = "/login"
    app.state.secure_cookies = settings.env != "development"
    app.state.sim_cache = SimCache()
    if store is not None:
        _register_hooks(app, store)

    app.state.metrics.registry.register(StoreCollector(lambda: app.state.store))

    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: error responses get them too
    _include_routers(app)
    _mount_web(app)
    return app


def _mount_web(app: FastAPI) -> None:
    from nuanliu.web import mount_web

    mount_web(app)
