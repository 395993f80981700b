"""Poison inputs: turning an exception into a dead letter, and telling it from an outage.

Whatever raises while one MQTT message, HTTP body or file chunk is parsed or validated
is *poison* for that input only: it becomes a ``DeadLetter`` (payload bytes exactly,
error, traceback summary) and the rest goes on. A failing store is not poison — the
input is fine, the database is not — so before dead-lettering a ``StoreError`` we ask
the store whether it is alive; if not, the error propagates (MQTT does not ack and
retries; HTTP answers 503).
"""

from __future__ import annotations

import traceback as tb
from typing import Any

from nuanliu.errors import StoreError
from nuanliu.store import DeadLetter, Store

TRACEBACK_FRAMES = 6  # innermost frames kept per dead letter


def describe(exc: BaseException) -> tuple[str, str, str]:
    """(error type, message, traceback summary) of ``exc``."""
    kind = type(exc).__name__
    try:
        message = str(exc)
    except Exception:  # a hostile __str__ must not take the handler down too
        message = repr(exc)
    if isinstance(exc, RecursionError):
        message = message or "maximum recursion depth exceeded"
    frames = tb.extract_tb(exc.__traceback__)[-TRACEBACK_FRAMES:]
    summary = "".join(tb.format_list(frames)) + f"{kind}: {message[:500]}"
    return kind, message, summary


def dead_letter_for(
    exc: BaseException,
    payload: bytes,
    *,
    transport: str,
    source: str,
    content_type: str | None = None,
) -> DeadLetter:
    kind, message, summary = describe(exc)
    return DeadLetter(
        transport=transport,
        source=source,
        payload=bytes(payload),
        error_type=kind,
        error_message=message,
        traceback=summary,
        content_type=content_type,
    )


def store_is_healthy(store: Store) -> bool:
    """Can the store answer a trivial query right now?"""
    try:
        with store.read() as q:
            return q.scalar("SELECT 1") == 1
    except Exception:
        return False


def is_outage(exc: BaseException, store: Store) -> bool:
    """True when ``exc`` is the store failing (not the input): never dead-letter those."""
    return isinstance(exc, StoreError) and not store_is_healthy(store)


def reason_of(letter: DeadLetter | Any) -> str:
    return f"{letter.source}: dead letter ({letter.error_type}: {letter.error_message[:200]})"
