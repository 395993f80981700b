"""Login, logout, bearer tokens and the current user."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from nuanliu.api.accounts import User, authenticate
from nuanliu.api.audit import record_event
from nuanliu.api.deps import (
    SESSION_COOKIE,
    AuthDep,
    CurrentUser,
    client_ip,
    csrf_protect,
    optional_auth,
)
from nuanliu.api.login_csrf import LOGIN_CSRF_FIELD, login_token_ok
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.api.sessions import create_session, create_token, delete_session, revoke_token
from nuanliu.errors import InvalidInput, NotAuthenticated, RateLimited

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LoginBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    next: str = "/"


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    name: str = Field(default="", max_length=100)
    ttl_hours: float = Field(default=24 * 30, gt=0, le=24 * 365)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    token_id: str
    expires_at: str


class LoginOut(BaseModel):
    user: dict[str, Any]
    csrf_token: str
    expires_at: str


def _safe_next(value: str | None) -> str:
    """Only same-site relative paths, so login cannot redirect to another site."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def _check_credentials(request: Request, username: str, password: str) -> User:
    """The authenticated user; rate limited and audited either way."""
    store = request.app.state.store
    limiter = request.app.state.login_limiter
    metrics = request.app.state.metrics
    ip = client_ip(request)
    try:
        limiter.check(store, username, ip)
    except RateLimited:
        metrics.logins.labels("rate_limited").inc()
        record_event(store, action="login", username=username, client_ip=ip, outcome="rate_limited")
        raise
    user = authenticate(store, username, password)
    if user is None:
        limiter.record_failure(store, username, ip)
        metrics.logins.labels("failed").inc()
        record_event(store, action="login", username=username, client_ip=ip, outcome="failed")
        raise NotAuthenticated("wrong username or password")
    limiter.clear_user(store, username)
    metrics.logins.labels("ok").inc()
    return user


async def _read_login(request: Request) -> tuple[LoginBody, bool]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORM_TYPES):
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        is_form = True
        if not login_token_ok(request, data.get(LOGIN_CSRF_FIELD)):
            raise LoginCsrfFailed(_safe_next(data.get("next", "/")))
    elif not content_type.startswith("application/json"):
        raise InvalidInput(
            "login body must be JSON (Content-Type: application/json) or a form",
            details={"field": "content-type", "value": content_type},
        )
    else:
        try:
            data = json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                "login body must be JSON or a form", details={"field": "body"}
            ) from exc
        is_form = False
    if not isinstance(data, dict):
        raise InvalidInput("login body must be an object with username and password")
    try:
        return LoginBody.model_validate(data), is_form
    except ValueError as exc:
        raise InvalidInput(
            "username and password are required", details={"fields": ["username", "password"]}
        ) from exc


class LoginCsrfFailed(Exception):
    """A form login without the login page's CSRF token."""

    def __init__(self, next_url: str) -> None:
        super().__init__("login form without a valid CSRF token")
        self.next_url = next_url


def _login_sync(request: Request, body: LoginBody) -> tuple[User, Any]:
    user = _check_credentials(request, body.username, body.password)
    store = request.app.state.store
    ip = client_ip(request)
    session = create_session(
        store,
        user,
        ttl=request.app.state.session_ttl,
        client_ip=ip,
        user_agent=request.headers.get("user-agent"),
    )
    record_event(store, action="login", user=user, object_type="session", client_ip=ip)
    return user, session


_LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginBody.model_json_schema()},
        "application/x-www-form-urlencoded": {"schema": LoginBody.model_json_schema()},
    },
}


@router.post(
    "/auth/login",
    operation_id="auth_login",
    summary="Log in with username and password (form: cookie + redirect; JSON: cookie + body)",
    openapi_extra={"requestBody": _LOGIN_BODY},
    responses={200: {"model": LoginOut}, 303: {"description": "form login: redirect to next"}},
)
async def login(request: Request) -> Response:
    try:
        body, is_form = await _read_login(request)
    except LoginCsrfFailed as exc:
        # A stale form (its token cookie expired) or a cross-site post: log nobody in,
        # send the browser back to a fresh form.
        target = quote(exc.next_url, safe="/")
        return RedirectResponse(
            f"{request.app.state.login_url}?error=csrf&next={target}", status_code=303
        )
    try:
        user, session = await run_in_threadpool(_login_sync, request, body)
    except (NotAuthenticated, RateLimited) as exc:
        if not is_form:
            raise
        # The form page shows the reason; the user keeps the page they wanted.
        reason = "rate_limited" if isinstance(exc, RateLimited) else "invalid"
        login_url = request.app.state.login_url
        target = quote(_safe_next(body.next), safe="/")
        return RedirectResponse(f"{login_url}?error={reason}&next={target}", status_code=303)
    response: Response
    if is_form:
        response = RedirectResponse(_safe_next(body.next), status_code=303)
    else:
        response = JSONResponse(
            LoginOut(
                user=user.public(),
                csrf_token=session.csrf_token,
                expires_at=session.expires_at.isoformat(),
            ).model_dump()
        )
    response.set_cookie(
        SESSION_COOKIE,
        session.session_id,
        max_age=int(request.app.state.session_ttl.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.app.state.secure_cookies or request.url.scheme == "https",
        path="/",
    )
    return response


@router.post(
    "/auth/logout",
    operation_id="auth_logout",
    summary="End the web session (CSRF-protected)",
    dependencies=[Depends(csrf_protect)],
    responses={303: {"description": "form logout: redirect to the login page"}},
)
def logout(request: Request, auth: AuthDep) -> Response:
    store = request.app.state.store
    if auth.via == "session" and auth.session_id:
        delete_session(store, auth.session_id)
    elif auth.token_id:
        revoke_token(store, auth.token_id)
    record_event(
        store, action="logout", user=auth.user, object_type=auth.via, client_ip=client_ip(request)
    )
    content_type = request.headers.get("content-type", "")
    response: Response
    if content_type.startswith(_FORM_TYPES):
        response = RedirectResponse(request.app.state.login_url, status_code=303)
    else:
        response = JSONResponse({"logged_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post(
    "/api/v1/auth/token",
    operation_id="auth_token_create",
    summary="Exchange username and password for a bearer token",
    response_model=TokenOut,
    status_code=201,
)
def token_create(request: Request, body: TokenRequest) -> TokenOut:
    user = _check_credentials(request, body.username, body.password)
    store = request.app.state.store
    new = create_token(store, user, name=body.name, ttl=timedelta(hours=body.ttl_hours))
    record_event(
        store,
        action="token_create",
        user=user,
        object_type="api_token",
        object_id=new.token_id,
        after={"name": body.name, "expires_at": new.expires_at.isoformat()},
        client_ip=client_ip(request),
    )
    return TokenOut(
        access_token=new.token, token_id=new.token_id, expires_at=new.expires_at.isoformat()
    )


@router.delete(
    "/api/v1/auth/token",
    operation_id="auth_token_revoke",
    summary="Revoke the bearer token this request is made with",
    status_code=200,
)
def token_revoke(request: Request, auth: AuthDep) -> dict[str, bool]:
    if auth.via != "token" or not auth.token_id:
        raise InvalidInput("this request is not authenticated with a bearer token")
    store = request.app.state.store
    revoke_token(store, auth.token_id)
    record_event(
        store,
        action="token_revoke",
        user=auth.user,
        object_type="api_token",
        object_id=auth.token_id,
        client_ip=client_ip(request),
    )
    return {"revoked": True}


@router.get("/api/v1/me", operation_id="me_get", summary="The current user, role and scope")
def me(user: CurrentUser, auth: Annotated[Any, Depends(optional_auth)]) -> dict[str, Any]:
    out = user.public()
    out["authenticated_via"] = auth.via if auth else None
    out["masked_personal_data"] = user.scope().mask_personal
    return out
