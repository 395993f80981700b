"""Search text is matched literally: "%" and "_" typed by a user are not wildcards
(registry search behind GET /api/v1/registry/{kind}?search=), on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from nuanliu.registry import build_demo_registry
from nuanliu.registry.repository import list_records
from nuanliu.scope import Scope
from nuanliu.store.like import contains_pattern, escape_like

ADDRESSES = {0: "Block 7_1 Unit A", 1: "Block 7x1 Unit B", 2: "Tower 100% heated", 3: "C:\\x"}


def test_escape_like() -> None:
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    assert contains_pattern("_") == "%\\_%"


@pytest.fixture
def households(store: Any) -> list[str]:
    build_demo_registry(store, households=6)
    with store.read() as q:
        ids = [r[0] for r in q.all("SELECT household_id FROM households ORDER BY 1")]
    with store.write() as w:
        for i, address in ADDRESSES.items():
            w.execute("UPDATE households SET address = ? WHERE household_id = ?", [address, ids[i]])
    return ids


@pytest.mark.parametrize(
    ("search", "expected"),
    [("7_1", [0]), ("100%", [2]), ("%", [2]), ("_", [0]), ("c:\\", [3]), ("block 7", [0, 1])],
)
def test_registry_search_is_literal(
    store: Any, households: list[str], search: str, expected: list[int]
) -> None:
    found = list_records(store, "households", Scope.everything(), search=search)
    assert sorted(r.household_id for r in found) == sorted(households[i] for i in expected)
