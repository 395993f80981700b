"""Shared OpenAPI pieces: the error response every route may return."""

from __future__ import annotations

from typing import Any

from nuanliu.api.error_handlers import ERROR_SCHEMA

_ERROR = {"content": {"application/json": {"schema": ERROR_SCHEMA}}}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "not authenticated", **_ERROR},
    403: {"description": "not allowed for this role or scope", **_ERROR},
    404: {"description": "not found (or outside the caller's scope)", **_ERROR},
    422: {"description": "invalid input", **_ERROR},
    429: {"description": "rate limited", **_ERROR},
}
