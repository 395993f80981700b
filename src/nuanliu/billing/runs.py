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

from nuanliu.billing.calc import BillInputs, canonical_text, compute_bill
from nuanliu.billing.fastpath import fast_bill, fen_decimal, tariff_ints
from nuanliu.billing.inputs import (
    building_means,
    load_households,
    load_terms,
    meter_heat,
)
from nuanliu.billing.tariffs import Tariff, load_tariffs, select_tariff
from nuanliu.errors import InvalidInput
from nuanliu.scope import Scope
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
    by_scope: dict[tuple[str | None, str | None, str], Tariff] = {}
    for h in households:
        building_type = terms.get(h.household_id, ("residential",))[0]
        key = (h.city_id, h.enterprise_id, building_type)
        if key not in by_scope:
            by_scope[key] = select_tariff(
                tariffs,
                season=season,
                city_id=h.city_id,
                enterprise_id=h.enterprise_id,
                building_type=building_type,
            )
        chosen[h.household_id] = by_scope[key]
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
    default_terms = ("residential", False, None, None, False)
    zero = Decimal(0)
    sha256 = hashlib.sha256
    due: dict[tuple[str, int], date] = {}
    for h in households:
        hid = h.household_id
        t = chosen[hid]
        _, stopped, conn, disc, low = terms.get(hid, default_terms)
        state, gj = heat.get(hid, ("missing", None)) if h.metered else (None, None)
        mean = means.get(h.building_id) if h.metered else None
        comp_days = None if comp is None else comp.get(hid, zero)
        digest = sha256(
            canonical_text(
                hid, season, kind, h.area_m2, t, bool(stopped), conn, disc, bool(low),
                h.metered, state, gj, mean, comp_days,
            ).encode()
        ).hexdigest()  # fmt: skip
        prev = latest.get(hid)
        if prev is not None and prev[1] == digest:
            continue
        version = 1 if prev is None else prev[0] + 1
        fast = None
        ti = tariff_ints(t, season)
        simple = not (stopped or conn or disc or low or comp_days)
        if ti is not None and simple and (kind == "advance" or not h.metered or state == "ok"):
            energy = gj if kind == "settlement" and h.metered else None
            fast = fast_bill(ti, h.area_m2, energy, comp_connected=comp_days is not None)
        if fast is not None:
            rule, lines, total, billed_gj = fast[0], fast[1], fen_decimal(fast[2]), energy
        else:
            bill = compute_bill(
                BillInputs(
                    hid, season, kind, h.area_m2, t, bool(stopped), conn, disc, bool(low),
                    h.metered, state, gj, mean, comp_days,
                )
            )  # fmt: skip
            rule, lines, total, billed_gj = (
                bill.rule, bill.lines_json(), bill.total_yuan, bill.energy_gj
            )  # fmt: skip
        key = (t.tariff_id, t.version)
        if key not in due:
            due[key] = due_on(t, season, kind)
        new_rows.append(
            (
                f"{hid}:{season}:{kind}:v{version}", hid, season, kind, version, run_id,
                t.tariff_id, t.version, rule, digest, lines, total, billed_gj, issued_on,
                due[key],
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


def latest_bills(
    store: Store,
    season: str,
    kind: str | None = None,
    *,
    household_ids: list[str] | None = None,
    scope: Scope | None = None,
) -> list[dict[str, Any]]:
    """The current version of each household's bills (``kind`` None: both kinds), of
    ``household_ids`` and/or the households ``scope`` sees (None: no restriction)."""
    where = ["b.season = ?"]
    params: list[Any] = [season, season]
    if kind is not None:
        where.append("b.kind = ?")
        params.append(kind)
    if household_ids is not None:
        if not household_ids:
            return []
        where.append(f"b.household_id IN ({', '.join('?' * len(household_ids))})")
        params += household_ids
    if scope is not None and not scope.is_unrestricted:
        cond, scope_params = scope.where("hc")
        where.append(
            f"b.household_id IN (SELECT hc.household_id FROM household_context hc WHERE {cond})"
        )
        params += scope_params
    sql = (
        "SELECT b.* FROM bills b JOIN (SELECT household_id, kind, MAX(version) AS v FROM bills "
        "WHERE season = ? GROUP BY household_id, kind) m ON m.household_id = b.household_id "
        f"AND m.kind = b.kind AND m.v = b.version WHERE {' AND '.join(where)}"
    )
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


def _cell(value: Any) -> str:
    text = "" if value is None else value
    if "\t" in text or "\n" in text or "\\" in text:
        return json.dumps(text, ensure_ascii=False)
    return text


def run_output(
    store: Store, season: str, kind: str, *, pending: list[tuple[Any, ...]] = ()
) -> bytes:
    """Canonical TSV (UTF-8, LF) of the latest bills of ``season``/``kind``, one line per
    household in id order, with the ``pending`` rows of a run about to be written taking
    their households' places. A cell holding a tab, newline or backslash is written as a
    JSON string (bill lines are JSON already and hold none)."""
    cols = list(OUTPUT_COLUMNS)
    # Every value leaves the database as text, formatted by SQL the same way on both
    # engines (DECIMAL/NUMERIC keep their scale, dates ISO), and travels as Arrow.
    sql = (
        "SELECT "
        + ", ".join(f"CAST(b.{c} AS VARCHAR) AS {c}" for c in cols)
        + " FROM bills b JOIN (SELECT household_id, MAX(version) AS v FROM bills "
        "WHERE season = ? AND kind = ? GROUP BY household_id) m "
        "ON m.household_id = b.household_id AND m.v = b.version "
        "WHERE b.season = ? AND b.kind = ?"
    )
    with store.read() as q:
        tbl = q.arrow(sql, [season, kind, season, kind])
    columns = [tbl.column(c).to_pylist() for c in cols]
    rows: dict[str, tuple[Any, ...]] = {r[0]: r for r in zip(*columns, strict=True)}
    at = [_BILL_COLUMNS.index(c) for c in cols[1:]]
    micro = Decimal("0.000001")
    energy_at = cols.index("energy_gj")
    for p in pending:
        values = [p[1], *(p[i] for i in at)]
        e = values[energy_at]
        values[energy_at] = None if e is None else e.quantize(micro)
        rows[p[1]] = tuple(_fmt(v) if v is not None else None for v in values)
    out = ["\t".join(cols)]
    for hid in sorted(rows):
        out.append("\t".join(_cell(v) for v in rows[hid]))
    return ("\n".join(out) + "\n").encode()
