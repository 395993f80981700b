"""A small time-to-live cache for per-page work shared between concurrent requests.

Dashboard pages are read far more often than the data changes (sensors report every
few minutes, compliance is per day), so expensive results are kept per key (the key
always includes the caller's scope, so no user sees another's rows). With
``stale_s`` a value older than ``ttl_s`` but younger than ``stale_s`` is served at once
while one background thread recomputes it (stale-while-revalidate): under load no
request waits for a recomputation except the very first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class TTLCache:
    def __init__(self, ttl_s: float, max_entries: int = 512, stale_s: float = 0.0) -> None:
        self.ttl_s = ttl_s
        self.stale_s = max(stale_s, ttl_s)
        self.max_entries = max_entries
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._refreshing: set[Hashable] = set()
        self._guard = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it once even under concurrent callers."""
        hit = self._items.get(key)
        if hit is not None:
            age = time.monotonic() - hit[0]
            if age < self.ttl_s:
                return hit[1]
            if age < self.stale_s:
                self._refresh_in_background(key, compute)
                return hit[1]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._items.get(key)
            if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
                return hit[1]
            value = compute()
            self._put(key, value)
            return value

    def peek_or_start(self, key: Hashable, compute: Callable[[], T]) -> T | None:
        """The cached value (fresh or stale) or None, starting its computation in the
        background when it is missing or stale: for results too slow to wait for."""
        hit = self._items.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.ttl_s:
            return hit[1]
        self._refresh_in_background(key, compute)
        return hit[1] if hit is not None else None

    def _put(self, key: Hashable, value: Any) -> None:
        with self._guard:
            if key not in self._items and len(self._items) >= self.max_entries:
                oldest = min(self._items, key=lambda k: self._items[k][0])
                self._items.pop(oldest, None)
                self._locks.pop(oldest, None)
            self._items[key] = (time.monotonic(), value)

    def _refresh_in_background(self, key: Hashable, compute: Callable[[], Any]) -> None:
        with self._guard:
            if key in self._refreshing:
                return
            self._refreshing.add(key)

        def run() -> None:
            try:
                self._put(key, compute())
            except Exception:  # the stale value stays; the next request tries again
                log.exception("background refresh of %r failed", key)
            finally:
                with self._guard:
                    self._refreshing.discard(key)

        threading.Thread(target=run, name="web-cache-refresh", daemon=True).start()

    def forget(self, key: Hashable) -> None:
        with self._guard:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._guard:
            self._items.clear()
            self._locks.clear()
