"""Fixtures: a monitored store on each engine, and the small city with one day of readings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nuanliu.monitor import open_monitored_store
from tests.monitor.city import City, build_city, day_readings, readings_table


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    st = open_monitored_store(db_url)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def city(store: Any) -> City:
    c = build_city(store)
    store.insert_readings(readings_table(day_readings(c)))
    return c
