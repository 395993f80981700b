"""Compliance on the hand-built city, where every answer is known by construction."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.monitor import compliance, compliance_trend, drilldown, timeseries
from nuanliu.scope import Scope
from tests.monitor.city import (
    DAY,
    DAY_START_UTC,
    HOUSEHOLD_TEMPS,
    City,
    day_readings,
    readings_table,
)

END_OF_DAY = DAY_START_UTC + timedelta(days=1)
EVERYTHING = Scope.everything()


def expected(buildings: list[str], standard: dict[str, float]) -> tuple[int, int]:
    households = compliant = 0
    for b in buildings:
        for t in HOUSEHOLD_TEMPS[b]:
            households += 1
            compliant += t >= standard[b]
    return households, compliant


STANDARD = {"B1": 18.0, "B2": 18.0, "B3": 18.0, "B4": 20.0}
UNITS = {
    "city": {"HH": ["B1", "B2", "B3"], "BT": ["B4"]},
    "enterprise": {"E1": ["B1", "B2"], "E2": ["B3"], "E3": ["B4"]},
    "station": {"S1": ["B1", "B2"], "S2": ["B3"], "S3": ["B4"]},
    "building": {b: [b] for b in HOUSEHOLD_TEMPS},
}


@pytest.mark.parametrize("level", list(UNITS))
def test_compliance_per_level_is_known_by_construction(store: Any, city: City, level: str) -> None:
    df = compliance(store, EVERYTHING, level, start=DAY, as_of=END_OF_DAY).set_index("unit_id")
    assert sorted(df.index) == sorted(UNITS[level])
    for unit, buildings in UNITS[level].items():
        households, compliant = expected(buildings, STANDARD)
        row = df.loc[unit]
        assert row["households"] == households
        assert row["reporting_households"] == households
        assert row["compliant_households"] == compliant
        assert row["rate"] == pytest.approx(compliant / households)
        temps = [t for b in buildings for t in HOUSEHOLD_TEMPS[b]]
        # B3's first household has two sensors: it weighs twice in the reading mean.
        weights = [
            2 if (b == "B3" and i == 0) else 1
            for b in buildings
            for i in range(len(HOUSEHOLD_TEMPS[b]))
        ]
        mean = sum(t * w for t, w in zip(temps, weights, strict=True)) / sum(weights)
        assert row["mean_temp_c"] == pytest.approx(mean)
        assert row["min_temp_c"] == pytest.approx(min(temps) - 0.5)
        assert row["cold_households"] == sum(t < 16.0 for t in temps)
        assert row["overheated_households"] == sum(t > 24.0 for t in temps)
        assert row["offline_sensors"] == 0


def test_city_standard_of_20c_applies_to_its_households(store: Any, city: City) -> None:
    df = compliance(store, EVERYTHING, "building", start=DAY, as_of=END_OF_DAY)
    b4 = df.set_index("unit_id").loc["B4"]
    # 21, 19.5, 20, 26, 14 against 20 °C: 19.5 and 14 fail (19.5 would pass at 18 °C).
    assert b4["compliant_households"] == 3
    assert b4["name_zh"] == "B4楼" and b4["name_en"] == "Building B4"


def test_drilldown_sums_are_consistent_across_levels(store: Any, city: City) -> None:
    levels = ["region", "city", "enterprise", "station", "building"]
    dd = drilldown(store, EVERYTHING, DAY, levels=levels, as_of=END_OF_DAY, hours=True)
    region = dd["region"].iloc[0]
    assert region["households"] == sum(len(t) for t in HOUSEHOLD_TEMPS.values())
    additive = [
        "households",
        "reporting_households",
        "compliant_households",
        "reporting_days",
        "compliant_days",
        "cold_households",
        "overheated_households",
        "offline_sensors",
        "reporting_hours",
        "compliant_hours",
    ]
    for lv in levels[1:]:
        sums = dd[lv][additive].sum()
        for col in additive:
            assert sums[col] == region[col], (lv, col)
    # Readings are constant per hour around the daily mean: hourly shares equal daily.
    for lv in levels:
        df = dd[lv]
        assert (df["hour_rate"].round(9) == df["rate"].round(9)).all()


def test_parent_restricts_to_children_and_scope_hides_the_rest(store: Any, city: City) -> None:
    df = compliance(store, EVERYTHING, "station", parent_id="E1", start=DAY, as_of=END_OF_DAY)
    assert list(df["unit_id"]) == ["S1"]
    df = compliance(store, EVERYTHING, "building", parent_id="S1", start=DAY, as_of=END_OF_DAY)
    assert list(df["unit_id"]) == ["B1", "B2"]
    baotou = Scope(region_ids=frozenset({"BT"}))
    df = compliance(store, baotou, "city", start=DAY, as_of=END_OF_DAY)
    assert list(df["unit_id"]) == ["BT"]
    nothing = Scope(region_ids=frozenset())
    assert compliance(store, nothing, "city", start=DAY, as_of=END_OF_DAY).empty


def test_offline_and_silent_households_are_counted(store: Any, city: City) -> None:
    # A day later only B1-H1 keeps reporting until 10:00 local; the rest stay silent.
    next_day = DAY + timedelta(days=1)
    start = END_OF_DAY
    rows = [r for r in day_readings(city, start=start, hours=2) if r[0] == "B1-H1-T1"]
    store.insert_readings(readings_table(rows))
    as_of = start + timedelta(hours=3)
    df = compliance(store, EVERYTHING, "building", start=next_day, as_of=as_of)
    b1 = df.set_index("unit_id").loc["B1"]
    assert b1["households"] == 4
    assert b1["reporting_households"] == 1
    assert b1["offline_sensors"] == 3  # B1-H1 read 1 h before as_of: not offline
    total = df["offline_sensors"].sum()
    assert total == len(city.sensors) - 1
    # Two days: rate over household-days; B1-H1 compliant on both days.
    two = compliance(
        store, EVERYTHING, "building", start=DAY, end=next_day + timedelta(days=1), as_of=as_of
    ).set_index("unit_id")
    assert two.loc["B1", "reporting_days"] == 5
    assert two.loc["B1", "compliant_days"] == 4


def test_daily_trend_and_time_series(store: Any, city: City) -> None:
    trend = compliance_trend(store, EVERYTHING, DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert list(trend["day"]) == [DAY - timedelta(days=1), DAY]
    assert trend.iloc[0]["reporting_households"] == 0
    assert trend.iloc[1]["compliant_households"] == 10
    assert trend.iloc[1]["households"] == 14
    hourly = timeseries(store, EVERYTHING, "building", "B2", DAY_START_UTC, END_OF_DAY)
    assert len(hourly) == 24
    assert hourly["mean_temp_c"].round(9).eq(round((21 + 25 + 15) / 3, 9)).all()
    assert (hourly["households"] == 3).all()
    daily = timeseries(
        store, EVERYTHING, "station", "S3", DAY, DAY + timedelta(days=1), resolution="day"
    )
    assert daily.iloc[0]["mean_temp_c"] == pytest.approx(sum(HOUSEHOLD_TEMPS["B4"]) / 5)
    raw = timeseries(
        store,
        EVERYTHING,
        "household",
        "B3-H1",
        DAY_START_UTC,
        DAY_START_UTC + timedelta(hours=1),
        resolution="raw",
    )
    assert len(raw) == 12  # two sensors × six readings
    with pytest.raises(InvalidInput):
        timeseries(store, EVERYTHING, "building", "B1", DAY_START_UTC, END_OF_DAY, resolution="raw")
    with pytest.raises(InvalidInput):
        compliance(store, EVERYTHING, "galaxy", start=DAY)


def test_building_context_matches_the_household_context_view(store: Any, city: City) -> None:
    """The drill-down evaluates the view's chain per building; it must agree row for row."""
    from nuanliu.monitor.compliance import BUILDING_CONTEXT

    cols = (
        "household_id, building_id, station_id, enterprise_id, community_id, county_id,"
        " city_id, region_id, standard_temp_c"
    )
    with store.read() as q:
        view = q.df(f"SELECT {cols} FROM household_context ORDER BY household_id")
        ours = q.df(
            f"WITH {BUILDING_CONTEXT} SELECT h.household_id, bc.building_id, bc.station_id,"
            " bc.enterprise_id, bc.community_id, bc.county_id, bc.city_id, bc.region_id,"
            " bc.standard_temp_c FROM households h JOIN bc ON bc.building_id = h.building_id"
            " ORDER BY h.household_id"
        )
    assert len(view) == len(city.households)
    pd.testing.assert_frame_equal(view, ours)
