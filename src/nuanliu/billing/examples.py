"""Example tariffs shipped with Nuanliu. EXAMPLES, not any city's current prices.

Every row has ``is_example = True`` and names its source; an operator loads their own
city's tariff (``nuanliu billing tariffs load FILE``) and the examples stay marked.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from nuanliu.billing.tariffs import Tariff

SOURCE_TWO_PART = (
    "EXAMPLE. Published two-part heat tariff as quoted in the Nuanliu issue #11 brief: "
    "area price 24 元/m² per season, basic share 50 %, energy price 44.45 元/GJ. "
    "Cap at the area price is the usual rule in Chinese metered-heating policy "
    "(计量收费不高于按面积收费). Stop-heating share 30 % and low-income relief 30 % are "
    "illustrative values chosen by Nuanliu; late fee 0.05 %/day is illustrative "
    "(several cities waive late fees for heating)."
)
SOURCE_DESIGN = (
    "EXAMPLE. Typical values from Nuanliu DESIGN.md §1 (area price ≈ 20–25 元/m², basic "
    "fee often 30 % of the area price, energy ≈ 30–45 元/GJ); season 15 Oct – 15 Apr as in "
    "Hohhot. Not a tariff any enterprise published."
)


def example_tariffs() -> list[Tariff]:
    return [
        Tariff(
            tariff_id="example-two-part-24",
            version=1,
            name="示例两部制 24 元/m²·50 %·44.45 元/GJ (example)",
            valid_from=date(2020, 1, 1),
            area_price_yuan_m2=Decimal("24.00"),
            basic_share=Decimal("0.50"),
            energy_price_yuan_gj=Decimal("44.45"),
            cap_share=Decimal("1"),
            floor_share=None,
            stopped_share=Decimal("0.30"),
            relief_share=Decimal("0.30"),
            late_fee_daily_rate=Decimal("0.0005"),
            is_example=True,
            source=SOURCE_TWO_PART,
        ),
        Tariff(
            tariff_id="example-design-22",
            version=1,
            name="示例 22 元/m²·30 %·38 元/GJ (example)",
            building_type="non_residential",
            valid_from=date(2020, 1, 1),
            area_price_yuan_m2=Decimal("22.00"),
            basic_share=Decimal("0.30"),
            energy_price_yuan_gj=Decimal("38.00"),
            cap_share=Decimal("1"),
            floor_share=Decimal("0.30"),
            stopped_share=Decimal("0.30"),
            relief_share=Decimal("0"),
            late_fee_daily_rate=Decimal("0.0005"),
            is_example=True,
            source=SOURCE_DESIGN,
        ),
    ]
