"""Bills calculated by hand to the fen, one per tariff case, and properties of every bill.

Tariff: the shipped example (24 元/m², basic share 50 %, 44.45 元/GJ, cap at the area
bill, 报停 30 %, relief 30 %); season 2026-10-15 … 2027-04-15 = 183 days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.billing.calc import BillInputs, compute_bill, fen
from nuanliu.billing.examples import example_tariffs

TARIFF = example_tariffs()[0]


def bill(**kw):
    base = dict(household_id="h1", season="2026-2027", kind="settlement", area_m2=D("100"))
    base.update(kw)
    base.setdefault("compensation_days", D(0))
    return compute_bill(BillInputs(tariff=TARIFF, **base))


def test_season_is_183_days() -> None:
    assert bill().season_days == 183 and bill().heated_days == 183


def test_area_bill() -> None:
    b = bill(area_m2=D("85.5"))  # 85.5 × 24 = 2052.00
    assert (b.rule, b.total_yuan) == ("area", D("2052.00"))


def test_two_part_under_the_cap() -> None:
    b = bill(metered=True, meter_state="ok", energy_gj=D("20"))
    # basic 100 × 24 × 0.5 = 1200.00; energy 20 × 44.45 = 889.00; 2089.00 < 2400.00
    assert [ln.amount_yuan for ln in b.lines] == [D("1200.00"), D("889.00")]
    assert (b.rule, b.total_yuan) == ("metered", D("2089.00"))


def test_two_part_over_the_cap_rounds_half_up() -> None:
    b = bill(metered=True, meter_state="ok", energy_gj=D("30.5"))
    # energy 30.5 × 44.45 = 1355.725 → 1355.73 (half-up); 1200 + 1355.73 = 2555.73 > 2400
    assert [ln.amount_yuan for ln in b.lines] == [D("1200.00"), D("1355.73"), D("-155.73")]
    assert (b.rule, b.total_yuan) == ("metered_cap", D("2400.00"))


def test_partial_season() -> None:
    b = bill(area_m2=D("90"), connected_on=date(2026, 11, 1))
    # 166 of 183 days: 90 × 24 × 166 / 183 = 1959.3442… → 1959.34
    assert (b.heated_days, b.total_yuan) == (166, D("1959.34"))
    stopped_early = bill(area_m2=D("90"), disconnected_on=date(2027, 3, 31))
    # 168 days (Oct 15 … Mar 31): 90 × 24 × 168 / 183 = 1982.9508… → 1982.95
    assert (stopped_early.heated_days, stopped_early.total_yuan) == (168, D("1982.95"))


def test_stopped_heating_pays_its_share() -> None:
    b = bill(stopped=True, metered=True, meter_state="ok", energy_gj=D("3"))
    assert (b.rule, b.total_yuan) == ("stopped", D("720.00"))  # 100 × 24 × 0.30


def test_low_income_relief() -> None:
    b = bill(area_m2=D("70"), low_income=True)  # 1680.00 − 0.30 × 1680.00 = 1176.00
    assert [ln.code for ln in b.lines] == ["area", "relief"]
    assert b.total_yuan == D("1176.00")


def test_faulty_meter_uses_the_building_mean() -> None:
    b = bill(area_m2=D("80"), metered=True, meter_state="faulty", building_mean_gj_m2=D("0.25"))
    # 0.25 GJ/m² × 80 m² = 20 GJ: 960.00 + 889.00 = 1849.00 (< area 1920.00)
    assert (b.rule, b.energy_gj, b.total_yuan) == (
        "estimate_building_mean",
        D("20.000"),
        D("1849.00"),
    )
    assert "faulty" in b.notes[0]
    no_mean = bill(area_m2=D("80"), metered=True, meter_state="missing")
    assert (no_mean.rule, no_mean.total_yuan) == ("estimate_area", D("1920.00"))


def test_compensation_days_reduce_the_bill() -> None:
    b = bill(compensation_days=D(5))  # 2400 / 183 × 5 = 65.5737… → 65.57
    assert b.total_yuan == D("2334.43")
    unconnected = bill(compensation_days=None)
    assert unconnected.total_yuan == D("2400.00")
    assert "not connected" in " ".join(unconnected.notes)


def test_advance_bill_is_area_based_even_for_metered() -> None:
    b = bill(kind="advance", metered=True, meter_state="ok", energy_gj=D("5"))
    assert (b.rule, b.total_yuan) == ("area", D("2400.00"))


def test_fen_rounding_is_half_up() -> None:
    assert fen(D("0.125")) == D("0.13") and fen(D("0.135")) == D("0.14")
    assert fen(D("-0.125")) == D("-0.13")


_inputs = dict(
    area_m2=st.decimals(min_value=D("0"), max_value=D("400"), places=2),
    energy_gj=st.decimals(min_value=D("0"), max_value=D("200"), places=3),
    stopped=st.booleans(),
    low_income=st.booleans(),
    comp=st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D(400), places=1)),
    connected=st.integers(0, 250),
    state=st.sampled_from(["ok", "faulty", "missing"]),
    mean=st.one_of(st.none(), st.decimals(min_value=D("0"), max_value=D("2"), places=3)),
)


@settings(max_examples=400, deadline=None)
@given(**_inputs)
def test_a_bill_is_never_negative_and_adds_up(
    area_m2, energy_gj, stopped, low_income, comp, connected, state, mean
):
    b = bill(
        area_m2=area_m2, metered=True, meter_state=state, energy_gj=energy_gj,
        building_mean_gj_m2=mean, stopped=stopped, low_income=low_income,
        compensation_days=comp,
        connected_on=date.fromordinal(date(2026, 10, 15).toordinal() + connected),
    )  # fmt: skip
    assert b.total_yuan >= 0
    assert b.total_yuan == sum(ln.amount_yuan for ln in b.lines)
    assert all(ln.amount_yuan == fen(ln.amount_yuan) for ln in b.lines)


@settings(max_examples=400, deadline=None)
@given(**_inputs)
def test_capped_two_part_never_exceeds_the_area_bill(
    area_m2, energy_gj, stopped, low_income, comp, connected, state, mean
):
    common = dict(
        area_m2=area_m2, low_income=low_income, compensation_days=comp,
        connected_on=date.fromordinal(date(2026, 10, 15).toordinal() + connected),
    )  # fmt: skip
    metered = bill(
        metered=True, meter_state=state, energy_gj=energy_gj, building_mean_gj_m2=mean, **common
    )
    area = bill(metered=False, **common)
    assert metered.total_yuan <= area.total_yuan


def test_same_inputs_same_hash_changed_inputs_new_hash() -> None:
    a = BillInputs("h1", "2026-2027", "settlement", D("100"), TARIFF, energy_gj=D("1"))
    b = BillInputs("h1", "2026-2027", "settlement", D("100"), TARIFF, energy_gj=D("1"))
    c = BillInputs("h1", "2026-2027", "settlement", D("100"), TARIFF, energy_gj=D("1.001"))
    assert a.sha256() == b.sha256() != c.sha256()
