"""Administration pages of an enterprise admin: users, registry import (with the row
errors of a refused file), and the audit log. Each action goes through the same code
as its API route (``api/routes/admin.py``, ``api/routes/registry.py``): the same
checks, the same audit records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from nuanliu.api.audit import list_events
from nuanliu.api.deps import StoreDep, csrf_protect
from nuanliu.api.roles import Permission
from nuanliu.api.routes import admin as admin_api
from nuanliu.api.routes import registry as registry_api
from nuanliu.errors import InvalidInput, NuanliuError
from nuanliu.registry.kinds import KINDS
from nuanliu.web.auth import PageUser
from nuanliu.web.context import base_context
from nuanliu.web.i18n import choose_lang, translate
from nuanliu.web.pages import forbidden_page, page_gate
from nuanliu.web.templating import render

router = APIRouter(include_in_schema=False)

AUDIT_PAGE = 50
IMPORT_MAX_BYTES = 20 * 2**20


def _gate(request: Request, user: Any, permission: Permission) -> Response | None:
    if (gate := page_gate(request, user)) is not None:
        return gate
    if not user.can(permission):
        return forbidden_page(request, user)
    return None


def _problem(exc: Exception, lang: str) -> dict[str, Any]:
    """A refused action for the page: the message and, per row or field, the details."""
    if isinstance(exc, ValidationError):
        return {
            "message": translate("admin.invalid_form", lang),
            "details": [
                {"column": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
                for e in exc.errors()
            ],
        }
    assert isinstance(exc, NuanliuError)
    details = exc.details if isinstance(exc.details, list) else []
    return {"message": exc.message, "details": [d for d in details if isinstance(d, dict)]}


# ------------------------------------------------------------------------- users


def _users_page(request: Request, user: Any, store: Any, **extra: Any) -> Response:
    ctx = {
        **base_context(request, user, "admin"),
        "tab": "users",
        "users": [
            u.public()
            for u in admin_api.accounts.list_users(store, enterprise_id=user.enterprise_id)
        ],
        "roles": [str(r) for r in admin_api.ENTERPRISE_ROLES],
        "done": request.query_params.get("done", ""),
        "problem": None,
        "form": {},
    }
    ctx.update(extra)
    return render(request, "admin/users.html", ctx, status_code=422 if ctx["problem"] else 200)


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user, Permission.MANAGE_USERS)) is not None:
        return gate
    return _users_page(request, user, store)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def users_create(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user, Permission.MANAGE_USERS)) is not None:
        return gate
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    lang, _ = choose_lang(request)
    try:
        body = admin_api.UserCreate(
            username=form.get("username", "").strip(),
            password=form.get("password", ""),
            role=form.get("role", ""),
            display_name=form.get("display_name", "").strip(),
        )
        await run_in_threadpool(admin_api.users_create, request, store, user, body)
    except (ValidationError, NuanliuError) as exc:
        form.pop("password", None)
        return _users_page(request, user, store, problem=_problem(exc, lang), form=form)
    return RedirectResponse("/admin/users?done=created", status_code=303)


@router.post(
    "/admin/users/{user_id}/active",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect)],
)
async def users_set_active(
    request: Request, user_id: str, user: PageUser, store: StoreDep
) -> Response:
    if (gate := _gate(request, user, Permission.MANAGE_USERS)) is not None:
        return gate
    form = await request.form()
    lang, _ = choose_lang(request)
    body = admin_api.UserUpdate(active=form.get("active") == "1")
    try:
        await run_in_threadpool(admin_api.users_update, request, store, user, user_id, body)
    except NuanliuError as exc:
        return _users_page(request, user, store, problem=_problem(exc, lang))
    return RedirectResponse("/admin/users?done=updated", status_code=303)


# ------------------------------------------------------------------------ import


def _import_page(request: Request, user: Any, **extra: Any) -> Response:
    ctx = {
        **base_context(request, user, "admin"),
        "tab": "import",
        "kinds": list(KINDS),
        "report": None,
        "problem": None,
    }
    ctx.update(extra)
    return render(request, "admin/import.html", ctx, status_code=422 if ctx["problem"] else 200)


@router.get("/admin/import", response_class=HTMLResponse)
def import_page(request: Request, user: PageUser) -> Response:
    if (gate := _gate(request, user, Permission.EDIT_REGISTRY)) is not None:
        return gate
    return _import_page(request, user)


@router.post("/admin/import", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
async def import_upload(request: Request, user: PageUser, store: StoreDep) -> Response:
    if (gate := _gate(request, user, Permission.EDIT_REGISTRY)) is not None:
        return gate
    lang, _ = choose_lang(request)
    form = await request.form()
    upload = form.get("file")
    kind_text = form.get("kind") or None
    try:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InvalidInput(translate("admin.import.no_file", lang))
        data = await upload.read(IMPORT_MAX_BYTES + 1)
        if len(data) > IMPORT_MAX_BYTES:
            raise InvalidInput(translate("admin.import.too_big", lang))
        kind = registry_api.KindName(kind_text) if kind_text in KINDS else None
        report = await run_in_threadpool(
            registry_api._import_sync, request, store, user, data, upload.filename, kind
        )
    except NuanliuError as exc:
        return _import_page(request, user, problem=_problem(exc, lang))
    return _import_page(request, user, report=report)


# ------------------------------------------------------------------------- audit


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, user: PageUser, store: StoreDep, action: str = "", page: int = 0
) -> Response:
    if (gate := _gate(request, user, Permission.READ_AUDIT)) is not None:
        return gate
    page = max(0, min(page, 10_000))
    events = list_events(
        store,
        enterprise_id=user.enterprise_id,
        action=action[:50] or None,
        limit=AUDIT_PAGE + 1,
        offset=page * AUDIT_PAGE,
    )
    ctx = {
        **base_context(request, user, "admin"),
        "tab": "audit",
        "events": events[:AUDIT_PAGE],
        "action": action[:50],
        "page": page,
        "more": len(events) > AUDIT_PAGE,
    }
    return render(request, "admin/audit.html", ctx)
