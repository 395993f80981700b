"""User accounts: creation with a role and a scope, lookup, password check."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nuanliu.api.credentials import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    is_argon2_hash,
    needs_rehash,
    verify_password,
)
from nuanliu.api.roles import PERMISSIONS, SCOPE_KIND, UNMASKED_ROLES, Permission, Role
from nuanliu.api.sql import record, records
from nuanliu.errors import Conflict, InvalidInput, NotFound
from nuanliu.scope import Scope

# Registry table and key column each scope kind refers to.
_SCOPE_TABLES = {
    "region": ("regions", "region_id"),
    "enterprise": ("enterprises", "enterprise_id"),
    "community": ("communities", "community_id"),
    "household": ("households", "household_id"),
}
_USER_COLUMNS = ("user_id", "username", "role", "display_name", "active")


@dataclass(frozen=True)
class User:
    user_id: str
    username: str
    role: Role
    display_name: str = ""
    active: bool = True
    scope_ids: tuple[str, ...] = field(default_factory=tuple)  # ids of SCOPE_KIND[role]

    @property
    def scope_kind(self) -> str:
        return SCOPE_KIND[self.role][0]

    @property
    def enterprise_id(self) -> str | None:
        return self.scope_ids[0] if self.scope_kind == "enterprise" and self.scope_ids else None

    @property
    def household_id(self) -> str | None:
        return self.scope_ids[0] if self.scope_kind == "household" and self.scope_ids else None

    def can(self, permission: Permission) -> bool:
        return permission in PERMISSIONS[self.role]

    def scope(self) -> Scope:
        """The rows this user may see; every data query is filtered by it."""
        ids = frozenset(self.scope_ids)
        mask = self.role not in UNMASKED_ROLES
        kind = self.scope_kind
        return Scope(
            region_ids=ids if kind == "region" else None,
            enterprise_ids=ids if kind == "enterprise" else None,
            community_ids=ids if kind == "community" else None,
            household_ids=ids if kind == "household" else None,
            mask_personal=mask,
        )

    def public(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "role": str(self.role),
            "display_name": self.display_name,
            "active": self.active,
            "scope": {"kind": self.scope_kind, "ids": list(self.scope_ids)},
            "permissions": sorted(str(p) for p in PERMISSIONS[self.role]),
        }


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise InvalidInput(
            f"unknown role {value!r}",
            details={"field": "role", "allowed": [str(r) for r in Role]},
        ) from exc


def _check_scope(q: Any, role: Role, scope_ids: list[str]) -> None:
    kind, count = SCOPE_KIND[role]
    if not scope_ids or (count is not None and len(scope_ids) != count):
        need = "exactly one" if count == 1 else "at least one"
        raise InvalidInput(
            f"role {role} needs {need} {kind} id, got {len(scope_ids)}",
            details={"field": "scope_ids", "kind": kind},
        )
    table, key = _SCOPE_TABLES[kind]
    marks = ", ".join("?" for _ in scope_ids)
    found = {
        r[key]
        for r in records(
            q, f"SELECT {key} FROM {table} WHERE {key} IN ({marks})", scope_ids, (key,)
        )
    }
    missing = sorted(set(scope_ids) - found)
    if missing:
        raise InvalidInput(
            f"unknown {kind} id(s) for role {role}: {', '.join(missing)}",
            details={"field": "scope_ids", "kind": kind, "missing": missing},
        )


def create_user(
    store: Any,
    *,
    username: str,
    password: str,
    role: Role | str,
    scope_ids: Iterable[str],
    display_name: str = "",
    password_hash: str | None = None,
) -> User:
    """Create an active user; the scope ids must exist in the registry.

    ``password_hash`` takes an existing argon2 hash instead of ``password`` (accounts moved
    from another system); weaker parameters are upgraded at the next login.
    """
    role = parse_role(str(role))
    username = username.strip()
    ids = sorted({s.strip() for s in scope_ids if s and s.strip()})
    if not username or len(username) > 64:
        raise InvalidInput("username must be 1–64 characters", details={"field": "username"})
    if password_hash is not None:
        if not is_argon2_hash(password_hash):
            raise InvalidInput(
                "password_hash must be an argon2 hash", details={"field": "password"}
            )
    elif len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            details={"field": "password"},
        )
    else:
        password_hash = hash_password(password)  # outside the write lock: slow on purpose
    user = User(
        user_id=uuid.uuid4().hex,
        username=username,
        role=role,
        display_name=display_name,
        scope_ids=tuple(ids),
    )
    with store.write() as w:
        _check_scope(w, role, ids)
        if record(w, "SELECT user_id FROM users WHERE username = ?", [username], ("user_id",)):
            raise Conflict(f"username {username!r} is taken", details={"field": "username"})
        w.execute(
            "INSERT INTO users (user_id, username, password_hash, role, display_name, active,"
            " created_at) VALUES (?, ?, ?, ?, ?, TRUE, ?)",
            [user.user_id, username, password_hash, str(role), display_name, datetime.now(UTC)],
        )
        for ref in ids:
            w.execute(
                "INSERT INTO user_scopes (user_id, kind, ref_id) VALUES (?, ?, ?)",
                [user.user_id, user.scope_kind, ref],
            )
    return user


def load_users(q: Any, where: str, params: list[Any]) -> list[User]:
    """Users matching a condition on alias ``u`` of ``users``, with their scope ids."""
    cols = ", ".join("u." + c for c in _USER_COLUMNS)
    rows = records(
        q, f"SELECT {cols} FROM users u WHERE {where} ORDER BY u.username", params, _USER_COLUMNS
    )
    if not rows:
        return []
    ids = [r["user_id"] for r in rows]
    marks = ", ".join("?" for _ in ids)
    scopes: dict[str, list[str]] = {}
    for s in records(
        q,
        f"SELECT user_id, ref_id FROM user_scopes WHERE user_id IN ({marks}) ORDER BY ref_id",
        ids,
        ("user_id", "ref_id"),
    ):
        scopes.setdefault(s["user_id"], []).append(s["ref_id"])
    return [
        User(
            user_id=r["user_id"],
            username=r["username"],
            role=Role(r["role"]),
            display_name=r["display_name"] or "",
            active=bool(r["active"]),
            scope_ids=tuple(scopes.get(r["user_id"], [])),
        )
        for r in rows
    ]


def get_user(store: Any, user_id: str) -> User:
    with store.read() as q:
        found = load_users(q, "u.user_id = ?", [user_id])
    if not found:
        raise NotFound(f"user {user_id!r} not found", details={"user_id": user_id})
    return found[0]


def find_user(store: Any, username: str) -> User | None:
    with store.read() as q:
        found = load_users(q, "u.username = ?", [username])
    return found[0] if found else None


def list_users(store: Any, *, enterprise_id: str | None = None) -> list[User]:
    """All users, or those bound to one enterprise."""
    with store.read() as q:
        if enterprise_id is None:
            return load_users(q, "TRUE", [])
        return load_users(
            q,
            "u.user_id IN (SELECT user_id FROM user_scopes"
            " WHERE kind = 'enterprise' AND ref_id = ?)",
            [enterprise_id],
        )


def set_active(store: Any, user_id: str, active: bool) -> None:
    with store.write() as w:
        w.execute("UPDATE users SET active = ? WHERE user_id = ?", [active, user_id])
        if not active:  # a deactivated user is logged out everywhere at once
            w.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
            w.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [datetime.now(UTC), user_id],
            )


def set_password(store: Any, user_id: str, password: str, *, end_sessions: bool = True) -> None:
    """Replace the password; by default also log the user out everywhere (a reset after a
    leak must lock out whoever had it). Upgrading a hash at login keeps sessions."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters",
            details={"field": "password"},
        )
    password_hash = hash_password(password)
    with store.write() as w:
        w.execute("UPDATE users SET password_hash = ? WHERE user_id = ?", [password_hash, user_id])
        if end_sessions:
            w.execute("DELETE FROM sessions WHERE user_id = ?", [user_id])
            w.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
                [datetime.now(UTC), user_id],
            )


def authenticate(store: Any, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    with store.read() as q:
        row = record(
            q,
            "SELECT user_id, password_hash, active FROM users WHERE username = ?",
            [username],
            ("user_id", "password_hash", "active"),
        )
    if not verify_password(row["password_hash"] if row else None, password):
        return None
    if row is None or not row["active"]:
        return None
    if needs_rehash(row["password_hash"]):
        set_password(store, row["user_id"], password, end_sessions=False)
    return get_user(store, row["user_id"])
