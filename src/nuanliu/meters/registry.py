"""Heat meters in the registry: one row per meter, its protocol address and verification."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from nuanliu.errors import InvalidInput
from nuanliu.store import Store

COLUMNS = (
    "meter_id", "household_id", "building_id", "protocol", "mbus_primary_address",
    "mbus_secondary_address", "cjt188_address", "make", "model", "energy_unit",
    "installed_on", "verified_on", "verification_interval_months", "status",
)  # fmt: skip


@dataclass(frozen=True)
class HeatMeter:
    meter_id: str
    protocol: str  # mbus | cjt188
    household_id: str | None = None
    building_id: str | None = None
    mbus_primary_address: int | None = None
    mbus_secondary_address: str | None = None
    cjt188_address: str | None = None
    make: str | None = None
    model: str | None = None
    energy_unit: str = "GJ"
    installed_on: date | None = None
    verified_on: date | None = None
    verification_interval_months: int = 60
    status: str = "active"

    def __post_init__(self) -> None:
        where = f"meter {self.meter_id}"
        if self.protocol not in ("mbus", "cjt188"):
            raise InvalidInput(f"{where}: protocol {self.protocol!r} is not mbus or cjt188")
        if (self.household_id is None) == (self.building_id is None):
            raise InvalidInput(f"{where}: give exactly one of household_id and building_id")
        a = self.mbus_primary_address
        if a is not None and not 1 <= a <= 250:
            raise InvalidInput(f"{where}: M-Bus primary address {a} is not 1–250")
        s = self.mbus_secondary_address
        if s is not None and not (len(s) == 8 and s.isdigit()):
            raise InvalidInput(f"{where}: M-Bus secondary address {s!r} is not 8 digits")
        c = self.cjt188_address
        if c is not None and not (len(c) == 14 and c.isdigit()):
            raise InvalidInput(f"{where}: CJ/T 188 address {c!r} is not 14 digits")
        if self.status not in ("active", "faulty", "removed"):
            raise InvalidInput(f"{where}: status {self.status!r} is not active/faulty/removed")

    def verification_due(self) -> date | None:
        """The day the next verification is due (last verification, else installation)."""
        base = self.verified_on or self.installed_on
        if base is None:
            return None
        months = base.month - 1 + self.verification_interval_months
        year, month = base.year + months // 12, months % 12 + 1
        day = min(base.day, 28 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
        return date(year, month, day)


def save_meters(store: Store, meters: list[HeatMeter]) -> int:
    rows = [tuple(asdict(m)[c] for c in COLUMNS) for m in meters]
    with store.write() as w:
        w.upsert("heat_meters", COLUMNS, ["meter_id"], rows)
    return len(rows)


def load_meters(store: Store, *, household_ids: list[str] | None = None) -> list[HeatMeter]:
    sql = f"SELECT {', '.join(COLUMNS)} FROM heat_meters"
    params: list[Any] = []
    if household_ids is not None:
        if not household_ids:
            return []
        sql += f" WHERE household_id IN ({', '.join('?' * len(household_ids))})"
        params = list(household_ids)
    with store.read() as q:
        rows = q.all(sql + " ORDER BY meter_id", params)
    return [HeatMeter(**dict(zip(COLUMNS, r, strict=True))) for r in rows]


def verification_due(store: Store, *, as_of: date, within_days: int = 30) -> list[HeatMeter]:
    """Active meters whose verification is due within ``within_days`` of ``as_of`` (or late)."""
    out = []
    for m in load_meters(store):
        due = m.verification_due()
        if m.status != "removed" and due is not None and (due - as_of).days <= within_days:
            out.append(m)
    return out
