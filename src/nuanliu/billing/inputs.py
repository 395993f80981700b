"""Gather a season's billing inputs from the store: households, terms, meter heat.

Meter heat of a season: for each active meter, the billable readings (plausibility passed)
within ``WINDOW`` of the season: the earliest and the latest give the season's GJ,
provided the earliest is no later than ``WINDOW`` after the first heating day and the
latest no earlier than ``WINDOW`` before the last one (otherwise the meter is
``missing`` for the season). A meter is ``faulty`` when its registry status says so or
it reported error flags during the season. A household with several meters adds them;
its state is the worst of them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from nuanliu.billing.calc import MIN_METERS_FOR_MEAN
from nuanliu.store import Store

LOCAL = ZoneInfo("Asia/Shanghai")
WINDOW = timedelta(days=7)
_MJ = Decimal("0.001")  # a season's GJ is stated to the MJ
_STATE_RANK = {"ok": 0, "missing": 1, "faulty": 2}


@dataclass(frozen=True)
class HouseholdRow:
    household_id: str
    building_id: str
    community_id: str | None
    enterprise_id: str | None
    city_id: str | None
    area_m2: Decimal
    metered: bool


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL).astimezone(UTC)


def load_households(store: Store, household_ids: list[str] | None = None) -> list[HouseholdRow]:
    sql = (
        "SELECT h.household_id, h.building_id, c.community_id, c.enterprise_id, c.city_id, "
        "CAST(h.floor_area_m2 AS VARCHAR) AS area, h.metered FROM households h "
        "JOIN household_context c ON c.household_id = h.household_id ORDER BY h.household_id"
    )
    with store.read() as q:
        tbl = q.arrow(sql)
    columns = [tbl.column(i).to_pylist() for i in range(tbl.num_columns)]
    wanted = set(household_ids) if household_ids is not None else None
    cent = Decimal("0.01")
    out = []
    for hid, bid, com, ent, city, area, metered in zip(*columns, strict=True):
        if wanted is not None and hid not in wanted:
            continue
        area_d = Decimal(area).quantize(cent) if area is not None else Decimal("0.00")
        out.append(HouseholdRow(hid, bid, com, ent, city, area_d, bool(metered)))
    return out


def load_terms(store: Store, season: str) -> dict[str, tuple]:
    with store.read() as q:
        rows = q.all(
            "SELECT household_id, building_type, stopped, connected_on, disconnected_on, "
            "low_income FROM billing_household_terms WHERE season = ?",
            [season],
        )
    return {r[0]: r[1:] for r in rows}


def meter_heat(
    store: Store, first_day: date, last_day: date
) -> dict[str, tuple[str, Decimal | None]]:
    """household_id → (state, season GJ or None) for households with active meters."""
    start = local_midnight_utc(first_day)
    end = local_midnight_utc(last_day + timedelta(days=1))
    lo, hi = start - WINDOW, end + WINDOW
    with store.read() as q:
        meters = q.all(
            "SELECT meter_id, household_id, status FROM heat_meters "
            "WHERE household_id IS NOT NULL AND status <> 'removed'"
        )
        ends = q.all(
            "WITH r AS (SELECT meter_id, read_at, energy_gj, "
            "ROW_NUMBER() OVER (PARTITION BY meter_id ORDER BY read_at) AS rn_first, "
            "ROW_NUMBER() OVER (PARTITION BY meter_id ORDER BY read_at DESC) AS rn_last "
            "FROM meter_readings WHERE read_at >= ? AND read_at < ? AND billable "
            "AND energy_gj IS NOT NULL) "
            "SELECT meter_id, MAX(CASE WHEN rn_first = 1 THEN read_at END), "
            "MAX(CASE WHEN rn_first = 1 THEN energy_gj END), "
            "MAX(CASE WHEN rn_last = 1 THEN read_at END), "
            "MAX(CASE WHEN rn_last = 1 THEN energy_gj END) "
            "FROM r WHERE rn_first = 1 OR rn_last = 1 GROUP BY meter_id",
            [lo, hi],
        )
        erring = {
            r[0]
            for r in q.all(
                "SELECT DISTINCT meter_id FROM meter_readings WHERE read_at >= ? AND read_at < ? "
                "AND error_flags IS NOT NULL AND error_flags <> ''",
                [start, end],
            )
        }
    by_meter = {r[0]: r[1:] for r in ends}
    out: dict[str, tuple[str, Decimal | None]] = {}
    for meter_id, household_id, status in meters:
        state, gj = "ok", None
        got = by_meter.get(meter_id)
        if status == "faulty" or meter_id in erring:
            state = "faulty"
        elif got is None or got[0] > start + WINDOW or got[2] < end - WINDOW:
            state = "missing"
        else:
            gj = (Decimal(str(got[3])) - Decimal(str(got[1]))).quantize(_MJ)
        prev = out.get(household_id)
        if prev is None:
            out[household_id] = (state, gj)
        else:
            worst = max(prev[0], state, key=_STATE_RANK.__getitem__)
            total = prev[1] + gj if prev[1] is not None and gj is not None else None
            out[household_id] = (worst, total)
    return out


def building_means(
    households: list[HouseholdRow], heat: dict[str, tuple[str, Decimal | None]]
) -> dict[str, Decimal]:
    """Building → mean season GJ/m² over its households with a plausible meter (≥ 3)."""
    gj: dict[str, Decimal] = defaultdict(Decimal)
    area: dict[str, Decimal] = defaultdict(Decimal)
    count: dict[str, int] = defaultdict(int)
    for h in households:
        state, season_gj = heat.get(h.household_id, ("missing", None))
        if state == "ok" and season_gj is not None and h.area_m2 > 0:
            gj[h.building_id] += season_gj
            area[h.building_id] += h.area_m2
            count[h.building_id] += 1
    return {
        b: (gj[b] / area[b]).quantize(Decimal("0.000001"))
        for b in gj
        if count[b] >= MIN_METERS_FOR_MEAN
    }
