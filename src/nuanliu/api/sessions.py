"""Server-side web sessions and bearer API tokens, both with expiry and hashed at rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from nuanliu.api.accounts import User, load_users
from nuanliu.api.credentials import digest, new_secret
from nuanliu.api.sql import record

SESSION_TTL = timedelta(hours=12)
TOKEN_TTL = timedelta(days=30)
TOKEN_PREFIX = "nl_"


@dataclass(frozen=True)
class NewSession:
    session_id: str  # the cookie value; only its digest is stored
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    user: User
    csrf_token: str


@dataclass(frozen=True)
class NewToken:
    token_id: str
    token: str  # shown once; only its digest is stored
    expires_at: datetime


def create_session(
    store: Any,
    user: User,
    *,
    ttl: timedelta = SESSION_TTL,
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> NewSession:
    now = datetime.now(UTC)
    new = NewSession(session_id=new_secret(), csrf_token=new_secret(), expires_at=now + ttl)
    with store.write() as w:
        # Expired sessions are swept here rather than by a scheduler.
        w.execute("DELETE FROM sessions WHERE expires_at <= ?", [now])
        w.execute(
            "INSERT INTO sessions (session_hash, user_id, csrf_token, created_at, expires_at,"
            " client_ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                digest(new.session_id),
                user.user_id,
                new.csrf_token,
                now,
                new.expires_at,
                client_ip,
                (user_agent or "")[:300],
            ],
        )
    return new


def lookup_session(store: Any, session_id: str) -> SessionInfo | None:
    """The live session's active user and CSRF token, or None if unknown or expired."""
    with store.read() as q:  # one connection for both lookups
        row = record(
            q,
            "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.user_id = s.user_id"
            " WHERE s.session_hash = ? AND s.expires_at > ? AND u.active",
            [digest(session_id), datetime.now(UTC)],
            ("user_id", "csrf_token"),
        )
        users = load_users(q, "u.user_id = ?", [row["user_id"]]) if row else []
    if not users:
        return None
    return SessionInfo(user=users[0], csrf_token=row["csrf_token"])  # type: ignore[index]


def delete_session(store: Any, session_id: str) -> None:
    with store.write() as w:
        w.execute("DELETE FROM sessions WHERE session_hash = ?", [digest(session_id)])


def create_token(store: Any, user: User, *, name: str = "", ttl: timedelta = TOKEN_TTL) -> NewToken:
    now = datetime.now(UTC)
    new = NewToken(token_id=uuid.uuid4().hex, token=new_secret(TOKEN_PREFIX), expires_at=now + ttl)
    with store.write() as w:
        w.execute(
            "INSERT INTO api_tokens (token_id, token_hash, user_id, name, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [new.token_id, digest(new.token), user.user_id, name[:100], now, new.expires_at],
        )
    return new


def lookup_token(store: Any, token: str) -> tuple[User, str] | None:
    """The active user and token id of a live (unexpired, unrevoked) token, or None."""
    with store.read() as q:  # one connection for both lookups
        row = record(
            q,
            "SELECT t.user_id, t.token_id FROM api_tokens t JOIN users u ON u.user_id = t.user_id"
            " WHERE t.token_hash = ? AND t.expires_at > ? AND t.revoked_at IS NULL AND u.active",
            [digest(token), datetime.now(UTC)],
            ("user_id", "token_id"),
        )
        users = load_users(q, "u.user_id = ?", [row["user_id"]]) if row else []
    if not users:
        return None
    return users[0], row["token_id"]  # type: ignore[index]


def revoke_token(store: Any, token_id: str) -> None:
    with store.write() as w:
        w.execute(
            "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
            [datetime.now(UTC), token_id],
        )
