"""Password hashing (argon2) and opaque secrets (session ids, API tokens, CSRF tokens).

Opaque secrets are random and long, so a fast SHA-256 of them is enough at rest; a
database leak then yields no usable session or token.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets as _secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username does not exist, so a login for an unknown user
    costs the same time as one for a known user (no user enumeration by timing)."""
    return _HASHER.hash("nuanliu-no-such-user")


MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; always does the argon2 work."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def is_argon2_hash(value: str) -> bool:
    return value.startswith(("$argon2id$", "$argon2i$", "$argon2d$"))


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


def new_secret(prefix: str = "") -> str:
    """A URL-safe random secret with 256 bits of entropy."""
    return prefix + _secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The at-rest form of an opaque secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())
