"""Typed get/list per kind: thin wrappers over ``repository`` for callers that want a
concrete model type (the API, the dashboard). Every one applies the caller's ``Scope``."""

from __future__ import annotations

from typing import Any, cast

from nuanliu.registry.models import (
    Building,
    Community,
    Enterprise,
    Household,
    Region,
    Sensor,
    Station,
)
from nuanliu.registry.repository import get_record, list_records
from nuanliu.scope import Scope
from nuanliu.store import Store


def get_region(store: Store, region_id: str, scope: Scope) -> Region:
    """One region; ``NotFound`` when absent or outside the scope."""
    return cast(Region, get_record(store, "regions", region_id, scope))


def list_regions(store: Store, scope: Scope, **options: Any) -> list[Region]:
    """The regions the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Region], list_records(store, "regions", scope, **options))


def get_enterprise(store: Store, enterprise_id: str, scope: Scope) -> Enterprise:
    """One enterprise; ``NotFound`` when absent or outside the scope."""
    return cast(Enterprise, get_record(store, "enterprises", enterprise_id, scope))


def list_enterprises(store: Store, scope: Scope, **options: Any) -> list[Enterprise]:
    """The enterprises the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Enterprise], list_records(store, "enterprises", scope, **options))


def get_station(store: Store, station_id: str, scope: Scope) -> Station:
    """One station; ``NotFound`` when absent or outside the scope."""
    return cast(Station, get_record(store, "stations", station_id, scope))


def list_stations(store: Store, scope: Scope, **options: Any) -> list[Station]:
    """The stations the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Station], list_records(store, "stations", scope, **options))


def get_community(store: Store, community_id: str, scope: Scope) -> Community:
    """One community; ``NotFound`` when absent or outside the scope."""
    return cast(Community, get_record(store, "communities", community_id, scope))


def list_communities(store: Store, scope: Scope, **options: Any) -> list[Community]:
    """The communities the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Community], list_records(store, "communities", scope, **options))


def get_building(store: Store, building_id: str, scope: Scope) -> Building:
    """One building; ``NotFound`` when absent or outside the scope."""
    return cast(Building, get_record(store, "buildings", building_id, scope))


def list_buildings(store: Store, scope: Scope, **options: Any) -> list[Building]:
    """The buildings the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Building], list_records(store, "buildings", scope, **options))


def get_household(store: Store, household_id: str, scope: Scope) -> Household:
    """One household; ``NotFound`` when absent or outside the scope."""
    return cast(Household, get_record(store, "households", household_id, scope))


def list_households(store: Store, scope: Scope, **options: Any) -> list[Household]:
    """The households the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Household], list_records(store, "households", scope, **options))


def get_sensor(store: Store, sensor_id: str, scope: Scope) -> Sensor:
    """One sensor; ``NotFound`` when absent or outside the scope."""
    return cast(Sensor, get_record(store, "sensors", sensor_id, scope))


def list_sensors(store: Store, scope: Scope, **options: Any) -> list[Sensor]:
    """The sensors the scope sees (options: filters, search, limit, offset)."""
    return cast(list[Sensor], list_records(store, "sensors", scope, **options))
