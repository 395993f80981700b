"""What each caller sees: an enterprise never sees another enterprise's households."""

from __future__ import annotations

import pytest

from nuanliu.errors import NotFound
from nuanliu.registry import DemoRegistry, children, count_records, get_record, list_records
from nuanliu.scope import Scope
from nuanliu.store import Store


def households_of(store: Store, enterprise_id: str) -> set[str]:
    with store.read() as q:
        rows = q.all(
            "SELECT household_id FROM household_context WHERE enterprise_id = ?", [enterprise_id]
        )
    return {r[0] for r in rows}


def test_an_enterprise_sees_only_its_own_households(store: Store, demo: DemoRegistry) -> None:
    e1, e2 = demo.enterprise_ids[:2]
    scope = Scope(enterprise_ids=frozenset({e1}))
    seen = {h.household_id for h in list_records(store, "households", scope)}
    assert seen == households_of(store, e1)
    assert not seen & households_of(store, e2)
    foreign = sorted(households_of(store, e2))[0]
    with pytest.raises(NotFound):
        get_record(store, "households", foreign, scope)
    stations = list_records(store, "stations", scope)
    assert stations and {s.enterprise_id for s in stations} == {e1}
    sensors = list_records(store, "sensors", scope)
    assert {s.household_id for s in sensors} <= seen
    # Drilling into another enterprise is refused, not answered with an empty list.
    with pytest.raises(NotFound):
        children(store, "enterprises", e2, scope)


def test_a_city_regulator_sees_the_city_and_masked_residents(
    store: Store, demo: DemoRegistry
) -> None:
    scope = Scope(region_ids=frozenset({"150200"}))  # Baotou
    counts = count_records(store, scope)
    with store.read() as q:
        baotou = q.scalar("SELECT count(*) FROM household_context WHERE city_id = '150200'")
    assert counts["households"] == baotou > 0
    assert counts["regions"] >= 2  # the region and the city (and its districts)
    homes = list_records(store, "households", scope, limit=5)
    assert all("*" in h.resident_name and "****" in h.resident_phone for h in homes)
    ents = children(store, "regions", "150100", Scope.everything())
    assert ents  # Hohhot has enterprises, but Baotou's regulator cannot open Hohhot
    with pytest.raises(NotFound):
        children(store, "regions", "150100", scope)


def test_full_access_shows_names_and_filters_by_parent(store: Store, demo: DemoRegistry) -> None:
    scope = Scope.everything()  # unmasked
    home = list_records(store, "households", scope, limit=1)[0]
    with store.read() as q:
        name = q.scalar(
            "SELECT resident_name FROM households WHERE household_id = ?", [home.household_id]
        )
    assert home.resident_name == name and "*" not in name
    same = list_records(store, "households", scope, filters={"building_id": home.building_id})
    assert home.household_id in {h.household_id for h in same}
    assert all(h.building_id == home.building_id for h in same)


def test_a_resident_sees_one_household(store: Store, demo: DemoRegistry) -> None:
    home = list_records(store, "households", Scope.everything(), limit=1)[0]
    scope = Scope(household_ids=frozenset({home.household_id}))
    counts = count_records(store, scope)
    assert counts["households"] == 1 and counts["buildings"] == 1
    assert counts["enterprises"] == 1 and counts["communities"] == 1
    assert count_records(store, Scope(household_ids=frozenset()))["households"] == 0


def test_search_by_name(store: Store, demo: DemoRegistry) -> None:
    found = list_records(store, "communities", Scope.everything(), search="花园")
    assert found and all("花园" in c.name_zh for c in found)


def test_records_come_back_as_models_of_their_kind(store: Store, demo: DemoRegistry) -> None:
    from nuanliu.registry import Household, Station, get_record

    scope = Scope(enterprise_ids=frozenset({demo.enterprise_ids[0]}))
    homes = list_records(store, "households", scope, limit=3)
    assert len(homes) == 3 and all(isinstance(h, Household) for h in homes)
    assert get_record(store, "households", homes[0].household_id, scope).address == homes[0].address
    assert all(isinstance(s, Station) for s in list_records(store, "stations", scope))


def test_search_ignores_case_of_english_names(store: Store, demo: DemoRegistry) -> None:
    found = list_records(store, "communities", Scope.everything(), search="GARDEN")
    assert found and all("garden" in c.name_en.lower() for c in found)
