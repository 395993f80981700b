"""Tables as files: XLSX (one sheet per table, numbers stored as numbers) and CSV.

Column names carry their units (``mean_temp_c`` → "平均室温 (°C)" is the caller's
choice of header); this module only keeps values typed: numbers stay numbers, times
become Excel dates in local time without a zone (Excel has none), money stays exact.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str]) -> str:
    """An Excel-legal, unique sheet name (≤ 31 characters, no []:*?/\\)."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'") or "Sheet"
    base = base[:31]
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" ({n})"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _cell(value: Any, tz: str) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None  # pandas' missing markers are empty cells too
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(pd.Timestamp.now(tz=tz).tzinfo).replace(tzinfo=None)
        return value
    if isinstance(value, Decimal):
        return value  # openpyxl writes Decimal as a number
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame], *, tz: str = "Asia/Shanghai") -> bytes:
    """A workbook with one sheet per table: bold frozen header, typed cells, widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    taken: set[str] = set()
    for name, frame in sheets.items():
        ws = wb.create_sheet(sheet_name(str(name), taken))
        ws.append([str(c) for c in frame.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False, name=None):
            ws.append([_cell(v, tz) for v in row])
        ws.freeze_panes = "A2"
        for i, col in enumerate(frame.columns, start=1):
            sample = [str(col), *(str(v) for v in frame.iloc[:200, i - 1].tolist())]
            width = min(60, max(8, max(len(s) for s in sample) + 2))
            ws.column_dimensions[ws.cell(1, i).column_letter].width = width
            if frame.dtypes.iloc[i - 1].kind == "M" or isinstance(
                frame.iloc[0, i - 1] if len(frame) else None, datetime
            ):
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = "yyyy-mm-dd hh:mm"
    if not sheets:
        wb.create_sheet("empty")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")
