"""Network versions in the store: add, list, load — never overwrite.

A calibration stores its fitted network as the next version of that network's name
with the parameters and the fit in ``params``; older versions stay as they were
(table ``network_versions``, migration 0065).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from nuanliu.errors import Conflict, InvalidInput, NotFound


def _to_bytes(net: Any) -> bytes:
    import pyarrow.parquet as pq

    from nuanliu.network.io.parquet import to_arrow

    buf = io.BytesIO()
    pq.write_table(to_arrow(net), buf, compression="zstd")
    return buf.getvalue()


def save_network_version(
    store: Any,
    net: Any,
    *,
    origin: str,
    note: str = "",
    params: dict[str, Any] | None = None,
    parent_version: int | None = None,
    now: datetime | None = None,
) -> int:
    """Store ``net`` as the next version of ``net.name``; returns the version number.

    ``parent_version`` (when given) must exist: the version this one was derived from.
    """
    name = str(net.name)
    if not name:
        raise InvalidInput("a network version needs a network name")
    blob = _to_bytes(net)
    when = now or datetime.now(UTC)
    if when.tzinfo is None:
        raise InvalidInput("now must be timezone-aware")
    text = json.dumps(params or {}, ensure_ascii=False, default=float)
    with store.write() as w:
        if parent_version is not None and not w.one(
            "SELECT 1 FROM network_versions WHERE network_name = ? AND version = ?",
            [name, parent_version],
        ):
            raise NotFound(f"network {name!r} has no version {parent_version}")
        last = w.scalar("SELECT MAX(version) FROM network_versions WHERE network_name = ?", [name])
        version = int(last or 0) + 1
        try:
            w.execute(
                "INSERT INTO network_versions (network_name, version, parent_version, "
                "created_at, origin, note, params, network) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [name, version, parent_version, when, origin, note, text, blob],
            )
        except Exception as exc:  # a concurrent writer took the number: never overwrite
            raise Conflict(f"network {name!r} version {version} already exists") from exc
    return version


def list_network_versions(store: Any, name: str) -> pd.DataFrame:
    """Versions of ``name``: version, parent, created_at, origin, note, params (JSON)."""
    with store.read() as q:
        return q.df(
            "SELECT version, parent_version, created_at, origin, note, params "
            "FROM network_versions WHERE network_name = ? ORDER BY version",
            [name],
        )


def load_network_version(store: Any, name: str, version: int | None = None) -> Any:
    """The network ``name`` at ``version`` (the latest when None)."""
    import pyarrow.parquet as pq

    from nuanliu.network.io.parquet import from_arrow

    with store.read() as q:
        if version is None:
            row = q.one(
                "SELECT network, version FROM network_versions WHERE network_name = ? "
                "ORDER BY version DESC LIMIT 1",
                [name],
            )
        else:
            row = q.one(
                "SELECT network, version FROM network_versions WHERE network_name = ? "
                "AND version = ?",
                [name, version],
            )
    if row is None:
        which = "any version" if version is None else f"version {version}"
        raise NotFound(f"network {name!r} has no stored {which}")
    table = pq.read_table(io.BytesIO(bytes(row[0])))
    return from_arrow(table, where=f"network {name!r} version {row[1]}")
