"""Download responses for tables: ``?format=csv|xlsx`` on any list page or route."""

from __future__ import annotations

from urllib.parse import quote

import pandas as pd
from fastapi.responses import Response

from nuanliu.documents import csv_bytes, xlsx_bytes
from nuanliu.errors import InvalidInput

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def download(content: bytes, filename: str) -> Response:
    """``content`` as an attachment; the filename may be Chinese (RFC 5987)."""
    ext = filename.rsplit(".", 1)[-1].lower()
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        content,
        media_type=MEDIA.get(ext, "application/octet-stream"),
        headers={"Content-Disposition": disposition},
    )


def table_download(frame: pd.DataFrame, fmt: str, stem: str, sheet: str = "data") -> Response:
    """One table as CSV or XLSX (the rows the caller already scoped and masked)."""
    if fmt == "csv":
        return download(csv_bytes(frame), f"{stem}.csv")
    if fmt == "xlsx":
        return download(xlsx_bytes({sheet: frame}), f"{stem}.xlsx")
    raise InvalidInput(f"format {fmt!r} is not one of csv, xlsx", details={"field": "format"})
