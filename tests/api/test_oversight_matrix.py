"""Every oversight and report route × every role (same conventions as
test_authorization_matrix): regulators act, enterprises see and answer only their own
orders and scores, stewards/residents/gateways get nothing. ``A`` = enterprise A in the
regulator's city, ``B`` = enterprise B in another city."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from nuanliu.oversight import orders as od
from nuanliu.oversight.attachments import add_attachment
from nuanliu.oversight.evaluation import run_evaluation
from nuanliu.oversight.exit import ExitRule, check_exit
from nuanliu.oversight.licences import add_licence
from nuanliu.oversight.scorecard import parse_scorecard, save_scorecard
from nuanliu.reports.archive import save_report
from nuanliu.reports.daily import build_daily
from nuanliu.reports.scopes import ReportScope
from tests.api.conftest import World
from tests.api.test_authorization_matrix import OK, PERSONAS, _match, _parse

DAY = date(2026, 11, 30)
MATRIX_TABLE = """
method path                                        body       anon reg admA opA opB stwA resA gwA
GET    @/reports                                   -          401  ok  ok   ok  ok  403  403  403
POST   @/reports                                   gen_a      401  ok  403  403 403 403  403  403
GET    @/reports/{rep_a}                           -          401  ok  404  404 404 403  403  403
GET    @/reports/{rep_b}                           -          401  404 404  404 ok  403  403  403
GET    @/reports/{rep_b}/file/pdf                  -          401  404 404  404 ok  403  403  403
GET    @/oversight/orders                          -          401  ok  ok   ok  ok  403  403  403
POST   @/oversight/orders                          order_a    401  ok  403  403 403 403  403  403
POST   @/oversight/orders                          order_b    401  404 403  403 403 403  403  403
GET    @/oversight/orders/{order_a}                -          401  ok  ok   ok  404 403  403  403
GET    @/oversight/orders/{order_b}                -          401  404 404  404 ok  403  403  403
POST   @/oversight/orders/{order_a}/{accept}       note       401  403 ok   409 404 403  403  403
POST   @/oversight/orders/{order_b}/{accept}       note       401  404 404  404 ok  403  403  403
POST   @/oversight/orders/{order_a}/attachments    file       401  ok  ok   ok  404 403  403  403
POST   @/oversight/orders/{order_b}/attachments    file       401  404 404  404 ok  403  403  403
GET    @/oversight/attachments/{att_a}             -          401  ok  ok   ok  404 403  403  403
GET    @/oversight/attachments/{doc_b}             -          401  404 404  404 ok  403  403  403
GET    @/oversight/licences                        -          401  ok  ok   ok  ok  403  403  403
POST   @/oversight/licences                        lic_a      401  ok  403  403 403 403  403  403
POST   @/oversight/licences/{lic_b}/state          suspend    401  404 403  403 403 403  403  403
POST   @/oversight/licences/{lic_a}/documents      file       401  ok  403  403 403 403  403  403
POST   @/oversight/licences/{lic_b}/documents      file       401  404 403  403 403 403  403  403
POST   @/oversight/manual-values                   manual_a   401  ok  403  403 403 403  403  403
POST   @/oversight/manual-values                   manual_b   401  404 403  403 403 403  403  403
GET    @/oversight/scorecards                      -          401  ok  403  403 403 403  403  403
POST   @/oversight/scorecards                      card       401  ok  403  403 403 403  403  403
POST   @/oversight/evaluations                     eval_a     401  ok  403  403 403 403  403  403
GET    @/oversight/evaluations                     -          401  ok  ok   ok  ok  403  403  403
GET    @/oversight/evaluations/{ev_a}              -          401  ok  ok   ok  404 403  403  403
GET    @/oversight/evaluations/{ev_b}              -          401  404 404  404 ok  403  403  403
GET    @/oversight/exit-flags                      -          401  ok  403  403 403 403  403  403
GET    @/oversight/exit-rule                       -          401  ok  403  403 403 403  403  403
PUT    @/oversight/exit-rule                       rule       401  ok  403  403 403 403  403  403
POST   @/oversight/exit-flags/{flag_b}/decision    decide     401  404 403  403 403 403  403  403
"""
MATRIX = _parse(MATRIX_TABLE)
CARD = {
    "name_zh": "测试",
    "season": "2026-2027",
    "indicators": [{"key": "compliance_rate", "points": 100, "tiers": [[0.9, 1.0]]}],
    "vetoes": [{"indicator": "compliance_rate", "below": 0.5}],
    "grades": [{"grade": "A", "min_points": 90}, {"grade": "D", "min_points": 0}],
}


def _seed(world: World) -> dict[str, str]:
    s, ids = world.store, world.ids
    now = datetime.now(UTC)
    deadline = now + timedelta(days=7)
    reg = world.users["regulator"]
    order_a = od.create_order(
        s,
        enterprise_id=ids["enterprise_a"],
        subject_level="enterprise",
        subject_id=ids["enterprise_a"],
        problem_zh="覆盖率不足",
        deadline=deadline,
        by=reg,
    )
    order_b = od.create_order(
        s,
        enterprise_id=ids["enterprise_b"],
        subject_level="enterprise",
        subject_id=ids["enterprise_b"],
        problem_zh="达标率低",
        deadline=deadline,
        by="system",
        issuer_region_id=ids["city_b"],
    )
    lic_a = add_licence(
        s,
        licence_no="L-A",
        enterprise_id=ids["enterprise_a"],
        holder_name="A",
        valid_from=DAY - timedelta(days=10),
        valid_to=DAY + timedelta(days=300),
    )
    lic_b = add_licence(
        s,
        licence_no="L-B",
        enterprise_id=ids["enterprise_b"],
        holder_name="B",
        valid_from=DAY - timedelta(days=10),
        valid_to=DAY + timedelta(days=300),
    )
    card = save_scorecard(s, parse_scorecard(CARD))
    ev = {
        k: run_evaluation(
            s,
            card.scorecard_id,
            ids[k],
            period_kind="month",
            period_label="2026-11",
            first_day=DAY - timedelta(days=6),
            end_day=DAY + timedelta(days=1),
            by="system",
        )
        for k in ("city_a", "city_b")
    }
    flag_b = check_exit(s, ids["enterprise_b"], ExitRule(failing_periods=99, unrectified_orders=0))
    assert flag_b is not None
    att_a = add_attachment(s, "order", order_a.order_id, "整改.txt", "text/plain", b"ok", "t")
    doc_b = add_attachment(
        s, "licence", lic_b.licence_id, "许可证.pdf", "application/pdf", b"%PDF", "t"
    )
    rep_a = save_report(s, build_daily(s, ReportScope("city", ids["city_a"]), DAY), by="t")
    rep_b = save_report(
        s, build_daily(s, ReportScope("enterprise", ids["enterprise_b"]), DAY), by="t"
    )
    return {
        "order_a": order_a.order_id,
        "order_b": order_b.order_id,
        "lic_b": lic_b.licence_id,
        "ev_a": ev["city_a"],
        "ev_b": ev["city_b"],
        "flag_b": flag_b["flag_id"],
        "rep_a": rep_a.report_id,
        "rep_b": rep_b.report_id,
        "accept": "accept",
        "card": card.scorecard_id,
        "lic_a": lic_a.licence_id,
        "att_a": att_a,
        "doc_b": doc_b,
    }


def _body(world: World, kind: str | None, seeded: dict[str, str]) -> dict[str, Any]:
    ids = world.ids
    deadline = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    bodies: dict[str, Any] = {
        "gen_a": {"kind": "daily", "scope": f"city:{ids['city_a']}", "day": DAY.isoformat()},
        "order_a": {
            "enterprise_id": ids["enterprise_a"],
            "subject_level": "station",
            "subject_id": ids["station_a"],
            "problem_zh": "站点偏冷",
            "deadline": deadline,
        },
        "order_b": {
            "enterprise_id": ids["enterprise_b"],
            "subject_id": ids["enterprise_b"],
            "problem_zh": "x",
            "deadline": deadline,
        },
        "note": {"note": "收到"},
        "lic_a": {
            "licence_no": f"L-A-{datetime.now(UTC).timestamp()}",
            "enterprise_id": ids["enterprise_a"],
            "holder_name": "A",
            "valid_from": "2026-01-01",
            "valid_to": "2029-12-31",
        },
        "suspend": {"state": "suspended", "reason": "整改"},
        "card": CARD,
        "eval_a": {
            "scorecard_id": seeded["card"],
            "region_id": ids["city_a"],
            "period_kind": "season",
            "period_label": "2026-2027",
            "first_day": "2026-11-24",
            "end_day": "2026-12-01",
        },
        "decide": {"decision": "warning", "note": "约谈"},
        "rule": {"failing_periods": 2, "period_kind": "month", "unrectified_orders": 3},
        "manual_a": {
            "scorecard_id": seeded["card"],
            "period_label": "2026-11",
            "enterprise_id": ids["enterprise_a"],
            "indicator": "safety_incidents",
            "value": 0,
            "evidence": "安监通报",
        },
        "manual_b": {
            "scorecard_id": seeded["card"],
            "period_label": "2026-11",
            "enterprise_id": ids["enterprise_b"],
            "indicator": "safety_incidents",
            "value": 1,
            "evidence": "x",
        },
    }
    if kind == "file":
        return {"files": {"file": ("整改照片.txt", "已修复".encode(), "text/plain")}}
    return {} if kind is None else {"json": bodies[kind]}


def test_oversight_authorization_matrix(world: World) -> None:
    seeded = _seed(world)
    routes = {
        (m, p) for p, ops in world.app.openapi()["paths"].items() for m in (o.upper() for o in ops)
    }
    mine = {r for r in routes if r[1].startswith(("/api/v1/oversight", "/api/v1/reports"))}
    assert mine == {(m, _match(world, m, p)) for m, p, _, _ in MATRIX}  # every new route covered
    failures = []
    for method, path, body_kind, expected in MATRIX:
        url = path.format(**{**world.ids, **seeded})
        for persona, want in zip(PERSONAS, expected, strict=True):
            body = _body(world, body_kind, seeded)
            r = TestClient(world.app).request(method, url, headers=world.auth(persona), **body)
            got = r.status_code
            allowed = 200 <= got < 300
            if (want == OK and not allowed) or (want != OK and got != want):
                failures.append(
                    f"{persona:11} {method} {url}: want {want}, got {got} {r.text[:160]}"
                )
            if got >= 400:
                assert set(r.json()["error"]) == {"code", "message", "message_zh", "details"}
    assert not failures, "\n" + "\n".join(failures)


def test_an_enterprise_never_sees_another_ones_orders_or_scores(world: World) -> None:
    seeded = _seed(world)
    c = world.client
    orders = c.get("/api/v1/oversight/orders", headers=world.auth("operator_a")).json()
    assert {o["enterprise_id"] for o in orders} == {world.ids["enterprise_a"]}
    ev = c.get(
        f"/api/v1/oversight/evaluations/{seeded['ev_a']}", headers=world.auth("admin_a")
    ).json()
    assert {r["enterprise_id"] for r in ev["results"]} == {world.ids["enterprise_a"]}
    assert {i["enterprise_id"] for i in ev["items"]} == {world.ids["enterprise_a"]}
    runs = c.get("/api/v1/oversight/evaluations", headers=world.auth("operator_b")).json()
    assert [r["evaluation_id"] for r in runs] == [seeded["ev_b"]]
    reports = c.get("/api/v1/reports", headers=world.auth("operator_b")).json()
    assert {r["scope_key"] for r in reports} == {f"enterprise:{world.ids['enterprise_b']}"}
    pdf = c.get(f"/api/v1/reports/{seeded['rep_b']}/file/pdf", headers=world.auth("operator_b"))
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
