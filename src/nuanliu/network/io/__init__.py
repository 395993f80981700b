"""Reading and writing networks: GeoJSON, Parquet, CSV bundle folders, pandapipes JSON.

``read_network(path)`` picks the format from the path: a folder (or ``*.csv`` bundle
folder) is a CSV bundle, ``*.parquet`` the columnar Nuanliu file (fastest for large
networks), ``*.geojson`` / ``*.json`` with a FeatureCollection is GeoJSON, any other
``*.json`` a pandapipes file. ``write_network(net, path, fmt)`` writes ``fmt`` ∈
{``geojson``, ``parquet``, ``csv``, ``pandapipes``}, or guesses it from the suffix.
See docs/network-io.md.
"""

from __future__ import annotations

from pathlib import Path

from nuanliu.errors import InvalidInput
from nuanliu.network.io.csv_bundle import read_csv_bundle, write_csv_bundle
from nuanliu.network.io.geojson import (
    from_geojson,
    loads,
    read_geojson,
    to_geojson,
    write_geojson,
)
from nuanliu.network.io.pandapipes_io import (
    from_pandapipes,
    read_pandapipes_json,
    to_pandapipes,
    write_pandapipes_json,
)
from nuanliu.network.io.parquet import read_parquet, write_parquet
from nuanliu.network.model import Network

FORMATS = ("geojson", "parquet", "csv", "pandapipes")

__all__ = [
    "FORMATS",
    "detect_format",
    "from_geojson",
    "from_pandapipes",
    "read_csv_bundle",
    "read_geojson",
    "read_network",
    "read_pandapipes_json",
    "read_parquet",
    "to_geojson",
    "to_pandapipes",
    "write_csv_bundle",
    "write_geojson",
    "write_network",
    "write_pandapipes_json",
    "write_parquet",
]


def _json_kind(path: Path) -> str:
    # Peek at the start of the file instead of parsing it twice.
    with path.open("r", encoding="utf-8") as fh:
        head = fh.read(4096)
    if '"FeatureCollection"' in head:
        return "geojson"
    if '"pandapipesNet"' in head or "pandapipes" in head:
        return "pandapipes"
    doc = loads(path.read_bytes(), where=str(path))
    if isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        return "geojson"
    return "pandapipes"


def detect_format(path: str | Path, *, for_writing: bool = False) -> str:
    """The format of ``path`` (``geojson``, ``parquet``, ``csv`` or ``pandapipes``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in ("", ".csv"):
        return "csv"
    if suffix == ".geojson":
        return "geojson"
    if suffix == ".parquet":
        return "parquet"
    if suffix == ".json":
        return "pandapipes" if for_writing or not path.is_file() else _json_kind(path)
    raise InvalidInput(
        f"{path}: unknown network format {suffix!r} (use a folder, .geojson, .parquet or .json)"
    )


def read_network(path: str | Path) -> Network:
    """Read a network file or CSV bundle folder, whatever its format."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file or folder")
    fmt = detect_format(path)
    if fmt == "csv":
        return read_csv_bundle(path)
    if fmt == "geojson":
        return read_geojson(path)
    if fmt == "parquet":
        return read_parquet(path)
    return read_pandapipes_json(path)


def write_network(net: Network, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``net`` to ``path`` as ``fmt`` (guessed from the suffix when None)."""
    path = Path(path)
    fmt = fmt or detect_format(path, for_writing=True)
    if fmt == "csv":
        return write_csv_bundle(net, path)
    if fmt == "geojson":
        return write_geojson(net, path)
    if fmt == "parquet":
        return write_parquet(net, path)
    if fmt == "pandapipes":
        write_pandapipes_json(net, path)
        return path
    raise InvalidInput(f"unknown network format {fmt!r}; use one of {', '.join(FORMATS)}")
