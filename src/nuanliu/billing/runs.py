"""Billing runs: the advance bill and the after-season settlement of every household.

A run is idempotent. Each household's inputs are hashed; when the latest bill of that
household, season and kind has the same hash, nothing is written; otherwise a new
version is added (bills are never updated). The run's output is the canonical CSV of
the latest bills of the season and kind, so the same inputs give byte-identical output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from nuanliu.billing.calc import BillInputs, compute_bill
from nuanliu.billing.inputs import (
    building_means,
    load_households,
    load_terms,
    meter_heat,
)
from nuanliu.billing.tariffs import Tariff, load_tariffs, select_tariff
from nuanliu.errors import InvalidInput
from nuanliu.seams import provider
from nuanliu.store import Store

KINDS = ("advance", "settlement")
OUTPUT_COLUMNS = (
    "household_id", "bill_id", "version", "kind", "rule", "tariff_id", "tariff_version",
    "energy_gj", "total_yuan", "issued_on", "due_on", "lines",
)  # fmt: skip


@dataclass(frozen=True)
class RunReport:
    run_id: str
    season: str
    kind: str
    households: int
    bills_new: int
    bills_unchanged: int
    output_sha256: str
    compensation: str  # applied | not connected

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _compensation_days(season: str, household_ids: list[str], store: Store) -> dict | None:
    fn = provider("compensation")
    if fn is None:
        return None
    days: dict[str, Decimal] = {}
    for claim in fn(store, household_ids=household_ids, season=season):
        days[claim.household_id] = days.get(claim.household_id, Decimal(0)) + claim.days
    return days


def due_on(tariff: Tariff, season: str, kind: str) -> date:
    first, last = tariff.season(season)
    if kind == "advance":
        m, d = (int(x) for x in tariff.advance_due_md.split("-"))
        return date(first.year, m, d)
    return last + timedelta(days=tariff.settlement_due_days)


def run_billing(
    store: Store,
    *,
    season: str,
    kind: str,
    issued_on: date,
    household_ids: list[str] | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Bill every household (or ``household_ids``) for ``season``; see module docstring."""
    if kind not in KINDS:
        raise InvalidInput(f"billing run kind {kind!r} is not one of {KINDS}")
    now = now or datetime.now(UTC)
    tariffs = load_tariffs(store)
    households = load_households(store, household_ids)
    terms = load_terms(store, season)
    chosen: dict[str, Tariff] = {}
    for h in households:
        building_type = terms.get(h.household_id, ("residential",))[0]
        chosen[h.household_id] = select_tariff(
            tariffs,
            season=season,
            city_id=h.city_id,
            enterprise_id=h.enterprise_id,
            building_type=building_type,
        )
    heat: dict[str, tuple[str, Decimal | None]] = {}
    means: dict[str, Decimal] = {}
    if kind == "settlement":
        for window in sorted({t.season(season) for t in chosen.values()}):
            heat.update(meter_heat(store, *window))
        means = building_means(households, heat)
    ids = [h.household_id for h in households]
    comp = _compensation_days(season, ids, store) if kind == "settlement" else None
    latest = _latest_hashes(store, season, kind)
    run_id = f"{season}:{kind}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}"
    new_rows: list[tuple[Any, ...]] = []
    for h in households:
        t = chosen[h.household_id]
        b_type, stopped, conn, disc, low = terms.get(
            h.household_id, ("residential", False, None, None, False)
        )
        state, gj = heat.get(h.household_id, ("missing", None)) if h.metered else (None, None)
        inputs = BillInputs(
            household_id=h.household_id,
            season=season,
            kind=kind,
            area_m2=h.area_m2,
            tariff=t,
            stopped=bool(stopped),
            connected_on=conn,
            disconnected_on=disc,
            low_income=bool(low),
            metered=h.metered,
            meter_state=state,
            energy_gj=gj,
            building_mean_gj_m2=means.get(h.building_id) if h.metered else None,
            compensation_days=None if comp is None else comp.get(h.household_id, Decimal(0)),
        )
        digest = inputs.sha256()
        prev = latest.get(h.household_id)
        if prev is not None and prev[1] == digest:
            continue
        version = 1 if prev is None else prev[0] + 1
        bill = compute_bill(inputs)
        new_rows.append(
            (
                f"{h.household_id}:{season}:{kind}:v{version}",
                h.household_id, season, kind, version, run_id, t.tariff_id, t.version,
                bill.rule, digest, bill.lines_json(), bill.total_yuan, bill.energy_gj,
                issued_on, due_on(t, season, kind),
            )
        )  # fmt: skip
    output = run_output(store, season, kind, pending=new_rows)
    sha = hashlib.sha256(output).hexdigest()
    report = RunReport(
        run_id=run_id,
        season=season,
        kind=kind,
        households=len(households),
        bills_new=len(new_rows),
        bills_unchanged=len(households) - len(new_rows),
        output_sha256=sha,
        compensation="not connected" if comp is None and kind == "settlement" else "applied",
    )
    with store.write() as w:
        if new_rows:
            w.append_arrow("bills", _bills_table(new_rows))
        w.execute(
            "INSERT INTO billing_runs (run_id, season, kind, issued_on, started_at, households, "
            "bills_new, bills_unchanged, output_sha256, compensation) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, season, kind, issued_on, now, report.households, report.bills_new,
             report.bills_unchanged, sha, report.compensation],
        )  # fmt: skip
    return report


_BILL_COLUMNS = (
    "bill_id", "household_id", "season", "kind", "version", "run_id", "tariff_id",
    "tariff_version", "rule", "inputs_sha256", "lines", "total_yuan", "energy_gj",
    "issued_on", "due_on",
)  # fmt: skip


def _bills_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    types = {
        "version": pa.int32(),
        "tariff_version": pa.int32(),
        "total_yuan": pa.decimal128(14, 2),
        "energy_gj": pa.decimal128(18, 6),
        "issued_on": pa.date32(),
        "due_on": pa.date32(),
    }
    arrays = {}
    for name, values in zip(_BILL_COLUMNS, cols, strict=True):
        if name == "energy_gj":
            values = [None if v is None else v.quantize(Decimal("0.000001")) for v in values]
        arrays[name] = pa.array(values, type=types.get(name, pa.string()))
    return pa.table(arrays)


def _latest_hashes(store: Store, season: str, kind: str) -> dict[str, tuple[int, str]]:
    with store.read() as q:
        rows = q.all(
            "SELECT household_id, version, inputs_sha256 FROM bills WHERE season = ? AND kind = ?",
            [season, kind],
        )
    latest: dict[str, tuple[int, str]] = {}
    for hid, version, digest in rows:
        if hid not in latest or version > latest[hid][0]:
            latest[hid] = (version, digest)
    return latest


def latest_bills(store: Store, season: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The current version of each household's bills (``kind`` None: both kinds)."""
    sql = (
        "SELECT b.* FROM bills b JOIN (SELECT household_id, kind, MAX(version) AS v FROM bills "
        "WHERE season = ? GROUP BY household_id, kind) m ON m.household_id = b.household_id "
        "AND m.kind = b.kind AND m.v = b.version WHERE b.season = ?"
    )
    params: list[Any] = [season, season]
    if kind is not None:
        sql += " AND b.kind = ?"
        params.append(kind)
    with store.read() as q:
        return q.dicts(sql + " ORDER BY b.household_id, b.kind", params)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def run_output(
    store: Store, season: str, kind: str, *, pending: list[tuple[Any, ...]] = ()
) -> bytes:
    """Canonical CSV (UTF-8, LF) of the latest bills of ``season``/``kind``, with the
    ``pending`` rows of a run about to be written taking their households' places."""
    rows = {r["household_id"]: r for r in latest_bills(store, season, kind)}
    for p in pending:
        rows[p[1]] = dict(zip(_BILL_COLUMNS, p, strict=True))
    lines = [",".join(OUTPUT_COLUMNS)]
    for hid in sorted(rows):
        r = rows[hid]
        energy = r["energy_gj"]
        if isinstance(energy, Decimal):
            energy = energy.quantize(Decimal("0.000001"))
        values = [_fmt(r[c] if c != "energy_gj" else energy) for c in OUTPUT_COLUMNS]
        lines.append(",".join(json.dumps(v, ensure_ascii=False) for v in values))
    return ("\n".join(lines) + "\n").encode()
