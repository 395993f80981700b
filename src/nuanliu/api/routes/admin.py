"""Users of one's own enterprise, and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from nuanliu.api import accounts
from nuanliu.api.accounts import User
from nuanliu.api.audit import list_events, record_event
from nuanliu.api.deps import StoreDep, client_ip, csrf_protect, require
from nuanliu.api.roles import Permission, Role
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import NotFound, PermissionDenied

router = APIRouter(
    prefix=API_PREFIX,
    tags=["admin"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Admin = Annotated[User, Depends(require(Permission.MANAGE_USERS))]
Auditor = Annotated[User, Depends(require(Permission.READ_AUDIT))]

# Roles an enterprise admin may give to users of their own enterprise.
ENTERPRISE_ROLES = (Role.ENTERPRISE_ADMIN, Role.ENTERPRISE_OPERATOR, Role.GATEWAY)


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: str = Field(default="", max_length=100)


class UserUpdate(BaseModel):
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    display_name: str | None = Field(default=None, max_length=100)


def _own_user(store: Any, admin: User, user_id: str) -> User:
    """A user of the admin's enterprise; others are reported as not found."""
    try:
        user = accounts.get_user(store, user_id)
    except NotFound:
        user = None
    if user is None or user.enterprise_id != admin.enterprise_id:
        raise NotFound(f"user {user_id!r} not found", details={"user_id": user_id})
    return user


@router.get("/users", operation_id="users_list", summary="Users of my enterprise")
def users_list(store: StoreDep, admin: Admin) -> list[dict[str, Any]]:
    return [u.public() for u in accounts.list_users(store, enterprise_id=admin.enterprise_id)]


@router.post(
    "/users", operation_id="users_create", summary="Create a user in my enterprise", status_code=201
)
def users_create(
    request: Request, store: StoreDep, admin: Admin, body: UserCreate
) -> dict[str, Any]:
    if body.role not in ENTERPRISE_ROLES:
        raise PermissionDenied(
            f"an enterprise admin may create only {', '.join(ENTERPRISE_ROLES)} users",
            details={"role": str(body.role)},
        )
    user = accounts.create_user(
        store,
        username=body.username,
        password=body.password,
        role=body.role,
        scope_ids=[admin.enterprise_id or ""],
        display_name=body.display_name,
    )
    record_event(
        store,
        action="user_create",
        user=admin,
        object_type="user",
        object_id=user.user_id,
        after={"username": user.username, "role": str(user.role)},
        client_ip=client_ip(request),
    )
    return user.public()


@router.patch(
    "/users/{user_id}", operation_id="users_update", summary="Activate, deactivate or reset a user"
)
def users_update(
    request: Request, store: StoreDep, admin: Admin, user_id: str, body: UserUpdate
) -> dict[str, Any]:
    user = _own_user(store, admin, user_id)
    before = {"active": user.active, "display_name": user.display_name}
    if body.active is not None:
        if user.user_id == admin.user_id and not body.active:
            raise PermissionDenied("an admin cannot deactivate themselves")
        accounts.set_active(store, user.user_id, body.active)
    if body.password is not None:
        accounts.set_password(store, user.user_id, body.password)
    if body.display_name is not None:
        with store.write() as w:
            w.execute(
                "UPDATE users SET display_name = ? WHERE user_id = ?",
                [body.display_name, user.user_id],
            )
    updated = accounts.get_user(store, user.user_id)
    after = {"active": updated.active, "display_name": updated.display_name}
    if body.password is not None:
        after["password"] = "changed"
    record_event(
        store,
        action="user_update",
        user=admin,
        object_type="user",
        object_id=user.user_id,
        before=before,
        after=after,
        client_ip=client_ip(request),
    )
    return updated.public()


@router.get("/audit", operation_id="audit_list", summary="Audit log of my enterprise's users")
def audit_list(
    store: StoreDep,
    auditor: Auditor,
    action: str | None = Query(default=None, max_length=50),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> list[dict[str, Any]]:
    return list_events(
        store, enterprise_id=auditor.enterprise_id, action=action, limit=limit, offset=offset
    )
