"""Versioned schema migrations, applied in order and recorded in ``schema_version``.

Files live in ``store/migrations``: ``NNNN_name.sql`` runs on every engine;
``NNNN_name.duckdb.sql`` / ``NNNN_name.postgresql.sql`` run only on that engine. A
version may have a shared file and engine files with the same name: the shared file
runs first. A run applies every pending version, each with its ``schema_version``
row, in one transaction: a failing migration leaves the version from before the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

from nuanliu.errors import StoreError

if TYPE_CHECKING:
    from nuanliu.store.core import Store

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(duckdb|postgresql))?\.sql$")

SCHEMA_VERSION_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL
)
"""


@dataclass
class Migration:
    version: int
    name: str
    shared: str | None = None
    per_engine: dict[str, str] = field(default_factory=dict)

    def sql_for(self, engine: str) -> str:
        parts = [p for p in (self.shared, self.per_engine.get(engine)) if p]
        return "\n".join(parts)


def load_migrations() -> list[Migration]:
    """Every migration shipped in the package, by version; reject ambiguous numbering."""
    found: dict[int, Migration] = {}
    folder = resources.files("nuanliu.store").joinpath("migrations")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE.match(entry.name)
        if not match:
            raise StoreError(
                f"migration file {entry.name!r} is not named NNNN_name[.engine].sql",
                details={"file": entry.name},
            )
        version, name, engine = int(match[1]), match[2], match[3]
        mig = found.setdefault(version, Migration(version, name))
        if mig.name != name:
            raise StoreError(
                f"two migrations share version {version:04d}: {mig.name!r} and {name!r}",
                details={"version": version},
            )
        text = entry.read_text(encoding="utf-8")
        if engine is None:
            mig.shared = text
        else:
            mig.per_engine[engine] = text
    return [found[v] for v in sorted(found)]


def applied_versions(store: Store) -> list[int]:
    """Versions recorded in ``schema_version`` (none on a fresh database)."""
    with store.read() as q:
        if "schema_version" not in q.table_names():
            return []
        return [r[0] for r in q.all("SELECT version FROM schema_version ORDER BY version")]


def current_version(store: Store) -> int:
    versions = applied_versions(store)
    return versions[-1] if versions else 0


def shipped_versions() -> set[int]:
    """The versions shipped in the package, from the file names alone (nothing read)."""
    folder = resources.files("nuanliu.store").joinpath("migrations")
    return {int(m[1]) for e in folder.iterdir() if (m := _FILE.match(e.name))}


def migrate_if_behind(store: Store) -> list[int]:
    """Check the schema version and migrate only when a shipped version is not applied.

    An up-to-date database costs one read (no writer transaction, no lock, no DDL); an
    empty one is created and one that is behind is migrated, exactly as ``migrate``
    would (under the same lock, so concurrent starts still apply each version once).
    """
    if shipped_versions() <= set(applied_versions(store)):
        return []
    return migrate(store)


def migrate(store: Store, *, target: int | None = None) -> list[int]:
    """Apply each pending migration up to ``target`` (all when None); versions applied.

    One transaction for the whole run (one commit instead of one per version: opening
    a fresh PostgreSQL store is markedly faster), so a failing migration leaves the
    database at the version it had before the run.
    """
    applied: list[int] = []
    engine = store.caps.engine
    pending = [m for m in load_migrations() if target is None or m.version <= target]
    with store.write() as w:
        w.engine_lock_for_migration()
        w.script(SCHEMA_VERSION_DDL)
        done = {r[0] for r in w.all("SELECT version FROM schema_version")}
        for mig in pending:
            if mig.version in done:
                continue
            sql = mig.sql_for(engine)
            if sql.strip():
                try:
                    w.script(sql)
                except StoreError as exc:
                    raise StoreError(
                        f"migration {mig.version:04d}_{mig.name} failed on {engine}: {exc.message}",
                        details={"version": mig.version, "name": mig.name},
                    ) from exc
            w.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, now())",
                [mig.version, mig.name],
            )
            applied.append(mig.version)
    return applied
