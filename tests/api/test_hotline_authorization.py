"""Every hotline route × every role → allowed (2xx) or denied (401/403/404), and what each
role's queue and statistics contain.

Personas as in ``test_authorization_matrix`` plus the two hotline roles: ``govA`` is the
government steward of A's community, ``hotA`` the hotline operator of A's city. Tickets:
``t_a`` (the resident's own home), ``t_n`` (the neighbour, same community), ``t_o`` (an
A household in another community), ``t_b`` (enterprise B). Action rows run on a fresh
ticket of the resident's home in the state the action needs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from nuanliu.api.accounts import create_user
from nuanliu.api.sessions import create_token
from nuanliu.hotline.tickets import Actor, NewTicket, apply_action, create_ticket
from tests.api.conftest import CHEAP_HASH, World
from tests.api.test_authorization_matrix import _parse

PERSONAS = [
    "anonymous",
    "regulator",
    "admin_a",
    "operator_a",
    "operator_b",
    "steward_a",
    "resident_a",
    "gateway_a",
    "gov_a",
    "hotline_a",
]
OK = 200

MATRIX_TABLE = """
method path                                  setup    ano reg adA opA opB stA reA gwA gvA htA
GET    @/tickets                             -        401 ok  ok  ok  ok  ok  ok  403 ok  ok
GET    @/tickets?state=all&overdue=true      -        401 ok  ok  ok  ok  ok  ok  403 ok  ok
GET    @/tickets/{t_a}                       -        401 ok  ok  ok  404 ok  ok  403 ok  ok
GET    @/tickets/{t_n}                       -        401 ok  ok  ok  404 ok  404 403 ok  ok
GET    @/tickets/{t_o}                       -        401 ok  ok  ok  404 404 404 403 404 ok
GET    @/tickets/{t_b}                       -        401 404 404 404 ok  404 404 403 404 404
POST   @/tickets                             file_a   401 403 ok  ok  404 ok  ok  403 403 ok
POST   @/tickets                             file_b   401 403 404 404 ok  404 ok  403 403 404
POST   @/tickets/{f}/actions/sign            new      401 403 ok  ok  404 ok  403 403 403 403
POST   @/tickets/{f}/actions/arrive          signed   401 403 ok  ok  404 ok  403 403 403 403
POST   @/tickets/{f}/actions/measure         on_site  401 403 ok  ok  404 ok  403 403 403 403
POST   @/tickets/{f}/actions/fix             measured 401 403 ok  ok  404 ok  403 403 403 403
POST   @/tickets/{f}/actions/pause           signed   401 403 ok  ok  404 ok  403 403 403 403
POST   @/tickets/{f}/actions/reassign        new      401 403 ok  ok  404 403 403 403 ok  403
POST   @/tickets/{f}/actions/confirm         fixed    401 403 403 403 404 403 ok  403 ok  ok
POST   @/tickets/{f}/actions/reject          fixed    401 403 403 403 404 403 ok  403 ok  ok
POST   @/tickets/{f}/actions/followup_failed fixed    401 403 403 403 404 403 403 403 ok  ok
POST   @/tickets/{f}/actions/false_closure   fixed    401 403 403 403 404 403 403 403 403 403
POST   @/tickets/{f}/actions/note            new      401 403 ok  ok  404 ok  403 403 ok  ok
POST   @/tickets/{t_b}/actions/sign          -        401 404 404 404 ok  404 404 403 404 404
GET    @/households?q={hh_a}                 -        401 403 ok  ok  ok  ok  403 403 403 ok
POST   @/imports/12345                       orders_a 401 403 ok  403 403 403 403 403 403 ok
POST   @/imports/12345/file                  csv_a    401 403 ok  403 403 403 403 403 403 ok
GET    @/stats                               -        401 ok  ok  ok  ok  ok  403 403 ok  ok
GET    @/stats/trend                         -        401 ok  ok  ok  ok  ok  403 403 ok  ok
GET    @/stats/map                           -        401 ok  ok  ok  ok  ok  403 403 ok  ok
GET    @/compensation?season=2026-2027       -        401 ok  ok  ok  ok  ok  403 403 ok  ok
"""

# What each persona's queue holds among the four seeded tickets.
SEES = {
    "regulator": {"t_a", "t_n", "t_o"},
    "admin_a": {"t_a", "t_n", "t_o"},
    "operator_a": {"t_a", "t_n", "t_o"},
    "operator_b": {"t_b"},
    "steward_a": {"t_a", "t_n"},
    "resident_a": {"t_a"},
    "gov_a": {"t_a", "t_n"},
    "hotline_a": {"t_a", "t_n", "t_o"},
}
SYS = Actor("test", "system")
STATE_PATH = {
    "new": [],
    "signed": [("sign", {})],
    "on_site": [("sign", {}), ("arrive", {})],
    "measured": [("sign", {}), ("arrive", {}), ("measure", {"bedroom_temp_c": 16.0})],
}
STATE_PATH["fixed"] = [*STATE_PATH["measured"], ("fix", {"note": "balanced"})]
ACTION_BODY: dict[str, dict[str, Any]] = {
    "measure": {"bedroom_temp_c": 16.5, "living_room_temp_c": 17.0},
    "fix": {"note": "valve replaced"},
    "pause": {"reason": "resident_not_home"},
    "reassign": {"handler_name": "李四", "reason": "on leave"},
    "confirm": {"satisfaction": "satisfied"},
    "reject": {"note": "still cold"},
    "followup_failed": {"note": "no answer twice", "calls": 2},
    "note": {"note": "called back"},
}


MATRIX = _parse(MATRIX_TABLE, api="/api/v1/hotline", personas=PERSONAS)


def _ticket(world: World, household: str, state: str = "new") -> str:
    now = datetime.now(UTC)
    with world.store.write() as w:
        tid = create_ticket(w, NewTicket(household, "temp_low", "冷"), actor=SYS, now=now)
        for action, fields in STATE_PATH[state]:
            apply_action(w, tid, action, actor=SYS, now=now, **fields)
    return tid


@pytest.fixture
def hworld(world: World) -> World:
    ids = world.ids
    for name, role, key in (
        ("gov_a", "gov_steward", "community_a"),
        ("hotline_a", "hotline_operator", "city_a"),
    ):
        user = create_user(
            world.store,
            username=name,
            password="",
            password_hash=CHEAP_HASH,
            role=role,
            scope_ids=[ids[key]],
        )
        world.users[name] = user
        world.tokens[name] = create_token(world.store, user, name="test").token
    with world.store.read() as q:
        other = q.scalar(
            "SELECT MIN(household_id) FROM household_context WHERE enterprise_id = ?"
            " AND community_id <> ? AND city_id = ?",
            [ids["enterprise_a"], ids["community_a"], ids["city_a"]],
        )
    assert other, "the matrix needs an A household in another community"
    ids["household_other"] = other
    for key, hh in (
        ("t_a", "household_a"),
        ("t_n", "household_neighbour"),
        ("t_o", "household_other"),
        ("t_b", "household_b"),
    ):
        ids[key] = _ticket(world, ids[hh])
    return world


def _request(world: World, who: str, method: str, path: str, setup: str | None):
    ids = world.ids
    kwargs: dict[str, Any] = {}
    if "{f}" in path:
        action = path.rsplit("/", 1)[1]
        path = path.replace("{f}", _ticket(world, ids["household_a"], setup or "new"))
        kwargs["json"] = ACTION_BODY.get(action, {})
    path = path.format(**{k: v for k, v in ids.items()}, hh_a=ids["household_a"])
    if setup == "file_a":
        kwargs["json"] = {
            "household_id": ids["household_a"],
            "category": "leak",
            "description": "漏水",
        }
    elif setup == "file_b":
        kwargs["json"] = {
            "household_id": ids["household_b"],
            "category": "noise",
            "description": "噪音",
        }
    elif setup == "orders_a":
        kwargs["json"] = [
            {
                "order_no": f"G{uuid.uuid4().hex[:10]}",
                "description": "冷",
                "category": "室温不达标",
                "household_id": ids["household_a"],
            }
        ]
    elif setup == "csv_a":
        text = f"工单编号,诉求内容,户号\nG{uuid.uuid4().hex[:10]},冷,{ids['household_a']}\n"
        kwargs["files"] = {"file": ("orders.csv", text.encode(), "text/csv")}
    return world.client.request(method, path, headers=world.auth(who), **kwargs)


@pytest.mark.parametrize("row", MATRIX, ids=[f"{m} {p} {s or ''}" for m, p, s, _ in MATRIX])
def test_matrix(hworld: World, row: tuple[str, str, str | None, list[int]]) -> None:
    method, path, setup, expect = row
    got = []
    for who in PERSONAS:
        resp = _request(hworld, who, method, path, setup)
        code = OK if 200 <= resp.status_code < 300 else resp.status_code
        got.append(code)
        if code != OK:
            assert "error" in resp.json(), (who, resp.text)
    assert dict(zip(PERSONAS, got, strict=True)) == dict(zip(PERSONAS, expect, strict=True))


def test_every_hotline_route_is_in_the_matrix(hworld: World) -> None:
    paths = hworld.app.openapi()["paths"]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops if "/hotline" in p}
    covered = set()
    for method, path, _, _ in MATRIX:
        bare = path.split("?")[0].replace("{f}", "{ticket_id}")
        for t in ("{t_a}", "{t_n}", "{t_o}", "{t_b}"):
            bare = bare.replace(t, "{ticket_id}")
        if "/actions/" in bare:
            bare = bare.rsplit("/", 1)[0] + "/{action}"
        covered.add((method, bare))
    assert routes == covered


def test_queues_hold_only_the_tickets_in_scope(hworld: World) -> None:
    names = {hworld.ids[k]: k for k in ("t_a", "t_n", "t_o", "t_b")}
    for who, expected in SEES.items():
        resp = hworld.client.get(
            "/api/v1/hotline/tickets?state=all&limit=5000", headers=hworld.auth(who)
        )
        seen = {names[r["ticket_id"]] for r in resp.json() if r["ticket_id"] in names}
        assert seen == expected, who


def test_resident_files_only_for_their_own_home_and_sees_it_unmasked(hworld: World) -> None:
    resp = hworld.client.post(
        "/api/v1/hotline/tickets",
        headers=hworld.auth("resident_a"),
        json={
            "household_id": hworld.ids["household_b"],
            "category": "temp_low",
            "description": "冷",
        },
    )
    tid = resp.json()["ticket_id"]
    mine = hworld.client.get(f"/api/v1/hotline/tickets/{tid}", headers=hworld.auth("resident_a"))
    assert mine.json()["ticket"]["household_id"] == hworld.ids["household_a"]
    assert mine.json()["ticket"]["channel"] == "resident"
    regulator = hworld.client.get(
        f"/api/v1/hotline/tickets/{tid}", headers=hworld.auth("regulator")
    ).json()["ticket"]
    steward = hworld.client.get(
        f"/api/v1/hotline/tickets/{tid}", headers=hworld.auth("steward_a")
    ).json()["ticket"]
    assert "*" in (regulator["resident_name"] or "*") and "*" not in (
        steward["resident_name"] or ""
    )


def test_stats_of_a_steward_cover_only_its_communities(hworld: World) -> None:
    rows = hworld.client.get(
        "/api/v1/hotline/stats?level=community", headers=hworld.auth("steward_a")
    ).json()
    assert [r["unit_id"] for r in rows] == [hworld.ids["community_a"]]
    rows = hworld.client.get(
        "/api/v1/hotline/stats?level=enterprise", headers=hworld.auth("operator_b")
    ).json()
    assert [r["unit_id"] for r in rows] == [hworld.ids["enterprise_b"]]
