"""Typed domain errors. Domain code raises these; the API maps them to one JSON shape.

Each error carries a stable machine ``code``, a human message (English; the API adds
Chinese where it has a translation) and optional ``details`` that say what is wrong
and where (element ids, file and line, field names).
"""

from __future__ import annotations

from typing import Any


class NuanliuError(Exception):
    """Base of every error Nuanliu raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


class InvalidInput(NuanliuError, ValueError):
    """Input that cannot be accepted as given (bad file, bad field, bad value)."""

    code = "invalid_input"


class NetworkInvalid(InvalidInput):
    """A network model failed validation; ``details`` lists the problems per element."""

    code = "network_invalid"


class NotFound(NuanliuError, LookupError):
    code = "not_found"


class Conflict(NuanliuError, ValueError):
    code = "conflict"


class NotAuthenticated(NuanliuError, PermissionError):
    code = "not_authenticated"


class PermissionDenied(NuanliuError, PermissionError):
    code = "permission_denied"


class RateLimited(NuanliuError, RuntimeError):
    code = "rate_limited"


class NotConverged(NuanliuError, RuntimeError):
    """A solver stopped without meeting its tolerance; ``result`` keeps the partial state."""

    code = "not_converged"

    def __init__(self, message: str, *, details: Any = None, result: Any = None) -> None:
        super().__init__(message, details=details)
        self.result = result


class Infeasible(NuanliuError, RuntimeError):
    """A solve converged to a state that breaks a physical limit (cavitation, pressure
    rating, velocity, differential pressure, pump range, heat-exchanger cross);
    ``result`` keeps the state and ``result.violations`` lists every violation."""

    code = "infeasible"

    def __init__(self, message: str, *, details: Any = None, result: Any = None) -> None:
        super().__init__(message, details=details)
        self.result = result


class StoreError(NuanliuError, RuntimeError):
    """The database refused or failed an operation."""

    code = "store_error"


class ConfigError(NuanliuError, ValueError):
    """Settings that cannot be used (e.g. a placeholder secret outside development)."""

    code = "config_error"


class IllegalTransition(Conflict):
    """A state change that the object's state machine does not allow from its state."""

    code = "illegal_transition"
