"""12345 import: the same file twice stores each order once; bad rows are kept with
their line and reason while the valid rows are imported (CSV, XLSX and JSON)."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl

from nuanliu.hotline.imports import import_orders, parse_file, parse_json
from nuanliu.hotline.tickets import Actor
from nuanliu.scope import Scope
from tests.hotline.conftest import T0, households

OP = Actor("op", "hotline_operator")


def addresses(store: Any) -> list[tuple[str, str, str]]:
    with store.read() as q:
        return q.all(
            "SELECT household_id, address, resident_phone FROM households"
            " WHERE address IS NOT NULL ORDER BY household_id LIMIT 3"
        )


def csv_file(store: Any) -> bytes:
    (h1, a1, _), (h2, _, p2), (h3, _, _) = addresses(store)
    lines = [
        "工单编号,受理时间,诉求类别,诉求内容,地址,联系电话,户号,紧急程度",
        f"GD001,2026-12-01 08:00,室温不达标,卧室只有15度,{a1},,,一般",
        f"GD002,2026-12-01 08:30,漏水,暖气片漏水,,{p2},,紧急",
        f"GD003,2026-12-01 09:00,收费,多收费,,,{h3},",
        "GD004,2026-12-01 09:10,室温不达标,冷,无此地址,,,",  # unknown household
        f"GD005,2026-13-01 09:10,室温不达标,冷,{a1},,,",  # bad date
        f",2026-12-01 09:10,室温不达标,冷,{a1},,,",  # no order number
        f"GD006,2026-12-01 09:20,飞碟,冷,{a1},,,",  # unknown category
        f"GD007,2026-12-01 09:30,室温不达标,,{a1},,,",  # no description
        f"GD001,2026-12-01 08:00,室温不达标,卧室只有15度,{a1},,,",  # repeated in file
    ]
    return ("\n".join(lines) + "\n").encode("gb18030")


def run(store: Any, data: bytes, name: str = "orders.csv") -> dict[str, Any]:
    rows = parse_file(data, name)
    report = import_orders(
        store, rows, scope=Scope.everything(), actor=OP, now=T0 + timedelta(hours=6), source=name
    )
    return report.summary()


def test_same_file_twice_stores_each_order_once(hl_store: Any) -> None:
    first = run(hl_store, csv_file(hl_store))
    assert first["received"] == 9
    assert sorted(c["order_no"] for c in first["created_tickets"]) == ["GD001", "GD002", "GD003"]
    assert first["duplicates"] == 1 and first["rejected"] == 5
    second = run(hl_store, csv_file(hl_store))
    assert second["created"] == 0 and second["duplicates"] == 4 and second["rejected"] == 5
    with hl_store.read() as q:
        assert q.scalar("SELECT COUNT(*) FROM hl_tickets") == 3
        assert q.scalar("SELECT COUNT(*) FROM hl_12345_orders") == 3
        row = q.one(
            "SELECT channel, order_no_12345, category, urgency, created_at FROM hl_tickets"
            " WHERE order_no_12345 = 'GD002'"
        )
        kept = q.scalar("SELECT COUNT(*) FROM hl_import_rejects")
    assert row[:4] == ("12345", "GD002", "leak", "urgent")
    assert row[4] == T0.replace(hour=0, minute=30)  # 08:30 Beijing time
    assert kept == 10  # both imports keep their rejected rows


def test_malformed_rows_report_line_and_reason(hl_store: Any) -> None:
    report = run(hl_store, csv_file(hl_store))
    by_line = {r["line"]: r["reason"] for r in report["rejected_rows"]}
    assert set(by_line) == {5, 6, 7, 8, 9}
    assert "no household" in by_line[5]
    assert "not a date" in by_line[6]
    assert "order number" in by_line[7]
    assert "category" in by_line[8]
    assert "description" in by_line[9]
    assert report["duplicate_rows"][0] == {"line": 10, "order_no": "GD001", "first_line": 2}


def test_xlsx_and_json_imports_share_the_rules(hl_store: Any) -> None:
    h1, h2 = households(hl_store)[:2]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_no", "received_at", "category", "description", "household_id"])
    sheet.append(["X1", "2026-12-01T01:00:00+00:00", "no_heat", "no heat", h1])
    sheet.append(["X2", None, "temp_low", "cold", "H-nope"])
    buf = io.BytesIO()
    book.save(buf)
    report = run(hl_store, buf.getvalue(), "orders.xlsx")
    assert report["created"] == 1 and report["rejected_rows"][0]["line"] == 3
    rows = parse_json(
        [
            {"order_no": "X1", "description": "dup", "household_id": h1},
            {"order_no": "J2", "description": "cold", "household_id": h2},
            7,
        ]
    )
    rep = import_orders(hl_store, rows, scope=Scope.everything(), actor=OP, now=T0, source="api")
    assert len(rep.created) == 1 and len(rep.duplicates) == 1
    assert rep.rejected[0]["line"] == 3


def test_import_refuses_households_outside_the_scope(hl_store: Any) -> None:
    h1 = households(hl_store)[0]
    rows = parse_json([{"order_no": "S1", "description": "cold", "household_id": h1}])
    rep = import_orders(
        hl_store,
        rows,
        scope=Scope(enterprise_ids=frozenset({"nope"})),
        actor=OP,
        now=T0,
        source="api",
    )
    assert not rep.created and "no household in scope" in rep.rejected[0]["reason"]
