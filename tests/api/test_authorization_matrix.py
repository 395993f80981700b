"""Every API route × every role → allowed (2xx) or denied (401/403/404).

The table is the specification a reviewer reads: one row per request, one column per
persona. ``A`` = enterprise A (Hohhot), ``B`` = enterprise B (Baotou); the regulator
covers Hohhot; the steward covers A's community; the resident lives in ``household_a``
and ``household_neighbour`` is next door. 404 means "not in your scope" (the row's
existence is not revealed); 403 means "your role may not do this".
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from nuanliu.ingest.batch import ingest_rows
from nuanliu.monitor.alerts import default_rules, evaluate_alerts, save_rule
from tests.api.conftest import World

PERSONAS = [
    "anonymous",
    "regulator",
    "admin_a",
    "operator_a",
    "operator_b",
    "steward_a",
    "resident_a",
    "gateway_a",
]
OK = 200

# One request per line; "ok" = any 2xx; "@" = /api/v1. Placeholders {...} are registry
# objects the fixture picked (IDS below); body names a request body built by _body().
MATRIX_TABLE = """
method path                                        body       anon reg admA opA opB stwA resA gwA
GET    /healthz                                    -          ok   ok  ok   ok  ok  ok   ok   ok
GET    /metrics                                    -          403  403 403  403 403 403  403  403
GET    @/me                                        -          401  ok  ok   ok  ok  ok   ok   ok
GET    @/registry/counts                           -          401  ok  ok   ok  ok  ok   ok   403
GET    @/registry/households                       -          401  ok  ok   ok  ok  ok   ok   403
GET    @/registry/households/{hh_a}                -          401  ok  ok   ok  404 ok   ok   403
GET    @/registry/households/{hh_n}                -          401  ok  ok   ok  404 ok   404  403
GET    @/registry/households/{hh_b}                -          401  404 404  404 ok  404  404  403
GET    @/registry/buildings/{bld_a}/children       -          401  ok  ok   ok  404 ok   ok   403
PUT    @/registry/households/{hh_a}                hh_a       401  403 ok   403 403 403  403  403
PUT    @/registry/households/{hh_b}                hh_b       401  403 403  403 403 403  403  403
POST   @/registry/import                           import_a   401  403 ok   403 403 403  403  403
POST   @/readings                                  readings_a 401  403 ok   ok  403 403  403  ok
POST   @/readings                                  readings_b 401  403 403  403 ok  403  403  403
GET    @/monitoring/compliance?level=enterprise    -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/compliance                     parent_b   401  404 404  404 ok  404  404  403
GET    @/monitoring/compliance/trend               -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/drilldown                      -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/drilldown                      drill_b    401  404 404  404 ok  404  404  403
GET    @/monitoring/compliance/trend               unit_hh_n  401  ok  ok   ok  404 ok   404  403
GET    @/monitoring/cold                           -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/overheated                     -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/offline                        -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/suspicious                     -          401  ok  ok   ok  ok  ok   ok   403
GET    @/monitoring/series/household/{hh_a}        -          401  ok  ok   ok  404 ok   ok   403
GET    @/monitoring/series/household/{hh_n}        -          401  ok  ok   ok  404 ok   404  403
GET    @/monitoring/series/station/{st_b}          -          401  404 404  404 ok  404  404  403
GET    @/alerts                                    -          401  ok  ok   ok  ok  ok   ok   403
POST   @/alerts/{alert_a}/acknowledge              -          401  403 ok   ok  404 ok   403  403
POST   @/alerts/{alert_b}/acknowledge              -          401  403 404  404 ok  404  403  403
GET    @/users                                     -          401  403 ok   403 403 403  403  403
POST   @/users                                     new_user   401  403 ok   403 403 403  403  403
PATCH  @/users/{user_op_a}                         rename     401  403 ok   403 403 403  403  403
PATCH  @/users/{user_op_b}                         rename     401  403 404  403 403 403  403  403
GET    @/audit                                     -          401  403 ok   403 403 403  403  403
GET    @/simulation/networks                       -          401  ok  ok   ok  ok  403  403  403
GET    @/simulation/networks/jiexiu/steady         -          401  ok  ok   ok  ok  403  403  403
"""


def _parse(
    table: str, api: str = "/api/v1", personas: list[str] | None = None
) -> list[tuple[str, str, str | None, list[int]]]:
    """Rows of a matrix table: method, path ("@" = ``api``), body name, expected codes
    (one per persona)."""
    rows = []
    for line in table.strip().splitlines()[1:]:
        method, path, body, *codes = line.split()
        path = path.replace("@", api, 1) if path.startswith("@") else path
        assert len(codes) == len(personas or PERSONAS), line
        expect = [OK if c == "ok" else int(c) for c in codes]
        rows.append((method, path, None if body == "-" else body, expect))
    return rows


MATRIX = _parse(MATRIX_TABLE)

# Short placeholder names in the table -> keys of ``world.ids``.
IDS = {
    "hh_a": "household_a",
    "hh_n": "household_neighbour",
    "hh_b": "household_b",
    "bld_a": "building_a",
    "st_b": "station_b",
}

# Routes outside the role matrix, and where they are tested instead.
NOT_IN_MATRIX = {
    ("POST", "/auth/login"): "credentials, not a role: test_auth",
    ("POST", "/auth/logout"): "ends the caller's own session: test_auth",
    ("POST", "/api/v1/auth/token"): "credentials, not a role: test_auth",
    ("DELETE", "/api/v1/auth/token"): "revokes the caller's own token: test_auth",
}

# Capabilities with their own route × role matrix, each checking that it covers every
# route under its prefix.
OWN_MATRICES = {
    "/api/v1/hotline/": "tests/api/test_hotline_authorization.py",
    "/api/v1/telemetry": "tests/api/test_telemetry_authorization.py",
    "/api/v1/control/": "tests/api/test_control_authorization.py",
    "/api/v1/oversight/": "tests/api/test_oversight_matrix.py",
    "/api/v1/reports": "tests/api/test_oversight_matrix.py",
    "/api/v1/billing/": "tests/api/test_billing_authorization.py",
    "/api/v1/meters": "tests/api/test_billing_authorization.py",
}


def _seed_readings_and_alerts(world: World) -> None:
    """Hourly readings: A's resident and B's household cold (14 °C), the neighbour warm."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    temps = {"sensor_a": 14.0, "sensor_neighbour": 21.0, "sensor_b": 14.5}
    rows = [
        {
            "sensor_id": world.ids[key],
            "ts": (now - timedelta(hours=h, minutes=30)).isoformat(),
            "temp_c": t,
        }
        for key, t in temps.items()
        for h in range(12)
    ]
    report = ingest_rows(world.store, rows)
    assert report.stored == len(rows)
    save_rule(world.store, next(r for r in default_rules() if r.metric == "household_temp_below"))
    evaluate_alerts(world.store, now, deliver=False)
    with world.store.read() as q:
        alerts = dict(q.all("SELECT subject_id, alert_id FROM mon_alerts"))
    world.ids["alert_a"] = str(alerts[world.ids["household_a"]])
    world.ids["alert_b"] = str(alerts[world.ids["household_b"]])
    world.ids["user_op_a"] = world.users["operator_a"].user_id
    world.ids["user_op_b"] = world.users["operator_b"].user_id


def _body(world: World, kind: str | None) -> dict[str, Any]:
    ids = world.ids
    if kind is None:
        return {}
    if kind == "parent_b":
        return {"params": {"level": "station", "parent_id": ids["enterprise_b"]}}
    if kind == "drill_b":
        return {
            "params": {
                "levels": ["station", "building"],
                "parent_level": "enterprise",
                "parent_id": ids["enterprise_b"],
            }
        }
    if kind == "unit_hh_n":
        return {"params": {"level": "household", "unit_id": ids["household_neighbour"]}}
    if kind in ("hh_a", "hh_b"):
        building = ids["building_a"] if kind == "hh_a" else ids["building_b"]
        return {"json": {"building_id": building, "floor_area_m2": 88.5}}
    if kind == "import_a":
        csv_text = (
            "sensor_id,household_id,room\n"
            f"S-NEW-{uuid.uuid4().hex[:8]},{ids['household_a']},bedroom\n"
        )
        return {"files": {"file": ("sensors.csv", csv_text.encode(), "text/csv")}}
    if kind in ("readings_a", "readings_b"):
        sensor = ids["sensor_a"] if kind == "readings_a" else ids["sensor_b"]
        ts = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        return {"json": [{"sensor_id": sensor, "ts": ts, "temp_c": 19.5}]}
    if kind == "new_user":
        name = f"u{uuid.uuid4().hex[:10]}"
        return {
            "json": {"username": name, "password": "long-enough-1", "role": "enterprise_operator"}
        }
    if kind == "rename":
        return {"json": {"display_name": "值班员"}}
    raise AssertionError(kind)


def _app_routes(world: World) -> set[tuple[str, str]]:
    """Every (method, path template) the app documents in its OpenAPI schema."""
    paths = world.app.openapi()["paths"]
    return {(m.upper(), p) for p, ops in paths.items() for m in ops}


def test_every_route_is_in_the_matrix(world: World) -> None:
    covered = set(NOT_IN_MATRIX) | {
        (m, p) for m, p in _app_routes(world) if p.startswith(tuple(OWN_MATRICES))
    }
    for method, path, _, _ in MATRIX:
        covered.add((method, _match(world, method, path)))
    assert _app_routes(world) == covered


def _match(world: World, method: str, path: str) -> str:
    """The route template a matrix path exercises (the most literal one that fits)."""
    bare = path.split("?")[0].strip("/").split("/")
    best: tuple[int, str] | None = None
    for m, template in _app_routes(world):
        parts = template.strip("/").split("/")
        if m != method or len(parts) != len(bare):
            continue
        pairs = list(zip(bare, parts, strict=True))
        if all(t == p or t.startswith("{") for p, t in pairs):
            literal = sum(t == p for p, t in pairs)
            if best is None or literal > best[0]:
                best = (literal, template)
    assert best is not None, f"no route for {method} {path}"
    return best[1]


def test_authorization_matrix(world: World) -> None:
    _seed_readings_and_alerts(world)
    failures = []
    for method, path, body_kind, expected in MATRIX:
        url = path.format(**{**world.ids, **{k: world.ids[v] for k, v in IDS.items()}})
        for persona, want in zip(PERSONAS, expected, strict=True):
            client = TestClient(world.app)
            r = client.request(method, url, headers=world.auth(persona), **_body(world, body_kind))
            got = r.status_code
            allowed = 200 <= got < 300
            if (want == OK and not allowed) or (want != OK and got != want):
                failures.append(
                    f"{persona:11} {method} {url}: want {want}, got {got} {r.text[:160]}"
                )
            if not allowed and got >= 400:
                assert set(r.json()["error"]) == {"code", "message", "message_zh", "details"}
    assert not failures, "\n" + "\n".join(failures)
