"""GeoJSON FeatureCollection.

One feature per element. Properties are the element's table columns plus ``element``
(the singular kind: ``junction``, ``pipe``, …). Geometry: junctions are Points;
pipes, pumps and valves LineStrings from their from- to their to-junction; sources,
consumers and stations Points at their (primary) supply junction. Geometry is null
where coordinates are unknown. The collection's top-level ``properties`` hold the
network ``name`` and ``meta``; ``crs`` follows ``meta["crs"]`` (GeoJSON proper is
EPSG:4326; other systems are written as-is for GIS tools that accept them).

Reading takes values from the properties; a junction without ``x``/``y`` properties
takes them from its Point geometry, so features drawn in a GIS tool can be imported.
NaN is written as ``null``, so writing and reading back is exact.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nuanliu.errors import InvalidInput
from nuanliu.network.io._common import jsonable
from nuanliu.network.model import Network
from nuanliu.network.schema import ELEMENT_KINDS, KIND_OF_SINGULAR, SINGULAR

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


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, NaN → None (faster than DataFrame.to_dict)."""
    names = [str(c) for c in table.columns]
    columns = []
    for c in table.columns:
        values = table[c].tolist()
        if table[c].dtype.kind == "f":
            values = [None if v != v else v for v in values]  # v != v only for NaN
        columns.append(values)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


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
        a_col, b_col = _GEOMETRY[kind]
        a = (
            xy.reindex(table[a_col]).to_numpy(dtype=float)
            if a_col
            else np.full((len(table), 2), np.nan)
        )
        b = xy.reindex(table[b_col]).to_numpy(dtype=float) if b_col else None
        singular = SINGULAR[kind]
        for geom, props in zip(_geometries(a, b), _records(table), strict=True):
            features.append(
                {"type": "Feature", "geometry": geom, "properties": {"element": singular, **props}}
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
    path.write_text(
        json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":")),
        encoding="utf-8",
    )
    return path


def from_geojson(doc: dict[str, Any], *, where: str = "GeoJSON") -> Network:
    """A network from a GeoJSON FeatureCollection dict."""
    if doc.get("type") != "FeatureCollection":
        raise InvalidInput(f"{where}: expected a FeatureCollection, got {doc.get('type')!r}")
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ELEMENT_KINDS}
    for n, feat in enumerate(doc.get("features") or []):
        props = dict(feat.get("properties") or {})
        element = props.pop("element", None)
        kind = KIND_OF_SINGULAR.get(element) if isinstance(element, str) else None
        if kind is None:
            raise InvalidInput(
                f"{where}: feature {n} has element {element!r}; expected one of "
                + ", ".join(SINGULAR.values()),
                details=[{"feature": n, "element": element}],
            )
        if kind == "junctions" and ("x" not in props or "y" not in props):
            geom = feat.get("geometry") or {}
            if geom.get("type") == "Point":
                props.setdefault("x", geom["coordinates"][0])
                props.setdefault("y", geom["coordinates"][1])
        rows[kind].append(props)
    top = doc.get("properties") or {}
    meta = top.get("meta") or {}
    if "crs" not in meta and isinstance(doc.get("crs"), dict):
        meta = {**meta, "crs": doc["crs"].get("properties", {}).get("name")}
    try:
        return Network.from_tables(
            name=top.get("name", "network"),
            meta=meta,
            **{k: pd.DataFrame(v) for k, v in rows.items() if v},
        )
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", details=exc.details) from None


def read_geojson(path: str | Path) -> Network:
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return from_geojson(doc, where=str(path))
