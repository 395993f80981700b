"""Columnar network file: one Parquet file, one row per element (``*.parquet``).

Layout. Rows are grouped by element kind in schema order; the column ``element`` holds
the singular kind (``junction``, ``pipe``, …, as in GeoJSON), the other columns are the
union of the element tables' columns, null where a kind has no such column. A column
name that two kinds use with different types is stored as ``<kind>.<column>`` for the
later kind. The file metadata key ``nuanliu.network`` holds JSON: ``format``
(``nuanliu-network-parquet``), ``version``, the network ``name`` and ``meta``, and per
kind its first row, row count and ``[stored name, table column, encoding]`` list, so a
reader slices each kind without scanning the ``element`` column and gets the table back
column for column.

Exact round trip: floats are stored as float64 with NaN as NaN (not null, so −0.0,
±inf and NaN come back bit for bit), ``bool`` as boolean, ids and text as UTF-8
strings, columns outside the schema natively when Arrow can type them and otherwise as
one JSON text per value (encoding ``json``). ``meta`` is JSON, as in the other formats
(NaN in meta becomes null).

Why this layout rather than a folder of files or GeoParquet: one file is what users
pass around and what ``read_network`` can recognise by its suffix; one Parquet read
brings every table in at once (multi-threaded, snappy-compressed,
about a fifteenth of the GeoJSON size); DuckDB and pandas read it as it is
(``SELECT * FROM 'city.parquet' WHERE element = 'pipe'``). GeoParquet wants one
geometry column per table and a geometry library to write it, while a network's
geometry follows from its junction coordinates: GIS users get that from the GeoJSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.io._common import jsonable
from nuanliu.network.model import Network
from nuanliu.network.schema import ELEMENT_KINDS, SCHEMA, SINGULAR

FORMAT = "nuanliu-network-parquet"
VERSION = 1
METADATA_KEY = b"nuanliu.network"
ELEMENT_COLUMN = "element"


def _json_text(value: Any) -> str:
    return orjson.dumps(jsonable(value)).decode()


def _to_arrow(kind: str, name: str, s: pd.Series) -> tuple[Any, str]:
    """``s`` as an Arrow array and its encoding (``""`` native, ``"json"``)."""
    import pyarrow as pa

    values = s.to_numpy()
    if s.dtype == np.float64:
        return pa.array(values, type=pa.float64(), from_pandas=False), ""  # NaN stays NaN
    if s.dtype == bool:
        return pa.array(values, type=pa.bool_()), ""
    if s.dtype == object:
        if pd.api.types.infer_dtype(s, skipna=False) == "string":
            try:
                return pa.array(values, type=pa.string()), ""
            except (pa.ArrowInvalid, UnicodeEncodeError) as exc:
                raise InvalidInput(
                    f"{kind}.{name}: text that cannot be stored as UTF-8: {exc}",
                    details=[{"kind": kind, "column": name}],
                ) from None
        return pa.array([_json_text(v) for v in values], type=pa.string()), "json"
    try:
        return pa.Array.from_pandas(s), ""
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([_json_text(v) for v in s.tolist()], type=pa.string()), "json"


def to_arrow(net: Network) -> Any:
    """``net`` as one ``pyarrow.Table`` in the layout above (metadata included)."""
    import pyarrow as pa

    types: dict[str, Any] = {}
    parts: dict[str, list[tuple[int, Any]]] = {}
    layout: dict[str, dict[str, Any]] = {}
    offset = 0
    for kind in ELEMENT_KINDS:
        table = net[kind]
        columns = []
        for col in table.columns:
            name = str(col)
            arr, encoding = _to_arrow(kind, name, table[col])
            stored = name
            if name == ELEMENT_COLUMN or types.get(name, arr.type) != arr.type:
                stored = f"{kind}.{name}"
            types.setdefault(stored, arr.type)
            parts.setdefault(stored, []).append((offset, arr))
            columns.append([stored, name, encoding])
        layout[kind] = {"offset": offset, "rows": len(table), "columns": columns}
        offset += len(table)
    total = offset

    kinds = list(ELEMENT_KINDS)
    counts = np.array([len(net[k]) for k in kinds])
    element = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(len(kinds), dtype=np.int32), counts)),
        pa.array([SINGULAR.get(k, k) for k in kinds]),
    )
    arrays = {ELEMENT_COLUMN: element}
    for stored, chunks in parts.items():
        typ = types[stored]
        pieces, pos = [], 0
        for start, arr in chunks:
            if start > pos:
                pieces.append(pa.nulls(start - pos, typ))
            pieces.append(arr)
            pos = start + len(arr)
        if pos < total:
            pieces.append(pa.nulls(total - pos, typ))
        arrays[stored] = pa.chunked_array(pieces, type=typ)
    info = {
        "format": FORMAT,
        "version": VERSION,
        "name": net.name,
        "meta": jsonable(net.meta),
        "kinds": layout,
    }
    return pa.table(arrays).replace_schema_metadata({METADATA_KEY: orjson.dumps(info)})


def write_parquet(net: Network, path: str | Path) -> Path:
    """Write ``net`` as a Nuanliu network Parquet file."""
    import pyarrow.parquet as pq

    path = Path(path)
    pq.write_table(to_arrow(net), path, compression="snappy")
    return path


def _decode(kind: str, name: str, values: pd.Series, encoding: str) -> pd.Series:
    if encoding == "":
        return values
    if encoding == "json":
        return pd.Series([orjson.loads(v) for v in values.tolist()], dtype=object)
    raise InvalidInput(f"{kind}.{name}: unknown column encoding {encoding!r}")


def from_arrow(table: Any, *, where: str = "Parquet") -> Network:
    """A network from a ``pyarrow.Table`` in the layout above."""
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise InvalidInput(
            f"{where}: not a Nuanliu network Parquet file (no {METADATA_KEY.decode()!r} "
            "metadata; results written by `nuanliu simulate -o` are not a network)"
        )
    info = orjson.loads(raw)
    if info.get("format") != FORMAT or int(info.get("version", 0)) > VERSION:
        raise InvalidInput(
            f"{where}: format {info.get('format')!r} version {info.get('version')!r} is not "
            f"{FORMAT!r} version ≤ {VERSION}"
        )
    tables: dict[str, pd.DataFrame] = {}
    for kind, lay in info["kinds"].items():
        if kind not in SCHEMA:
            raise InvalidInput(
                f"{where}: element kind {kind!r} is not known to this version of Nuanliu "
                f"(known: {', '.join(ELEMENT_KINDS)})"
            )
        stored = [c[0] for c in lay["columns"]]
        part = table.slice(lay["offset"], lay["rows"]).select(stored)
        # deduplicate_objects (the default) shares one str per distinct value, which
        # also makes the later comparisons of ids and choices cheap
        frame = part.to_pandas(use_threads=True)
        tables[kind] = pd.DataFrame(
            {
                name: _decode(kind, name, frame[s].reset_index(drop=True), enc)
                for s, name, enc in lay["columns"]
            }
        )
    try:
        name = info.get("name", "network")
        return Network.from_tables(name=name, meta=info.get("meta"), **tables)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", details=exc.details) from None


def read_parquet(path: str | Path) -> Network:
    """Read a Nuanliu network Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path}: cannot read Parquet: {exc}") from None
    return from_arrow(table, where=str(path))
