"""Webhook delivery of alert events: POST JSON, retry with backoff, record every attempt.

Events wait in ``mon_alert_deliveries`` (the outbox written with the alert change).
``deliver_pending`` posts each undelivered event, retrying up to ``attempts`` times per
call with exponential backoff; every attempt's status or error is recorded, and an
event is retried on later calls until ``max_total_attempts`` is reached.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx

DEFAULT_TIMEOUT_S = 5.0


def deliver_pending(
    store: Any,
    *,
    attempts: int = 3,
    backoff_s: float = 0.5,
    max_total_attempts: int = 10,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    client: httpx.Client | None = None,
) -> list[dict[str, Any]]:
    """Post every undelivered event; returns one dict per event with the outcome."""
    with store.read() as q:
        pending = q.dicts(
            "SELECT delivery_id, alert_id, event, url, payload, attempts"
            " FROM mon_alert_deliveries WHERE delivered_at IS NULL AND attempts < ?"
            " ORDER BY delivery_id",
            [max_total_attempts],
        )
    if not pending:
        return []
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    results: list[dict[str, Any]] = []
    try:
        for item in pending:
            results.append(_deliver_one(store, http, item, attempts, backoff_s, max_total_attempts))
    finally:
        if own:
            http.close()
    return results


def _deliver_one(
    store: Any,
    http: httpx.Client,
    item: dict[str, Any],
    attempts: int,
    backoff_s: float,
    max_total_attempts: int,
) -> dict[str, Any]:
    done = int(item["attempts"])
    status: int | None = None
    error: str | None = None
    ok = False
    for i in range(attempts):
        if done >= max_total_attempts:
            break
        if i:
            time.sleep(backoff_s * 2 ** (i - 1))
        done += 1
        try:
            resp = http.post(
                item["url"],
                content=item["payload"].encode("utf-8"),
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "X-Nuanliu-Event": item["event"],
                    "X-Nuanliu-Delivery": str(item["delivery_id"]),
                },
            )
            status, error = resp.status_code, None
            ok = 200 <= resp.status_code < 300
            if not ok:
                error = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        now = datetime.now(UTC)
        with store.write() as w:
            w.execute(
                "UPDATE mon_alert_deliveries SET attempts = ?, last_status = ?, last_error = ?,"
                " last_attempt_at = ?, delivered_at = ? WHERE delivery_id = ?",
                [done, status, error, now, now if ok else None, item["delivery_id"]],
            )
        if ok:
            break
    return {
        "delivery_id": item["delivery_id"],
        "alert_id": item["alert_id"],
        "event": item["event"],
        "url": item["url"],
        "delivered": ok,
        "attempts": done,
        "status": status,
        "error": error,
    }
