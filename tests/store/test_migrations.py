"""Schema changes are versioned, recorded, and keep existing data."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from nuanliu.store import open_store
from nuanliu.store.migrate import load_migrations

T0 = dt.datetime(2026, 1, 15, 8, 0, tzinfo=dt.UTC)
CORE_TABLES = (
    "regions",
    "enterprises",
    "stations",
    "communities",
    "buildings",
    "households",
    "sensors",
    "readings",
    "quarantine",
    "household_context",
    "schema_version",
)


def test_fresh_store_has_every_table_and_records_versions(db_url: str) -> None:
    with open_store(db_url) as store:
        with store.read() as q:
            names = set(q.table_names())
            versions = [r[0] for r in q.all("SELECT version FROM schema_version ORDER BY 1")]
        expected = {m.version for m in load_migrations()}
        assert set(versions) == expected
        assert store.schema_version() == max(expected)
        for table in CORE_TABLES:
            assert table in names, table


def test_reopening_applies_nothing_twice(db_url: str) -> None:
    with open_store(db_url) as store:
        version = store.schema_version()
    with open_store(db_url) as store:
        assert store.migrate() == []
        assert store.schema_version() == version


def test_upgrade_from_version_1_keeps_data(db_url: str) -> None:
    with open_store(db_url, migrate=False) as store:
        assert store.migrate(target=1) == [1]
        with store.write() as w:
            w.execute(
                "INSERT INTO sensors (sensor_id, household_id, room, model) VALUES (?, ?, ?, ?)",
                ["s1", "h1", "living room", "TH-100"],
            )
        store.insert_readings(
            pa.table(
                {
                    "sensor_id": ["s1"],
                    "ts": pa.array([T0], pa.timestamp("us", tz="UTC")),
                    "temp_c": [19.5],
                }
            )
        )
    with open_store(db_url) as store:  # migrates 0002 and later onto the data
        assert store.schema_version() > 1
        with store.read() as q:
            assert q.one("SELECT room, model, decommissioned_at FROM sensors") == (
                "living room",
                "TH-100",
                None,
            )
            assert q.one("SELECT sensor_id, ts, temp_c FROM readings") == ("s1", T0, 19.5)
            assert "registry_imports" in q.table_names()


def test_migrations_are_numbered_once_with_engine_variants_paired() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions))
    for mig in migrations:
        # An engine-specific part must exist for both engines or be shared.
        assert mig.shared or set(mig.per_engine) == {"duckdb", "postgresql"}, mig.name


def test_a_failing_migration_leaves_the_previous_version(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nuanliu.errors import StoreError
    from nuanliu.store import migrate as migrate_module
    from nuanliu.store.migrate import Migration

    with open_store(db_url, migrate=False) as store:
        store.migrate(target=1)
        real = load_migrations()
        broken = Migration(9999, "broken", shared="CREATE TABLE half_done (x INTEGER);\nSELEC 1;")
        monkeypatch.setattr(migrate_module, "load_migrations", lambda: [*real, broken])
        with pytest.raises(StoreError, match="9999_broken") as err:
            store.migrate()
        assert err.value.details == {"version": 9999, "name": "broken"}
        assert store.schema_version() == 1
        with store.read() as q:
            names = q.table_names()
        assert "half_done" not in names and "registry_imports" not in names
