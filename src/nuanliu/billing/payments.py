"""Payments: bank and payment-channel files (CSV/XLSX) matched to households' bills.

Columns (English or Chinese headers): ``txn_id``/流水号, ``household_id``/户号,
``amount_yuan``/金额, ``paid_at``/缴费时间, optional ``season``/供暖季 and
``channel``/渠道. A payment is matched to the household's bills of its season (given, or
the season running at ``paid_at``: from July of a year to June of the next). The key
``channel:txn_id`` makes re-imports idempotent. Rows that cannot be matched go to
quarantine with their line and reason: nothing is dropped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from nuanliu.billing.calc import fen
from nuanliu.store import Store
from nuanliu.store.readings import QuarantineRow

LOCAL = ZoneInfo("Asia/Shanghai")
HEADERS = {
    "流水号": "txn_id", "交易流水号": "txn_id", "户号": "household_id", "金额": "amount_yuan",
    "缴费金额": "amount_yuan", "缴费时间": "paid_at", "交易时间": "paid_at", "供暖季": "season",
    "渠道": "channel", "amount": "amount_yuan", "txn": "txn_id",
}  # fmt: skip


@dataclass
class PaymentReport:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.received == self.stored + self.duplicates + self.quarantined

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "balanced": self.balanced}


def season_of(paid_at: datetime) -> str:
    local = paid_at.astimezone(LOCAL)
    start = local.year if local.month >= 7 else local.year - 1
    return f"{start}-{start + 1}"


def _read_table(name: str, content: bytes) -> list[dict[str, Any]]:
    import pandas as pd

    if name.lower().endswith((".xlsx", ".xlsm")):
        frame = pd.read_excel(io.BytesIO(content), dtype=object)
    else:
        text = content.decode("utf-8-sig")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame.columns = [HEADERS.get(str(c).strip(), str(c).strip().lower()) for c in frame.columns]
    return frame.to_dict("records")


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        t = value
    else:
        t = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace("/", "-"))
    if t.tzinfo is None:  # bank files state local time
        t = t.replace(tzinfo=LOCAL)
    return t.astimezone(UTC)


def import_payments(
    store: Store,
    name: str,
    content: bytes,
    *,
    channel: str = "bank",
    now: datetime | None = None,
    allowed_households: set[str] | None = None,
) -> PaymentReport:
    """Store the payments of one file; see the module docstring for columns and matching.

    ``allowed_households`` limits an enterprise to its own households; a row for another
    is refused like an unknown household."""
    now = now or datetime.now(UTC)
    report = PaymentReport()
    quarantine: list[QuarantineRow] = []
    try:
        rows = _read_table(name, content)
    except Exception as exc:
        report.received = report.quarantined = 1
        store.insert_quarantine(
            [QuarantineRow(f"payments:{name}", f"unreadable file: {exc}", raw_bytes=content)]
        )
        return report
    report.received = len(rows)
    with store.read() as q:
        billed = {(h, s) for h, s in q.all("SELECT DISTINCT household_id, season FROM bills")}
        known = {r[0] for r in q.all("SELECT household_id FROM households")}
        stored = {r[0] for r in q.all("SELECT payment_id FROM billing_payments")}
    if allowed_households is not None:
        known &= allowed_households
    new: list[tuple[Any, ...]] = []

    def refuse(line: int, row: dict[str, Any], reason: str) -> None:
        report.quarantined += 1
        key = reason.split(":", 1)[0]
        report.reasons[key] = report.reasons.get(key, 0) + 1
        raw = ",".join(f"{k}={v}" for k, v in row.items())
        quarantine.append(QuarantineRow(f"payments:{name}:{line}", reason, raw, received_at=now))

    for i, row in enumerate(rows):
        line = i + 2
        txn = str(row.get("txn_id") or "").strip()
        hid = str(row.get("household_id") or "").strip()
        if not txn:
            refuse(line, row, "missing: txn_id is empty")
            continue
        try:
            amount = Decimal(str(row.get("amount_yuan")).strip().replace(",", ""))
        except (InvalidOperation, AttributeError):
            refuse(line, row, f"amount: {row.get('amount_yuan')!r} is not a number")
            continue
        if not amount.is_finite() or amount <= 0 or fen(amount) != amount:
            refuse(line, row, f"amount: {amount} is not a positive amount in fen")
            continue
        try:
            paid_at = _parse_time(row.get("paid_at"))
        except (ValueError, TypeError):
            refuse(line, row, f"paid_at: {row.get('paid_at')!r} is not a time")
            continue
        season = str(row.get("season") or "").strip() or season_of(paid_at)
        if hid not in known:
            refuse(line, row, f"unmatched: household {hid!r} is not in the registry")
            continue
        if (hid, season) not in billed:
            refuse(line, row, f"unmatched: household {hid} has no bill for season {season}")
            continue
        pay_channel = str(row.get("channel") or "").strip() or channel
        payment_id = f"{pay_channel}:{txn}"
        if payment_id in stored:
            report.duplicates += 1
            continue
        stored.add(payment_id)
        new.append((payment_id, hid, season, amount, paid_at, pay_channel, f"{name}:{line}", now))
    with store.write() as w:
        if new:
            w.executemany(
                "INSERT INTO billing_payments (payment_id, household_id, season, amount_yuan, "
                "paid_at, channel, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                new,
            )
        store.insert_quarantine(quarantine)
    report.stored = len(new)
    return report
