"""Registry reads (scoped, masked) and edits (enterprise admins, own rows only)."""

from __future__ import annotations

import csv
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Query, Request, Response, UploadFile

from nuanliu.api.accounts import User
from nuanliu.api.audit import record_event
from nuanliu.api.deps import StoreDep, client_ip, csrf_protect, require
from nuanliu.api.ownership import ownership_problems
from nuanliu.api.roles import Permission
from nuanliu.api.routes import API_PREFIX
from nuanliu.api.schemas import ERROR_RESPONSES
from nuanliu.errors import InvalidInput, NotFound, PermissionDenied
from nuanliu.registry import (
    KINDS,
    children,
    count_records,
    get_record,
    import_registry,
    list_records,
    upsert,
)
from nuanliu.registry.importer import read_sheets
from nuanliu.registry.kinds import kind_named

router = APIRouter(
    prefix=f"{API_PREFIX}/registry",
    tags=["registry"],
    responses=ERROR_RESPONSES,
    dependencies=[Depends(csrf_protect)],
)

Reader = Annotated[User, Depends(require(Permission.READ))]
Editor = Annotated[User, Depends(require(Permission.EDIT_REGISTRY))]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

KindName = StrEnum("KindName", {k: k for k in KINDS})  # type: ignore[misc]


def _dump(record: Any) -> dict[str, Any]:
    return record.model_dump(mode="json")


@router.get("/counts", operation_id="registry_counts", summary="Rows of each kind I can see")
def registry_counts(store: StoreDep, user: Reader) -> dict[str, int]:
    return count_records(store, user.scope())


@router.get("/{kind}", operation_id="registry_list", summary="List rows of one kind")
def registry_list(
    store: StoreDep,
    user: Reader,
    kind: KindName,
    search: str | None = Query(default=None, max_length=100, description="id, name or address"),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: int = Query(default=0, ge=0, le=10_000_000),
) -> list[dict[str, Any]]:
    rows = list_records(
        store, kind.value, user.scope(), search=search or None, limit=limit, offset=offset
    )
    return [_dump(r) for r in rows]


@router.get("/{kind}/{record_id}", operation_id="registry_get", summary="One row by id")
def registry_get(store: StoreDep, user: Reader, kind: KindName, record_id: str) -> dict[str, Any]:
    return _dump(get_record(store, kind.value, record_id, user.scope()))


@router.get(
    "/{kind}/{record_id}/children",
    operation_id="registry_children",
    summary="The next level down, with visible households under each child",
)
def registry_children(
    store: StoreDep, user: Reader, kind: KindName, record_id: str
) -> list[dict[str, Any]]:
    return [n.__dict__ for n in children(store, kind.value, record_id, user.scope())]


def _refuse(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise PermissionDenied(
            f"{len(problems)} row(s) are outside your enterprise; nothing stored",
            details=problems,
        )


@router.put(
    "/{kind}/{record_id}",
    operation_id="registry_put",
    summary="Create or update one station, building, household or sensor of my enterprise",
    responses={201: {"description": "created"}},
)
def registry_put(
    request: Request,
    response: Response,
    store: StoreDep,
    editor: Editor,
    kind: KindName,
    record_id: str,
    body: Annotated[dict[str, Any], Body(description="the row's fields (id taken from path)")],
) -> dict[str, Any]:
    spec = kind_named(kind.value)
    try:  # read unrestricted: ownership of the existing row is checked next
        before = _dump(get_record(store, spec.name, record_id, _owner_scope(editor)))
    except NotFound:
        before = None
    row = {**(before or {}), **body, spec.key: record_id}  # a partial body keeps other fields
    _refuse(ownership_problems(store, editor.enterprise_id or "", {spec.name: [("body", row)]}))
    counts = upsert(store, spec.name, [row])
    after = _dump(get_record(store, spec.name, record_id, _owner_scope(editor)))
    record_event(
        store,
        action="registry_create" if counts.inserted else "registry_update",
        user=editor,
        object_type=spec.name,
        object_id=record_id,
        before=before,
        after=after,
        client_ip=client_ip(request),
    )
    response.status_code = 201 if counts.inserted else 200
    return after


def _owner_scope(user: User) -> Any:
    """Reads around a write (ownership is checked separately): unrestricted and unmasked,
    so a merge never writes masked values back and a new row is visible before it has
    households. Only enterprise admins, who see personal data anyway, get here."""
    from nuanliu.scope import Scope

    return Scope.everything(mask_personal=False)


@router.post(
    "/import",
    operation_id="registry_import",
    summary="Import a CSV or XLSX file of stations, buildings, households or sensors",
)
async def registry_import(
    request: Request,
    store: StoreDep,
    editor: Editor,
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX")],
    kind: Annotated[
        KindName | None, Form(description="kind, when the file name does not say")
    ] = None,
) -> dict[str, Any]:
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"file larger than {MAX_UPLOAD_BYTES // 2**20} MiB")
    filename = file.filename or "upload.csv"
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_import_sync, request, store, editor, data, filename, kind)


def _import_sync(
    request: Request, store: Any, editor: User, data: bytes, filename: str, kind: Any
) -> dict[str, Any]:
    spec = kind_named(kind.value) if kind is not None else None
    try:
        sheets = read_sheets(data, filename, spec)
    except csv.Error as exc:  # the csv module's own error for malformed text
        raise InvalidInput(
            f"{filename} is not a readable CSV file: {exc}", details=[{"file": filename}]
        ) from exc
    if not sheets:
        raise InvalidInput(f"{filename} holds no rows", details=[{"file": filename}])
    rows_by_kind: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    for sheet in sheets:
        for row_no, row in sheet.rows:
            where = {"file": sheet.file, "sheet": sheet.sheet, "row": row_no}
            rows_by_kind.setdefault(sheet.kind.name, []).append((where, row))
    _refuse(ownership_problems(store, editor.enterprise_id or "", rows_by_kind))
    report = import_registry(store, data, spec.name if spec else None, filename=filename)
    out = report.to_dict()
    record_event(
        store,
        action="registry_import",
        user=editor,
        object_type="registry",
        object_id=filename,
        after={k: out[k] for k in ("inserted", "updated", "refused_rows")},
        client_ip=client_ip(request),
    )
    return out
