"""A short-lived cache of rate tables, invalidated by every ticket change in this process.

City rates over a season scan every ticket; many users open the same page at once. The
cache keeps a result for ``TTL_S`` seconds and drops everything whenever a ticket is
created or changed here (``bump``), so what a user just did shows at once; changes made
by another process show within ``TTL_S``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

TTL_S = 30.0
_MAX_ENTRIES = 256
_lock = threading.Lock()
_entries: dict[Hashable, tuple[float, int, Any]] = {}
_generation = 0
_inflight: dict[Hashable, threading.Lock] = {}

T = TypeVar("T")


def store_key(store: Any) -> str:
    """A key unique to one store object for its lifetime (``id`` may be reused)."""
    token = getattr(store, "_hotline_cache_key", None)
    if token is None:
        import uuid

        token = uuid.uuid4().hex
        try:
            store._hotline_cache_key = token
        except AttributeError:  # objects without a __dict__: fall back to their id
            return str(id(store))
    return token


def bump() -> None:
    """A ticket changed: forget every cached result."""
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()`` once per key and TTL; concurrent callers of one key wait for it."""
    with _lock:
        hit = _entries.get(key)
        if hit and hit[1] == _generation and time.monotonic() - hit[0] < TTL_S:
            return hit[2]
        gate = _inflight.setdefault(key, threading.Lock())
    with gate:
        with _lock:
            hit = _entries.get(key)
            if hit and hit[1] == _generation and time.monotonic() - hit[0] < TTL_S:
                return hit[2]
            gen = _generation
        value = compute()
        with _lock:
            if gen == _generation:
                if len(_entries) >= _MAX_ENTRIES:
                    _entries.clear()
                _entries[key] = (time.monotonic(), gen, value)
            _inflight.pop(key, None)
    return value
