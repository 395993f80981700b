"""Page caches: concurrent users share one computation; stale figures are replaced soon."""

from __future__ import annotations

import threading
import time

from nuanliu.web.cache import TTLCache


def test_concurrent_requests_compute_once_and_stale_values_are_refreshed() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def slow() -> int:
        gate.wait(1.0)
        calls.append(1)
        return len(calls)

    cache = TTLCache(ttl_s=0.2, stale_s=5.0)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert results == [1] * 8 and len(calls) == 1  # eight users, one query

    time.sleep(0.25)  # now stale: served at once while one refresh runs behind it
    started = time.perf_counter()
    assert cache.get_or_compute("k", slow) == 1
    assert time.perf_counter() - started < 0.1
    deadline = time.monotonic() + 2.0
    while cache.get_or_compute("k", slow) != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get_or_compute("k", slow) == 2 and len(calls) == 2


def test_values_older_than_the_stale_limit_are_recomputed_before_answering() -> None:
    n = iter(range(100))
    cache = TTLCache(ttl_s=0.05, stale_s=0.1)
    assert cache.get_or_compute("k", lambda: next(n)) == 0
    time.sleep(0.15)
    assert cache.get_or_compute("k", lambda: next(n)) == 1
