"""Every page of every role on a phone (360 × 740, the narrowest we support) and a desktop
(1440 × 900): the page never scrolls sideways and the navigation can be reached. Screenshots go to
artifacts/screenshots/responsive/ for people to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from .browser import SHOTS, log_in, new_page
from .crawl import crawl, shape
from .test_browser import site  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

ROLES = ("regulator", "admin_a", "operator_a", "steward_a", "resident")
VIEWPORTS = {"phone": {"phone": True}, "desktop": {"width": 1440}}
OVERFLOW_JS = """() => {
  const d = document.documentElement;
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.right > d.clientWidth + 1 && getComputedStyle(e).position !== 'fixed';
  }).slice(0, 3).map(e => e.tagName + '.' + e.className);
  return {scroll: d.scrollWidth, client: d.clientWidth, wide};
}"""


@pytest.fixture
def context_for(browser):  # type: ignore[no-untyped-def]
    made = []

    def make(viewport: str):  # type: ignore[no-untyped-def]
        ctx, pg = new_page(browser, **VIEWPORTS[viewport])
        made.append(ctx)
        return pg

    yield make
    for ctx in made:
        ctx.close()


def slug(url: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", url).strip("_") or "home"


def visit(pg, base: str, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    response = pg.goto(base + url, wait_until="load")
    pg.wait_for_timeout(150)  # charts lay themselves out after load
    return (response.status if response else 0), pg.content()


def pages_of(pg, base: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    found = crawl(lambda u: visit(pg, base, u), limit=40)
    assert len(found) >= 2, "the crawl found no pages"
    for url, (status, _) in found.items():
        assert status == 200, f"{url} answered {status}"
    return iter(found)


@pytest.mark.parametrize("role", ROLES)
def test_no_page_scrolls_sideways_and_the_menu_is_reachable(role, site, context_for) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    base, _ = site
    desktop = context_for("desktop")
    log_in(desktop, base, role)
    urls = list(pages_of(desktop, base))
    phone = context_for("phone")
    log_in(phone, base, role)
    problems = []
    for viewport, pg in (("desktop", desktop), ("phone", phone)):
        shot_shapes: set[str] = set()
        for url in urls:
            visit(pg, base, url)
            m = pg.evaluate(OVERFLOW_JS)
            if m["scroll"] > m["client"]:
                problems.append(f"{viewport} {url}: {m}")
            if shape(url).split("?")[0] not in shot_shapes:  # one screenshot per kind of page
                shot_shapes.add(shape(url).split("?")[0])
                path = SHOTS / "responsive" / f"{role}-{viewport}-{slug(urlsplit(url).path)}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                pg.screenshot(path=str(path), full_page=True)
    assert not problems, "pages wider than the screen:\n" + "\n".join(problems)

    # Desktop: the navigation is on the bar. Phone: behind the menu button.
    visit(desktop, base, urls[0])
    assert desktop.locator("nav.mainnav a").first.is_visible()
    visit(phone, base, urls[0])
    links = phone.locator("nav.mainnav a")
    assert not links.first.is_visible()
    phone.click("[data-testid=menu-toggle]")
    assert phone.get_attribute("[data-testid=menu-toggle]", "aria-expanded") == "true"
    for k in range(links.count()):
        assert links.nth(k).is_visible()
        box = links.nth(k).bounding_box()
        assert box and box["x"] + box["width"] <= 390 and box["height"] >= 30  # finger-sized
    path = SHOTS / "responsive" / f"{role}-phone-menu-open.png"
    phone.screenshot(path=str(path))
    # The last entry leads somewhere.
    href = links.nth(links.count() - 1).get_attribute("href")
    links.nth(links.count() - 1).click()
    phone.wait_for_load_state("load")
    assert urlsplit(phone.url).path == urlsplit(href).path or role == "resident"
