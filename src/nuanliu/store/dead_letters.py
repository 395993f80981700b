"""Dead letters: inputs whose processing raised, kept byte for byte with the error.

A dead letter is a whole MQTT message, HTTP body or file chunk that could not be taken
apart into readings and quarantine rows at all (an exception, not a bad value). Its
payload is stored exactly (``BLOB`` / ``BYTEA``) so ``nuanliu ingest replay`` can run it
through the code again after a fix; the text columns are made storable with
``safe_text`` (PostgreSQL refuses NUL in text).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nuanliu.errors import InvalidInput

if TYPE_CHECKING:
    from nuanliu.store.core import Store

TRANSPORTS = ("mqtt", "http", "file", "python")
# Telemetry (nuanliu.telemetry) keeps its letters apart so replay sends them back there.
TRANSPORTS += tuple(f"telemetry-{t}" for t in (*TRANSPORTS, "simulator"))
MAX_TEXT_CHARS = 8192  # error message and traceback summary kept per dead letter

_COLUMNS = (
    "dead_letter_id",
    "received_at",
    "transport",
    "source",
    "content_type",
    "payload",
    "error_type",
    "error_message",
    "traceback",
    "attempts",
    "last_attempt_at",
    "replayed_at",
    "replay_result",
)


@dataclass(frozen=True)
class DeadLetter:
    """One input that raised while being processed; ``payload`` as it was received."""

    transport: str  # mqtt | http | file | python
    source: str  # mqtt:<topic>, http:<user>, file:<name>:<first line>
    payload: bytes
    error_type: str
    error_message: str
    traceback: str | None = None
    content_type: str | None = None  # how replay parses the payload
    received_at: dt.datetime | None = None  # default: now (UTC)
    # Filled when read back from the store:
    dead_letter_id: int | None = None
    attempts: int = 1
    last_attempt_at: dt.datetime | None = None
    replayed_at: dt.datetime | None = None
    replay_result: dict[str, Any] | None = None
    payload_size: int | None = None  # bytes; set when read back (also without payload)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_ESCAPES = re.compile(r"\\(\\|0|u[0-9a-f]{4})")


def needs_escape(text: str) -> bool:
    """True when ``text`` holds NUL or a lone surrogate (not storable as text)."""
    return _UNSTORABLE.search(text) is not None


def escape_text(text: str) -> str:
    """Reversible escape: ``\\`` → ``\\\\``, NUL → ``\\0``, a lone surrogate → ``\\udcXX``.

    ``unescape_text(escape_text(t)) == t`` for every ``t``. Lone surrogates are what
    ``bytes.decode("utf-8", "surrogateescape")`` makes of undecodable bytes, so the
    original bytes come back with ``unescape_text(t).encode("utf-8", "surrogateescape")``.
    """
    out = text.replace("\\", "\\\\")
    return _UNSTORABLE.sub(lambda m: "\\0" if m[0] == "\x00" else f"\\u{ord(m[0]):04x}", out)


def unescape_text(text: str) -> str:
    def back(m: re.Match[str]) -> str:
        code = m[1]
        if code == "\\":
            return "\\"
        return "\x00" if code == "0" else chr(int(code[1:], 16))

    return _ESCAPES.sub(back, text)


def safe_text(text: str | None, limit: int | None = None) -> str | None:
    """Text for a diagnostic column: escaped only when it must be, cut at ``limit``."""
    if text is None:
        return None
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…[truncated]"
    return escape_text(text) if needs_escape(text) else text


def insert_dead_letters(store: Store, letters: Sequence[DeadLetter]) -> list[int]:
    """Keep ``letters``; their new ids, in order. Joins the caller's write transaction."""
    if not letters:
        return []
    now = dt.datetime.now(dt.UTC)
    for d in letters:
        if d.transport not in TRANSPORTS:
            raise InvalidInput(
                f"dead letter transport {d.transport!r} is not one of {', '.join(TRANSPORTS)}"
            )
        if d.received_at is not None and d.received_at.tzinfo is None:
            raise InvalidInput(f"dead letter from {d.source} has a naive received_at; use UTC")
    ids: list[int] = []
    with store.write() as w:
        # Row by row with bound parameters: payloads are binary (no CSV COPY) and dead
        # letters are rare, so the per-row cost does not matter.
        for d in letters:
            row = w.one(
                "INSERT INTO dead_letters (received_at, transport, source, content_type,"
                " payload, error_type, error_message, traceback, attempts, last_attempt_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING dead_letter_id",
                [
                    d.received_at or now,
                    d.transport,
                    safe_text(d.source, MAX_TEXT_CHARS),
                    safe_text(d.content_type, 200),
                    bytes(d.payload),
                    safe_text(d.error_type, 200),
                    safe_text(d.error_message, MAX_TEXT_CHARS),
                    safe_text(d.traceback, MAX_TEXT_CHARS),
                    now,
                ],
            )
            assert row is not None
            ids.append(int(row[0]))
    return ids


def list_dead_letters(
    store: Store,
    *,
    ids: Sequence[int] | None = None,
    transport: str | None = None,
    since: dt.datetime | None = None,
    pending_only: bool = False,
    with_payload: bool = True,
    limit: int | None = None,
) -> list[DeadLetter]:
    """Dead letters, oldest first, filtered by id, transport, arrival time and state."""
    where: list[str] = []
    params: list[Any] = []
    if ids is not None:
        if not ids:
            return []
        where.append(f"dead_letter_id IN ({', '.join('?' for _ in ids)})")
        params.extend(int(i) for i in ids)
    if transport is not None:
        where.append("transport = ?")
        params.append(transport)
    if since is not None:
        if since.tzinfo is None:
            raise InvalidInput("dead letters since: give a time with a timezone")
        where.append("received_at >= ?")
        params.append(since)
    if pending_only:
        where.append("replayed_at IS NULL")
    cols = [c if c != "payload" or with_payload else "NULL AS payload" for c in _COLUMNS]
    sql = f"SELECT {', '.join(cols)}, octet_length(payload) FROM dead_letters"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY dead_letter_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    with store.read() as q:
        rows = q.all(sql, params)
    out = []
    for r in rows:
        rec = dict(zip(_COLUMNS, r[:-1], strict=True))
        rec["payload_size"] = int(r[-1])
        payload = rec["payload"]
        rec["payload"] = bytes(payload) if payload is not None else b""
        if rec["replay_result"] is not None:
            rec["replay_result"] = json.loads(rec["replay_result"])
        out.append(DeadLetter(**rec))
    return out


def mark_replayed(store: Store, dead_letter_id: int, result: dict[str, Any]) -> bool:
    """Record a successful replay (joins the caller's transaction: commit it with the
    replay's readings, so a crash cannot store them without marking the letter).

    False when the letter was not pending any more (a concurrent replay marked it
    first): the caller should roll back its transaction."""
    now = dt.datetime.now(dt.UTC)
    with store.write() as w:
        changed = w.execute(
            "UPDATE dead_letters SET replayed_at = ?, replay_result = ?, last_attempt_at = ?,"
            " attempts = attempts + 1 WHERE dead_letter_id = ? AND replayed_at IS NULL",
            [now, json.dumps(result, ensure_ascii=False), now, int(dead_letter_id)],
        )
    return changed != 0


def record_failed_replay(
    store: Store, dead_letter_id: int, error_type: str, error_message: str, traceback: str | None
) -> None:
    """A replay raised again: keep the letter, with the new error."""
    now = dt.datetime.now(dt.UTC)
    with store.write() as w:
        w.execute(
            "UPDATE dead_letters SET error_type = ?, error_message = ?, traceback = ?,"
            " attempts = attempts + 1, last_attempt_at = ? WHERE dead_letter_id = ?",
            [
                safe_text(error_type, 200),
                safe_text(error_message, MAX_TEXT_CHARS),
                safe_text(traceback, MAX_TEXT_CHARS),
                now,
                int(dead_letter_id),
            ],
        )
