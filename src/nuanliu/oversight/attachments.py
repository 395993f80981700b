"""Files attached to orders (rectification evidence) and licences (licence documents)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.oversight.records import new_id

MAX_BYTES = 10 * 1024 * 1024


def add_attachment(
    store: Any,
    owner_kind: str,
    owner_id: str,
    filename: str,
    media_type: str,
    content: bytes,
    by: str,
) -> str:
    if owner_kind not in ("order", "licence"):
        raise InvalidInput(
            f"attachment owner {owner_kind!r} is not order or licence",
            details={"field": "owner_kind", "value": owner_kind},
        )
    if len(content) > MAX_BYTES:
        raise InvalidInput(
            f"attachment {filename!r} is {len(content)} bytes; the limit is {MAX_BYTES}",
            details={"field": "file", "value": filename},
        )
    aid = new_id("AT")
    with store.write() as w:
        w.execute(
            "INSERT INTO ov_attachments VALUES (?,?,?,?,?,?,?,?)",
            [
                aid,
                owner_kind,
                owner_id,
                filename[:200],
                media_type[:100],
                content,
                by,
                datetime.now(UTC),
            ],
        )
    return aid


def get_attachment(store: Any, attachment_id: str) -> dict[str, Any]:
    with store.read() as q:
        rows = q.dicts("SELECT * FROM ov_attachments WHERE attachment_id = ?", [attachment_id])
    if not rows:
        raise NotFound(
            f"attachment {attachment_id!r} not found", details={"attachment_id": attachment_id}
        )
    row = rows[0]
    row["content"] = bytes(row["content"])
    return row


def list_attachments(store: Any, owner_kind: str, owner_id: str) -> list[dict[str, Any]]:
    with store.read() as q:
        return q.dicts(
            "SELECT attachment_id, filename, media_type, uploaded_by, uploaded_at"
            " FROM ov_attachments"
            " WHERE owner_kind = ? AND owner_id = ? ORDER BY uploaded_at",
            [owner_kind, owner_id],
        )
