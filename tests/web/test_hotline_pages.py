"""Hotline pages render for every role that has them, in both languages, and their
forms change tickets (CSRF-protected); exports download."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from nuanliu.api.accounts import create_user
from nuanliu.hotline.tickets import Actor, NewTicket, create_ticket

from .conftest import login as web_login
from .conftest import make_client
from .world import PASSWORD, World, build_world


@pytest.fixture(scope="module")
def hw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(
        f"duckdb:///{tmp_path_factory.mktemp('hl') / 'web.duckdb'}",
        users=("regulator", "steward_a", "resident", "admin_a", "operator_b"),
    )
    for name, role, ids in (
        ("gov_a", "gov_steward", ["CEA"]),
        ("hotline_op", "hotline_operator", ["HHHT"]),
    ):
        w.users[name] = create_user(
            w.store, username=name, password=PASSWORD, role=role, scope_ids=ids, display_name=name
        )
    try:
        yield w
    finally:
        w.store.close()


def login(world: World, username: str) -> tuple[TestClient, str]:
    client = web_login(make_client(world), username)
    page = client.get(
        "/hotline/mine" if username == "resident" else "/hotline", follow_redirects=True
    )
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return client, token.group(1) if token else ""


def test_resident_files_and_the_steward_works_the_ticket(hw: World) -> None:
    res, csrf = login(hw, "resident")
    page = res.get("/hotline/mine")
    assert page.status_code == 200 and "我的报修" in page.text
    resp = res.post(
        "/hotline/mine",
        data={"csrf_token": csrf, "category": "temp_low", "description": "卧室很冷"},
    )
    assert resp.status_code == 303
    tid = resp.headers["location"].rsplit("/", 1)[1]
    assert res.get(f"/hotline/tickets/{tid}").status_code == 200
    # without the CSRF token nothing happens
    assert (
        res.post("/hotline/mine", data={"category": "leak", "description": "x"}).status_code == 403
    )
    stw, csrf2 = login(hw, "steward_a")
    queue = stw.get("/hotline")
    assert tid in queue.text
    detail = stw.get(f"/hotline/tickets/{tid}")
    assert 'data-testid="hl-evidence-chart"' in detail.text
    assert "传感器与投诉不符" in detail.text  # the flat reads 20.5 °C: the sensor disagrees
    for action, extra in (
        ("sign", {}),
        ("arrive", {}),
        ("measure", {"bedroom_temp_c": "17.2", "living_room_temp_c": "18.1"}),
        ("fix", {"note": "调节阀"}),
    ):
        r = stw.post(
            f"/hotline/tickets/{tid}/act", data={"csrf_token": csrf2, "action": action, **extra}
        )
        assert r.status_code == 303 and "error" not in r.headers["location"], r.headers
    # an illegal action is refused with a message, not a crash
    r = stw.post(f"/hotline/tickets/{tid}/act", data={"csrf_token": csrf2, "action": "sign"})
    assert "error=" in r.headers["location"]
    # the steward may not close it for the resident
    r = stw.post(
        f"/hotline/tickets/{tid}/act",
        data={"csrf_token": csrf2, "action": "confirm", "satisfaction": "satisfied"},
    )
    assert "error=" in r.headers["location"]
    page = res.get(f"/hotline/tickets/{tid}")
    assert 'data-testid="hl-form-confirm"' in page.text
    r = res.post(
        f"/hotline/tickets/{tid}/act",
        data={"csrf_token": csrf, "action": "confirm", "satisfaction": "satisfied"},
    )
    assert r.status_code == 303
    assert "已办结" in res.get(f"/hotline/tickets/{tid}").text


@pytest.mark.parametrize(
    "who", ["regulator", "steward_a", "admin_a", "gov_a", "hotline_op", "operator_b"]
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staff_pages_render(hw: World, who: str, lang: str) -> None:
    client, _ = login(hw, who)
    for path in ("/hotline", "/hotline/stats", "/hotline/stats?level=community"):
        r = client.get(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert r.status_code == 200, (path, r.text[:300])
        assert "hotline.css" in r.text
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/hotline?fmt={fmt}")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        r = client.get(f"/hotline/stats?fmt={fmt}")
        assert r.status_code == 200


def test_operator_logs_a_call_and_imports_12345(hw: World) -> None:
    op, csrf = login(hw, "hotline_op")
    page = op.get("/hotline/new?q=HEA2")
    assert page.status_code == 200 and 'data-testid="hl-pick"' in page.text
    hid = re.search(r"household=(HEA2\w+)", page.text).group(1)
    assert op.get(f"/hotline/new?household={hid}").status_code == 200
    r = op.post(
        "/hotline/new",
        data={
            "csrf_token": csrf,
            "household_id": hid,
            "category": "noise",
            "description": "水泵噪音",
            "urgency": "normal",
        },
    )
    assert r.status_code == 303 and "/hotline/tickets/HL" in r.headers["location"]
    csv_text = f"工单编号,诉求内容,户号\nWEB-1,冷,{hid}\nWEB-2,,{hid}\n"
    r = op.post(
        "/hotline/import",
        data={"csrf_token": csrf},
        files={"file": ("o.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 200 and 'data-testid="hl-import-report"' in r.text
    assert "<td>3</td><td>WEB-2</td>" in r.text  # the row without a description, line 3


def test_pages_refuse_roles_without_them(hw: World) -> None:
    res, _ = login(hw, "resident")
    assert res.get("/hotline/stats").status_code == 403
    assert res.get("/hotline/new").status_code == 403
    assert res.get("/hotline/import").status_code == 403
    stw, _ = login(hw, "steward_a")
    assert stw.get("/hotline/import").status_code == 403
    anon = make_client(hw)
    assert anon.get("/hotline").status_code in (302, 303)
    ob, _ = login(hw, "operator_b")
    with hw.store.write() as w:
        tid = create_ticket(
            w, NewTicket("HEA111", "leak", "漏水"), actor=Actor("t", "system"), now=hw.now
        )
    assert ob.get(f"/hotline/tickets/{tid}").status_code == 404
    assert tid not in ob.get("/hotline?state=all").text
