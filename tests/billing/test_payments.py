"""Payment files matched to bills; balances, arrears, late fees; the collection seam."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from nuanliu.billing.collection import balances, collection_rates, late_fee
from nuanliu.billing.jobs import nightly
from nuanliu.billing.payments import import_payments
from nuanliu.billing.runs import run_billing
from nuanliu.seams import provider

from .world import seed_registry

CSV = (
    "流水号,户号,金额,缴费时间\n"
    "T1,h-b1-0,1920.00,2026-10-20 10:00:00\n"  # full advance of 80 m²
    "T2,h-b1-1,1000.00,2026-10-21 10:00:00\n"  # part of 2160.00
    "T3,h-b2-0,2500.00,2026-10-22 10:00:00\n"  # overpays 1920.00
    "T4,nobody,10.00,2026-10-22 10:00:00\n"
    "T5,h-b2-1,abc,2026-10-22 10:00:00\n"
    "T6,h-b2-1,12.345,2026-10-22 10:00:00\n"
    "T7,h-b2-1,100.00,2025-10-22 10:00:00\n"  # season 2025-2026: no bill
)


def _setup(store) -> None:
    seed_registry(store, households_per_building=2)
    run_billing(store, season="2026-2027", kind="advance", issued_on=date(2026, 10, 1))


def test_import_matches_quarantines_and_is_idempotent(store) -> None:
    _setup(store)
    rep = import_payments(store, "bank.csv", CSV.encode(), channel="icbc")
    assert (rep.received, rep.stored, rep.quarantined, rep.balanced) == (7, 3, 4, True)
    assert rep.reasons == {"unmatched": 2, "amount": 2}
    again = import_payments(store, "bank.csv", CSV.encode(), channel="icbc")
    assert (again.stored, again.duplicates) == (0, 3)
    with store.read() as q:
        sources = [r[0] for r in q.all("SELECT source FROM quarantine ORDER BY quarantine_id")]
    assert sources[:4] == [f"payments:bank.csv:{n}" for n in (5, 6, 7, 8)]


def test_collection_rates_per_level_cap_overpayment(store) -> None:
    _setup(store)
    import_payments(store, "bank.csv", CSV.encode())
    fn = provider("collection")
    assert fn is collection_rates
    by_community = {
        s.object_id: s for s in fn(store, level="community", ids=None, season="2026-2027")
    }
    # m1: billed 1920 + 2160 = 4080, paid 1920 + 1000 = 2920 → 0.7157
    assert (by_community["m1"].billed_yuan, by_community["m1"].paid_yuan) == (
        D("4080.00"),
        D("2920.00"),
    )
    # m2: billed 1920 + 2160 = 4080; 2500 paid by one household counts only up to 1920
    assert by_community["m2"].paid_yuan == D("1920.00")
    city = fn(store, level="city", ids=["c1", "c9"], season="2026-2027")
    assert city[0].rate == float(D("4840.00") / D("8160.00"))
    assert (city[1].billed_yuan, city[1].rate) == (D("0.00"), None)


def test_balances_late_fees_and_the_nightly_job(store) -> None:
    _setup(store)
    import_payments(store, "bank.csv", CSV.encode())
    # due 31 Oct; as of 10 Nov: 10 days × 0.05 % × 1160.00 overdue = 5.80
    b = {x.household_id: x for x in balances(store, season="2026-2027", as_of=date(2026, 11, 10))}
    assert b["h-b1-1"].late_fee_yuan == D("5.80")
    assert b["h-b1-1"].arrears_yuan == D("1165.80")
    assert b["h-b2-0"].balance_yuan == D("580.00")  # credit
    assert late_fee(D("100"), D("0.0005"), 10**6) == D("100")  # never above the principal
    now = datetime(2026, 11, 10, 2, tzinfo=UTC)
    out = nightly(store, now=now)
    out2 = nightly(store, now=now)
    assert out == out2 and out["late_fees"] == 2  # h-b1-1 and h-b2-1 (nothing paid)
    with store.read() as q:
        assert q.scalar("SELECT COUNT(*) FROM billing_late_fees") == 2
