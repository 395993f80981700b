"""Export the registry (what a scope sees) as a workbook or CSV files that re-import."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from nuanliu.registry.kinds import KINDS
from nuanliu.registry.repository import list_records
from nuanliu.scope import Scope
from nuanliu.store import Store


def _cell(value: object) -> object:
    # Excel cannot hold timezone-aware times: write UTC ISO text, which import reads back.
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def export_registry(store: Store, path: Path, scope: Scope | None = None) -> dict[str, int]:
    """Write every kind to ``path``: an ``.xlsx`` workbook (one sheet per kind) or, for
    any other path, a folder of ``<kind>.csv`` files. Rows per kind written."""
    scope = scope or Scope.everything()
    records = {name: list_records(store, name, scope) for name in KINDS}
    counts = {name: len(rows) for name, rows in records.items()}
    if path.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        for name, rows in records.items():
            ws = book.create_sheet(name)
            cols = KINDS[name].columns
            ws.append(cols)
            for r in rows:
                ws.append([_cell(getattr(r, c)) for c in cols])
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(path)
        return counts
    path.mkdir(parents=True, exist_ok=True)
    for name, rows in records.items():
        cols = KINDS[name].columns
        with (path / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(cols)
            for r in rows:
                writer.writerow(["" if (v := _cell(getattr(r, c))) is None else v for c in cols])
    return counts
