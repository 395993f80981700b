"""Daily tools: every table exports as CSV and XLSX with the rows the page shows (scope
kept), and a building reads by floor × unit."""

from __future__ import annotations

import io

import openpyxl
import pytest

from nuanliu.web.building import building_grid, flat_position

from .conftest import login, make_client
from .world import ENTERPRISES, World

TABLE_PAGES = [
    "/drill",
    "/drill/city/HHHT",
    "/drill/enterprise/EA",
    "/stations/SEA1",
    "/drill/building/BEA11",
    "/alerts?state=all",
    "/lists/households?status=ok",
    "/lists/sensors",
]


@pytest.mark.parametrize("url", TABLE_PAGES)
def test_every_table_exports_what_the_operator_may_see(duck_world: World, url: str) -> None:
    beta = [n for s, e in duck_world.stations.items() if e == "EB"
            for n in duck_world.station_names[s]] + list(ENTERPRISES["EB"])  # fmt: skip
    sep = "&" if "?" in url else "?"
    with make_client(duck_world) as client:
        login(client, "operator_a")
        page = client.get(url).text
        assert 'data-testid="export-csv"' in page and 'data-testid="export-xlsx"' in page
        csv = client.get(f"{url}{sep}format=csv")
        assert csv.status_code == 200, url
        assert "attachment" in csv.headers["content-disposition"]
        text = csv.content.decode("utf-8-sig")
        assert not [n for n in beta if n in text], f"{url} exports another enterprise"
        xlsx = client.get(f"{url}{sep}format=xlsx")
        book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
        sheet = book.worksheets[0]
        assert sheet.max_row == text.strip().count("\n") + 1  # the same rows
        header = [c.value for c in sheet[1]]
        assert all(isinstance(h, str) and h for h in header)


def test_flats_are_placed_by_floor_and_unit() -> None:
    assert flat_position("新城区中山路12号锦绣花园3号楼2单元1102室") == (2, 11, 2)
    assert flat_position("3-502") == (3, 5, 2)
    assert flat_position("锦绣花园东门") is None
    flats = [
        {"household_id": "a", "address": "1单元101室", "temp_c": 15.0, "standard_temp_c": 18.0},
        {"household_id": "b", "address": "2单元302室", "temp_c": 21.0, "standard_temp_c": 18.0},
        {"household_id": "c", "address": "门卫室", "temp_c": None, "standard_temp_c": 18.0},
    ]
    grid = building_grid(None, flats)
    assert grid is not None and grid["units"] == [1, 2]
    assert [f["floor"] for f in grid["floors"]] == [3, 1]  # top floor first
    assert grid["floors"][1]["cells"][1][0]["band"] == "cold"
    assert grid["floors"][0]["cells"][2][0]["band"] == "ok"
    assert [o["household_id"] for o in grid["other"]] == ["c"]


def test_building_page_shows_the_grid(duck_world: World) -> None:
    with make_client(duck_world) as client:
        login(client, "regulator")
        html = client.get("/drill/building/BEB21").text  # the cold station's building
        assert 'data-testid="building-grid"' in html
        assert 'class="flat t-cold" href="/households/HEB210"' in html
