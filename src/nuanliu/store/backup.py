"""Backups that restore: a consistent snapshot of the whole store plus a manifest.

- DuckDB: ``EXPORT DATABASE`` (Parquet) inside one read transaction of the process
  that holds the file, so the platform keeps ingesting while the snapshot is taken
  (DuckDB lets no second process open a file being written: a running platform backs
  itself up through its scheduler's ``db_backup`` job); restore = ``IMPORT DATABASE``
  into a new file.
- PostgreSQL: ``pg_dump --format=custom`` of the store's schema, run on a snapshot
  exported by a repeatable-read transaction that also counts the rows, so manifest and
  dump describe the same instant; restore = ``pg_restore``. For production, WAL
  archiving and point-in-time recovery (docs/deploy.md) shrink the recovery point from
  "last dump" to seconds.

The manifest (``manifest.json``) records the engine, schema version, the snapshot
instant (the recovery point: everything committed before it is in the backup) and the
row counts a restore is checked against.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nuanliu.errors import Conflict, InvalidInput, StoreError

MANIFEST = "manifest.json"
DUCKDB_DIR = "export"
PG_DUMP_FILE = "store.dump"
# Tables whose row counts the manifest keeps (and a restore is checked against).
COUNTED = ("readings", "quarantine", "dead_letters", "sensors", "households", "users")


@dataclass(frozen=True)
class BackupInfo:
    engine: str
    method: str
    schema: str | None
    schema_version: int
    snapshot_at: datetime  # recovery point: commits before it are in the backup
    counts: dict[str, int] = field(default_factory=dict)
    newest_reading_ts: datetime | None = None

    def to_json(self) -> str:
        rec = asdict(self)
        for key in ("snapshot_at", "newest_reading_ts"):
            rec[key] = rec[key].isoformat() if rec[key] is not None else None
        return json.dumps(rec, indent=2, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> BackupInfo:
        rec = json.loads(text)
        for key in ("snapshot_at", "newest_reading_ts"):
            if rec.get(key):
                rec[key] = datetime.fromisoformat(rec[key])
        return cls(**rec)


def read_manifest(path: Path) -> BackupInfo:
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise InvalidInput(f"{path} is not a Nuanliu backup: no {MANIFEST}")
    return BackupInfo.from_json(file.read_text(encoding="utf-8"))


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _snapshot_facts(
    engine: Any, conn: Any, tables: list[str]
) -> tuple[datetime, dict[str, int], Any]:
    """Inside the snapshot transaction: its instant, the row counts, the newest reading."""
    _, rows = engine.fetch(conn, "SELECT now()")
    at = _utc(rows[0][0])
    counts = {}
    for name in COUNTED:
        if name in tables:
            counts[name] = int(engine.fetch(conn, f"SELECT count(*) FROM {name}")[1][0][0])
    newest = (
        engine.fetch(conn, "SELECT max(ts) FROM readings")[1][0][0]
        if "readings" in tables
        else None
    )
    assert at is not None
    return at, counts, _utc(newest)


def _prepare_dest(dest: Path) -> Path:
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(f"backup destination {dest} exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    return dest


def backup_store(store: Any, dest: Path) -> BackupInfo:
    """Write a consistent snapshot of ``store`` into the new directory ``dest``."""
    dest = _prepare_dest(dest)
    version = store.schema_version()
    method = store.caps.backup
    if method == "export-database":
        info = _duckdb_backup(store, dest, version)
    elif method == "pg_dump":
        info = _pg_backup(store, dest, version)
    else:  # pragma: no cover - every engine declares its method
        raise StoreError(f"no backup method for engine {store.caps.engine}")
    (dest / MANIFEST).write_text(info.to_json(), encoding="utf-8")
    return info


def _duckdb_backup(store: Any, dest: Path, version: int) -> BackupInfo:
    engine = store.engine
    conn = engine.acquire_reader()
    try:
        tables = engine.table_names(conn)
        engine.begin(conn)
        try:
            at, counts, newest = _snapshot_facts(engine, conn, tables)
            target = str(dest / DUCKDB_DIR).replace("'", "''")
            engine.execute(conn, f"EXPORT DATABASE '{target}' (FORMAT parquet)")
        finally:
            engine.rollback(conn)  # read-only transaction: nothing to keep
    finally:
        engine.release_reader(conn)
    return BackupInfo("duckdb", "export-database", None, version, at, counts, newest)


def _pg_tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        raise StoreError(f"{name} is not installed (apt-get install postgresql-client)")
    return exe


def _pg_backup(store: Any, dest: Path, version: int) -> BackupInfo:
    import psycopg

    url = store.url
    with psycopg.connect(url.conninfo, autocommit=False, options="-c TimeZone=UTC") as conn:
        # One repeatable-read snapshot for the counts and, exported, for pg_dump.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        schema = url.schema or conn.execute("SELECT current_schema()").fetchone()[0]
        conn.execute(f'SET LOCAL search_path TO "{schema}"')
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [schema],
            ).fetchall()
        ]
        facts = _pg_facts(conn, tables)
        # pg_dump reads the very snapshot the counts were taken in (kept open meanwhile).
        cmd = [
            _pg_tool("pg_dump"),
            "--format=custom",
            f"--schema={schema}",
            f"--snapshot={snapshot}",
            "--no-owner",
            f"--file={dest / PG_DUMP_FILE}",
            f"--dbname={url.conninfo}",
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        conn.rollback()
    if done.returncode != 0:
        raise StoreError(f"pg_dump failed: {done.stderr.strip()}")
    at, counts, newest = facts
    return BackupInfo("postgresql", "pg_dump", schema, version, at, counts, newest)


def _pg_facts(conn: Any, tables: list[str]) -> tuple[datetime, dict[str, int], datetime | None]:
    at = _utc(conn.execute("SELECT now()").fetchone()[0])
    counts = {
        name: int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
        for name in COUNTED
        if name in tables
    }
    newest = (
        conn.execute("SELECT max(ts) FROM readings").fetchone()[0] if "readings" in tables else None
    )
    assert at is not None
    return at, counts, _utc(newest)


# ------------------------------------------------------------------- restore


def restore_backup(src: Path, url: str, *, force: bool = False) -> BackupInfo:
    """Restore the backup in ``src`` into the (empty) database at ``url``.

    A non-empty target is refused unless ``force``; then it is kept aside (the DuckDB
    file renamed, the PostgreSQL schema renamed), never deleted. The restored store is
    migrated to the current schema and its row counts checked against the manifest.
    """
    from nuanliu.store import open_store
    from nuanliu.store.url import parse_url

    info = read_manifest(src)
    target = parse_url(url)
    if target.engine != info.engine:
        raise InvalidInput(
            f"backup {src} is from {info.engine}; restore it into a {info.engine} URL, "
            f"not {target.engine}"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if info.method == "export-database":
        _duckdb_restore(Path(src) / DUCKDB_DIR, target.path, force=force, stamp=stamp)
    else:
        _pg_restore(Path(src) / PG_DUMP_FILE, target, info, force=force, stamp=stamp)
    with open_store(url) as store, store.read() as q:
        tables = q.table_names()
        restored = {
            n: int(q.scalar(f"SELECT count(*) FROM {n}")) for n in info.counts if n in tables
        }
    if restored != info.counts:
        raise StoreError(
            f"restore of {src} is incomplete: manifest counts {info.counts}, restored {restored}"
        )
    return info


def _duckdb_restore(export_dir: Path, path: str, *, force: bool, stamp: str) -> None:
    import duckdb

    if path == ":memory:":
        raise InvalidInput("restore into a DuckDB file, not :memory:")
    file = Path(path)
    if file.exists():
        if not force:
            raise Conflict(f"{file} exists; restore into a new file or pass --force")
        file.rename(file.with_name(f"{file.name}.before-restore-{stamp}"))
        wal = file.with_name(file.name + ".wal")
        if wal.exists():
            wal.rename(wal.with_name(f"{wal.name}.before-restore-{stamp}"))
    file.parent.mkdir(parents=True, exist_ok=True)
    literal = str(export_dir).replace("'", "''")
    conn = duckdb.connect(str(file))
    try:
        conn.execute(f"IMPORT DATABASE '{literal}'")
        conn.execute("CHECKPOINT")
    except duckdb.Error as exc:
        raise StoreError(f"DuckDB could not import {export_dir}: {exc}") from exc
    finally:
        conn.close()


def _pg_restore(dump: Path, target: Any, info: BackupInfo, *, force: bool, stamp: str) -> None:
    import psycopg

    schema = target.schema or info.schema or "public"
    if info.schema and schema != info.schema:
        raise InvalidInput(
            f"the dump holds schema {info.schema!r}; restore it into ?schema={info.schema}"
        )
    with psycopg.connect(target.conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", [schema]
        ).fetchone()[0]
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", [schema]
        ).fetchone()[0]
        if tables and not force:
            raise Conflict(f"schema {schema!r} is not empty; restore into an empty one or --force")
        if tables:  # kept aside; creating the schema again needs CREATE on the database
            conn.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{schema}_before_restore_{stamp}"')
            exists = 0
    restore = [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error"]
    if exists:
        # An empty schema made by deploy/postgresql/roles.sql (owner, grants) is kept:
        # everything of the dump but its CREATE SCHEMA goes into it, so the owner role
        # (which may not create schemas) can restore.
        listing = subprocess.run(
            [restore[0], "--list", str(dump)], capture_output=True, text=True, check=False
        )
        if listing.returncode != 0:
            raise StoreError(f"pg_restore --list failed: {listing.stderr.strip()}")
        entries = "".join(
            (";" + line if re.match(r"^\d+; \d+ \d+ SCHEMA - ", line) else line) + "\n"
            for line in listing.stdout.splitlines()
        )
        list_file = dump.with_name(f"restore-{stamp}.list")
        list_file.write_text(entries)
        restore.append(f"--use-list={list_file}")
    cmd = [*restore, f"--dbname={target.conninfo}", str(dump)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=_pg_env())
    if done.returncode != 0:
        raise StoreError(f"pg_restore failed: {done.stderr.strip()}")


def _pg_env() -> dict[str, str]:
    return {**os.environ, "PGOPTIONS": "-c TimeZone=UTC"}


# ----------------------------------------------------------- scheduled backup


def backup_job(store: Any, *, now: datetime) -> dict[str, Any]:
    """Scheduled snapshot into ``NUANLIU_BACKUP_DIR`` keeping ``NUANLIU_BACKUP_KEEP``.

    With DuckDB this runs inside the serving process (the only one that may open the
    file), so it is how a running embedded platform is backed up.
    """
    from nuanliu.config import load_settings

    settings = load_settings()
    if not settings.backup_dir:
        return {"skipped": "NUANLIU_BACKUP_DIR is not set"}
    root = Path(settings.backup_dir)
    dest = root / f"nuanliu-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    info = backup_store(store, dest)
    kept = sorted(p for p in root.glob("nuanliu-*") if (p / MANIFEST).is_file())
    removed = []
    for old in kept[: max(0, len(kept) - settings.backup_keep)]:
        shutil.rmtree(old)
        removed.append(old.name)
    return {
        "path": str(dest),
        "recovery_point": info.snapshot_at.isoformat(),
        "counts": info.counts,
        "removed": removed,
    }
