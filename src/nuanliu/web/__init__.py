"""Web dashboard: server-rendered pages (Jinja2 + htmx + ECharts), Chinese and English."""

from __future__ import annotations

from fastapi import FastAPI


def mount_web(app: FastAPI) -> None:
    """Attach the dashboard pages and static assets to the API application."""
