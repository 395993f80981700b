"""The integer fast path gives byte-identical bills to the Decimal rules wherever it applies."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.billing.calc import BillInputs, compute_bill
from nuanliu.billing.examples import example_tariffs
from nuanliu.billing.fastpath import fast_bill, fen_decimal, tariff_ints

BASE = example_tariffs()


@settings(max_examples=600, deadline=None)
@given(
    area=st.decimals(min_value=D("0"), max_value=D("9999.99"), places=2),
    gj=st.one_of(st.none(), st.decimals(min_value=D("0"), max_value=D("999.999"), places=3)),
    which=st.integers(0, 1),
    price=st.decimals(min_value=D("1"), max_value=D("60"), places=2),
    basic=st.decimals(min_value=D("0"), max_value=D("1"), places=4),
    energy=st.decimals(min_value=D("0"), max_value=D("99"), places=2),
    cap=st.one_of(st.none(), st.decimals(min_value=D("0.5"), max_value=D("1.5"), places=4)),
    floor=st.one_of(st.none(), st.decimals(min_value=D("0"), max_value=D("0.5"), places=4)),
    connected=st.booleans(),
    kind=st.sampled_from(["advance", "settlement"]),
)
def test_fast_path_equals_decimal_rules(
    area, gj, which, price, basic, energy, cap, floor, connected, kind
) -> None:
    t = replace(
        BASE[which], area_price_yuan_m2=price, basic_share=basic, energy_price_yuan_gj=energy,
        cap_share=cap, floor_share=floor,
    )  # fmt: skip
    metered = gj is not None
    slow = compute_bill(
        BillInputs(
            "h", "2026-2027", kind, area, t, metered=metered,
            meter_state="ok" if metered else None, energy_gj=gj,
            compensation_days=D(0) if connected else None,
        )
    )  # fmt: skip
    ti = tariff_ints(t, "2026-2027")
    assert ti is not None
    fast = fast_bill(ti, area, gj if kind == "settlement" else None, comp_connected=connected)
    assert fast is not None
    assert (fast[0], fast[1], fen_decimal(fast[2])) == (
        slow.rule,
        slow.lines_json(),
        slow.total_yuan,
    )
