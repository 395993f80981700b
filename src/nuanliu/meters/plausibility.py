"""Plausibility of a meter's readings, checked in time order against the ones before.

Findings, with what happens to the reading:

- ``backwards``: cumulative energy below the previous reading → **quarantined** (a
  cumulative register never runs back; billing it would invent a refund).
- ``jump``: more energy since the previous reading than the water that flowed could
  carry (ΔV × 4.19 MJ/(m³·K) × ``max_delta_t_k``), or, without volumes, than the meter's
  ``max_power_kw`` over the interval → stored **not billable**.
- ``clock``: the meter's clock differs from the read-out time by more than
  ``max_clock_skew`` → stored, flagged (energy is still good).
- ``error``: the meter reported error flags → stored, flagged; the season's bill treats
  the meter as faulty.
- ``supply_below_return``: supply below return temperature in every reading over at
  least ``reversed_for`` → stored, flagged (sensors swapped or installed wrongly).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

WATER_MJ_M3_K = Decimal("4.19")


@dataclass(frozen=True)
class Limits:
    max_delta_t_k: Decimal = Decimal(100)
    max_power_kw: Decimal = Decimal(50)
    max_clock_skew: timedelta = timedelta(hours=1)
    reversed_for: timedelta = timedelta(hours=24)
    tolerance_gj: Decimal = Decimal("0.001")
    meter_tz: str = "Asia/Shanghai"  # meters keep local time


@dataclass(frozen=True)
class Point:
    """What plausibility needs of one reading."""

    read_at: datetime
    energy_gj: Decimal | None
    volume_m3: Decimal | None
    supply_temp_c: Decimal | None
    return_temp_c: Decimal | None
    meter_clock: datetime | None  # naive meter-local
    error_flags: tuple[str, ...] = ()
    billable: bool = True  # a reading judged not billable is no baseline for the next


@dataclass(frozen=True)
class Verdict:
    quarantine: str | None  # a reason: the reading is not stored
    flags: tuple[str, ...]  # stored with these findings
    billable: bool


def check(point: Point, history: list[Point], limits: Limits = Limits()) -> Verdict:
    """Judge ``point`` against ``history`` (earlier stored readings of the meter, in order)."""
    prev = next((p for p in reversed(history) if p.energy_gj is not None and p.billable), None)
    flags: list[str] = []
    billable = True
    if prev is not None and point.energy_gj is not None:
        delta = point.energy_gj - prev.energy_gj
        if delta < -limits.tolerance_gj:
            return Verdict(
                f"backwards: energy {point.energy_gj} GJ < {prev.energy_gj} GJ at "
                f"{prev.read_at.isoformat()}",
                (),
                False,
            )
        bound = _max_energy_gj(point, prev, limits)
        if bound is not None and delta > bound + limits.tolerance_gj:
            flags.append(f"jump: +{delta} GJ, at most {bound.quantize(Decimal('0.001'))} GJ")
            billable = False
    if point.meter_clock is not None:
        meter_utc = point.meter_clock.replace(tzinfo=ZoneInfo(limits.meter_tz))
        skew = abs(meter_utc - point.read_at)
        if skew > limits.max_clock_skew:
            flags.append(f"clock: meter clock off by {skew.total_seconds() / 3600:.1f} h")
    if point.error_flags:
        flags.append("error: " + "; ".join(point.error_flags))
    if _reversed(point):
        since = point.read_at
        for p in reversed(history):
            if not _reversed(p):
                break
            since = p.read_at
        if point.read_at - since >= limits.reversed_for:
            hours = (point.read_at - since).total_seconds() / 3600
            flags.append(f"supply_below_return: for {hours:.0f} h")
    return Verdict(None, tuple(flags), billable)


def _reversed(p: Point) -> bool:
    return (
        p.supply_temp_c is not None
        and p.return_temp_c is not None
        and p.supply_temp_c < p.return_temp_c
    )


def _max_energy_gj(point: Point, prev: Point, limits: Limits) -> Decimal | None:
    if point.volume_m3 is not None and prev.volume_m3 is not None:
        dv = max(point.volume_m3 - prev.volume_m3, Decimal(0))
        return dv * WATER_MJ_M3_K * limits.max_delta_t_k / 1000
    hours = Decimal((point.read_at - prev.read_at).total_seconds()) / 3600
    return limits.max_power_kw * hours * Decimal("0.0036")
