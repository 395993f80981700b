"""Every page every role can reach, in Chinese: no untranslated English, no raw enum
value, no bare id where the thing has a name.

Generic: the crawl follows the links each page shows (navigation included), so pages
added by other capabilities are checked as soon as they are linked. Content that is
data rather than interface text — a device serial, a user's login name — is marked
with the standard HTML attribute ``translate="no"`` and skipped.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from .conftest import login, make_client
from .crawl import crawl
from .world import World

ROLES = ("regulator", "admin_a", "operator_a", "steward_a", "resident")
# Units, file formats and symbols written the same way in Chinese text.
ALLOWED = {"CSV", "Excel", "C", "kg", "s", "MW", "kW", "kWh", "GJ", "m", "h", "d", "Pa", "kPa",
           "bar", "ECharts", "PDF", "XLSX", "GeoJSON", "UTC"}  # fmt: skip
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class VisibleText(HTMLParser):
    """Text a reader sees: no script/style/template, nothing inside translate="no"."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []
        self.attr_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        hidden = tag in ("script", "style", "template") or a.get("translate") == "no"
        if tag not in VOID:
            self.stack.append((tag, hidden))
        if not self.skipping() and not hidden:
            for name in ("title", "placeholder", "aria-label", "alt"):
                if a.get(name):
                    self.attr_text.append(str(a[name]))
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.attr_text.append(str(a["value"]))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def skipping(self) -> bool:
        return any(hidden for _, hidden in self.stack)

    def handle_data(self, data: str) -> None:
        if not self.skipping():
            self.parts.append(data)


def visible(html: str) -> str:
    p = VisibleText()
    p.feed(html)
    return " ".join(p.parts + p.attr_text)


def problems(text: str, ids: set[str]) -> list[str]:
    found = []
    for word in re.findall(r"[A-Za-z][A-Za-z0-9_]*", text):
        if "_" in word:
            found.append(f"raw value {word!r}")
        elif word in ids:
            found.append(f"raw id {word!r}")
        elif re.fullmatch(r"[A-Za-z]+", word) and word not in ALLOWED:
            found.append(f"English {word!r}")
    return found


def named_ids(world: World) -> set[str]:
    """Ids of everything that has a name (or an address) to show instead."""
    with world.store.read() as q:
        rows = q.all(
            "SELECT region_id FROM regions UNION ALL SELECT enterprise_id FROM enterprises"
            " UNION ALL SELECT station_id FROM stations UNION ALL SELECT community_id"
            " FROM communities UNION ALL SELECT building_id FROM buildings"
            " UNION ALL SELECT household_id FROM households",
            [],
        )
    return {str(r[0]) for r in rows}


@pytest.mark.parametrize("role", ROLES)
def test_every_reachable_page_is_chinese(duck_world: World, role: str) -> None:
    ids = named_ids(duck_world)
    with make_client(duck_world) as client:
        login(client, role)
        client.follow_redirects = True

        def fetch(url: str) -> tuple[int, str]:
            r = client.get(url)
            return r.status_code, r.text

        pages = crawl(fetch, limit=80)
    assert len(pages) >= (2 if role == "resident" else 6), sorted(pages)
    bad = {}
    for url, (status, html) in pages.items():
        assert status == 200, f"{role} {url}: {status}"
        assert 'lang="zh-CN"' in html
        found = problems(visible(html), ids)
        if found:
            bad[url] = sorted(set(found))[:8]
    assert not bad, f"{role}: untranslated text or raw ids:\n" + "\n".join(
        f"  {u}: {p}" for u, p in bad.items()
    )


def test_the_checker_catches_what_it_should() -> None:
    html = (
        '<p>客厅 living_room</p><p translate="no">NL-TH20</p><td>HEA110</td>'
        "<span>Station</span><script>var x = 'English';</script><p>18.0 °C</p>"
    )
    assert problems(visible(html), {"HEA110"}) == [
        "raw value 'living_room'",
        "raw id 'HEA110'",
        "English 'Station'",
    ]
