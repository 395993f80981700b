"""Billing runs on both engines: idempotent, byte-identical output, versions not edits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal as D

from nuanliu.billing.runs import latest_bills, run_billing, run_output
from nuanliu.meters.ingest import Candidate, ingest
from nuanliu.meters.reading import MeterReading
from nuanliu.seams import CompensationClaim, override

from .world import add_meter, seed_registry

START = datetime(2026, 10, 14, 16, tzinfo=UTC)  # 00:00 on 15 Oct in Shanghai
END = datetime(2027, 4, 15, 16, tzinfo=UTC)  # 00:00 on 16 Oct… the day after the season
NOW = datetime(2027, 5, 1, tzinfo=UTC)


def _reading(meter: str, at: datetime, gj: str, volume: str) -> Candidate:
    r = MeterReading("manual", meter, energy_gj=D(gj), volume_m3=D(volume))
    return Candidate(source="test", raw=f"{meter},{at},{gj}", reading=r, read_at=at, meter_id=meter)


def _seed(store) -> None:
    seed_registry(store)
    for n in range(4):
        add_meter(store, f"m{n}", f"h-b1-{n}", status="faulty" if n == 3 else "active")
    cands = []
    for n in range(3):
        cands.append(_reading(f"m{n}", START, "100", "1000"))
        cands.append(_reading(f"m{n}", END, str(100 + 20 + 2 * n), str(1000 + 400)))
    report = ingest(store, cands, now=NOW)
    assert report.stored == 6 and report.balanced


def test_settlement_is_idempotent_and_byte_identical(store) -> None:
    _seed(store)
    with override("compensation", None):  # as before the hotline is installed
        first = run_billing(
            store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1)
        )
        out1 = run_output(store, "2026-2027", "settlement")
        second = run_billing(
            store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 2)
        )
        out2 = run_output(store, "2026-2027", "settlement")
    assert (first.bills_new, second.bills_new, second.bills_unchanged) == (8, 0, 8)
    assert out1 == out2 and first.output_sha256 == second.output_sha256
    assert first.compensation == "not connected"
    bills = {b["household_id"]: b for b in latest_bills(store, "2026-2027", "settlement")}
    # h-b1-0: 80 m², 20 GJ → 80×24×0.5 = 960.00 + 20×44.45 = 889.00 → 1849.00
    assert (bills["h-b1-0"]["rule"], bills["h-b1-0"]["total_yuan"]) == ("metered", D("1849.00"))
    # h-b1-3: faulty meter; building mean (20+22+24 GJ)/(80+90+100 m²) = 0.244444 GJ/m²
    # × 110 m² = 26.889 GJ → 1320.00 + 1195.22 = 2515.22 < area 2640.00
    faulty = bills["h-b1-3"]
    assert faulty["rule"] == "estimate_building_mean"
    assert faulty["energy_gj"] == D("26.889000") and faulty["total_yuan"] == D("2515.22")
    assert "not connected" in json.loads(faulty["lines"])["notes"][-1]
    assert bills["h-b2-0"]["rule"] == "area" and bills["h-b2-0"]["total_yuan"] == D("1920.00")


def test_changed_input_makes_a_new_version_and_keeps_the_old(store) -> None:
    _seed(store)
    run_billing(store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1))
    with store.write() as w:
        w.execute(
            "INSERT INTO billing_household_terms (household_id, season, stopped) VALUES (?, ?, ?)",
            ["h-b2-1", "2026-2027", True],
        )
    again = run_billing(store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 3))
    assert again.bills_new == 1
    with store.read() as q:
        versions = q.all(
            "SELECT version, total_yuan, rule FROM bills WHERE household_id = 'h-b2-1' "
            "ORDER BY version"
        )
    assert versions == [(1, D("2160.00"), "area"), (2, D("648.00"), "stopped")]


def test_compensation_seam_reduces_the_bill(store) -> None:
    _seed(store)

    def claims(store, *, household_ids, season):
        return [
            CompensationClaim("h-b2-0", season, "t1", NOW, NOW, D("3")),
            CompensationClaim("h-b2-0", season, "t2", NOW, NOW, D("2")),
        ]

    with override("compensation", claims):
        rep = run_billing(store, season="2026-2027", kind="settlement", issued_on=date(2027, 5, 1))
    assert rep.compensation == "applied"
    bill = {b["household_id"]: b for b in latest_bills(store, "2026-2027", "settlement")}
    # 80 m² × 24 = 1920.00; 5 days: 1920 / 183 × 5 = 52.4590… → 52.46 → 1867.54
    assert bill["h-b2-0"]["total_yuan"] == D("1867.54")
