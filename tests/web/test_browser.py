"""The dashboard in Debian's Chromium (Playwright): log in as each role, drill down,
switch language, and see only what the role may see. Screenshots go to
artifacts/screenshots/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from .browser import log_in, new_page, shot
from .server import serve
from .world import ENTERPRISES, World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World]]:
    from nuanliu.api.app import create_app
    from nuanliu.config import load_settings

    world = build_world(f"duckdb:///{tmp_path_factory.mktemp('browser') / 'web.duckdb'}")
    app = create_app(load_settings({}), store=world.store)
    try:
        with serve(app) as base:
            yield base, world
    finally:
        world.store.close()


@pytest.fixture
def page(browser, site):  # type: ignore[no-untyped-def]
    context, pg = new_page(browser)
    yield pg
    context.close()


def test_regulator_drills_down_from_region_to_household(page, site) -> None:  # type: ignore[no-untyped-def]
    base, world = site
    page.goto(f"{base}/")
    assert "/login" in page.url  # nothing without logging in
    log_in(page, base, "regulator")
    page.wait_for_selector("#trend-chart[data-rendered]")
    assert page.inner_text("[data-testid=kpi-cold]") != ""
    shot(page, "regulator-overview-zh")
    page.click("nav.mainnav >> text=逐级下钻")
    for name in ["内蒙古自治区", "呼和浩特市", ENTERPRISES["EB"][0], "乙二站", "乙二站1号楼"]:
        page.click(f"[data-testid=rollup-table] >> text={name}")
        page.wait_for_load_state("domcontentloaded")
        assert name in page.inner_text("h1")
    shot(page, "regulator-building")
    # The building's households: the cold ones are first and marked cold.
    first = page.locator("[data-testid=household-table] tbody tr").first
    assert "低温" in first.inner_text()
    first.locator("a").click()
    page.wait_for_selector("#series-chart[data-rendered]")
    crumbs = page.inner_text("[data-testid=breadcrumbs]")
    for label in ["内蒙古自治区", "呼和浩特市", ENTERPRISES["EB"][0], "乙二站", "乙二站1号楼"]:
        assert label in crumbs
    shot(page, "regulator-household")


def test_language_switch_and_map(page, site) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    log_in(page, base, "regulator")
    page.click("[data-testid=lang-en]")
    page.wait_for_load_state("domcontentloaded")
    assert "Compliance rate" in page.inner_text("[data-testid=kpis]")
    assert "室温达标率" not in page.content()
    page.click("nav.mainnav >> text=Network map")
    page.wait_for_selector("#map-chart[data-rendered]")
    assert page.locator("#map-chart canvas").count() >= 1
    shot(page, "regulator-map-en")
    page.click("[data-testid=lang-zh]")
    page.wait_for_load_state("domcontentloaded")
    assert "管网与楼栋示意图" in page.inner_text("h1")


def test_operator_sees_only_their_enterprise_and_acknowledges_an_alert(page, site) -> None:  # type: ignore[no-untyped-def]
    base, world = site
    log_in(page, base, "operator_a")
    beta = [n for s, e in world.stations.items() if e == "EB" for n in world.station_names[s]]
    beta += list(ENTERPRISES["EB"])
    for url in ["/", "/drill/city/HHHT", "/map", "/alerts"]:
        page.goto(base + url)
        page.wait_for_load_state("networkidle")
        html = page.content()
        assert not [n for n in beta if n in html], f"{url} leaks enterprise B"
    page.goto(base + "/map/data.json")
    assert not [n for n in beta if n in page.content()]
    page.goto(base + "/stations/SEB1")
    assert "未找到" in page.inner_text("h1")
    page.goto(base + "/alerts")
    button = page.locator("button[data-testid^=ack-]").first
    row_id = button.get_attribute("data-testid").split("-", 1)[1]
    shot(page, "operator-alerts-before")
    button.click()
    page.wait_for_selector(f"#alert-{row_id} >> text=operator_a")
    shot(page, "operator-alerts-acknowledged")
    page.reload()
    assert page.locator(f"button[data-testid=ack-{row_id}]").count() == 0


def test_resident_sees_only_their_household(page, site) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    log_in(page, base, "resident")
    assert re.search(r"/households/HEA110$", page.url)
    page.wait_for_selector("#series-chart[data-rendered]")
    nav = page.locator("nav.mainnav a")
    # my home, alerts, my complaints, my bill — nothing of the staff's
    assert nav.count() == 4
    assert "/drill" not in " ".join(nav.nth(i).get_attribute("href") for i in range(4))
    shot(page, "resident-household")
    page.goto(base + "/households/HEA111")
    assert "未找到" in page.inner_text("h1")
    page.goto(base + "/drill/city/HHHT")
    assert "无权" in page.inner_text("h1")


def _png() -> bytes:
    """A valid 1×1 PNG (a tile the fake tile server returns)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00\xee\xee\xee"))
        + chunk(b"IEND", b"")
    )


def test_map_draws_tiles_only_when_configured(page, site, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    base, _ = site
    requested: list[str] = []

    def fake_tiles(route) -> None:  # type: ignore[no-untyped-def]
        requested.append(route.request.url)
        route.fulfill(status=200, body=_png(), content_type="image/png")

    page.route("http://tiles.invalid/**", fake_tiles)
    log_in(page, base, "regulator")
    page.goto(base + "/map")
    page.wait_for_selector("#map-chart[data-rendered]")
    page.wait_for_timeout(500)
    assert requested == []  # off by default: nothing leaves the machine
    monkeypatch.setenv("NUANLIU_MAP_TILE_URL", "http://tiles.invalid/{z}/{x}/{y}.png")
    page.reload()
    page.wait_for_selector("#map-chart[data-rendered]")
    page.wait_for_timeout(1000)
    assert requested, "the configured tile layer was not requested"
    z = {int(u.split("/")[3]) for u in requested}
    assert min(z) >= 8  # a city-scale zoom, computed from the data's extent
