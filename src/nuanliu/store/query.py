"""The query surface readers and the writer share: SQL written once with ``?``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from nuanliu.store.engine import Capabilities, Engine

if TYPE_CHECKING:
    import pandas as pd


class Query:
    """Reader queries on one connection; ``Store.read()`` hands one out."""

    def __init__(self, engine: Engine, conn: Any) -> None:
        self._engine = engine
        self._conn = conn

    @property
    def caps(self) -> Capabilities:
        return self._engine.caps

    def all(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row as a tuple."""
        return self._engine.fetch(self._conn, sql, params)[1]

    def one(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """The first row, or None when there is none."""
        rows = self.all(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return row[0] if row else None

    def dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Every row as a dict keyed by column name."""
        cols, rows = self._engine.fetch(self._conn, sql, params)
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self._engine.fetch_df(self._conn, sql, params)

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        return self._engine.fetch_arrow(self._conn, sql, params)

    def table_names(self) -> list[str]:
        """Tables and views in the store's schema."""
        return self._engine.table_names(self._conn)


class Writer(Query):
    """The single writer inside one transaction; ``Store.write()`` hands it out."""

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        """Run one statement; rows changed (-1 when the engine does not say)."""
        return self._engine.execute(self._conn, sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._engine.executemany(self._conn, sql, rows)

    def append_arrow(self, table_name: str, tbl: pa.Table) -> int:
        """Bulk-append ``tbl`` (columns matched by name) to ``table_name``."""
        return self._engine.append_arrow(self._conn, table_name, tbl)

    def upsert(
        self, table: str, columns: Sequence[str], key: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows, replacing non-key columns of rows whose key exists."""
        self.executemany(self.caps.upsert_sql(table, columns, key), rows)

    def upsert_arrow(self, table: str, tbl: pa.Table, key: Sequence[str]) -> None:
        """Bulk upsert: rows of ``tbl`` (unique keys) inserted or replacing stored ones."""
        self._engine.upsert_arrow(self._conn, table, tbl, key)

    def script(self, sql: str) -> None:
        """Run several statements without parameters (migrations)."""
        self._engine.execute(self._conn, sql, None)

    def engine_lock_for_migration(self) -> None:
        """Serialise migrations across processes (PostgreSQL advisory lock)."""
        self._engine.lock_for_migration(self._conn)

    def _insert_new_readings(self, batch: pa.Table) -> pa.Table:
        return self._engine.insert_new_readings(self._conn, batch)
