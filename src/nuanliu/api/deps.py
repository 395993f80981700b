"""FastAPI dependencies: the store, the current user, their scope, CSRF protection.

A request is authenticated by a bearer token (``Authorization: Bearer …``, for API
clients) or by the session cookie (for the web). Cookie-authenticated unsafe requests
must carry the session's CSRF token in the ``X-CSRF-Token`` header or a ``csrf_token``
form field; bearer requests need none (a browser never sends them on its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from nuanliu.api.accounts import User
from nuanliu.api.credentials import same
from nuanliu.api.roles import Permission
from nuanliu.api.sessions import lookup_session, lookup_token
from nuanliu.errors import NotAuthenticated, PermissionDenied
from nuanliu.scope import Scope

SESSION_COOKIE = "nuanliu_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


@dataclass(frozen=True)
class AuthContext:
    user: User
    via: str  # "token" or "session"
    csrf_token: str | None = None  # sessions only
    session_id: str | None = None
    token_id: str | None = None


def get_store(request: Request) -> Any:
    return request.app.state.store


StoreDep = Annotated[Any, Depends(get_store)]


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def resolve_auth(request: Request) -> AuthContext | None:
    """Authenticate the request once; the result is cached on ``request.state``."""
    if hasattr(request.state, "auth"):
        return request.state.auth
    store = request.app.state.store
    auth: AuthContext | None = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("Authorization header must be 'Bearer <token>'")
        found = lookup_token(store, token.strip())
        if found is None:
            raise NotAuthenticated("the bearer token is unknown, expired or revoked")
        auth = AuthContext(user=found[0], via="token", token_id=found[1])
    else:
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            info = lookup_session(store, session_id)
            if info is not None:
                auth = AuthContext(
                    user=info.user, via="session", csrf_token=info.csrf_token, session_id=session_id
                )
    request.state.auth = auth
    return auth


def optional_auth(request: Request) -> AuthContext | None:
    return resolve_auth(request)


def require_auth(request: Request) -> AuthContext:
    auth = resolve_auth(request)
    if auth is None:
        raise NotAuthenticated("log in or send a bearer token")
    return auth


def _optional_user(request: Request) -> User | None:
    auth = resolve_auth(request)
    return auth.user if auth else None


def _current_user(auth: Annotated[AuthContext, Depends(require_auth)]) -> User:
    return auth.user


def _scope(user: Annotated[User, Depends(_current_user)]) -> Scope:
    return user.scope()


AuthDep = Annotated[AuthContext, Depends(require_auth)]
CurrentUser = Annotated[User, Depends(_current_user)]
OptionalUser = Annotated[User | None, Depends(_optional_user)]
ScopeDep = Annotated[Scope, Depends(_scope)]


async def csrf_protect(request: Request) -> None:
    """Refuse a cookie-authenticated unsafe request without the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    auth = await run_in_threadpool(resolve_auth, request)  # store lookups block
    if auth is None or auth.via != "session":
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not sent or not auth.csrf_token or not same(sent, auth.csrf_token):
        raise CsrfFailed(
            "missing or wrong CSRF token: send the session's token in the X-CSRF-Token"
            " header or the csrf_token form field",
            details={"reason": "csrf"},
        )


def csrf_token(request: Request) -> str:
    """The session's CSRF token for forms and htmx (empty when not logged in by cookie)."""
    try:
        auth = resolve_auth(request)
    except NotAuthenticated:
        return ""
    return (auth.csrf_token or "") if auth and auth.via == "session" else ""


def require(permission: Permission) -> Callable[[User], User]:
    """Dependency: the current user, who must hold ``permission``."""

    def check(user: CurrentUser) -> User:
        if not user.can(permission):
            raise PermissionDenied(
                f"role {user.role} may not {permission}",
                details={"role": str(user.role), "permission": str(permission)},
            )
        return user

    return check
