"""The registry kinds: table, key, parents, model, and the headers people use for them."""

from __future__ import annotations

from dataclasses import dataclass

from nuanliu.registry.models import (
    Building,
    Community,
    Enterprise,
    Household,
    Region,
    RegistryModel,
    Sensor,
    Station,
)


@dataclass(frozen=True)
class Kind:
    name: str  # plural, = table name
    name_zh: str
    model: type[RegistryModel]
    key: str
    parents: tuple[tuple[str, str], ...]  # (column, kind) the row refers to

    @property
    def columns(self) -> list[str]:
        return list(self.model.model_fields)


# Parents before children: imports store in this order so one workbook can hold a chain.
KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("regions", "行政区划", Region, "region_id", (("parent_id", "regions"),)),
        Kind("enterprises", "供热企业", Enterprise, "enterprise_id", (("region_id", "regions"),)),
        Kind(
            "stations",
            "换热站",
            Station,
            "station_id",
            (("enterprise_id", "enterprises"), ("region_id", "regions")),
        ),
        Kind("communities", "小区", Community, "community_id", (("region_id", "regions"),)),
        Kind(
            "buildings",
            "楼栋",
            Building,
            "building_id",
            (("station_id", "stations"), ("community_id", "communities")),
        ),
        Kind("households", "住户", Household, "household_id", (("building_id", "buildings"),)),
        Kind("sensors", "传感器", Sensor, "sensor_id", (("household_id", "households"),)),
    )
}

# Names a sheet, file or --kind may use for a kind (singular, Chinese).
KIND_ALIASES: dict[str, str] = {}
for _kind in KINDS.values():
    for alias in (_kind.name, _kind.key[:-3], _kind.name_zh):  # households, household, 住户
        KIND_ALIASES[alias.lower()] = _kind.name
KIND_ALIASES.update(
    {
        "区域": "regions",
        "企业": "enterprises",
        "热企": "enterprises",
        "站": "stations",
        "社区": "communities",
        "楼": "buildings",
        "户": "households",
        "用户": "households",
        "居民": "households",
        "测温设备": "sensors",
        "室温采集器": "sensors",
    }
)

# Chinese column headers as they appear in enterprise spreadsheets.
HEADER_ALIASES: dict[str, str] = {
    "区划编号": "region_id",
    "上级编号": "parent_id",
    "上级区划": "parent_id",
    "级别": "level",
    "层级": "level",
    "中文名称": "name_zh",
    "名称": "name_zh",
    "英文名称": "name_en",
    "室温标准": "standard_temp_c",
    "标准温度": "standard_temp_c",
    "企业编号": "enterprise_id",
    "所属企业": "enterprise_id",
    "所属区划": "region_id",
    "所在区县": "region_id",
    "经营许可证号": "licence_no",
    "许可证号": "licence_no",
    "换热站编号": "station_id",
    "所属换热站": "station_id",
    "管网站号": "network_station_id",
    "经度": "lon",
    "纬度": "lat",
    "小区编号": "community_id",
    "所属小区": "community_id",
    "企业管家": "enterprise_steward_name",
    "企业管家电话": "enterprise_steward_phone",
    "政府管家": "government_steward_name",
    "政府管家电话": "government_steward_phone",
    "楼栋编号": "building_id",
    "所属楼栋": "building_id",
    "地址": "address",
    "楼层数": "floors",
    "建成年份": "year_built",
    "住户编号": "household_id",
    "所属住户": "household_id",
    "建筑面积": "floor_area_m2",
    "供热面积": "floor_area_m2",
    "面积": "floor_area_m2",
    "是否计量": "metered",
    "计量": "metered",
    "住户姓名": "resident_name",
    "户主": "resident_name",
    "联系电话": "resident_phone",
    "住户电话": "resident_phone",
    "传感器编号": "sensor_id",
    "设备编号": "sensor_id",
    "房间": "room",
    "安装位置": "room",
    "型号": "model",
    "设备型号": "model",
    "安装时间": "installed_at",
    "停用时间": "decommissioned_at",
}


def kind_named(name: str) -> Kind:
    """The kind called ``name`` (plural, singular or Chinese); ``KeyError`` if none."""
    return KINDS[KIND_ALIASES[name.strip().lower()]]


def column_for(header: object) -> str | None:
    """The column a spreadsheet header means, or None when it means nothing here."""
    if header is None:
        return None
    text = str(header).strip()
    if text in HEADER_ALIASES:
        return HEADER_ALIASES[text]
    # "Floor area (m²)" / "floor_area_m2" / "Floor Area M2" all mean floor_area_m2.
    base = text.split("(")[0].split("（")[0].strip()
    if base in HEADER_ALIASES:
        return HEADER_ALIASES[base]
    return base.lower().replace(" ", "_").replace("-", "_") or None


def guess_kind(columns: set[str]) -> Kind | None:
    """The kind a header row describes: the most specific key column present wins."""
    for name in ("sensors", "households", "buildings", "communities", "stations"):
        if KINDS[name].key in columns:
            return KINDS[name]
    if "enterprise_id" in columns:
        return KINDS["enterprises"]
    if "region_id" in columns and "level" in columns:
        return KINDS["regions"]
    return None
