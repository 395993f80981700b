"""A monitored store on each engine with the hand-computed town."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nuanliu.monitor import open_monitored_store
from tests.reports.town import build_town


@pytest.fixture
def store(db_url: str) -> Iterator[Any]:
    st = open_monitored_store(db_url)
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def town(store: Any) -> Any:
    build_town(store)
    return store
