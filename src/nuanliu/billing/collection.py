"""Balances, arrears, late fees and the collection rate (收缴率).

What a household owes for a season is its **current bill**: the latest settlement if
one was issued, else the latest advance bill. Collection rate of an object (community,
enterprise, city, …) = Σ paid / Σ billed over its households, where a household's paid
amount counts up to its bill (an overpayment is a credit, not collection), so the rate
is never above 1. ``None`` when nothing was billed.

Late fee (滞纳金): ``overdue × daily rate × days past due``, rounded to the fen, never
more than the overdue amount itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from nuanliu.billing.calc import fen
from nuanliu.errors import InvalidInput
from nuanliu.seams import CollectionStats
from nuanliu.store import Store

LEVEL_COLUMNS = {
    "region": "region_id",
    "city": "city_id",
    "county": "county_id",
    "enterprise": "enterprise_id",
    "station": "station_id",
    "community": "community_id",
    "building": "building_id",
    "household": "household_id",
}

_CURRENT = """
WITH latest AS (
    SELECT household_id, kind, total_yuan, due_on, tariff_id, tariff_version,
        ROW_NUMBER() OVER (PARTITION BY household_id, kind ORDER BY version DESC) AS rn
    FROM bills WHERE season = ?
), cur AS (
    SELECT household_id,
        COALESCE(MAX(CASE WHEN kind = 'settlement' THEN total_yuan END),
                 MAX(CASE WHEN kind = 'advance' THEN total_yuan END)) AS billed_yuan,
        COALESCE(MAX(CASE WHEN kind = 'settlement' THEN due_on END),
                 MAX(CASE WHEN kind = 'advance' THEN due_on END)) AS due_on,
        MAX(tariff_id) AS tariff_id, MAX(tariff_version) AS tariff_version
    FROM latest WHERE rn = 1 GROUP BY household_id
), paid AS (
    SELECT household_id, SUM(amount_yuan) AS paid_yuan
    FROM billing_payments WHERE season = ? GROUP BY household_id
)
"""


def collection_rates(
    store: Store, *, level: str, ids: list[str] | None, season: str
) -> list[CollectionStats]:
    """The ``collection`` seam: billed, paid and rate per object at ``level`` for ``season``."""
    if level not in LEVEL_COLUMNS:
        raise InvalidInput(f"level {level!r} is not one of {sorted(LEVEL_COLUMNS)}")
    col = LEVEL_COLUMNS[level]
    sql = (
        _CURRENT + f"SELECT c.{col}, SUM(cur.billed_yuan), "
        "SUM(LEAST(COALESCE(paid.paid_yuan, 0), cur.billed_yuan)) "
        "FROM cur JOIN household_context c ON c.household_id = cur.household_id "
        "LEFT JOIN paid ON paid.household_id = cur.household_id "
        f"WHERE c.{col} IS NOT NULL GROUP BY c.{col} ORDER BY c.{col}"
    )
    with store.read() as q:
        rows = {r[0]: r for r in q.all(sql, [season, season])}
    wanted = sorted(rows) if ids is None else ids
    out = []
    for object_id in wanted:
        _, billed, paid = rows.get(object_id, (object_id, None, None))
        billed_d = Decimal(str(billed or 0)).quantize(Decimal("0.01"))
        paid_d = Decimal(str(paid or 0)).quantize(Decimal("0.01"))
        rate = float(paid_d / billed_d) if billed_d > 0 else None
        out.append(CollectionStats(level, object_id, season, billed_d, paid_d, rate))
    return out


@dataclass(frozen=True)
class Balance:
    household_id: str
    season: str
    billed_yuan: Decimal
    paid_yuan: Decimal
    due_on: date | None
    late_fee_yuan: Decimal

    @property
    def balance_yuan(self) -> Decimal:
        """Paid minus owed (negative: arrears; positive: credit / refund due)."""
        return self.paid_yuan - self.billed_yuan - self.late_fee_yuan

    @property
    def arrears_yuan(self) -> Decimal:
        return max(self.billed_yuan + self.late_fee_yuan - self.paid_yuan, Decimal("0.00"))


def late_fee(overdue: Decimal, rate: Decimal, days: int) -> Decimal:
    if overdue <= 0 or days <= 0:
        return Decimal("0.00")
    return min(fen(overdue * rate * days), overdue)


def balances(
    store: Store, *, season: str, as_of: date, household_ids: list[str] | None = None
) -> list[Balance]:
    sql = (
        _CURRENT
        + "SELECT cur.household_id, cur.billed_yuan, COALESCE(paid.paid_yuan, 0), cur.due_on, "
        "t.late_fee_daily_rate FROM cur LEFT JOIN paid ON paid.household_id = cur.household_id "
        "LEFT JOIN tariffs t ON t.tariff_id = cur.tariff_id AND t.version = cur.tariff_version"
    )
    params: list[Any] = [season, season]
    if household_ids is not None:
        if not household_ids:
            return []
        sql += f" WHERE cur.household_id IN ({', '.join('?' * len(household_ids))})"
        params += household_ids
    with store.read() as q:
        rows = q.all(sql + " ORDER BY cur.household_id", params)
    out = []
    for hid, billed, paid, due, rate in rows:
        billed_d = Decimal(str(billed))
        paid_d = Decimal(str(paid)).quantize(Decimal("0.01"))
        days = (as_of - due).days if due is not None else 0
        fee = late_fee(billed_d - paid_d, Decimal(str(rate or 0)), days)
        out.append(Balance(hid, season, billed_d, paid_d, due, fee))
    return out
