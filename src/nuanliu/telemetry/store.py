"""Telemetry in the store: sites, idempotent inserts and the hourly/daily aggregates.

``insert_telemetry`` stores the rows whose (site_id, point, ts) is not stored yet and
folds exactly those into ``tel_hourly`` and ``tel_daily`` in the same transaction, with
additive upserts (count, sum, min, max, first, last), so the aggregates equal a
recomputation from raw however late or repeated the rows arrive.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nuanliu.errors import InvalidInput, NotFound
from nuanliu.store import DeadLetter, QuarantineRow
from nuanliu.store import dead_letters as _dl
from nuanliu.store.readings import InsertReport, dedupe_batch, insert_quarantine
from nuanliu.telemetry.points import SITE_KINDS
from nuanliu.telemetry.validate import TELEMETRY_SCHEMA

LOCAL_TZ = "Asia/Shanghai"  # a "day" of the aggregates and the pages


@dataclass(frozen=True)
class Site:
    site_id: str
    kind: str
    name_zh: str
    name_en: str | None = None
    station_id: str | None = None
    network_element_id: str | None = None
    heated_area_m2: float | None = None
    design_heat_kw: float | None = None
    design_supply_c: float | None = None
    design_return_c: float | None = None
    curve: list[tuple[float, float]] = field(default_factory=list)  # (outdoor °C, supply °C)

    def check(self) -> Site:
        if not self.site_id or not self.site_id.strip():
            raise InvalidInput("telemetry site: site_id is empty")
        if self.kind not in SITE_KINDS:
            raise InvalidInput(
                f"telemetry site {self.site_id}: kind {self.kind!r} is not one of "
                f"{', '.join(SITE_KINDS)}"
            )
        if self.heated_area_m2 is not None and not self.heated_area_m2 > 0:
            raise InvalidInput(
                f"telemetry site {self.site_id}: heated_area_m2={self.heated_area_m2} "
                "must be positive"
            )
        xs = [x for x, _ in self.curve]
        if xs != sorted(xs) or len(set(xs)) != len(xs):
            raise InvalidInput(
                f"telemetry site {self.site_id}: heating curve outdoor temperatures must "
                "increase strictly"
            )
        return self

    def curve_supply_c(self, outdoor_c: Any) -> Any:
        """The curve's secondary supply set-point at ``outdoor_c`` (NaN without a curve)."""
        if not self.curve:
            return np.full(np.shape(outdoor_c), np.nan)
        xs, ys = zip(*self.curve, strict=True)
        return np.interp(outdoor_c, xs, ys)


_SITE_COLS = [
    "site_id",
    "kind",
    "name_zh",
    "name_en",
    "station_id",
    "network_element_id",
    "heated_area_m2",
    "design_heat_kw",
    "design_supply_c",
    "design_return_c",
    "curve_json",
    "created_at",
]


_SITE_SCHEMA = pa.schema(
    [(c, pa.string()) for c in _SITE_COLS[:6]]
    + [(c, pa.float64()) for c in _SITE_COLS[6:10]]
    + [("curve_json", pa.string()), ("created_at", pa.timestamp("us", tz="UTC"))]
)


def save_sites(store: Any, sites: Sequence[Site]) -> int:
    """Create or replace sites; how many."""
    rows = [
        [
            s.site_id,
            s.kind,
            s.name_zh,
            s.name_en,
            s.station_id,
            s.network_element_id,
            s.heated_area_m2,
            s.design_heat_kw,
            s.design_supply_c,
            s.design_return_c,
            json.dumps([list(p) for p in s.curve]) if s.curve else None,
            datetime.now(UTC),
        ]
        for s in (site.check() for site in sites)
    ]
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    twice = sorted({i for i in ids if ids.count(i) > 1}) if len(set(ids)) < len(ids) else []
    if twice:
        raise InvalidInput(f"telemetry sites given twice: {', '.join(twice[:10])}")
    tbl = pa.table({c: [r[k] for r in rows] for k, c in enumerate(_SITE_COLS)}, schema=_SITE_SCHEMA)
    with store.write() as w:
        w.upsert_arrow("tel_sites", tbl, ["site_id"])
    return len(rows)


def _site(row: dict[str, Any]) -> Site:
    curve = [tuple(p) for p in json.loads(row["curve_json"])] if row.get("curve_json") else []
    return Site(
        site_id=row["site_id"],
        kind=row["kind"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        station_id=row["station_id"],
        network_element_id=row["network_element_id"],
        heated_area_m2=row["heated_area_m2"],
        design_heat_kw=row["design_heat_kw"],
        design_supply_c=row["design_supply_c"],
        design_return_c=row["design_return_c"],
        curve=curve,  # type: ignore[arg-type]
    )


def list_sites(store: Any, *, kind: str | None = None) -> list[Site]:
    with store.read() as q:
        if kind is None:
            rows = q.dicts("SELECT * FROM tel_sites ORDER BY site_id")
        else:
            rows = q.dicts("SELECT * FROM tel_sites WHERE kind = ? ORDER BY site_id", [kind])
    return [_site(r) for r in rows]


def get_site(store: Any, site_id: str) -> Site:
    with store.read() as q:
        rows = q.dicts("SELECT * FROM tel_sites WHERE site_id = ?", [site_id])
    if not rows:
        raise NotFound(f"telemetry site {site_id!r} does not exist", details={"site_id": site_id})
    return _site(rows[0])


# ------------------------------------------------------------------ inserts


def dedupe(tbl: pa.Table) -> pa.Table:
    """The first row of each (site_id, point, ts) in batch order (readings' de-duplication
    on a key column joining site and point)."""
    if tbl.num_rows < 2:
        return tbl
    key = pc.binary_join_element_wise(tbl.column("site_id"), tbl.column("point"), "\x1f")
    keyed = tbl.append_column("sensor_id", key)
    return dedupe_batch(keyed).drop_columns(["sensor_id"])


_STAGE = "tel_stage"
_STAGE_DDL = "site_id TEXT, point TEXT, ts TIMESTAMPTZ, value DOUBLE PRECISION"


def insert_telemetry(w: Any, tbl: pa.Table) -> InsertReport:
    """Inside a write transaction: store the new rows and fold them into the aggregates."""
    received = tbl.num_rows
    if received == 0:
        return InsertReport(0, 0)
    batch = dedupe(tbl.select(list(TELEMETRY_SCHEMA.names)).cast(TELEMETRY_SCHEMA))
    w.execute(f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} ({_STAGE_DDL})")
    w.execute(f"DELETE FROM {_STAGE}")
    w.append_arrow(_STAGE, batch)
    lo, hi = (v.as_py() for v in pc.min_max(batch.column("ts")).values())
    now = datetime.now(UTC)
    if w.caps.readings_idempotency == "anti-join":
        # One writer (DuckDB): rows not stored yet, looked up within the batch's window.
        sql = (
            "INSERT INTO telemetry (site_id, point, ts, value, received_at) "
            f"SELECT s.site_id, s.point, s.ts, s.value, ? FROM {_STAGE} s "
            "WHERE NOT EXISTS (SELECT 1 FROM telemetry t WHERE t.ts BETWEEN ? AND ? "
            "AND t.site_id = s.site_id AND t.point = s.point AND t.ts = s.ts) "
            "RETURNING site_id, point, ts, value"
        )
        new = w.arrow(sql, [now, lo, hi])
    else:
        # Several writers (PostgreSQL): the primary key decides, in key order.
        sql = (
            "INSERT INTO telemetry (site_id, point, ts, value, received_at) "
            f"SELECT site_id, point, ts, value, ? FROM {_STAGE} ORDER BY 1, 2, 3 "
            "ON CONFLICT DO NOTHING RETURNING site_id, point, ts, value"
        )
        new = w.arrow(sql, [now])
    w.execute(f"DELETE FROM {_STAGE}")
    if new.num_rows:
        fold_aggregates(w, new)
    return InsertReport(inserted=new.num_rows, duplicates=received - new.num_rows)


def write_batch(
    store: Any,
    rows: pa.Table | None,
    quarantine: Sequence[QuarantineRow] = (),
    dead_letters: Sequence[DeadLetter] = (),
) -> InsertReport:
    """Telemetry, quarantine rows and dead letters in ONE transaction (cf. Store.write_batch)."""
    with store.write() as w:
        rep = insert_telemetry(w, rows) if rows is not None else InsertReport(0, 0)
        insert_quarantine(store, quarantine)
        ids = _dl.insert_dead_letters(store, dead_letters)
    return InsertReport(rep.inserted, rep.duplicates, tuple(ids))


# --------------------------------------------------------------- aggregates

_AGG_COLS = "n, sum_value, min_value, max_value, first_ts, first_value, last_ts, last_value"
_AGG_STAGE_DDL = (
    "site_id TEXT, point TEXT, {bucket}, n BIGINT, sum_value DOUBLE PRECISION, "
    "min_value DOUBLE PRECISION, max_value DOUBLE PRECISION, first_ts TIMESTAMPTZ, "
    "first_value DOUBLE PRECISION, last_ts TIMESTAMPTZ, last_value DOUBLE PRECISION"
)
_MERGE = """
INSERT INTO {table} (site_id, point, {bucket}, {cols})
SELECT site_id, point, {bucket}, {cols} FROM {stage} ORDER BY 1, 2, 3
ON CONFLICT (site_id, point, {bucket}) DO UPDATE SET
    n = {table}.n + excluded.n,
    sum_value = {table}.sum_value + excluded.sum_value,
    min_value = LEAST({table}.min_value, excluded.min_value),
    max_value = GREATEST({table}.max_value, excluded.max_value),
    first_value = CASE WHEN excluded.first_ts < {table}.first_ts
                       THEN excluded.first_value ELSE {table}.first_value END,
    first_ts = LEAST({table}.first_ts, excluded.first_ts),
    last_value = CASE WHEN excluded.last_ts > {table}.last_ts
                      THEN excluded.last_value ELSE {table}.last_value END,
    last_ts = GREATEST({table}.last_ts, excluded.last_ts)
"""


def _partials(new: pa.Table, bucket: pa.Array, name: str) -> pa.Table:
    """Count, sum, extremes, first and last per (site, point, bucket) of new rows (Arrow
    hash aggregation over the rows in time order, so first/last are the earliest/latest)."""
    tbl = pa.table(
        {
            "site_id": new.column("site_id"),
            "point": new.column("point"),
            name: bucket,
            "ts": new.column("ts"),
            "value": new.column("value"),
        }
    )
    tbl = tbl.take(pc.sort_indices(tbl, [("ts", "ascending")]))
    out = tbl.group_by(["site_id", "point", name], use_threads=False).aggregate(
        [
            ("value", "count"),
            ("value", "sum"),
            ("value", "min"),
            ("value", "max"),
            ("ts", "first"),
            ("value", "first"),
            ("ts", "last"),
            ("value", "last"),
        ]
    )
    return pa.table(
        {
            "site_id": out["site_id"],
            "point": out["point"],
            name: out[name],
            "n": out["value_count"],
            "sum_value": out["value_sum"],
            "min_value": out["value_min"],
            "max_value": out["value_max"],
            "first_ts": out["ts_first"],
            "first_value": out["value_first"],
            "last_ts": out["ts_last"],
            "last_value": out["value_last"],
        }
    )


def fold_aggregates(w: Any, new: pa.Table) -> None:
    """Fold newly stored rows into tel_hourly and tel_daily (additive upserts)."""
    hour = pc.floor_temporal(new.column("ts"), unit="hour")
    local = pc.local_timestamp(new.column("ts").cast(pa.timestamp("us", tz=LOCAL_TZ)))
    day = pc.floor_temporal(local, unit="day").cast(pa.date32())
    for table, bucket, ddl, values in (
        ("tel_hourly", "hour_ts", "hour_ts TIMESTAMPTZ", hour),
        ("tel_daily", "local_day", "local_day DATE", day),
    ):
        part = _partials(new, values, bucket)
        stage = f"{table}_stage"
        w.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({_AGG_STAGE_DDL.format(bucket=ddl)})")
        w.execute(f"DELETE FROM {stage}")
        w.append_arrow(stage, part)
        w.execute(_MERGE.format(table=table, bucket=bucket, cols=_AGG_COLS, stage=stage))
        w.execute(f"DELETE FROM {stage}")


def rebuild_aggregates(store: Any) -> None:
    """Recompute the aggregates from the raw rows (after a bulk repair)."""
    with store.write() as w:
        w.execute("DELETE FROM tel_hourly")
        w.execute("DELETE FROM tel_daily")
        tbl = w.arrow("SELECT site_id, point, ts, value FROM telemetry")
        if tbl.num_rows:
            fold_aggregates(w, tbl.cast(TELEMETRY_SCHEMA))
