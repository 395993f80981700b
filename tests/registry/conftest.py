"""Registry fixtures: a store holding a small demo city."""

from __future__ import annotations

import pytest

from nuanliu.registry import DemoRegistry, build_demo_registry
from nuanliu.store import Store


@pytest.fixture
def demo(store: Store) -> DemoRegistry:
    return build_demo_registry(store, households=400, seed=3, include_baotou=True)
