"""Dashboard pages through the real application: numbers, scope, language, alerts."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from .conftest import login, make_client
from .world import ENTERPRISES, World

SHANGHAI = ZoneInfo("Asia/Shanghai")


def station_names(world: World, enterprise: str) -> set[str]:
    return {n for s, e in world.stations.items() if e == enterprise for n in world.station_names[s]}


def kpi(html: str, name: str) -> str:
    found = re.search(rf'data-testid="kpi-{name}"[^>]*>([^<]+)<', html)
    assert found, f"KPI {name} not on the page"
    return found.group(1).strip()


def expected_today(world: World, households: list[str]) -> dict[str, int]:
    """Recompute today's figures from the planned temperatures (not from the app)."""
    now_local = world.now.astimezone(SHANGHAI)
    stopped_local = (world.now - timedelta(hours=4)).astimezone(SHANGHAI)
    reporting = [
        h for h in households if h not in world.offline or stopped_local.date() == now_local.date()
    ]
    return {
        "reporting": len(reporting),
        "compliant": sum(world.temps[h] >= 18.0 for h in reporting),
        "cold": sum(world.temps[h] < 16.0 for h in reporting),
        "overheated": sum(world.temps[h] > 24.0 for h in reporting),
    }


def test_pages_ask_for_login_first(duck_world: World) -> None:
    with make_client(duck_world) as client:
        for url in ["/", "/drill", "/map", "/alerts", "/stations/SEA1", "/households/HEA110"]:
            r = client.get(url)
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        page = client.get("/login")
        assert page.status_code == 200 and 'action="/auth/login"' in page.text
        for evil in ["//evil.example/", "/\\evil.example/", "https://evil.example/"]:
            form = client.get("/login", params={"next": evil}).text
            assert 'name="next" value="/"' in form  # never sent off-site after login
        bad = client.post("/auth/login", data={"username": "regulator", "password": "nope"})
        assert "error=" in bad.headers["location"]
        assert 'data-testid="login-error"' in client.get(bad.headers["location"]).text


def test_regulator_overview_shows_the_city_figures(duck_world: World) -> None:
    w = duck_world
    with make_client(w) as client:
        login(client, "regulator")
        html = client.get("/").text
        exp = expected_today(w, list(w.household_station))
        assert kpi(html, "reporting") == str(exp["reporting"])
        assert kpi(html, "cold") == str(exp["cold"])
        assert kpi(html, "overheated") == str(exp["overheated"])
        assert kpi(html, "offline") == str(len(w.offline))  # one sensor in the offline flat
        assert kpi(html, "rate") == f"{100.0 * exp['compliant'] / exp['reporting']:.1f}%"
        for zh, _ in ENTERPRISES.values():
            assert zh in html  # the city regulator compares both enterprises
        # The worst enterprise (Beta, with the cold station) is listed first.
        assert html.index(ENTERPRISES["EB"][0]) < html.index(ENTERPRISES["EA"][0])
        assert 'id="trend-data"' in html


def test_drill_down_from_region_to_household(duck_world: World) -> None:
    w = duck_world
    with make_client(w) as client:
        login(client, "regulator")
        steps = [
            ("/drill", "/drill/region/NM"),
            ("/drill/region/NM", "/drill/city/HHHT"),
            ("/drill/city/HHHT", "/drill/enterprise/EB"),
            ("/drill/enterprise/EB", "/stations/SEB2"),
            ("/stations/SEB2", "/drill/building/BEB21"),
            ("/drill/building/BEB21", "/households/HEB210"),
        ]
        for page, link in steps:
            html = client.get(page).text
            assert f'href="{link}"' in html, f"{page} does not link to {link}"
        html = client.get("/households/HEB210").text
        crumbs = html[html.index('data-testid="breadcrumbs"') :].split("</nav>")[0]
        for label in [
            "内蒙古自治区",
            "呼和浩特市",
            ENTERPRISES["EB"][0],
            "乙二站",
            "乙二站1号楼 1-101",
        ]:  # the flat by name
            assert label in crumbs
        # The cold flat shows as cold, with the 18 °C standard line data for the chart.
        assert f"{w.temps['HEB210']:.1f}" in html or "15." in html
        assert '"standard": 18.0' in html
        building = client.get("/drill/building/BEB21").text
        assert building.count('class="pill status-cold"') == 4


def test_enterprise_operator_sees_nothing_of_the_other_enterprise(world: World) -> None:
    other = station_names(world, "EB") | set(ENTERPRISES["EB"])
    with make_client(world) as client:
        login(client, "operator_a")
        for lang in ("zh", "en"):
            for url in ["/", "/drill", "/drill/region/NM", "/drill/city/HHHT", "/alerts", "/map"]:
                html = client.get(f"{url}?lang={lang}").text
                leaked = [n for n in other if n in html]
                assert not leaked, f"{url} shows {leaked} to Alpha's operator"
            data = client.get("/map/data.json").json()
            assert {s["name"] for s in data["stations"]} <= station_names(world, "EA")
            assert len(data["stations"]) == 2
        for url in ["/stations/SEB1", "/drill/enterprise/EB", "/households/HEB110"]:
            r = client.get(url)
            assert r.status_code == 404
            assert not [n for n in other if n in r.text]
        html = client.get("/").text
        exp = expected_today(world, world.households_of("EA"))
        assert kpi(html, "reporting") == str(exp["reporting"])


def test_resident_sees_only_their_household(duck_world: World) -> None:
    with make_client(duck_world) as client:
        login(client, "resident")
        r = client.get("/")
        assert r.status_code == 303 and r.headers["location"] == "/households/HEA110"
        html = client.get("/households/HEA110").text
        assert "张HEA110" in html  # their own name, unmasked
        assert "王管家 13900000001" in html  # who to call: the enterprise steward
        assert "/drill" not in html and "/map" not in html  # no regulator navigation
        assert client.get("/households/HEA111").status_code == 404
        for url in ["/stations/SEA1", "/drill/city/HHHT", "/drill", "/map"]:
            assert client.get(url).status_code == 403  # no roll-up pages for residents
        assert client.get("/map/data.json").status_code == 403
        assert client.get("/alerts").status_code == 200


def test_personal_data_is_masked_for_regulators_not_for_the_enterprise_admin(
    duck_world: World,
) -> None:
    with make_client(duck_world) as client:
        login(client, "regulator")
        assert "张HEA110" not in client.get("/households/HEA110").text
        client.cookies.clear()
        login(client, "admin_a")
        assert "张HEA110" in client.get("/households/HEA110").text


def test_language_switch_is_remembered(duck_world: World) -> None:
    with make_client(duck_world) as client:
        login(client, "regulator")
        zh = client.get("/")
        assert "室温达标率" in zh.text and 'lang="zh-CN"' in zh.text
        en = client.get("/?lang=en")
        assert "Compliance rate" in en.text and "室温达标率" not in en.text
        assert en.cookies.get("nuanliu_lang") == "en" or client.cookies.get("nuanliu_lang") == "en"
        again = client.get("/drill/city/HHHT")
        assert "Alpha Heating Co." in again.text and "甲热力公司" not in again.text
        back = client.get("/drill/city/HHHT?lang=zh")
        assert "甲热力公司" in back.text


def _csrf(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert found
    return found.group(1)


def test_acknowledge_an_alert_needs_csrf_scope_and_role(world: World) -> None:
    with make_client(world) as client:
        login(client, "regulator")
        page = client.get("/alerts?state=all").text
        ids = [int(i) for i in re.findall(r'id="alert-(\d+)"', page)]
        assert ids, "the cold station and the offline sensor raise alerts"
        token = _csrf(page)
        # A regulator reads alerts but does not acknowledge them (the enterprise does).
        assert (
            client.post(f"/alerts/{ids[0]}/ack", headers={"X-CSRF-Token": token}).status_code == 403
        )

    with TestClient(make_client(world).app, follow_redirects=False) as client:
        login(client, "operator_a")
        page = client.get("/alerts").text
        mine = [int(i) for i in re.findall(r'id="alert-(\d+)"', page)]
        assert mine and set(mine) < set(ids)
        beta = sorted(set(ids) - set(mine))[0]
        token = _csrf(page)
        assert client.post(f"/alerts/{mine[0]}/ack").status_code == 403  # no CSRF token
        assert (
            client.post(f"/alerts/{beta}/ack", headers={"X-CSRF-Token": token}).status_code == 404
        )
        r = client.post(f"/alerts/{mine[0]}/ack", headers={"X-CSRF-Token": token})
        assert r.status_code == 200 and "operator_a" in r.text and "<button" not in r.text
        with world.store.read() as q:
            by = q.all("SELECT acknowledged_by FROM mon_alerts WHERE alert_id = ?", [mine[0]])
        assert by[0][0] == "operator_a"


@pytest.mark.parametrize("role", ["regulator", "operator_a", "steward_a", "admin_a"])
def test_every_page_renders_for_every_role(duck_world: World, role: str) -> None:
    with make_client(duck_world) as client:
        login(client, role)
        for url in ["/", "/drill", "/map", "/alerts", "/households/HEA110", "/map/data.json"]:
            r = client.get(url, follow_redirects=True)
            assert r.status_code == 200, f"{role} {url}: {r.status_code}"


def test_station_page_shows_the_twin_of_its_network_station(duck_world: World) -> None:
    from nuanliu.network.examples import load_example
    from nuanliu.web.data import REGISTRY_CACHE
    from nuanliu.web.twin import set_network, station_results

    net = load_example("tuoketuo-hohhot")
    substation = str(net.stations.loc[net.stations["kind"] == "substation", "station_id"].iloc[0])
    with duck_world.store.write() as w:
        w.execute(
            "UPDATE stations SET network_station_id = ? WHERE station_id = 'SEA1'", [substation]
        )
    REGISTRY_CACHE.clear()
    with make_client(duck_world) as client:
        set_network(client.app, net)
        login(client, "operator_a")
        first = client.get("/stations/SEA1")  # never waits for the solver
        assert first.status_code == 200 and 'data-testid="twin' in first.text
        results = station_results(client.app, duck_world.now, wait=True)
        assert results is not None and set(results["stations"]) == set(net.stations["station_id"])
        html = client.get("/stations/SEA1").text
        assert 'data-testid="twin"' in html and "twin-missing" not in html
        assert f"{results['outdoor_temp_c']:.1f}" in html
