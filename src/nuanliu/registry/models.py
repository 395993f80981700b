"""Typed registry records, one model per kind, shared by import, API and demo.

Field names are the table columns of migration 0001. Validators normalise what people
type into spreadsheets (Chinese yes/no, phone numbers read as numbers, local times)
and refuse what cannot be right (a 3 m² flat, latitude 400).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|[48]00-?\d{3}-?\d{4}|12345)$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")
_TRUE = {"true", "1", "yes", "y", "t", "是", "有", "计量", "√"}
_FALSE = {"false", "0", "no", "n", "f", "否", "无", "不计量", "", "×"}


def _text(value: Any) -> Any:
    """Spreadsheet cells: numbers that are really codes, blanks that are really empty."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _check_id(value: Any) -> Any:
    value = _text(value)
    if isinstance(value, str) and not _ID.match(value):
        raise ValueError("must be 1-64 letters, digits or _ . : - (no spaces)")
    return value


def _check_phone(value: Any) -> Any:
    value = _text(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a phone number")
    compact = re.sub(r"[\s()]", "", value)
    if compact.startswith("+86"):
        compact = compact[3:]
    if not _PHONE.match(compact):
        raise ValueError(f"{value!r} is not a Chinese mobile or landline number")
    return compact


def _check_bool(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return bool(value)
    text = str(_text(value) or "").lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (是/否, true/false, 1/0)")


def _check_time(value: Any) -> Any:
    """Times without a zone are local (Asia/Shanghai), as people write them; stored in UTC."""
    value = _text(value)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a date/time like 2025-10-10 09:00") from exc
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=LOCAL_TZ)
        return value.astimezone(dt.UTC)
    raise ValueError("must be a date/time")


Id = Annotated[str, BeforeValidator(_check_id)]
OptId = Annotated[str | None, BeforeValidator(_check_id)]
Text = Annotated[str, BeforeValidator(_text), Field(min_length=1, max_length=200)]
OptText = Annotated[Annotated[str, Field(max_length=300)] | None, BeforeValidator(_text)]
Phone = Annotated[str | None, BeforeValidator(_check_phone)]
Lon = Annotated[Annotated[float, Field(ge=-180, le=180)] | None, BeforeValidator(_text)]
Lat = Annotated[Annotated[float, Field(ge=-90, le=90)] | None, BeforeValidator(_text)]


class RegistryModel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


class Region(RegistryModel):
    region_id: Id
    parent_id: OptId = None
    level: Literal["region", "city", "county"]
    name_zh: Text
    name_en: OptText = None
    standard_temp_c: Annotated[
        Annotated[float, Field(ge=14, le=26)] | None, BeforeValidator(_text)
    ] = None

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        aliases = {"省": "region", "自治区": "region", "市": "city", "盟": "city"}
        aliases |= {"区": "county", "县": "county", "旗": "county"}
        value = _text(value)
        return aliases.get(value, value.lower() if isinstance(value, str) else value)


class Enterprise(RegistryModel):
    enterprise_id: Id
    region_id: Id
    name_zh: Text
    name_en: OptText = None
    licence_no: OptText = None


class Station(RegistryModel):
    station_id: Id
    enterprise_id: Id
    region_id: Id
    name_zh: Text
    name_en: OptText = None
    network_station_id: OptText = None
    lon: Lon = None
    lat: Lat = None


class Community(RegistryModel):
    community_id: Id
    region_id: Id
    name_zh: Text
    name_en: OptText = None
    enterprise_steward_name: OptText = None
    enterprise_steward_phone: Phone = None
    government_steward_name: OptText = None
    government_steward_phone: Phone = None


class Building(RegistryModel):
    building_id: Id
    station_id: Id
    community_id: Id
    name_zh: Text
    name_en: OptText = None
    address: OptText = None
    lon: Lon = None
    lat: Lat = None
    floors: Annotated[Annotated[int, Field(ge=1, le=200)] | None, BeforeValidator(_text)] = None
    year_built: Annotated[
        Annotated[int, Field(ge=1900, le=2100)] | None, BeforeValidator(_text)
    ] = None


class Household(RegistryModel):
    household_id: Id
    building_id: Id
    address: OptText = None
    floor_area_m2: Annotated[
        Annotated[float, Field(gt=5, le=2000)] | None, BeforeValidator(_text)
    ] = None
    metered: Annotated[bool, BeforeValidator(_check_bool)] = False
    resident_name: OptText = None
    resident_phone: Phone = None


class Sensor(RegistryModel):
    sensor_id: Id
    household_id: Id
    room: OptText = None
    model: OptText = None
    installed_at: Annotated[dt.datetime | None, BeforeValidator(_check_time)] = None
    decommissioned_at: Annotated[dt.datetime | None, BeforeValidator(_check_time)] = None
