"""Billing and meter routes × every role → allowed (2xx) or denied (401/403/404).

Same personas as ``test_authorization_matrix``: the resident lives in ``household_a``;
``household_neighbour`` is next door; B is another enterprise in another city. A
resident sees only their own bill and statement; collection rates and community sheets
are for staff; running billing and importing payments is the enterprise admin's. Meter
readings for a meter outside the sender's scope are refused like an unknown meter's
(422, nothing stored, nothing revealed).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from nuanliu.billing.examples import example_tariffs
from nuanliu.billing.runs import run_billing
from nuanliu.billing.tariffs import save_tariffs
from tests.api.conftest import World
from tests.api.test_authorization_matrix import OK, PERSONAS, _app_routes, _match, _parse

SEASON = "2026-2027"
MATRIX = _parse("""
method path                                              body   ano reg adA opA opB stA reA gwA
GET    @/billing/tariffs                                 -      401 ok  ok  ok  ok  ok  ok  403
GET    @/billing/bills?{q}                               -      401 ok  ok  ok  ok  ok  ok  403
GET    @/billing/households/{hh_a}/bills?{q}             -      401 ok  ok  ok  404 ok  ok  403
GET    @/billing/households/{hh_n}/bills?{q}             -      401 ok  ok  ok  404 ok  404 403
GET    @/billing/households/{hh_b}/bills?{q}             -      401 404 404 404 ok  404 404 403
GET    @/billing/households/{hh_a}/statement.pdf?{q}     -      401 ok  ok  ok  404 ok  ok  403
GET    @/billing/households/{hh_n}/statement.pdf?{q}     -      401 ok  ok  ok  404 ok  404 403
GET    @/billing/collection?{q}                          -      401 ok  ok  ok  ok  ok  403 403
GET    @/billing/communities/{com_a}/statements.xlsx?{q} -      401 ok  ok  ok  404 ok  403 403
GET    @/billing/communities/{com_b}/statements.xlsx?{q} -      401 404 404 404 ok  404 403 403
POST   @/billing/runs                                    run    401 403 ok  403 403 403 403 403
POST   @/billing/payments                                pay    401 403 ok  403 403 403 403 403
GET    @/meters                                          -      401 ok  ok  ok  ok  ok  ok  403
GET    @/meters/{meter_a}/readings                       -      401 ok  ok  ok  404 ok  ok  403
GET    @/meters/{meter_n}/readings                       -      401 ok  ok  ok  404 ok  404 403
POST   @/meters/readings                                 read_a 401 403 ok  ok  422 403 403 ok
POST   @/meters/decode                                   frame  401 ok  ok  ok  ok  ok  ok  ok
""")
IDS = {
    "hh_a": "household_a",
    "hh_n": "household_neighbour",
    "hh_b": "household_b",
    "com_a": "community_a",
    "com_b": "community_b",
}
FRAME = "68 13 13 68 08 01 73 93 92 91 90 10 00 05 69 31 65 00 00 69 00 00 00 3F 16"


def _seed(world: World) -> None:
    store, ids = world.store, world.ids
    save_tariffs(store, example_tariffs())
    with store.write() as w:
        w.executemany(
            "INSERT INTO heat_meters (meter_id, household_id, protocol, cjt188_address) "
            "VALUES (?, ?, 'cjt188', ?)",
            [
                ("meter-a", ids["household_a"], "00000000000001"),
                ("meter-n", ids["household_neighbour"], "00000000000002"),
                ("meter-b", ids["household_b"], "00000000000003"),
            ],
        )
    run_billing(store, season=SEASON, kind="advance", issued_on=date(2026, 10, 1))
    ids["meter_a"], ids["meter_n"], ids["q"] = "meter-a", "meter-n", f"season={SEASON}"


def _body(world: World, kind: str | None) -> dict[str, Any]:
    ids = world.ids
    if kind is None:
        return {}
    if kind == "run":
        return {"json": {"season": SEASON, "kind": "advance", "issued_on": "2026-10-01"}}
    if kind == "pay":
        row = f"X1,{ids['household_a']},100.00,2026-10-20T10:00:00+08:00"
        csv = f"txn_id,household_id,amount_yuan,paid_at\n{row}\n"
        return {"files": {"file": ("pay.csv", csv.encode(), "text/csv")}}
    if kind == "read_a":
        return {
            "json": {
                "meter_id": "meter-a",
                "read_at": "2026-11-01T00:00:00+00:00",
                "energy_gj": "1.5",
            }
        }
    if kind == "frame":
        return {"json": {"frame": FRAME}}
    raise AssertionError(kind)


def test_every_billing_route_is_in_this_matrix(world: World) -> None:
    mine = {
        (m, p) for m, p in _app_routes(world) if p.startswith(("/api/v1/billing", "/api/v1/meters"))
    }
    covered = {(m, _match(world, m, path)) for m, path, _, _ in MATRIX}
    assert mine == covered


def test_billing_authorization_matrix(world: World) -> None:
    _seed(world)
    failures = []
    for method, path, body_kind, expected in MATRIX:
        url = path.format(**{**world.ids, **{k: world.ids[v] for k, v in IDS.items()}})
        for persona, want in zip(PERSONAS, expected, strict=True):
            r = TestClient(world.app).request(
                method, url, headers=world.auth(persona), **_body(world, body_kind)
            )
            allowed = 200 <= r.status_code < 300
            if (want == OK and not allowed) or (want != OK and r.status_code != want):
                failures.append(
                    f"{persona:11} {method} {url}: want {want}, got {r.status_code} {r.text[:160]}"
                )
            if not allowed:
                assert set(r.json()["error"]) == {"code", "message", "message_zh", "details"}
    assert not failures, "\n" + "\n".join(failures)


def test_resident_sees_only_their_own_bill(world: World) -> None:
    _seed(world)
    r = world.client.get("/api/v1/billing/bills?season=2026-2027", headers=world.auth("resident_a"))
    assert r.status_code == 200
    assert {b["household_id"] for b in r.json()["bills"]} == {world.ids["household_a"]}
    r = world.client.get("/api/v1/meters", headers=world.auth("resident_a"))
    assert [m["meter_id"] for m in r.json()] == ["meter-a"]


def test_out_of_scope_payments_and_readings_are_refused_like_unknown_ones(world: World) -> None:
    _seed(world)
    hb = world.ids["household_b"]
    csv = f"txn_id,household_id,amount_yuan,paid_at\nY1,{hb},100.00,2026-10-20T10:00:00+08:00\n"
    r = world.client.post(
        "/api/v1/billing/payments",
        headers=world.auth("admin_a"),
        files={"file": ("p.csv", csv.encode(), "text/csv")},
    )
    assert r.json()["quarantined"] == 1 and r.json()["stored"] == 0
    r = world.client.post(
        "/api/v1/meters/readings",
        headers=world.auth("gateway_a"),
        json={"meter_id": "meter-b", "read_at": "2026-11-01T00:00:00+00:00", "energy_gj": "1"},
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reasons"] == {"unknown meter": 1}
