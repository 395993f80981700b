"""Seams between capabilities that land separately: who provides what, by import path.

A consumer asks ``provider(name)`` for a callable; it gets ``None`` while the providing
package does not exist yet (then it must say that the data is not connected, never
show zeros). Tests swap a provider with ``override``. Each seam's signature and result
type are declared here, so provider and consumer agree without importing each other.

| seam | provided by | signature |
|---|---|---|
| ``complaints`` | hotline | ``(store, *, level, ids, start, end) -> list[ComplaintStats]`` |
| ``collection`` | billing | ``(store, *, level, ids, season) -> list[CollectionStats]`` |
| ``compensation`` | hotline | ``(store, *, household_ids, season) -> list[CompensationClaim]`` |

``level`` is a registry level (``city``, ``enterprise``, ``station``, ``community``),
``ids`` the objects at that level (``None`` = every object the store holds), ``start`` and
``end`` timezone-aware bounds of a half-open interval, ``season`` a label such as
``"2026-2027"`` (heating season starting in that autumn).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

SEAMS: dict[str, str] = {
    "complaints": "nuanliu.hotline.stats:complaint_stats",
    "collection": "nuanliu.billing.collection:collection_rates",
    "compensation": "nuanliu.hotline.compensation:compensation_claims",
}

_overrides: dict[str, Callable[..., Any] | None] = {}


@dataclass(frozen=True)
class ComplaintStats:
    """Complaints about one registry object over an interval (12345 definitions)."""

    level: str
    object_id: str
    opened: int
    closed: int
    overdue: int  # open past an SLA deadline at ``end``
    response_rate: float | None  # signed within the SLA / tickets due to be signed
    resolution_rate: float | None  # closed as resolved / tickets closed
    satisfaction_rate: float | None  # satisfied + basically satisfied / rated
    per_10k_m2: float | None  # tickets opened per 10,000 m² of heated area
    per_1000_households: float | None


@dataclass(frozen=True)
class CollectionStats:
    """Fee collection (收缴率) of one registry object for one season."""

    level: str
    object_id: str
    season: str
    billed_yuan: Decimal
    paid_yuan: Decimal
    rate: float | None  # paid / billed; None when nothing was billed


@dataclass(frozen=True)
class CompensationClaim:
    """A household confirmed below the standard long enough to be owed a refund."""

    household_id: str
    season: str
    ticket_id: str
    below_from: datetime
    below_until: datetime
    days: Decimal  # compensable days under the city's rule


def provider(name: str) -> Callable[..., Any] | None:
    """The callable behind seam ``name``, or None while its package is absent."""
    if name in _overrides:
        return _overrides[name]
    module_name, _, attr = SEAMS[name].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None  # the providing package is not installed (yet)
        raise
    return getattr(module, attr)


@contextmanager
def override(name: str, fn: Callable[..., Any] | None) -> Iterator[None]:
    """Use ``fn`` (or no provider) for seam ``name`` inside the block (tests)."""
    if name not in SEAMS:
        raise KeyError(name)
    before = _overrides.get(name, ...)
    _overrides[name] = fn
    try:
        yield
    finally:
        if before is ...:
            _overrides.pop(name, None)
        else:
            _overrides[name] = before  # type: ignore[assignment]
