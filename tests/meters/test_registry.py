"""Heat meters in the registry: addresses checked, verification due dates."""

from __future__ import annotations

from datetime import date

import pytest

from nuanliu.errors import InvalidInput
from nuanliu.meters.registry import HeatMeter, load_meters, save_meters, verification_due
from tests.billing.world import seed_registry


def test_verification_due_from_last_verification_or_installation() -> None:
    m = HeatMeter("m1", "mbus", household_id="h", installed_on=date(2020, 8, 31))
    assert m.verification_due() == date(2025, 8, 31)  # 60 months by default
    v = HeatMeter("m2", "cjt188", household_id="h", installed_on=date(2020, 1, 1),
                  verified_on=date(2023, 1, 31), verification_interval_months=37)  # fmt: skip
    assert v.verification_due() == date(2026, 2, 28)  # clamped to the month's end


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"protocol": "modbus"}, "protocol"),
        ({"mbus_primary_address": 251}, "primary address"),
        ({"mbus_secondary_address": "1234"}, "secondary address"),
        ({"cjt188_address": "12345678901234X"}, "CJ/T 188 address"),
        ({"building_id": "b1"}, "exactly one"),
    ],
)
def test_bad_meters_are_refused_naming_the_field(kw, field) -> None:
    base = {"meter_id": "m", "protocol": "mbus", "household_id": "h"}
    with pytest.raises(InvalidInput, match=field):
        HeatMeter(**{**base, **kw})


def test_saved_meters_and_due_list(store) -> None:
    seed_registry(store)
    save_meters(
        store,
        [
            HeatMeter("m1", "mbus", household_id="h-b1-0", mbus_secondary_address="10380010",
                      installed_on=date(2021, 12, 20)),
            HeatMeter("m2", "cjt188", household_id="h-b1-1", cjt188_address="00000000000001",
                      installed_on=date(2024, 1, 1)),
        ],
    )  # fmt: skip
    assert [m.meter_id for m in load_meters(store)] == ["m1", "m2"]
    due = verification_due(store, as_of=date(2026, 12, 1), within_days=30)
    assert [m.meter_id for m in due] == ["m1"]  # due 2026-12-20
