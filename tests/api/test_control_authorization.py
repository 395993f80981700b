"""Control routes × every role → allowed (2xx) or denied (401/403/404).

Same personas as ``test_authorization_matrix``: schedules of enterprise A and B, a
shadow run that belongs to no enterprise (read-only for every reader), and station
forecasts scoped by the station's enterprise. ``{new_a}``/``{new_b}`` are fresh
proposed schedules made for each request (a decision is taken once).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

from nuanliu.control import store as cstore
from tests.api.conftest import World
from tests.api.test_authorization_matrix import OK, PERSONAS, _parse

MATRIX_TABLE = """
method path                                          body    anon reg admA opA opB stwA resA gwA
GET    @/control/schedules                           -       401  ok  ok   ok  ok  403  403  403
GET    @/control/schedules/{sched_a}                 -       401  ok  ok   ok  404 403  403  403
GET    @/control/schedules/{sched_b}                 -       401  404 404  404 ok  403  403  403
GET    @/control/schedules/{shadow}                  -       401  ok  ok   ok  ok  403  403  403
GET    @/control/schedules/nothing-here              -       401  404 404  404 404 403  403  403
POST   @/control/schedules/{new_a}/decision          accept  401  403 ok   ok  404 403  403  403
POST   @/control/schedules/{new_b}/decision          accept  401  403 404  404 ok  403  403  403
POST   @/control/schedules/{shadow}/decision         accept  401  403 404  404 404 403  403  403
POST   @/control/schedules/{new_a}/decision          edit    401  403 ok   ok  404 403  403  403
GET    @/control/forecasts/{station_a}               -       401  ok  ok   ok  404 403  403  403
GET    @/control/forecasts/{station_b}               -       401  404 404  404 ok  403  403  403
GET    @/control/balance                             -       401  ok  ok   ok  ok  403  403  403
"""


def _schedule(world: World, enterprise: str | None, status: str = "proposed") -> str:
    idx = pd.date_range("2026-12-02", periods=3, freq="h", tz="UTC")
    hourly = pd.DataFrame(
        {
            "supply_temp_c[TKT]": [110.0, 112.0, 115.0],
            "heat_delivered_mw": 10.0,
            "forecast_mw": 11.0,
        },
        index=idx,
    )
    return cstore.save_schedule(
        world.store,
        network="tuoketuo-hohhot",
        enterprise_id=enterprise,
        hourly=hourly,
        sp_ids=["TKT"],
        curve=np.full((1, 3), 118.0),
        cost={"total_cost": 1.0},
        curve_cost={"total_cost": 1.1},
        status=status,
        now=datetime.now(UTC),
    )


def _body(kind: str | None) -> dict:
    if kind == "accept":
        return {"json": {"decision": "accepted"}}
    if kind == "edit":
        return {
            "json": {
                "decision": "edited",
                "note": "夜间提前升温",
                "edits": [
                    {"supply_point": "TKT", "ts": "2026-12-02T01:00:00Z", "supply_temp_c": 116.0}
                ],
            }
        }
    return {}


def test_every_control_route_is_in_the_matrix(world: World) -> None:
    paths = world.app.openapi()["paths"]
    ours = {
        (m.upper(), p) for p, ops in paths.items() for m in ops if p.startswith("/api/v1/control")
    }
    covered = {
        (
            m,
            p.split("?")[0]
            .replace("{new_a}", "{schedule_id}")
            .replace("{new_b}", "{schedule_id}")
            .replace("{sched_a}", "{schedule_id}")
            .replace("{shadow}", "{schedule_id}")
            .replace("{station_a}", "{site_id}"),
        )
        for m, p, _, _ in _parse(MATRIX_TABLE)
    }
    assert ours <= covered


def test_control_authorization_matrix(world: World) -> None:
    ids = dict(world.ids)
    ids["sched_a"] = _schedule(world, ids["enterprise_a"])
    ids["sched_b"] = _schedule(world, ids["enterprise_b"])
    ids["shadow"] = _schedule(world, None, status="shadow")
    failures = []
    for method, path, body, expected in _parse(MATRIX_TABLE):
        for persona, want in zip(PERSONAS, expected, strict=True):
            fresh = {
                "new_a": _schedule(world, ids["enterprise_a"]),
                "new_b": _schedule(world, ids["enterprise_b"]),
            }
            url = path.format(**ids, **fresh)
            r = TestClient(world.app).request(
                method, url, headers=world.auth(persona), **_body(body)
            )
            got = r.status_code
            allowed = 200 <= got < 300
            if (want == OK and not allowed) or (want != OK and got != want):
                failures.append(
                    f"{persona:11} {method} {url}: want {want}, got {got} {r.text[:160]}"
                )
            if got >= 400:
                assert set(r.json()["error"]) == {"code", "message", "message_zh", "details"}
    assert not failures, "\n" + "\n".join(failures)


def test_an_edit_is_stored_and_a_second_decision_conflicts(world: World) -> None:
    sid = _schedule(world, world.ids["enterprise_a"])
    c = TestClient(world.app)
    r = c.post(
        f"/api/v1/control/schedules/{sid}/decision",
        headers=world.auth("operator_a"),
        **_body("edit"),
    )
    assert r.status_code == 200 and r.json()["status"] == "edited"
    detail = c.get(f"/api/v1/control/schedules/{sid}", headers=world.auth("operator_a")).json()
    edited = [h for h in detail["hours"] if h["edited_c"] is not None]
    assert len(edited) == 1 and edited[0]["edited_c"] == 116.0
    again = c.post(
        f"/api/v1/control/schedules/{sid}/decision",
        headers=world.auth("admin_a"),
        **_body("accept"),
    )
    assert again.status_code == 409
