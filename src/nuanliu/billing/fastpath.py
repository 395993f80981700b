"""The common bill, computed in integer fen: same rules, same text, ~10× faster.

Most households of a season are billed full-season, not stopped, without relief or
compensation days, and either by area or from a working meter. For them the rules of
``calc`` reduce to a few integer products; rounding half-up to the fen is
``(2·n + d) // (2·d)`` for a non-negative fraction n/d, which is exactly what
``Decimal.quantize(ROUND_HALF_UP)`` gives on the exact value. Everything else goes
through :func:`nuanliu.billing.calc.compute_bill`; a property test checks that both give
identical bills (rule, lines text, total) wherever the fast path applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from nuanliu.billing.calc import NOTE_NOT_CONNECTED
from nuanliu.billing.tariffs import Tariff


def _int(d: Decimal, places: int) -> int:
    scaled = d.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{d} has more than {places} decimals")
    return int(scaled)


@dataclass(frozen=True)
class TariffInts:
    price: int  # 元/m² × 100
    basic: int  # share × 10⁴
    energy: int  # 元/GJ × 100
    cap: int | None  # share × 10⁴
    floor: int | None
    season_days: int
    area_price_text: str
    basic_text: str
    energy_price_text: str
    cap_text: str
    floor_text: str


@lru_cache(maxsize=256)
def tariff_ints(t: Tariff, season: str) -> TariffInts | None:
    """Integer form of a tariff, or None when its values have more decimals than the
    fast path's fixed scales (then every bill goes the Decimal way)."""
    first, last = t.season(season)
    try:
        return TariffInts(
            _int(t.area_price_yuan_m2, 2), _int(t.basic_share, 4),
            _int(t.energy_price_yuan_gj, 2),
            None if t.cap_share is None else _int(t.cap_share, 4),
            None if t.floor_share is None else _int(t.floor_share, 4),
            (last - first).days + 1, str(t.area_price_yuan_m2), str(t.basic_share),
            str(t.energy_price_yuan_gj), str(t.cap_share), str(t.floor_share),
        )  # fmt: skip
    except ValueError:
        return None


def _half_up(n: int, d: int) -> int:
    return (2 * n + d) // (2 * d)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def _line(amount: int, code: str, quantity: str) -> str:
    return f'{{"amount_yuan":"{_yuan(amount)}","code":"{code}","quantity":"{quantity}"}}'


def fast_bill(
    ti: TariffInts, area: Decimal, energy_gj: Decimal | None, *, comp_connected: bool
) -> tuple[str, str, int] | None:
    """(rule, lines JSON, total fen) of a full-season bill by area (``energy_gj`` None)
    or from a working meter; None when the inputs need the Decimal path."""
    try:
        a = _int(area, 2)
        g = None if energy_gj is None else _int(energy_gj, 3)
    except ValueError:
        return None
    if a < 0 or (g is not None and g < 0):
        return None
    days = ti.season_days
    frac = f"{days}/{days}"
    area_qty = f"{area} m² × {ti.area_price_text} 元/m²"
    area_bill = _half_up(a * ti.price, 100)
    if g is None:
        lines = [_line(area_bill, "area", f"{area_qty} × {frac}")]
        rule, total = "area", area_bill
    else:
        basic = _half_up(a * ti.price * ti.basic, 10**6)
        energy = _half_up(g * ti.energy, 1000)
        lines = [
            _line(basic, "basic", f"{area_qty} × {ti.basic_text} × {frac}"),
            _line(energy, "energy", f"{energy_gj} GJ × {ti.energy_price_text} 元/GJ"),
        ]
        rule, total = "metered", basic + energy
        if ti.cap is not None and total > _half_up(area_bill * ti.cap, 10**4):
            cap = _half_up(area_bill * ti.cap, 10**4)
            lines.append(_line(cap - total, "cap", f"≤ {ti.cap_text} × {_yuan(area_bill)}"))
            rule, total = "metered_cap", cap
        elif ti.floor is not None and total < _half_up(area_bill * ti.floor, 10**4):
            floor = _half_up(area_bill * ti.floor, 10**4)
            lines.append(_line(floor - total, "floor", f"≥ {ti.floor_text} × {_yuan(area_bill)}"))
            rule, total = "metered_floor", floor
    notes = "" if comp_connected else f'"{NOTE_NOT_CONNECTED}"'
    doc = (
        f'{{"heated_days":{days},"lines":[{",".join(lines)}],"notes":[{notes}],'
        f'"season_days":{days}}}'
    )
    return rule, doc, total


def fen_decimal(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)
