"""12345 work-order import: CSV, XLSX or JSON rows → tickets, once per order number.

Every row received ends as exactly one of: a ticket *created*, a *duplicate* (its 12345
order number is already stored, or repeated earlier in the same file), or *rejected* with
its line and reason — kept in ``hl_import_rejects`` (``received = created + duplicates
+ rejected``). The valid rows of a malformed file are imported; the batch commits as one
transaction. Columns (Chinese or English headers):

| field | headers |
|---|---|
| order_no (required) | 工单编号, 工单号, order_no |
| received_at | 受理时间, 来电时间, received_at (ISO or ``YYYY-MM-DD HH:MM``, local time) |
| category | 诉求类别, 类别, category (Chinese or English terms) |
| description (required) | 诉求内容, 内容, description |
| household_id / address / phone | 户号, 地址, 联系电话 (one must find the household) |
| caller_name | 联系人, 来电人, caller_name |
| urgency | 紧急程度, urgency (紧急 / 一般 / urgent / normal) |
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from nuanliu.errors import InvalidInput
from nuanliu.hotline.calendar import LOCAL_TZ
from nuanliu.hotline.intake import resolve_household
from nuanliu.hotline.model import Category, Channel, Urgency
from nuanliu.hotline.stats_cache import bump
from nuanliu.hotline.tickets import Actor, NewTicket, create_ticket
from nuanliu.ingest.encoding import detect
from nuanliu.monitor.units import utc
from nuanliu.scope import Scope

HEADERS: dict[str, tuple[str, ...]] = {
    "order_no": ("工单编号", "工单号", "order_no", "order"),
    "received_at": ("受理时间", "来电时间", "received_at", "time"),
    "category": ("诉求类别", "类别", "问题类型", "category"),
    "description": ("诉求内容", "内容", "description"),
    "household_id": ("户号", "household_id"),
    "address": ("地址", "住址", "address"),
    "phone": ("联系电话", "电话", "phone"),
    "caller_name": ("联系人", "来电人", "caller_name", "name"),
    "urgency": ("紧急程度", "urgency"),
}
CATEGORY_TERMS: dict[str, Category] = {
    "室温不达标": Category.TEMP_LOW,
    "室温低": Category.TEMP_LOW,
    "温度低": Category.TEMP_LOW,
    "不热": Category.TEMP_LOW,
    "不供暖": Category.NO_HEAT,
    "停暖": Category.NO_HEAT,
    "停热": Category.NO_HEAT,
    "漏水": Category.LEAK,
    "跑水": Category.LEAK,
    "噪音": Category.NOISE,
    "收费": Category.BILLING,
    "缴费": Category.BILLING,
    "服务态度": Category.ATTITUDE,
    "其他": Category.OTHER,
}
URGENCY_TERMS = {"紧急": Urgency.URGENT, "一般": Urgency.NORMAL, "普通": Urgency.NORMAL}
MAX_ROWS = 100_000


@dataclass
class ImportReport:
    import_id: int | None = None
    received: int = 0
    created: list[dict[str, str]] = field(default_factory=list)  # order_no, ticket_id
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # line, order_no, ticket_id
    rejected: list[dict[str, Any]] = field(default_factory=list)  # line, order_no, reason

    def summary(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "received": self.received,
            "created": len(self.created),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "created_tickets": self.created,
            "duplicate_rows": self.duplicates,
            "rejected_rows": self.rejected,
        }


def _canonical(header: str) -> str | None:
    h = str(header or "").strip().lower()
    for key, names in HEADERS.items():
        if h in (n.lower() for n in names):
            return key
    return None


def _rows_from_table(table: list[list[Any]], first_line: int) -> list[tuple[int, dict[str, Any]]]:
    if not table:
        raise InvalidInput("the 12345 file is empty", details={"line": 1})
    header = [_canonical(h) for h in table[0]]
    if "order_no" not in header:
        raise InvalidInput(
            "the 12345 file has no order number column (工单编号 / order_no)",
            details={"line": first_line, "headers": [str(h) for h in table[0]]},
        )
    out = []
    for i, cells in enumerate(table[1:], start=first_line + 1):
        if not any(str(c or "").strip() for c in cells):
            continue  # blank line
        row = {k: cells[j] for j, k in enumerate(header) if k and j < len(cells)}
        if len(cells) > len(header) and any(str(c).strip() for c in cells[len(header) :]):
            row["_error"] = f"{len(cells)} cells but {len(header)} headers"
        out.append((i, row))
    return out


def parse_csv(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    """Rows with their line numbers (header = line 1); UTF-8 or GB18030."""
    encoding = detect(data[:65536])
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    table, lines = [], []
    for cells in reader:
        table.append(cells)
        lines.append(reader.line_num)
    rows = _rows_from_table(table, 1)
    # csv line_num counts physical lines (quoted newlines): report the record's own line.
    by_index = {i + 1: lines[i] for i in range(len(lines))}
    return [(by_index.get(n, n), r) for n, r in rows]


def parse_xlsx(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for bad files
        raise InvalidInput(f"not a readable XLSX file: {exc}", details={"line": 0}) from exc
    sheet = book.worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    return _rows_from_table(table, 1)


def parse_json(payload: Any) -> list[tuple[int, dict[str, Any]]]:
    """A list of orders (objects with the English field names); line = position (1-based)."""
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise InvalidInput(f"not valid JSON: {exc}", details={"line": 0}) from exc
    if isinstance(payload, dict):
        payload = payload.get("orders")
    if not isinstance(payload, list):
        raise InvalidInput('expected a list of orders (or {"orders": [...]})')
    out = []
    for i, item in enumerate(payload, start=1):
        if not isinstance(item, dict):
            out.append((i, {"_error": f"order {i} is not an object"}))
            continue
        row = {}
        for k, v in item.items():
            key = _canonical(k)
            if key:
                row[key] = v
        out.append((i, row))
    return out


def _text(row: dict[str, Any], key: str) -> str:
    v = row.get(key)
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)  # spreadsheet numbers: 13800001234.0 -> 13800001234
    return str(v).strip()


def _category(text: str) -> Category:
    if not text:
        return Category.OTHER
    try:
        return Category(text.lower())
    except ValueError:
        pass
    for term, cat in CATEGORY_TERMS.items():
        if term in text:
            return cat
    raise InvalidInput(f"category {text!r} is not known")


def _received_at(value: Any, now: datetime) -> datetime:
    if value in (None, ""):
        return now
    if isinstance(value, datetime):
        at = value
    else:
        text = str(value).strip().replace("/", "-")
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInput(f"received_at {text!r} is not a date and time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=LOCAL_TZ)  # 12345 exports local time
    at = utc(at)
    if at > now:
        raise InvalidInput(f"received_at {at.isoformat()} is in the future")
    return at


def import_orders(
    store: Any,
    rows: list[tuple[int, dict[str, Any]]],
    *,
    scope: Scope,
    actor: Actor,
    now: datetime,
    source: str,
) -> ImportReport:
    """Create a ticket per new order (one transaction); the report of every row."""
    now = utc(now)
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"{len(rows)} orders in one import; the limit is {MAX_ROWS}")
    report = ImportReport(received=len(rows))
    seen: dict[str, int] = {}
    with store.write() as w:
        import_id = int(w.scalar("SELECT nextval('hl_import_seq')"))
        for line, row in rows:
            order_no = _text(row, "order_no")

            def reject(
                reason: str, *, _line: int = line, _order: str = order_no, _row: Any = row
            ) -> None:
                report.rejected.append(
                    {
                        "line": _line,
                        "order_no": _order or None,
                        "reason": reason,
                        "raw": json.dumps(_row, ensure_ascii=False, default=str),
                    }
                )

            if "_error" in row:
                reject(str(row["_error"]))
                continue
            if not order_no:
                reject("order number (工单编号) is empty")
                continue
            if order_no in seen:
                report.duplicates.append(
                    {"line": line, "order_no": order_no, "first_line": seen[order_no]}
                )
                continue
            stored = w.scalar(
                "SELECT ticket_id FROM hl_12345_orders WHERE order_no = ?", [order_no]
            )
            if stored is not None:
                seen[order_no] = line
                report.duplicates.append({"line": line, "order_no": order_no, "ticket_id": stored})
                continue
            description = _text(row, "description")
            if not description:
                reject("description (诉求内容) is empty")
                continue
            try:
                category = _category(_text(row, "category"))
                urgency_text = _text(row, "urgency")
                urgency = URGENCY_TERMS.get(urgency_text) or Urgency(urgency_text or "normal")
                received = _received_at(row.get("received_at"), now)
            except (InvalidInput, ValueError) as exc:
                reject(str(exc))
                continue
            household, why = resolve_household(
                w,
                scope,
                household_id=_text(row, "household_id"),
                address=_text(row, "address"),
                phone=_text(row, "phone"),
            )
            if household is None:
                reject(str(why))
                continue
            ticket_id = create_ticket(
                w,
                NewTicket(
                    household_id=household,
                    category=category,
                    description=description,
                    channel=Channel.CITY_12345,
                    urgency=urgency,
                    caller_name=_text(row, "caller_name") or None,
                    caller_phone=_text(row, "phone") or None,
                    order_no_12345=order_no,
                ),
                actor=actor,
                now=received,
            )
            w.execute(
                "INSERT INTO hl_12345_orders (order_no, ticket_id, import_id, imported_at)"
                " VALUES (?, ?, ?, ?)",
                [order_no, ticket_id, import_id, now],
            )
            seen[order_no] = line
            report.created.append({"order_no": order_no, "ticket_id": ticket_id})
        w.execute(
            "INSERT INTO hl_imports (import_id, received_at, source, actor, rows_received,"
            " created, duplicates, rejected) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                import_id,
                now,
                source,
                actor.name,
                report.received,
                len(report.created),
                len(report.duplicates),
                len(report.rejected),
            ],
        )
        if report.rejected:
            w.executemany(
                "INSERT INTO hl_import_rejects (import_id, line, order_no, reason, raw)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    [import_id, r["line"], r["order_no"], r["reason"], r["raw"]]
                    for r in report.rejected
                ],
            )
    report.import_id = import_id
    if report.created:
        bump()
    return report


def parse_file(data: bytes, filename: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a 12345 export by file type (``.xlsx``, ``.json``, else CSV)."""
    name = filename.lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return parse_xlsx(data)
    if name.endswith(".json"):
        return parse_json(data)
    return parse_csv(data)
