"""Operations pages: the scheduler page, user management, registry import with its row
errors, and the audit log — in both languages, for the roles allowed, refused to others,
and laid out for a 360 px wide phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from nuanliu.scheduler.runner import Scheduler
from tests.web.conftest import login, make_client
from tests.web.world import PASSWORD, World, build_world

STATIONS_CSV = (
    "station_id,enterprise_id,region_id,name_zh,lon,lat\n"
    "ST-NEW1,EA,HHHT,新站一,111.70,40.80\n"
    "ST-NEW2,EA,HHHT,新站二,not-a-number,40.81\n"
)


@pytest.fixture
def ops_world(db_url: str) -> Iterator[World]:
    w = build_world(db_url, users=("regulator", "admin_a", "operator_a"))
    try:
        yield w
    finally:
        w.store.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_scheduler_page_lists_jobs_runs_and_failures(ops_world: World) -> None:
    sched = Scheduler(ops_world.store, instance_id="page-test")
    sched.tick(datetime.now(UTC))
    sched.wait_idle(120)
    with make_client(ops_world) as client:
        login(client, "regulator")
        page = client.get("/scheduler?lang=en")
        assert page.status_code == 200
        rows = dict(re.findall(r'data-job="([a-z_]+)" data-status="([a-z]+)"', page.text))
        assert rows["alerts"] == "ok" and rows["db_backup"] == "ok"
        assert "unavailable" in rows.values() or len(rows) == len(sched.jobs)
        assert "page-test" in page.text  # the live instance
        zh = client.get("/scheduler?lang=zh").text
        assert "定时任务" in zh and "告警规则评估" in zh
    with make_client(ops_world) as client:
        login(client, "operator_a")
        assert client.get("/scheduler").status_code == 403


def test_admin_manages_users_imports_and_reads_the_audit_log(ops_world: World) -> None:
    with make_client(ops_world) as client:
        login(client, "admin_a")
        page = client.get("/admin/users?lang=en")
        assert page.status_code == 200 and 'data-user="operator_a"' in page.text
        token = _csrf(page.text)
        form = {"csrf_token": token, "username": "night_op", "display_name": "Night shift",
                "role": "enterprise_operator", "password": "long-enough-pw"}  # fmt: skip
        # without the CSRF token nothing happens
        refused = client.post(
            "/admin/users", data={k: v for k, v in form.items() if k != "csrf_token"}
        )
        assert refused.status_code == 403
        created = client.post("/admin/users", data=form)
        assert created.status_code == 303 and created.headers["location"].endswith("done=created")
        users = client.get("/admin/users").text
        assert 'data-user="night_op"' in users
        short = client.post("/admin/users", data={**form, "username": "x2", "password": "short"})
        assert short.status_code == 422 and 'data-testid="admin-problem"' in short.text
        user_id = re.search(
            r'action="/admin/users/([^"]+)/active".*?\n', users.split('data-user="night_op"')[1]
        )
        assert user_id
        off = client.post(
            f"/admin/users/{user_id.group(1)}/active", data={"csrf_token": token, "active": "0"}
        )
        assert off.status_code == 303

        imported = client.post(
            "/admin/import",
            data={"csrf_token": token, "kind": "stations"},
            files={"file": ("stations.csv", STATIONS_CSV.encode(), "text/csv")},
        )
        assert imported.status_code == 200
        errors = imported.text.split('data-testid="admin-import-errors"')[1]
        assert "stations.csv" in errors and ">3<" in errors and "lon" in errors
        with ops_world.store.read() as q:
            stored = {r[0] for r in q.all("SELECT station_id FROM stations")}
        assert "ST-NEW1" in stored and "ST-NEW2" not in stored

        audit = client.get("/admin/audit?lang=en").text
        for action in ("user_create", "user_update", "registry_import"):
            assert action in audit
        only = client.get("/admin/audit?action=user_create").text
        assert "registry_import" not in only.split('data-testid="admin-audit"')[1]
    with make_client(ops_world) as client:
        login(client, "operator_a")
        for path in ("/admin/users", "/admin/import", "/admin/audit"):
            assert client.get(path).status_code == 403, path
    with make_client(ops_world) as anonymous:
        assert anonymous.get("/admin/users").status_code == 303


WIDER_THAN_VIEWPORT = """() => {
  const W = document.documentElement.clientWidth;
  return [...document.querySelectorAll('main *')]
    .filter(e => !e.closest('.ops-scroll') || e.classList.contains('ops-scroll'))
    .filter(e => e.getBoundingClientRect().right > W + 1)
    .map(e => e.tagName + '.' + e.className);
}"""


@pytest.mark.browser
def test_admin_and_scheduler_pages_fit_360px(tmp_path_factory: pytest.TempPathFactory) -> None:
    from playwright.sync_api import sync_playwright

    from tests.web.server import serve

    path = tmp_path_factory.mktemp("opsweb") / "ops.duckdb"
    w = build_world(f"duckdb:///{path}", users=("admin_a",))
    try:
        app = make_client(w).app
        with serve(app) as base, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 360, "height": 740})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(base + "/login")
            page.fill("input[name=username]", "admin_a")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            for url in ("/admin/users", "/admin/import", "/admin/audit", "/scheduler"):
                page.goto(base + url)
                # The page's own content fits; wide tables scroll inside .ops-scroll. (The
                # shared header is base.html's, checked by the dashboard's own tests.)
                wide = page.evaluate(WIDER_THAN_VIEWPORT)
                assert wide == [], f"{url}: wider than 360px: {wide}"
                page.screenshot(path=f"artifacts/ops{url.replace('/', '-')}-360.png")
            assert not [e for e in errors if "Content Security Policy" in e], errors
            browser.close()
    finally:
        w.store.close()
