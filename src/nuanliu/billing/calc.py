"""One household's bill for one season: pure Decimal arithmetic, no store.

Rules (each bill names the one that made it — ``Bill.rule``):

- **Rounding (one rule).** Every line is computed exactly in ``Decimal`` and rounded
  once to the fen (0.01 元) half-up (四舍五入, ``ROUND_HALF_UP``); adjustments (cap,
  floor) are taken between rounded amounts, and the total is the sum of the rounded
  lines, so a printed bill always adds up.
- **Heated fraction.** ``f = heated days / season days``, heated days from the later of
  season start and ``connected_on`` to the earlier of season end and ``disconnected_on``,
  both included (partial season).
- ``area``: area bill ``A = area × area price × f`` (the advance bill of everyone, and
  the settlement of unmetered households).
- ``stopped`` (报停): ``area × area price × stopped share`` for the whole season.
- ``metered``: two-part ``basic share × area price × area × f + GJ × energy price``;
  ``metered_cap`` when capped at ``cap share × A``; ``metered_floor`` when raised to
  ``floor share × A``.
- ``estimate_building_mean``: a metered household whose meter is faulty or missing is
  billed two-part with ``GJ = its building's mean GJ/m² (of plausible meters, at least
  three) × area × f`` (to 0.001 GJ); ``estimate_area`` when no such mean exists: the area bill.
- **Compensation.** Days confirmed below standard (hotline seam) reduce the bill by
  ``area × area price / season days × days``, never below zero. When the seam is not
  connected the bill says so and applies nothing.
- **Relief.** Low-income households have ``relief share`` of the remaining bill waived.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from nuanliu.billing.tariffs import Tariff

FEN = Decimal("0.01")
# One encoder for every bill (json.dumps with options builds a new encoder per call).
_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
ZERO = Decimal("0.00")
NOTE_NOT_CONNECTED = "compensation: hotline not connected, none applied"
GJ_ESTIMATE = Decimal("0.001")  # estimated heat is stated to the MJ
MIN_METERS_FOR_MEAN = 3


def fen(x: Decimal) -> Decimal:
    """Round to the fen, half-up (the one rounding rule of every bill)."""
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BillInputs:
    household_id: str
    season: str
    kind: str  # advance | settlement
    area_m2: Decimal
    tariff: Tariff
    stopped: bool = False
    connected_on: date | None = None
    disconnected_on: date | None = None
    low_income: bool = False
    metered: bool = False
    meter_state: str | None = None  # ok | faulty | missing (metered households)
    energy_gj: Decimal | None = None  # season's heat from the meter (meter_state ok)
    building_mean_gj_m2: Decimal | None = None  # per heated season, plausible meters
    compensation_days: Decimal | None = None  # None: the hotline seam is not connected

    def canonical(self) -> str:
        """Every input that can change the bill, as one string in a fixed field order."""
        return canonical_text(
            self.household_id, self.season, self.kind, self.area_m2, self.tariff,
            self.stopped, self.connected_on, self.disconnected_on, self.low_income,
            self.metered, self.meter_state, self.energy_gj, self.building_mean_gj_m2,
            self.compensation_days,
        )  # fmt: skip

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def _text(v: Any) -> str:
    return "" if v is None else str(v)


def canonical_text(
    household_id: str, season: str, kind: str, area_m2: Decimal, tariff: Tariff,
    stopped: bool, connected_on: date | None, disconnected_on: date | None,
    low_income: bool, metered: bool, meter_state: str | None, energy_gj: Decimal | None,
    building_mean_gj_m2: Decimal | None, compensation_days: Decimal | None,
) -> str:  # fmt: skip
    """The text a bill's inputs hash is taken of (``BillInputs.canonical``)."""
    return (
        f"{household_id}|{season}|{kind}|{area_m2}|{tariff_fingerprint(tariff)}|{stopped}|"
        f"{_text(connected_on)}|{_text(disconnected_on)}|{low_income}|{metered}|"
        f"{_text(meter_state)}|{_text(energy_gj)}|{_text(building_mean_gj_m2)}|"
        f"{_text(compensation_days)}"
    )


@lru_cache(maxsize=256)
def tariff_fingerprint(t: Tariff) -> str:
    """The tariff's id, version and every value a bill depends on (cached: tariffs are few)."""
    return ";".join(str(v) for v in t.row())


@dataclass(frozen=True)
class Line:
    code: str  # area | basic | energy | cap | floor | stopped | compensation | relief
    amount_yuan: Decimal
    quantity: str = ""  # what the line was computed from, for the statement

    def json(self) -> dict[str, str]:
        return {"code": self.code, "amount_yuan": str(self.amount_yuan), "quantity": self.quantity}


@dataclass(frozen=True)
class Bill:
    rule: str
    lines: tuple[Line, ...]
    total_yuan: Decimal
    energy_gj: Decimal | None  # GJ billed (metered or estimated)
    heated_days: int
    season_days: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def lines_json(self) -> str:
        doc = {
            "lines": [ln.json() for ln in self.lines],
            "heated_days": self.heated_days,
            "season_days": self.season_days,
            "notes": list(self.notes),
        }
        return _JSON.encode(doc)


def heated_days(inputs: BillInputs) -> tuple[int, int]:
    start, end = inputs.tariff.season(inputs.season)
    season_days = (end - start).days + 1
    first = max(start, inputs.connected_on or start)
    last = min(end, inputs.disconnected_on or end)
    return max((last - first).days + 1, 0), season_days


def compute_bill(inputs: BillInputs) -> Bill:
    t = inputs.tariff
    days, season_days = heated_days(inputs)
    frac = Decimal(days) / Decimal(season_days)
    area_full = inputs.area_m2 * t.area_price_yuan_m2
    area_bill = fen(area_full * frac)
    lines: list[Line] = []
    notes: list[str] = []
    energy: Decimal | None = None
    area_qty = f"{inputs.area_m2} m² × {t.area_price_yuan_m2} 元/m²"
    if inputs.stopped:
        rule = "stopped"
        lines.append(
            Line("stopped", fen(area_full * t.stopped_share), f"{area_qty} × {t.stopped_share}")
        )
    elif inputs.kind == "advance" or not inputs.metered:
        rule = "area"
        lines.append(Line("area", area_bill, f"{area_qty} × {days}/{season_days}"))
    else:
        if inputs.meter_state == "ok" and inputs.energy_gj is not None:
            rule, energy = "metered", inputs.energy_gj
        elif inputs.building_mean_gj_m2 is not None:
            rule = "estimate_building_mean"
            energy = (inputs.building_mean_gj_m2 * inputs.area_m2 * frac).quantize(
                GJ_ESTIMATE, rounding=ROUND_HALF_UP
            )
            notes.append(
                f"meter {inputs.meter_state}: building mean {inputs.building_mean_gj_m2} GJ/m²"
            )
        else:
            rule = "estimate_area"
            notes.append(f"meter {inputs.meter_state}: no building mean, area bill")
        if energy is None:
            lines.append(Line("area", area_bill, f"{area_qty} × {days}/{season_days}"))
        else:
            basic = fen(area_full * t.basic_share * frac)
            energy_fee = fen(energy * t.energy_price_yuan_gj)
            lines.append(
                Line("basic", basic, f"{area_qty} × {t.basic_share} × {days}/{season_days}")
            )
            lines.append(
                Line("energy", energy_fee, f"{energy} GJ × {t.energy_price_yuan_gj} 元/GJ")
            )
            two_part = basic + energy_fee
            if t.cap_share is not None and two_part > fen(area_bill * t.cap_share):
                cap = fen(area_bill * t.cap_share)
                lines.append(Line("cap", cap - two_part, f"≤ {t.cap_share} × {area_bill}"))
                rule = "metered_cap" if rule == "metered" else rule
            elif t.floor_share is not None and two_part < fen(area_bill * t.floor_share):
                floor = fen(area_bill * t.floor_share)
                lines.append(Line("floor", floor - two_part, f"≥ {t.floor_share} × {area_bill}"))
                rule = "metered_floor" if rule == "metered" else rule
    subtotal = sum((ln.amount_yuan for ln in lines), ZERO)
    if inputs.compensation_days is None:
        notes.append(NOTE_NOT_CONNECTED)
    elif inputs.compensation_days > 0 and subtotal > 0:
        comp_days = min(inputs.compensation_days, Decimal(days))
        comp = min(fen(area_full / Decimal(season_days) * comp_days), subtotal)
        lines.append(Line("compensation", -comp, f"{comp_days} d × {area_qty} / {season_days} d"))
        subtotal -= comp
    if inputs.low_income and t.relief_share > 0 and subtotal > 0:
        relief = min(fen(subtotal * t.relief_share), subtotal)
        lines.append(Line("relief", -relief, f"{t.relief_share} × {subtotal}"))
        subtotal -= relief
    return Bill(rule, tuple(lines), subtotal, energy, days, season_days, tuple(notes))
