"""Import the registry from CSV files and Excel workbooks.

A CSV file holds one kind (named by ``kind``, the file name or its header row); a
workbook holds one kind per sheet, named after the kind (``households`` or ``住户``).
Every row is checked on its own: valid rows are stored (re-import updates them),
invalid rows are reported as ``{file, sheet, row, column, problem}`` with the row
number people see in Excel (the header is row 1). A row that refers to a parent which
is neither stored nor valid in the same import is invalid.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nuanliu.errors import InvalidInput
from nuanliu.registry.kinds import KINDS, Kind, column_for, guess_kind, kind_named
from nuanliu.registry.models import RegistryModel
from nuanliu.registry.repository import (
    existing_ids,
    region_level_problems,
    to_arrow,
    upsert_table,
    validate_rows,
)
from nuanliu.store import Store


@dataclass
class Sheet:
    """Rows of one kind read from one file or sheet, with their spreadsheet row numbers."""

    file: str
    sheet: str | None
    kind: Kind
    rows: list[tuple[int, dict[str, Any]]]
    unknown_columns: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    source: str
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def stored(self) -> int:
        return sum(self.inserted.values()) + sum(self.updated.values())

    @property
    def refused_rows(self) -> int:
        return len({(e["file"], e["sheet"], e["row"]) for e in self.errors})

    def to_error(self) -> InvalidInput:
        """The row-level problems as one ``InvalidInput`` (for callers that must raise)."""
        return InvalidInput(
            f"{self.refused_rows} row(s) of {self.source} refused; {self.stored} stored",
            details=self.errors,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "inserted": self.inserted,
            "updated": self.updated,
            "stored": self.stored,
            "refused_rows": self.refused_rows,
            "errors": self.errors,
            "warnings": self.warnings,
        }


# ------------------------------------------------------------------------ reading


def _decode(data: bytes, file: str) -> str:
    # Excel on Chinese Windows saves CSV as GB18030 (GBK); everything else is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{file} is neither UTF-8 nor GB18030 text", details=[{"file": file}])


def _header(cells: list[Any]) -> list[str | None]:
    return [column_for(c) for c in cells]


def _sheet_from_rows(
    file: str, sheet: str | None, rows: Iterator[list[Any]], kind: Kind | None
) -> Sheet | None:
    header: list[str | None] | None = None
    header_row = 0
    body: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(rows, start=1):
        if header is None:
            if all(c is None or str(c).strip() == "" for c in cells):
                continue  # blank lines above the header
            header, header_row = _header(list(cells)), number
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        record = {h: v for h, v in zip(header, cells, strict=False) if h}
        body.append((number, record))
    if header is None:
        return None
    columns = {h for h in header if h}
    spec = kind or guess_kind(columns)
    where = f"{file}" + (f" sheet {sheet}" if sheet else "")
    if spec is None:
        raise InvalidInput(
            f"cannot tell which registry kind {where} holds; name it with --kind",
            details=[
                {
                    "file": file,
                    "sheet": sheet,
                    "row": header_row,
                    "column": None,
                    "problem": "unknown kind",
                }
            ],
        )
    known = set(spec.columns)
    unknown = sorted(c for c in columns if c not in known)
    return Sheet(file, sheet, spec, body, unknown)


def _read_csv(data: bytes, file: str, kind: Kind | None) -> list[Sheet]:
    text = _decode(data, file)
    if kind is None:
        stem = Path(file).stem.lower()
        try:
            kind = kind_named(stem)
        except KeyError:
            kind = None
    # newline="" lets the csv module handle \r, \n and \r\n line ends itself.
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        sheet = _sheet_from_rows(file, None, reader, kind)
    except csv.Error as exc:
        raise InvalidInput(
            f"{file} line {reader.line_num}: malformed CSV ({exc})",
            details=[{"file": file, "row": reader.line_num, "problem": str(exc)}],
        ) from exc
    return [sheet] if sheet else []


def _read_xlsx(data: bytes, file: str, kind: Kind | None) -> list[Sheet]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise InvalidInput(f"{file} is not a readable .xlsx workbook: {exc}") from exc
    sheets: list[Sheet] = []
    try:
        for ws in book.worksheets:
            spec = kind
            if spec is None:
                try:
                    spec = kind_named(ws.title)
                except KeyError:
                    spec = None
            rows = (list(r) for r in ws.iter_rows(values_only=True))
            sheet = _sheet_from_rows(file, ws.title, rows, spec)
            if sheet:
                sheets.append(sheet)
    finally:
        book.close()
    return sheets


def read_sheets(data: bytes, file: str, kind: Kind | None = None) -> list[Sheet]:
    """Parse one CSV or XLSX payload into sheets of rows."""
    if data[:2] == b"PK" or file.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(data, file, kind)
    return _read_csv(data, file, kind)


# ------------------------------------------------------------------------ storing


def _error(sheet: Sheet, row: int, column: str | None, problem: str) -> dict[str, Any]:
    return {
        "file": sheet.file,
        "sheet": sheet.sheet,
        "row": row,
        "column": column,
        "problem": problem,
    }


def import_registry(
    store: Store,
    path_or_bytes: str | Path | bytes | list[str | Path],
    kind: str | None = None,
    *,
    filename: str | None = None,
) -> ImportReport:
    """Import one or more CSV/XLSX files (paths, or bytes with ``filename``).

    Returns the report; row problems are in ``report.errors`` (``report.to_error()``
    turns them into an ``InvalidInput``). Unreadable files raise ``InvalidInput``.
    """
    spec = None
    if kind is not None:
        try:
            spec = kind_named(kind)
        except KeyError as exc:
            raise InvalidInput(
                f"unknown registry kind {kind!r}; one of {', '.join(KINDS)}"
            ) from exc
    sources: list[tuple[str, bytes]] = []
    items = path_or_bytes if isinstance(path_or_bytes, list) else [path_or_bytes]
    for item in items:
        if isinstance(item, bytes | bytearray):
            sources.append((filename or "upload", bytes(item)))
        else:
            path = Path(item)
            if not path.is_file():
                raise InvalidInput(
                    f"registry file {path} does not exist",
                    details=[{"file": str(path), "problem": "not found"}],
                )
            sources.append((path.name, path.read_bytes()))
    sheets = [s for name, data in sources for s in read_sheets(data, name, spec)]
    report = ImportReport(source=", ".join(name for name, _ in sources))
    for sheet in sheets:
        if sheet.unknown_columns:
            where = sheet.file + (f" sheet {sheet.sheet}" if sheet.sheet else "")
            report.warnings.append(f"{where}: ignored column(s) {', '.join(sheet.unknown_columns)}")
    _store_sheets(store, sheets, report)
    return report


def _store_sheets(store: Store, sheets: list[Sheet], report: ImportReport) -> None:
    by_kind: dict[str, list[Sheet]] = {}
    for sheet in sheets:
        by_kind.setdefault(sheet.kind.name, []).append(sheet)
    valid_ids: dict[str, set[str]] = {}
    with store.write() as w:
        for name, spec in KINDS.items():  # parents first
            good: dict[str, RegistryModel] = {}
            located: dict[str, tuple[Sheet, int]] = {}
            for sheet in by_kind.get(name, []):
                for row, record in sheet.rows:
                    _validate_one(spec, sheet, row, record, good, located, report)
            _check_parents(w, spec, good, located, valid_ids, report)
            if name == "regions":
                for key, problem in region_level_problems(w, good).items():
                    sheet, row = located[key]
                    report.errors.append(_error(sheet, row, "parent_id", problem))
                    del good[key]
            valid_ids[name] = set(good)
            if good:
                counts = upsert_table(w, spec, to_arrow(spec, list(good.values())))
                report.inserted[name] = counts.inserted
                report.updated[name] = counts.updated
        w.execute(
            "INSERT INTO registry_imports (imported_at, source, kinds, stored, refused)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                dt.datetime.now(dt.UTC),
                report.source[:500],
                ",".join(sorted(by_kind)),
                report.stored,
                report.refused_rows,
            ],
        )


def _validate_one(
    spec: Kind,
    sheet: Sheet,
    row: int,
    record: dict[str, Any],
    good: dict[str, RegistryModel],
    located: dict[str, tuple[Sheet, int]],
    report: ImportReport,
) -> None:
    models, errors = validate_rows(spec, [record])
    for err in errors:
        report.errors.append(_error(sheet, row, err["column"], err["problem"]))
    if not models:
        return
    model = models[0]
    key = getattr(model, spec.key)
    if key in located:
        first_sheet, first_row = located[key]
        report.errors.append(
            _error(
                sheet,
                row,
                spec.key,
                f"{key} already given in row {first_row}"
                + (f" of {first_sheet.file}" if first_sheet is not sheet else ""),
            )
        )
        return
    good[key] = model
    located[key] = (sheet, row)


def _check_parents(
    w: Any,
    spec: Kind,
    good: dict[str, RegistryModel],
    located: dict[str, tuple[Sheet, int]],
    valid_ids: dict[str, set[str]],
    report: ImportReport,
) -> None:
    """Drop rows whose parent is unknown (repeat for regions, which refer to regions)."""
    while True:
        bad: dict[str, tuple[str, str]] = {}
        for column, parent_kind in spec.parents:
            parent = KINDS[parent_kind]
            refs = {getattr(m, column) for m in good.values()} - {None}
            in_import = set(good) if parent is spec else valid_ids.get(parent_kind, set())
            missing = refs - in_import
            known = in_import | existing_ids(w, parent, missing)
            for key, model in good.items():
                ref = getattr(model, column)
                if ref is not None and ref not in known and key not in bad:
                    bad[key] = (column, f"unknown {parent.key} {ref}")
        if not bad:
            return
        for key, (column, problem) in bad.items():
            sheet, row = located[key]
            report.errors.append(_error(sheet, row, column, problem))
            del good[key]
