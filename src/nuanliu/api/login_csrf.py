"""CSRF protection of the login form (before any session exists): double submit.

``GET /login`` sets a random token in a ``SameSite=Strict`` cookie and the same token
in the form; a form ``POST /auth/login`` must send both, equal. A page on another site
can neither read the cookie nor make the browser send it, so it cannot log a victim's
browser into the attacker's account (login CSRF). JSON logins need
``Content-Type: application/json``, which a cross-site form cannot send.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

LOGIN_CSRF_COOKIE = "nuanliu_login_csrf"
LOGIN_CSRF_FIELD = "csrf_token"
TOKEN_BYTES = 32
MAX_AGE_S = 2 * 3600


def login_token(request: Request) -> str:
    """The browser's current login token, or a new one."""
    current = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if 32 <= len(current) <= 128 and current.replace("-", "").replace("_", "").isalnum():
        return current
    return secrets.token_urlsafe(TOKEN_BYTES)


def set_login_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies or request.url.scheme == "https",
        path="/",
    )


def login_token_ok(request: Request, sent: str | None) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(sent) and bool(cookie) and hmac.compare_digest(str(sent), cookie)
