"""Migration 0020 (accounts) applies on top of a database at the previous version."""

from __future__ import annotations

from nuanliu.api.accounts import authenticate, create_user
from nuanliu.store import open_store

PREVIOUS = 19  # the last version before the accounts migration


def test_accounts_migration_from_previous_version(db_url: str) -> None:
    store = open_store(db_url, migrate=False)
    try:
        store.migrate(target=PREVIOUS)
        assert store.schema_version() <= PREVIOUS
        with store.write() as w:  # data of the previous version must survive
            w.execute(
                "INSERT INTO regions (region_id, parent_id, level, name_zh) VALUES (?, ?, ?, ?)",
                ["R1", None, "city", "呼和浩特"],
            )
        applied = store.migrate()
        assert 20 in applied and store.schema_version() >= 20
        with store.read() as q:
            assert q.all("SELECT name_zh FROM regions WHERE region_id = 'R1'") == [("呼和浩特",)]
        user = create_user(
            store,
            username="reg",
            password="migrated-pass-1",
            role="regulator",
            scope_ids=["R1"],
        )
        assert authenticate(store, "reg", "migrated-pass-1") == user
        assert store.migrate() == []  # idempotent
    finally:
        store.close()
