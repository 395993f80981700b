"""API routers under /api/v1, one module per concern."""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Each router carries this prefix itself, so its routes' paths (the metric labels and
# OpenAPI paths) are the full templates.
API_PREFIX = "/api/v1"

# Routers mounted under /api/v1 (auth and system routes are mounted by the factory).
V1_MODULES = [
    "admin",
    "registry",
    "ingest",
    "monitoring",
    "alerts",
    "simulation",
    "telemetry",
    "hotline",
    "control",
    "oversight",
    "billing",
    "meters",
]


def optional_routers() -> list[APIRouter]:
    return [importlib.import_module(f"nuanliu.api.routes.{m}").router for m in V1_MODULES]
