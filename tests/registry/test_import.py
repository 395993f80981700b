"""Registry import from CSV and Excel: valid rows stored, invalid rows reported."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from nuanliu.errors import InvalidInput
from nuanliu.registry import import_registry, list_records, upsert
from nuanliu.scope import Scope
from nuanliu.store import Store

REGIONS_CSV = """region_id,parent_id,level,name_zh,name_en,standard_temp_c
150000,,region,内蒙古自治区,Inner Mongolia,
150100,150000,city,呼和浩特市,Hohhot,18
150102,150100,county,新城区,Xincheng,
150999,159999,county,无上级区,Orphan,
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def build_chain(store: Store, tmp_path: Path) -> None:
    import_registry(store, write(tmp_path / "regions.csv", REGIONS_CSV))
    rows = {
        "enterprises.csv": "enterprise_id,region_id,name_zh,licence_no\nE1,150100,青城热力,L-1\n",
        "stations.csv": "station_id,enterprise_id,region_id,name_zh,lon,lat\n"
        "ST1,E1,150102,新城1号站,111.70,40.86\n",
        "communities.csv": "community_id,region_id,name_zh,enterprise_steward_name,"
        "enterprise_steward_phone,government_steward_name,government_steward_phone\n"
        "C1,150102,青城花园,王强,13800001111,李静,0471-6912345\n",
        "buildings.csv": "building_id,station_id,community_id,name_zh,floors,year_built\n"
        "B1,ST1,C1,1号楼,18,2008\n",
    }
    for name, text in rows.items():
        report = import_registry(store, write(tmp_path / name, text))
        assert report.ok, report.errors


def test_invalid_rows_are_reported_valid_rows_stored(store: Store, tmp_path: Path) -> None:
    report = import_registry(store, write(tmp_path / "regions.csv", REGIONS_CSV))
    assert report.inserted == {"regions": 3}
    assert report.errors == [
        {
            "file": "regions.csv",
            "sheet": None,
            "row": 5,
            "column": "parent_id",
            "problem": "unknown region_id 159999",
        }
    ]
    build_chain(store, tmp_path)
    households = tmp_path / "households.csv"
    write(
        households,
        "household_id,building_id,address,floor_area_m2,metered,resident_name,resident_phone\n"
        "H1,B1,1单元101室,86.5,是,张三,13800001234\n"
        "H2,B1,1单元102室,abc,否,李四,13800005678\n"
        "H3,B9,1单元103室,90,否,王五,13800009999\n"
        "H4,B1,1单元104室,92,maybe,赵六,12345678\n"
        ",B1,1单元105室,70,否,钱七,13800001212\n"
        "H1,B1,1单元106室,70,否,孙八,13800003434\n",
    )
    report = import_registry(store, households)
    assert report.inserted == {"households": 1}
    problems = {(e["row"], e["column"]) for e in report.errors}
    assert problems == {
        (3, "floor_area_m2"),
        (4, "building_id"),
        (5, "metered"),
        (5, "resident_phone"),
        (6, "household_id"),
        (7, "household_id"),
    }
    assert all(e["file"] == "households.csv" for e in report.errors)
    assert report.refused_rows == 5
    err = report.to_error()
    assert isinstance(err, InvalidInput) and err.details == report.errors
    [home] = list_records(store, "households", Scope.everything())
    assert (home.household_id, home.metered, home.floor_area_m2) == ("H1", True, 86.5)


def test_reimport_updates_rows(store: Store, tmp_path: Path) -> None:
    build_chain(store, tmp_path)
    path = tmp_path / "h.csv"
    write(path, "household_id,building_id,floor_area_m2\nH1,B1,80\nH2,B1,90\n")
    assert import_registry(store, path, kind="households").inserted == {"households": 2}
    write(path, "household_id,building_id,floor_area_m2\nH1,B1,82.5\nH3,B1,60\n")
    report = import_registry(store, path, kind="住户")
    assert (report.inserted, report.updated) == ({"households": 1}, {"households": 1})
    areas = {
        h.household_id: h.floor_area_m2
        for h in list_records(store, "households", Scope.everything())
    }
    assert areas == {"H1": 82.5, "H2": 90.0, "H3": 60.0}
    with store.read() as q:
        assert q.scalar("SELECT count(*) FROM registry_imports") >= 7


def test_excel_workbook_with_chinese_sheets_and_headers(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "行政区划"
    ws.append(["区划编号", "上级编号", "级别", "名称", "英文名称", "室温标准"])
    ws.append([150000, None, "自治区", "内蒙古自治区", "Inner Mongolia", None])
    ws.append([150200, 150000, "市", "包头市", "Baotou", 20])
    ws.append([150203, 150200, "区", "昆都仑区", "Kundulun", None])
    ws = book.create_sheet("供热企业")
    ws.append(["企业编号", "所属区划", "名称", "经营许可证号"])
    ws.append(["E9", 150200, "鹿城热力", "BT-1"])
    ws = book.create_sheet("换热站")
    ws.append(["换热站编号", "所属企业", "所属区划", "名称", "经度", "纬度"])
    ws.append(["ST9", "E9", 150203, "昆区1号站", 109.82, 40.65])
    ws.append(["ST10", "E8", 150203, "昆区2号站", 109.83, 400])  # unknown E8, bad latitude
    ws = book.create_sheet("小区")
    ws.append(
        ["小区编号", "所属区划", "名称", "企业管家", "企业管家电话", "政府管家", "政府管家电话"]
    )
    ws.append(["C9", 150203, "钢城花园", "刘洋", 13912345678, "陈敏", "0472-5123456"])
    ws = book.create_sheet("楼栋")
    ws.append(["楼栋编号", "所属换热站", "所属小区", "名称"])
    ws.append(["B9", "ST9", "C9", "3号楼"])
    ws = book.create_sheet("住户")
    ws.append(["住户编号", "所属楼栋", "建筑面积（m²）", "是否计量", "户主", "联系电话"])
    ws.append(["H9", "B9", 101.2, "是", "高峰", 13700001111])
    ws = book.create_sheet("传感器")
    ws.append(["传感器编号", "所属住户", "安装位置", "型号", "安装时间"])
    ws.append(["S9", "H9", "客厅", "NL-TH20", "2025-10-10 09:00"])
    ws.append(["S10", "H404", "卧室", "NL-TH20", "2025-10-10 09:00"])
    path = tmp_path / "registry.xlsx"
    book.save(path)

    report = import_registry(store, path)
    assert report.inserted == {
        "regions": 3,
        "enterprises": 1,
        "stations": 1,
        "communities": 1,
        "buildings": 1,
        "households": 1,
        "sensors": 1,
    }
    by_sheet = {(e["sheet"], e["row"], e["column"]) for e in report.errors}
    assert by_sheet == {("换热站", 3, "lat"), ("传感器", 3, "household_id")}
    with store.read() as q:
        ctx = q.dicts("SELECT * FROM household_context")
        installed = q.scalar("SELECT installed_at FROM sensors WHERE sensor_id = 'S9'")
        phone = q.scalar("SELECT enterprise_steward_phone FROM communities")
    assert ctx == [
        {
            "household_id": "H9",
            "building_id": "B9",
            "station_id": "ST9",
            "enterprise_id": "E9",
            "community_id": "C9",
            "county_id": "150203",
            "city_id": "150200",
            "region_id": "150000",
            "standard_temp_c": 20.0,
        }
    ]
    assert phone == "13912345678"  # a number cell read back as the phone text
    assert installed.isoformat() == "2025-10-10T01:00:00+00:00"  # 09:00 in Shanghai


def test_gbk_csv_from_chinese_excel_and_bytes_upload(store: Store, tmp_path: Path) -> None:
    data = REGIONS_CSV.replace("内蒙古自治区", "内蒙古").encode("gb18030")
    report = import_registry(store, data, filename="区域.csv")
    assert report.inserted == {"regions": 3}
    with store.read() as q:
        assert q.scalar("SELECT name_zh FROM regions WHERE region_id = '150000'") == "内蒙古"


def test_csv_with_old_mac_line_ends_imports_every_row(store: Store) -> None:
    # Spreadsheets saved as "CSV (Macintosh)" end lines with a bare carriage return.
    data = REGIONS_CSV.replace("\r\n", "\n").replace("\n", "\r").encode()
    report = import_registry(store, data, filename="regions.csv")
    assert report.inserted == {"regions": 3}
    # Only the deliberate orphan is refused, and it is still named by its line.
    assert [(e["row"], e["column"]) for e in report.errors] == [(5, "parent_id")]


def test_unusable_files_raise(store: Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        import_registry(store, tmp_path / "missing.csv")
    with pytest.raises(InvalidInput, match="which registry kind"):
        import_registry(store, write(tmp_path / "x.csv", "a,b\n1,2\n"))
    with pytest.raises(InvalidInput, match="unknown registry kind"):
        import_registry(store, write(tmp_path / "y.csv", REGIONS_CSV), kind="pipes")
    with pytest.raises(InvalidInput, match="xlsx"):
        import_registry(store, b"PK\x03\x04 not really a zip", filename="broken.xlsx")


def test_upsert_api_is_all_or_nothing(store: Store, tmp_path: Path) -> None:
    build_chain(store, tmp_path)
    with pytest.raises(InvalidInput) as err:
        upsert(
            store,
            "households",
            [
                {"household_id": "H1", "building_id": "B1", "floor_area_m2": 80},
                {"household_id": "H2", "building_id": "B404", "floor_area_m2": 80},
            ],
        )
    assert err.value.details == [
        {"row": 1, "column": "building_id", "problem": "unknown building_id B404"}
    ]
    assert list_records(store, "households", Scope.everything()) == []
    counts = upsert(store, "households", [{"household_id": "H1", "building_id": "B1"}])
    assert (counts.inserted, counts.updated) == (1, 0)


def test_region_levels_must_nest(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "regions.csv",
        "region_id,parent_id,level,name_zh\n"
        "150000,,region,内蒙古自治区\n"
        "150100,150000,city,呼和浩特市\n"
        "150102,150100,county,新城区\n"
        "150199,150102,city,区下之市\n"
        "150198,,county,无上级之区\n",
    )
    report = import_registry(store, path)
    assert report.inserted == {"regions": 3}
    assert {(e["row"], e["column"]) for e in report.errors} == {(5, "parent_id"), (6, "parent_id")}
    with pytest.raises(InvalidInput):
        upsert(
            store,
            "regions",
            [{"region_id": "X", "parent_id": "150102", "level": "region", "name_zh": "倒置"}],
        )
