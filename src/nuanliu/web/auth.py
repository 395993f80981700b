"""The logged-in user of a dashboard page, with the session lookup shared for a moment.

Every page request needs the session's user; under load that lookup (a few queries)
cost more than the page itself. Read-only pages therefore reuse a session's lookup for
``SESSION_REUSE_S`` seconds, keyed by the digest of the session cookie. Writes
(acknowledging an alert, logging out) always go through ``nuanliu.api.deps`` fresh, a
logout deletes the cookie in the browser at once, and a revoked session stops working
for pages within those seconds.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from nuanliu.api.credentials import digest
from nuanliu.api.deps import SESSION_COOKIE, resolve_auth
from nuanliu.web.cache import TTLCache

SESSION_REUSE_S = 5.0
_SESSIONS = TTLCache(ttl_s=SESSION_REUSE_S, max_entries=4096)


def page_user(request: Request) -> Any | None:
    """The user of a cookie session (or bearer token), None when not logged in."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id or request.headers.get("authorization"):
        auth = resolve_auth(request)
        return auth.user if auth else None
    key = (id(request.app), digest(session_id))
    auth = _SESSIONS.get_or_compute(key, lambda: resolve_auth(request))
    if auth is None:  # not cached as a session: the next request looks it up again
        _SESSIONS.forget(key)
        return None
    request.state.auth = auth  # csrf_token() and the API's dependencies see it
    return auth.user


PageUser = Annotated[Any | None, Depends(page_user)]
