"""The hotline end to end in Chromium: a resident on a phone files a complaint; the
enterprise steward sees it with the temperature evidence, signs, records the visit and
fixes; the resident confirms; the regulator sees the rates change. Screenshots go to
artifacts/screenshots/hotline-*.png."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .browser import session
from .browser import shot as browser_shot
from .server import serve
from .world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    from nuanliu.api.app import create_app
    from nuanliu.config import load_settings

    world = build_world(
        f"duckdb:///{tmp_path_factory.mktemp('hlb') / 'web.duckdb'}",
        users=("regulator", "steward_a", "resident"),
    )
    app = create_app(load_settings({}), store=world.store)
    try:
        with serve(app) as base:
            yield base, world
    finally:
        world.store.close()


def shot(pg, name: str) -> None:  # type: ignore[no-untyped-def]
    browser_shot(pg, f"hotline-{name}")


def rates(pg, base: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    pg.goto(f"{base}/hotline/stats")
    row = pg.locator("[data-testid=hl-rates] tbody tr").first
    return {
        k: row.locator(f"[data-testid=hl-{k}]").inner_text()
        for k in ("opened", "closed", "response", "resolution", "satisfaction-rate")
    }


def no_horizontal_scroll(pg) -> bool:  # type: ignore[no-untyped-def]
    return bool(pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def test_complaint_from_phone_to_confirmed_closure(browser, site) -> None:  # type: ignore[no-untyped-def]
    base, world = site
    reg_ctx, reg = session(browser, base, "regulator")
    before = rates(reg, base)
    assert before["opened"] == "0" and before["resolution"] == "–"
    shot(reg, "1-regulator-before")

    # the resident, on a 360 px phone, files a complaint
    res_ctx, res = session(browser, base, "resident", phone=True)
    assert res.locator('nav.mainnav a[href="/hotline/mine"]').count() == 1  # nav entry
    res.goto(f"{base}/hotline/mine")
    res.wait_for_selector("[data-testid=hl-file-form]")
    assert no_horizontal_scroll(res)
    res.select_option("[data-testid=hl-category]", "temp_low")
    res.fill("[data-testid=hl-desc]", "卧室晚上只有十几度")
    shot(res, "2-resident-files")
    res.click("[data-testid=hl-file]")
    res.wait_for_selector("[data-testid=hl-ticket-title]")
    ticket_url = res.url
    ticket_id = ticket_url.rsplit("/", 1)[1]
    assert res.inner_text("[data-testid=hl-state]") == "待签收"
    assert no_horizontal_scroll(res)
    shot(res, "3-resident-filed")

    # the enterprise steward sees it in the queue with the evidence
    st_ctx, st = session(browser, base, "steward_a")
    st.goto(f"{base}/hotline")
    st.click(f"[data-ticket={ticket_id}]")
    st.wait_for_selector("[data-testid=hl-evidence-chart][data-rendered]")
    assert "20." in st.inner_text("[data-testid=hl-mean6]")  # the flat's sensor reads ~20.5 °C
    assert "需入户测温" in st.inner_text("[data-testid=hl-verdict]")
    shot(st, "4-steward-evidence")
    st.click("[data-testid=hl-do-sign]")
    st.wait_for_selector("[data-testid=hl-do-arrive]")
    st.click("[data-testid=hl-do-arrive]")
    st.wait_for_selector("[data-testid=hl-bedroom]")
    st.fill("[data-testid=hl-bedroom]", "17.4")
    st.fill("[data-testid=hl-living]", "18.2")
    st.click("[data-testid=hl-do-measure]")
    st.wait_for_selector("[data-testid=hl-visits]")
    assert "低于标准" in st.inner_text("[data-testid=hl-visits]")
    st.fill("[data-testid=hl-note-fix]", "清洗过滤器，调节入户阀门")
    st.click("[data-testid=hl-do-fix]")
    st.wait_for_selector("[data-testid=hl-state]")
    assert st.inner_text("[data-testid=hl-state]") == "已处理待确认"
    shot(st, "5-steward-fixed")

    # the resident confirms on the phone
    res.goto(ticket_url)
    res.wait_for_selector("[data-testid=hl-form-confirm]")
    res.select_option("[data-testid=hl-satisfaction]", "satisfied")
    shot(res, "6-resident-confirms")
    res.click("[data-testid=hl-do-confirm]")
    res.wait_for_selector("[data-testid=hl-timeline]")
    assert res.inner_text("[data-testid=hl-state]") == "已办结"
    assert no_horizontal_scroll(res)
    shot(res, "7-resident-closed")

    # the regulator sees the rates change
    after = rates(reg, base)
    assert (after["opened"], after["closed"]) == ("1", "1")
    assert after["response"] == "100.0%" and after["resolution"] == "100.0%"
    assert after["satisfaction-rate"] == "100.0%"
    reg.wait_for_selector("[data-hl-chart=trend][data-rendered]")
    shot(reg, "8-regulator-after")
    for ctx in (reg_ctx, res_ctx, st_ctx):
        ctx.close()
