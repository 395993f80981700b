"""Billing in the browser (Chromium): a resident sees their statement and downloads the
PDF; the enterprise admin sees its collection rate; at 360 px the page content fits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from .browser import log_in, new_page, shot
from .server import serve

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "billing-pass-1"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    from nuanliu.api.accounts import create_user
    from nuanliu.api.app import create_app
    from nuanliu.billing.demo import seed_demo
    from nuanliu.config import load_settings
    from nuanliu.registry import build_demo_registry
    from nuanliu.store import open_store

    store = open_store(f"duckdb:///{tmp_path_factory.mktemp('billing') / 'web.duckdb'}")
    build_demo_registry(store, households=240, seed=3)
    seed_demo(store, network=None, now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    with store.read() as q:
        hid, ent = q.one(
            "SELECT b.household_id, c.enterprise_id FROM bills b JOIN household_context c "
            "ON c.household_id = b.household_id WHERE b.season = '2025-2026' AND "
            "b.rule LIKE 'metered%' ORDER BY b.household_id LIMIT 1"
        )
    create_user(store, username="resident", password=PASSWORD, role="resident", scope_ids=[hid])
    create_user(
        store, username="admin", password=PASSWORD, role="enterprise_admin", scope_ids=[ent]
    )
    app = create_app(load_settings({}), store=store)
    try:
        with serve(app) as base:
            yield base, {"household": hid, "enterprise": ent}
    finally:
        store.close()


def test_resident_sees_statement_and_downloads_pdf(browser, site) -> None:  # type: ignore[no-untyped-def]
    base, ids = site
    context, pg = new_page(browser, timeout_ms=20000)
    try:
        log_in(pg, base, "resident", PASSWORD)
        pg.click("nav >> text=我的账单")
        pg.wait_for_selector("[data-testid=bill-total]")
        assert f"/billing/household/{ids['household']}" in pg.url
        pg.select_option("select[name=season]", "2025-2026")
        pg.wait_for_selector("[data-testid=heat-compare]")
        assert "两部制" in pg.inner_text("[data-testid=bill-rule]")
        assert pg.locator("[data-testid=indoor-chart] svg, .card p").count() > 0
        shot(pg, "billing-resident-statement")
        with pg.expect_download() as info:
            pg.click("[data-testid=statement-pdf]")
        pdf = Path(info.value.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and len(pdf) > 5000
        # Another household's bill is not theirs to see.
        r = pg.goto(f"{base}/billing/household/NOPE-{ids['household']}")
        assert r is not None and r.status == 404
    finally:
        context.close()


def test_enterprise_sees_its_collection_rate(browser, site) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    context, pg = new_page(browser, locale="en-US", timeout_ms=20000)
    try:
        log_in(pg, base, "admin", PASSWORD)
        pg.goto(f"{base}/billing?season=2025-2026&level=enterprise")
        rate = pg.inner_text("[data-testid=collection-rate]")
        assert rate.endswith("%") and float(rate.rstrip("%")) > 50
        rows = pg.locator("[data-testid=collection-table] tbody tr")
        assert rows.count() == 1  # its own enterprise only
        shot(pg, "billing-enterprise-collection")
    finally:
        context.close()


def test_pages_fit_a_phone(browser, site) -> None:  # type: ignore[no-untyped-def]
    base, ids = site
    context, pg = new_page(browser, width=360, timeout_ms=20000)
    try:
        log_in(pg, base, "resident", PASSWORD)
        pg.goto(f"{base}/billing/household/{ids['household']}?season=2025-2026")
        pg.wait_for_selector("[data-testid=bill-total]")
        # Our content (inside <main>) fits; the site header is the dashboard's (base.html).
        right = pg.evaluate(
            "Math.max(...[...document.querySelectorAll('main *')]"
            ".map(e => e.getBoundingClientRect().right))"
        )
        shot(pg, "billing-resident-360")
        assert right <= 360 + 1
    finally:
        context.close()
