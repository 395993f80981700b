"""CSV bundle: a folder with one ``<kind>.csv`` per element kind and ``network.json``.

``network.json`` holds ``name``, ``meta`` and ``format`` (``nuanliu-network-csv``,
version 1). Floats are written with full (round-trip) precision, NaN as an empty
field; text columns are read as text, so ids such as ``007`` keep their zeros.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.io._common import dumps
from nuanliu.network.model import Network
from nuanliu.network.schema import ELEMENT_KINDS

FORMAT = "nuanliu-network-csv"
VERSION = 1


def _float_text(v: float) -> str:
    # repr is the shortest text that reads back to the same float (pandas' default
    # '%.16g' is not, and '%.17g' prints 0.1 as 0.10000000000000001)
    return "" if math.isnan(v) else repr(v)


def _text_table(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = [_float_text(v) for v in out[col].tolist()]
    return out


def write_csv_bundle(net: Network, folder: str | Path) -> Path:
    """Write ``net`` into ``folder`` (created; existing element files are replaced)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for kind in ELEMENT_KINDS:
        _text_table(net[kind]).to_csv(folder / f"{kind}.csv", index=False)
    info = {"format": FORMAT, "version": VERSION, "name": net.name, "meta": net.meta}
    (folder / "network.json").write_text(dumps(info, indent=2) + "\n", encoding="utf-8")
    return folder


def read_csv_bundle(folder: str | Path) -> Network:
    """Read a CSV bundle folder; a missing ``<kind>.csv`` means no elements of that kind."""
    folder = Path(folder)
    info_path = folder / "network.json"
    if not info_path.is_file():
        raise InvalidInput(f"{folder}: not a network CSV bundle (network.json missing)")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{info_path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if info.get("format", FORMAT) != FORMAT:
        raise InvalidInput(f"{info_path}: format {info.get('format')!r} is not {FORMAT!r}")
    tables: dict[str, pd.DataFrame] = {}
    for kind in ELEMENT_KINDS:
        path = folder / f"{kind}.csv"
        if not path.is_file():
            continue
        try:
            tables[kind] = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        except pd.errors.EmptyDataError:
            continue
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: cannot parse CSV: {exc}") from None
    try:
        return Network.from_tables(
            name=info.get("name", folder.name), meta=info.get("meta") or {}, **tables
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{folder}: {exc.message}", details=exc.details) from None
