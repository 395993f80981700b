"""``Store``: one writer guarded by a lock, many concurrent readers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import Literal

import pyarrow as pa

from nuanliu.store import dead_letters as _dl
from nuanliu.store.dead_letters import DeadLetter
from nuanliu.store.engine import Capabilities, Engine, create_engine
from nuanliu.store.query import Query, Writer
from nuanliu.store.readings import InsertReport, QuarantineRow, insert_quarantine, insert_readings
from nuanliu.store.url import StoreUrl, parse_url

ReadingsHook = Callable[[Writer, pa.Table], None]


class Store:
    """The database behind the platform, on DuckDB or PostgreSQL.

    Thread-safe: ``read()`` gives each caller its own connection (DuckDB cursor or
    pooled PostgreSQL connection); ``write()`` serialises writers on a process-wide
    lock and runs the block as one transaction (commit on success, rollback on error).
    """

    def __init__(self, url: StoreUrl, engine: Engine) -> None:
        self.url = url
        self._engine = engine
        self._write_lock = engine.write_lock
        self._local = threading.local()  # the open Writer of this thread, if any
        self._readings_hooks: list[ReadingsHook] = []
        self._closed = False

    @property
    def caps(self) -> Capabilities:
        return self._engine.caps

    @property
    def engine(self) -> Engine:
        return self._engine

    # ----------------------------------------------------------------- access

    @contextmanager
    def read(self) -> Iterator[Query]:
        conn = self._engine.acquire_reader()
        try:
            yield Query(self._engine, conn)
        finally:
            self._engine.release_reader(conn)

    @contextmanager
    def write(self) -> Iterator[Writer]:
        """The writer in a transaction. Nested in the same thread, it joins the outer
        transaction (so a function that writes can be called from a hook or a block)."""
        with self._write_lock:
            outer = getattr(self._local, "writer", None)
            if outer is not None:
                yield outer
                return
            conn = self._engine.writer()
            self._engine.begin(conn)
            writer = Writer(self._engine, conn)
            self._local.writer = writer
            try:
                yield writer
            except BaseException:
                self._local.writer = None
                self._engine.rollback(conn)
                raise
            self._local.writer = None
            self._engine.commit(conn)

    # ------------------------------------------------------------- readings

    def add_readings_hook(self, fn: ReadingsHook) -> None:
        """Call ``fn(w, new_rows)`` inside every readings insert with only the new rows."""
        if fn not in self._readings_hooks:
            self._readings_hooks.append(fn)

    def remove_readings_hook(self, fn: ReadingsHook) -> None:
        if fn in self._readings_hooks:
            self._readings_hooks.remove(fn)

    @property
    def readings_hooks(self) -> tuple[ReadingsHook, ...]:
        return tuple(self._readings_hooks)

    def insert_readings(self, tbl: pa.Table) -> InsertReport:
        """Store new readings idempotently on (sensor_id, ts); see ``store.readings``."""
        return insert_readings(self, tbl)

    def insert_quarantine(self, rows: Sequence[QuarantineRow]) -> int:
        """Keep refused rows with their source and reason; rows stored."""
        return insert_quarantine(self, rows)

    def write_batch(
        self,
        readings: pa.Table | None,
        quarantine: Sequence[QuarantineRow] = (),
        dead_letters: Sequence[DeadLetter] = (),
    ) -> InsertReport:
        """Readings (with their hooks), quarantine rows and dead letters in ONE transaction.

        Either all of it is committed or nothing is (the error propagates), so a caller
        that acknowledges its input only after this returns never leaves stored readings
        behind an unacknowledged message, nor acknowledges one whose quarantine was lost.
        """
        with self.write():
            if readings is not None and readings.num_rows:
                report = insert_readings(self, readings)
            else:
                report = InsertReport(inserted=0, duplicates=0)
            insert_quarantine(self, quarantine)
            ids = _dl.insert_dead_letters(self, dead_letters)
        return InsertReport(report.inserted, report.duplicates, tuple(ids))

    # ---------------------------------------------------------- dead letters

    def insert_dead_letters(self, letters: Sequence[DeadLetter]) -> list[int]:
        """Keep inputs whose processing raised, payload bytes exactly; their ids."""
        return _dl.insert_dead_letters(self, letters)

    def list_dead_letters(self, **filters: object) -> list[DeadLetter]:
        """Dead letters oldest first; filters as ``store.dead_letters.list_dead_letters``."""
        return _dl.list_dead_letters(self, **filters)  # type: ignore[arg-type]

    def mark_dead_letter_replayed(self, dead_letter_id: int, result: dict[str, object]) -> bool:
        """A replay succeeded: ``result`` is its report (joins the caller's transaction).
        False if the letter was no longer pending (roll back: another replay won)."""
        return _dl.mark_replayed(self, dead_letter_id, result)

    def record_dead_letter_failure(
        self, dead_letter_id: int, error_type: str, error_message: str, traceback: str | None
    ) -> None:
        """A replay raised again: the letter stays, with the new error."""
        _dl.record_failed_replay(self, dead_letter_id, error_type, error_message, traceback)

    # ------------------------------------------------------------ migrations

    def migrate(self, target: int | None = None) -> list[int]:
        """Apply pending migrations (up to ``target``); the versions applied."""
        from nuanliu.store.migrate import migrate

        return migrate(self, target=target)

    def schema_version(self) -> int:
        from nuanliu.store.migrate import current_version

        return current_version(self)

    # ------------------------------------------------------------- lifecycle

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._engine.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url.redacted()!r})"


def open_store(
    url: str, *, migrate: bool | Literal["check"] = "check", read_only: bool = False
) -> Store:
    """Open the store at ``url`` and, unless told not to, bring its schema up to date.

    ``migrate=True`` runs the migrations (each pending version applied, under the
    migration lock); ``"check"`` (the default) first reads the schema version and
    migrates only when the database is empty or behind, so opening a current store
    costs one query and needs no DDL right (the production application role has none:
    docs/deploy.md); ``False`` opens as is.
    ``read_only`` (DuckDB only) opens the file without taking the writer lock, e.g. to
    inspect a database another process is serving.
    """
    parsed = parse_url(url)
    store = Store(parsed, create_engine(parsed, read_only=read_only))
    if migrate and not read_only:
        try:
            if migrate == "check":
                from nuanliu.store.migrate import migrate_if_behind

                migrate_if_behind(store)
            else:
                store.migrate()
        except BaseException:
            store.close()
            raise
    return store
