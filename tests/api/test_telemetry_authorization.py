"""Every telemetry API route and page × every role → allowed (2xx) or denied (401/403/404).

Telemetry is operations data: the regulator, enterprise admins and operators read it
(READ_NETWORK); stewards, residents and gateways do not (403). Sites: ``TA`` is linked
to a station of enterprise A (Hohhot), ``TB`` to one of enterprise B (Baotou), ``TW``
is a twin site linked to no registry station (visible to every reader). 404 = not in
your scope. Posting needs INGEST; a body naming a site outside the scope is 403.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from nuanliu.telemetry.store import Site, save_sites
from tests.api.conftest import World
from tests.api.test_authorization_matrix import OK, PERSONAS, _app_routes, _match, _parse

MATRIX_TABLE = """
method path                                   body   anon reg admA opA opB stwA resA gwA
GET    @/telemetry/sites                      -      401  ok  ok   ok  ok  403  403  403
GET    @/telemetry/sites/TA/series            -      401  ok  ok   ok  404 403  403  403
GET    @/telemetry/sites/TB/series            -      401  404 404  404 ok  403  403  403
GET    @/telemetry/sites/TW/series            -      401  ok  ok   ok  ok  403  403  403
GET    @/telemetry/sites/NOPE/series          -      401  404 404  404 404 403  403  403
GET    @/telemetry/faults                     -      401  ok  ok   ok  ok  403  403  403
GET    @/telemetry/faults/{fault_a}           -      401  ok  ok   ok  404 403  403  403
GET    @/telemetry/faults/{fault_b}           -      401  404 404  404 ok  403  403  403
POST   @/telemetry                            tel_a  401  403 ok   ok  403 403  403  ok
POST   @/telemetry                            tel_b  401  403 403  403 ok  403  403  403
POST   @/telemetry                            tel_w  401  403 ok   ok  ok  403  403  ok
"""

# Pages (HTML): anonymous is sent to the login page (303), gateways and roles without
# READ_NETWORK get 403, out-of-scope sites 404.
PAGES_TABLE = """
method path                                   body   anon reg admA opA opB stwA resA gwA
GET    /telemetry                             -      303  ok  ok   ok  ok  403  403  403
GET    /stations/TA/telemetry                 -      303  ok  ok   ok  404 403  403  403
GET    /stations/TB/telemetry                 -      303  404 404  404 ok  403  403  403
GET    /sources/TS                            -      303  ok  ok   ok  ok  403  403  403
"""


MATRIX = _parse(MATRIX_TABLE)
PAGES = _parse(PAGES_TABLE)


def _seed(world: World) -> None:
    ids = world.ids
    save_sites(
        world.store,
        [
            Site("TA", "station", "A站", "Station A", station_id=ids["station_a"]),
            Site("TB", "station", "B站", "Station B", station_id=ids["station_b"]),
            Site("TW", "station", "孪生站", "Twin station", heated_area_m2=50_000.0),
            Site("TS", "source", "热源", "Source"),
        ],
    )
    now = datetime.now(UTC)
    with world.store.write() as w:
        for site in ("TA", "TB"):
            w.execute(
                "INSERT INTO tel_faults (site_id, fault_class, first_detected_at,"
                " last_detected_at, window_start, window_end, score, message_zh, message_en,"
                " evidence_json, is_open) VALUES (?, 'high_return_temp', ?, ?, ?, ?, 6.0,"
                " '回水高', 'return high', '{\"series\": {}}', TRUE)",
                [site, now, now, now - timedelta(days=1), now],
            )
        rows = dict(w.all("SELECT site_id, fault_id FROM tel_faults"))
    ids["fault_a"] = str(rows["TA"])
    ids["fault_b"] = str(rows["TB"])


def _body(kind: str | None) -> dict[str, Any]:
    if kind is None:
        return {}
    site = {"tel_a": "TA", "tel_b": "TB", "tel_w": "TW"}[kind]
    ts = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    return {"json": [{"site_id": site, "ts": ts, "primary_supply_temp_c": 92.5}]}


def _run(world: World, rows: list, follow: bool) -> list[str]:
    failures = []
    for method, path, body_kind, expected in rows:
        url = path.format(**world.ids)
        for persona, want in zip(PERSONAS, expected, strict=True):
            client = TestClient(world.app, follow_redirects=follow)
            r = client.request(method, url, headers=world.auth(persona), **_body(body_kind))
            got = r.status_code
            allowed = 200 <= got < 300
            if (want == OK and not allowed) or (want != OK and got != want):
                failures.append(
                    f"{persona:11} {method} {url}: want {want}, got {got} {r.text[:160]}"
                )
            if path.startswith("/api/") and not allowed and got >= 400:
                assert set(r.json()["error"]) == {"code", "message", "message_zh", "details"}
    return failures


def test_every_telemetry_route_is_in_the_matrix(world: World) -> None:
    mine = {(m, p) for m, p in _app_routes(world) if p.startswith("/api/v1/telemetry")}
    covered = {(m, _match(world, m, p)) for m, p, _, _ in MATRIX}
    assert mine == covered


def test_telemetry_authorization_matrix(world: World) -> None:
    _seed(world)
    failures = _run(world, MATRIX, follow=True)
    assert not failures, "\n" + "\n".join(failures)
    with world.store.read() as q:
        stored = dict(q.all("SELECT site_id, COUNT(*) FROM telemetry GROUP BY site_id"))
    assert "TB" in stored and "TA" in stored  # each allowed post stored its row once


def test_telemetry_pages_by_role(world: World) -> None:
    _seed(world)
    failures = _run(world, PAGES, follow=False)
    assert not failures, "\n" + "\n".join(failures)
