"""GeoJSON FeatureCollection.

One feature per element. Properties are the element's table columns plus ``element``
(the singular kind: ``junction``, ``pipe``, …). Geometry: junctions are Points;
pipes, pumps and valves LineStrings from their from- to their to-junction; sources,
consumers and stations Points at their (primary) supply junction; a kind added to the
schema later gets a LineString if it has ``from_junction_id``/``to_junction_id``, a
Point at its first junction reference otherwise, no geometry without one. Geometry is
null where coordinates are unknown. The collection's top-level ``properties`` hold the
network ``name`` and ``meta``; ``crs`` follows ``meta["crs"]`` (GeoJSON proper is
EPSG:4326; other systems are written as-is for GIS tools that accept them).

Reading takes values from the properties; a junction without ``x``/``y`` properties
takes them from its Point geometry, so features drawn in a GIS tool can be imported.
NaN is written as ``null``, so writing and reading back is exact.

Speed: files are parsed with orjson (the standard library's parser as a fallback
for what orjson refuses, e.g. ``NaN`` literals) with the garbage collector paused, and
the features are turned into the element tables one column at a time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.io._common import jsonable, paused_gc
from nuanliu.network.model import Network
from nuanliu.network.schema import ELEMENT_KINDS, SCHEMA, SINGULAR

#: kind → (junction column of the first point, junction column of the second or None)
_GEOMETRY: dict[str, tuple[str, str | None]] = {
    "junctions": ("junction_id", None),
    "sources": ("supply_junction_id", None),
    "pumps": ("from_junction_id", "to_junction_id"),
    "pipes": ("from_junction_id", "to_junction_id"),
    "valves": ("from_junction_id", "to_junction_id"),
    "stations": ("primary_supply_junction_id", None),
    "consumers": ("supply_junction_id", None),
    "controls": ("", None),  # control loops have no place: null geometry
}


def _geometry_columns(kind: str) -> tuple[str, str | None] | None:
    """Junction columns that place an element of ``kind``; None: no geometry."""
    if kind in _GEOMETRY:
        first, second = _GEOMETRY[kind]
        return (first, second) if first else None  # ("", None): deliberately no place
    refs = [c.name for c in SCHEMA[kind] if c.ref == "junctions"]
    if "from_junction_id" in refs and "to_junction_id" in refs:
        return ("from_junction_id", "to_junction_id")
    return (refs[0], None) if refs else None


def _singular(kind: str) -> str:
    return SINGULAR.get(kind, kind)


# -- writing ------------------------------------------------------------------------------


def _columns(kind: str, table: pd.DataFrame) -> tuple[list[str], list[list[Any]]]:
    """Column names and values as plain Python lists, NaN → None."""
    names = [str(c) for c in table.columns]
    columns = []
    for name, c in zip(names, table.columns, strict=True):
        s = table[c]
        if s.dtype.kind == "f":
            arr = s.to_numpy()
            if np.isinf(arr).any():
                raise InvalidInput(
                    f"{kind}.{name}: infinite values cannot be written to GeoJSON",
                    details=[{"kind": kind, "column": name}],
                )
            values = [None if v != v else v for v in s.tolist()]  # v != v only for NaN
        else:
            values = s.tolist()
        columns.append(values)
    return names, columns


def _geometries(a: np.ndarray, b: np.ndarray | None) -> list[dict[str, Any] | None]:
    if b is None:
        ok = ~np.isnan(a).any(axis=1)
        pts = a.tolist()
        return [
            {"type": "Point", "coordinates": p} if k else None
            for p, k in zip(pts, ok.tolist(), strict=True)
        ]
    ok = ~(np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1))
    return [
        {"type": "LineString", "coordinates": [p, q]} if k else None
        for p, q, k in zip(a.tolist(), b.tolist(), ok.tolist(), strict=True)
    ]


def to_geojson(net: Network) -> dict[str, Any]:
    """``net`` as a GeoJSON FeatureCollection (a dict)."""
    xy = net.junction_xy()
    xy = xy[~xy.index.duplicated()]
    features: list[dict[str, Any]] = []
    for kind in ELEMENT_KINDS:
        table = net[kind]
        if table.empty:
            continue
        names, columns = _columns(kind, table)
        cols = _geometry_columns(kind)
        if cols is None:
            geoms: list[Any] = [None] * len(table)
        else:
            a = xy.reindex(table[cols[0]]).to_numpy(dtype=float)
            b = xy.reindex(table[cols[1]]).to_numpy(dtype=float) if cols[1] else None
            geoms = _geometries(a, b)
        names = ["element", *names]
        singular = _singular(kind)
        features.extend(
            {
                "type": "Feature",
                "geometry": g,
                "properties": dict(zip(names, (singular, *row), strict=True)),
            }
            for g, row in zip(geoms, zip(*columns, strict=True), strict=True)
        )
    out: dict[str, Any] = {
        "type": "FeatureCollection",
        "properties": {"name": net.name, "meta": net.meta},
        "features": features,
    }
    if "crs" in net.meta:
        out["crs"] = {"type": "name", "properties": {"name": str(net.meta["crs"])}}
    return out


def write_geojson(net: Network, path: str | Path) -> Path:
    path = Path(path)
    doc = to_geojson(net)
    # features hold plain Python values already; only meta needs the numpy/NaN clean-up
    doc["properties"] = jsonable(doc["properties"])
    try:
        data = orjson.dumps(doc)
    except TypeError:  # e.g. an integer beyond 64 bits in meta: the slow, general path
        data = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    path.write_bytes(data)
    return path


# -- reading ------------------------------------------------------------------------------


def _float_column(values: list[Any]) -> pd.Series | list[Any]:
    try:
        # None → NaN, numbers as they are, text parsed by float() (as Network.from_tables
        # does); other odd values are left to from_tables, which names the bad one
        return pd.Series(np.array(values, dtype=np.float64))
    except (TypeError, ValueError):
        return values


def _bool_column(values: list[Any]) -> pd.Series | list[Any]:
    try:
        arr = np.array(values)
    except ValueError:  # ragged nested lists
        return values
    return pd.Series(arr) if arr.dtype == bool and arr.ndim == 1 else values


def _column(dtype: str | None, values: list[Any]) -> Any:
    if dtype == "float":
        return _float_column(values)
    if dtype == "bool":
        return _bool_column(values)
    if dtype == "str":
        arr = np.array(values, dtype=object)  # 7× faster than pd.Series(values, dtype=object)
        return pd.Series(arr) if arr.ndim == 1 else pd.Series(values, dtype=object)
    return values  # a column outside the schema: pandas infers its dtype


def _column_names(rows: list[dict[str, Any]]) -> list[str]:
    """Every property name in order of first appearance, without ``element``."""
    names = dict.fromkeys(rows[0])
    if len(set().union(*rows)) > len(names):  # rows differ: look at each one
        for row in rows:
            names.update(dict.fromkeys(row))
    names.pop("element", None)
    return list(names)


def _point_xy(feat: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    geom = feat.get("geometry") or {}
    coords = geom.get("coordinates") if isinstance(geom, dict) else None
    if geom.get("type") == "Point" and isinstance(coords, list) and len(coords) >= 2:
        props = dict(props)
        props.setdefault("x", coords[0])
        props.setdefault("y", coords[1])
    return props


def from_geojson(doc: dict[str, Any], *, where: str = "GeoJSON") -> Network:
    """A network from a GeoJSON FeatureCollection dict."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        got = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise InvalidInput(f"{where}: expected a FeatureCollection, got {got!r}")
    by_singular: dict[str, list[dict[str, Any]]] = {_singular(k): [] for k in ELEMENT_KINDS}
    junction_feats: list[dict[str, Any]] = []
    junctions = by_singular["junction"]
    # The one pass over all features: sort their properties by kind.
    for n, feat in enumerate(doc.get("features") or []):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            props = {}
        element = props.get("element")
        rows = by_singular.get(element) if isinstance(element, str) else None
        if rows is None:
            raise InvalidInput(
                f"{where}: feature {n} has element {element!r}; expected one of "
                + ", ".join(by_singular),
                details=[{"feature": n, "element": element}],
            )
        rows.append(props)
        if rows is junctions:
            junction_feats.append(feat)
    # junctions drawn in a GIS tool carry their coordinates only in the geometry
    for i, props in enumerate(junctions):
        if "x" not in props or "y" not in props:
            junctions[i] = _point_xy(junction_feats[i], props)

    tables: dict[str, dict[str, Any]] = {}
    for kind in ELEMENT_KINDS:
        rows = by_singular[_singular(kind)]
        if rows:
            dtypes = {c.name: c.dtype for c in SCHEMA[kind]}
            tables[kind] = {
                name: _column(dtypes.get(name), [r.get(name) for r in rows])
                for name in _column_names(rows)
            }
    top = doc.get("properties") or {}
    meta = top.get("meta") or {}
    if "crs" not in meta and isinstance(doc.get("crs"), dict):
        meta = {**meta, "crs": doc["crs"].get("properties", {}).get("name")}
    try:
        return Network.from_tables(name=top.get("name", "network"), meta=meta, **tables)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", details=exc.details) from None


def loads(data: bytes | str, *, where: str = "JSON") -> Any:
    """Parse JSON text fast (orjson); the standard library for what orjson refuses."""
    with paused_gc():
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
        try:  # accepts NaN/Infinity literals; otherwise gives the line of the error
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            return json.loads(text)
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{where}: not UTF-8 text: {exc.reason}") from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: invalid JSON at line {exc.lineno}: {exc.msg}") from None


def read_geojson(path: str | Path) -> Network:
    path = Path(path)
    # One pause around parse, conversion and freeing the parsed document: re-enabling
    # the collector while the document lives would make it scan all of it once more.
    with paused_gc():
        doc = loads(path.read_bytes(), where=str(path))
        net = from_geojson(doc, where=str(path))
        del doc
    return net
