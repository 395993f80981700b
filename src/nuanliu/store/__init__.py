"""Persistence: one schema, two engines (DuckDB embedded, PostgreSQL server).

See docs/interfaces.md §3 for the contract and docs/store.md for the design.
"""

from nuanliu.store.core import ReadingsHook, Store, open_store
from nuanliu.store.dead_letters import DeadLetter
from nuanliu.store.engine import READINGS_BATCH_SCHEMA, Capabilities
from nuanliu.store.query import Query, Writer
from nuanliu.store.readings import InsertReport, QuarantineRow

__all__ = [
    "READINGS_BATCH_SCHEMA",
    "Capabilities",
    "DeadLetter",
    "InsertReport",
    "QuarantineRow",
    "Query",
    "ReadingsHook",
    "Store",
    "Writer",
    "open_store",
]
