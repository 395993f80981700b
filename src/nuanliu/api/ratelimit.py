"""Login rate limiting per username and per client address, kept in the store.

Defaults: 5 failures per username and 20 per address within 5 minutes.

Failures are rows in ``login_failures``; a key that has ``max_failures`` within the
window is refused until its oldest failure in the window ages out. Keeping them in the
store (not process memory) holds the limit across restarts and worker processes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nuanliu.api.sql import records
from nuanliu.errors import RateLimited


@dataclass(frozen=True)
class LoginLimiter:
    max_failures: int = 5  # per username
    max_failures_per_ip: int = 20  # an office behind one NAT address shares this
    window: timedelta = timedelta(minutes=5)

    def _limit(self, key: str) -> int:
        return self.max_failures_per_ip if key.startswith("ip:") else self.max_failures

    @staticmethod
    def keys(username: str, client_ip: str | None) -> list[str]:
        keys = [f"user:{username.strip().lower()}"]
        if client_ip:
            keys.append(f"ip:{client_ip}")
        return keys

    def check(self, store: Any, username: str, client_ip: str | None) -> None:
        """Raise ``RateLimited`` (details: ``retry_after_s``) when a key is over the limit."""
        now = datetime.now(UTC)
        keys = self.keys(username, client_ip)
        marks = ", ".join("?" for _ in keys)
        with store.read() as q:
            rows = records(
                q,
                "SELECT failure_key, COUNT(*), MIN(failed_at) FROM login_failures"
                f" WHERE failure_key IN ({marks}) AND failed_at > ? GROUP BY failure_key",
                [*keys, now - self.window],
                ("key", "count", "oldest"),
            )
        blocked = [r for r in rows if r["count"] >= self._limit(r["key"])]
        if not blocked:
            return
        # Retry once the oldest counted failure of the worst key leaves the window.
        retry_s = max((r["oldest"] + self.window - now).total_seconds() for r in blocked)
        raise RateLimited(
            "too many failed logins; try again later",
            details={
                "retry_after_s": max(1, math.ceil(retry_s)),
                "limit": self._limit(blocked[0]["key"]),
                "by": blocked[0]["key"].split(":", 1)[0],
                "window_s": int(self.window.total_seconds()),
            },
        )

    def record_failure(self, store: Any, username: str, client_ip: str | None) -> None:
        now = datetime.now(UTC)
        with store.write() as w:
            w.execute("DELETE FROM login_failures WHERE failed_at <= ?", [now - self.window])
            for key in self.keys(username, client_ip):
                w.execute(
                    "INSERT INTO login_failures (failure_key, failed_at) VALUES (?, ?)", [key, now]
                )

    def clear_user(self, store: Any, username: str) -> None:
        """A successful login forgives the username's failures (not the address's)."""
        with store.write() as w:
            w.execute(
                "DELETE FROM login_failures WHERE failure_key = ?", [self.keys(username, None)[0]]
            )
