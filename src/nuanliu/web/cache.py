"""A small time-to-live cache for per-page work shared between concurrent requests.

Dashboard pages are read far more often than the data changes (sensors report every
few minutes), so each expensive query result is kept for a few seconds per key
(the key always includes the caller's scope, so no user sees another's rows).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class TTLCache:
    def __init__(self, ttl_s: float, max_entries: int = 512) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it once even under concurrent callers."""
        hit = self._items.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._items.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
                return hit[1]
            value = compute()
            with self._guard:
                if len(self._items) >= self.max_entries:
                    oldest = min(self._items, key=lambda k: self._items[k][0])
                    self._items.pop(oldest, None)
                    self._locks.pop(oldest, None)
                self._items[key] = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        with self._guard:
            self._items.clear()
            self._locks.clear()
