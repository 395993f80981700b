"""Tariffs: versioned, scoped per city, enterprise, building type, valid for seasons.

A season is labelled by its years, ``"2026-2027"``: heating from the tariff's
``season_start_md`` in 2026 to its ``season_end_md`` in 2027, both days included. A
tariff version applies to seasons that start in ``[valid_from, valid_to)``; among the
matching tariffs the most specific wins (enterprise before city before none), then the
highest version. Editing a tariff means adding a version; bills name the version used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.store import Store

COLUMNS = (
    "tariff_id", "version", "name", "city_id", "enterprise_id", "building_type",
    "valid_from", "valid_to", "season_start_md", "season_end_md", "area_price_yuan_m2",
    "basic_share", "energy_price_yuan_gj", "cap_share", "floor_share", "stopped_share",
    "relief_share", "late_fee_daily_rate", "advance_due_md", "settlement_due_days",
    "is_example", "source",
)  # fmt: skip


@dataclass(frozen=True)
class Tariff:
    """One version of a tariff. Shares are fractions (0.5 = 50 %)."""

    tariff_id: str
    version: int
    name: str
    valid_from: date
    area_price_yuan_m2: Decimal  # area-based price for a whole season
    basic_share: Decimal  # two-part: basic fee = share × area price × area
    energy_price_yuan_gj: Decimal
    stopped_share: Decimal  # 报停: share of the area price a stopped household pays
    relief_share: Decimal  # low-income relief: share of the bill waived
    late_fee_daily_rate: Decimal  # per day on the overdue amount
    source: str
    city_id: str | None = None
    enterprise_id: str | None = None
    building_type: str = "residential"
    valid_to: date | None = None
    season_start_md: str = "10-15"
    season_end_md: str = "04-15"
    cap_share: Decimal | None = Decimal(1)  # two-part bill ≤ cap share × area bill
    floor_share: Decimal | None = None  # two-part bill ≥ floor share × area bill
    advance_due_md: str = "10-31"
    settlement_due_days: int = 30  # after the season's last day
    is_example: bool = False

    def __post_init__(self) -> None:
        for name in ("basic_share", "stopped_share", "relief_share", "cap_share", "floor_share"):
            v = getattr(self, name)
            if v is not None and not (Decimal(0) <= v <= Decimal(2)):
                raise InvalidInput(f"tariff {self.tariff_id}: {name} = {v} is not a share")
        for name in ("area_price_yuan_m2", "energy_price_yuan_gj", "late_fee_daily_rate"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"tariff {self.tariff_id}: {name} is negative")
        fl, cap = self.floor_share, self.cap_share
        if fl is not None and cap is not None and fl > cap:
            raise InvalidInput(f"tariff {self.tariff_id}: floor_share above cap_share")
        season_bounds("2026-2027", self.season_start_md, self.season_end_md)

    def season(self, season: str) -> tuple[date, date]:
        return season_bounds(season, self.season_start_md, self.season_end_md)

    def row(self) -> tuple[Any, ...]:
        d = asdict(self)
        return tuple(d[c] for c in COLUMNS)


def season_start_year(season: str) -> int:
    try:
        a, b = (int(x) for x in season.split("-"))
    except ValueError:
        raise InvalidInput(f"season {season!r} is not like '2026-2027'") from None
    if b != a + 1:
        raise InvalidInput(f"season {season!r}: the years must follow each other")
    return a


@lru_cache(maxsize=1024)
def season_bounds(season: str, start_md: str, end_md: str) -> tuple[date, date]:
    """First and last heating day of ``season`` (both included)."""
    year = season_start_year(season)
    try:
        sm, sd = (int(x) for x in start_md.split("-"))
        em, ed = (int(x) for x in end_md.split("-"))
        return date(year, sm, sd), date(year + 1, em, ed)
    except ValueError as exc:
        raise InvalidInput(f"season days {start_md!r}/{end_md!r}: {exc}") from None


def save_tariffs(store: Store, tariffs: Iterable[Tariff]) -> int:
    """Insert tariff versions; an existing (id, version) with other values is a conflict."""
    from nuanliu.errors import Conflict

    rows = [t.row() for t in tariffs]
    with store.write() as w:
        for row in rows:
            old = w.one(
                f"SELECT {', '.join(COLUMNS)} FROM tariffs WHERE tariff_id = ? AND version = ?",
                [row[0], row[1]],
            )
            if old is None:
                w.execute(
                    f"INSERT INTO tariffs ({', '.join(COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(COLUMNS))})",
                    list(row),
                )
            elif _from_row(old) != _from_row(row):
                raise Conflict(
                    f"tariff {row[0]} version {row[1]} exists with other values; add a version"
                )
    return len(rows)


def _from_row(row: tuple[Any, ...]) -> Tariff:
    d = dict(zip(COLUMNS, row, strict=True))
    for f in fields(Tariff):
        v = d[f.name]
        if f.type in ("Decimal", "Decimal | None") and v is not None:
            d[f.name] = Decimal(str(v))
    d["is_example"] = bool(d["is_example"])
    return Tariff(**d)


def load_tariffs(store: Store) -> list[Tariff]:
    with store.read() as q:
        rows = q.all(f"SELECT {', '.join(COLUMNS)} FROM tariffs ORDER BY tariff_id, version")
    return [_from_row(r) for r in rows]


def select_tariff(
    tariffs: Iterable[Tariff],
    *,
    season: str,
    city_id: str | None,
    enterprise_id: str | None,
    building_type: str,
) -> Tariff:
    """The tariff for one household's season (see module docstring for the order)."""
    year = season_start_year(season)
    best: tuple[tuple[int, int], Tariff] | None = None
    for t in tariffs:
        start = t.season(season)[0]
        if t.valid_from > start or (t.valid_to is not None and start >= t.valid_to):
            continue
        if t.building_type != building_type:
            continue
        if t.city_id is not None and t.city_id != city_id:
            continue
        if t.enterprise_id is not None and t.enterprise_id != enterprise_id:
            continue
        rank = (2 * (t.enterprise_id is not None) + (t.city_id is not None), t.version)
        if best is None or rank > best[0]:
            best = (rank, t)
    if best is None:
        raise NotFound(
            f"no tariff for season {season} (from {year}), city {city_id}, "
            f"enterprise {enterprise_id}, building type {building_type}"
        )
    return best[1]
