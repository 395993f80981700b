"""Prometheus metrics on a per-app registry (so tests can build many apps)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "nuanliu_http_requests_total",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nuanliu_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.readings_ingested = Counter(
            "nuanliu_readings_ingested_total",
            "Readings newly stored through the HTTP batch endpoint.",
            registry=self.registry,
        )
        self.readings_duplicate = Counter(
            "nuanliu_readings_duplicate_total",
            "Readings received again (same sensor and time) and not stored twice.",
            registry=self.registry,
        )
        self.readings_quarantined = Counter(
            "nuanliu_readings_quarantined_total",
            "Rows sent to quarantine with a reason.",
            registry=self.registry,
        )
        self.logins = Counter(
            "nuanliu_logins_total",
            "Login attempts by outcome.",
            ["outcome"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (not the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = {"code": 500}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status["code"])).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)
