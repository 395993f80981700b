"""The telemetry schema: every measured point, its unit and plausibility range, declared once.

A telemetry row is one value of one point at one site and instant: ``(site_id, point,
ts, value)``. Sites are heat sources, heat-exchange stations (primary and secondary
side) and pumps. ``POINTS`` is the single declaration: validation reads the ranges from
it, the pages read the units and names, and ``docs/telemetry.md`` is generated from it
(``nuanliu telemetry schema --markdown``; a test keeps the page in step).

Ranges are *plausibility* limits — what a working sensor on a district-heating site
can report — not operating limits: a value outside them is a sensor or unit fault and
goes to quarantine; a value inside them may still be a plant fault (``faults.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

SITE_KINDS = ("source", "station", "pump")


@dataclass(frozen=True)
class Point:
    name: str
    unit: str
    min_value: float
    max_value: float
    kinds: tuple[str, ...]  # site kinds that may report it
    name_zh: str
    name_en: str
    cumulative: bool = False  # a counter (heat, volume): never decreases on a working meter


_ALL = SITE_KINDS
_SRC_STN = ("source", "station")

POINTS: tuple[Point, ...] = (
    Point(
        "primary_supply_temp_c",
        "°C",
        -20,
        200,
        _SRC_STN,
        "一次供水温度",
        "Primary supply temperature",
    ),
    Point(
        "primary_return_temp_c",
        "°C",
        -20,
        200,
        _SRC_STN,
        "一次回水温度",
        "Primary return temperature",
    ),
    Point(
        "primary_supply_pressure_mpa",
        "MPa",
        -0.1,
        4.0,
        _ALL,
        "一次供水压力",
        "Primary supply pressure",
    ),
    Point(
        "primary_return_pressure_mpa",
        "MPa",
        -0.1,
        4.0,
        _ALL,
        "一次回水压力",
        "Primary return pressure",
    ),
    Point("primary_flow_m3_h", "m³/h", -50, 60000, _ALL, "一次流量", "Primary flow"),
    Point("primary_heat_kw", "kW", -1000, 20_000_000, _SRC_STN, "一次热功率", "Primary heat power"),
    Point(
        "primary_heat_gj", "GJ", 0, 1e9, _SRC_STN, "一次累计热量", "Primary cumulative heat", True
    ),
    Point(
        "primary_volume_m3",
        "m³",
        0,
        1e10,
        _SRC_STN,
        "一次累计流量",
        "Primary cumulative volume",
        True,
    ),
    Point(
        "secondary_supply_temp_c",
        "°C",
        -20,
        130,
        ("station",),
        "二次供水温度",
        "Secondary supply temperature",
    ),
    Point(
        "secondary_return_temp_c",
        "°C",
        -20,
        130,
        ("station",),
        "二次回水温度",
        "Secondary return temperature",
    ),
    Point(
        "secondary_supply_pressure_mpa",
        "MPa",
        -0.1,
        2.5,
        ("station",),
        "二次供水压力",
        "Secondary supply pressure",
    ),
    Point(
        "secondary_return_pressure_mpa",
        "MPa",
        -0.1,
        2.5,
        ("station",),
        "二次回水压力",
        "Secondary return pressure",
    ),
    Point("secondary_flow_m3_h", "m³/h", -50, 5000, ("station",), "二次流量", "Secondary flow"),
    Point(
        "dhw_temp_c", "°C", -20, 100, ("station",), "生活热水温度", "Domestic hot water temperature"
    ),
    Point("valve_opening_pct", "%", 0, 100, ("station",), "调节阀开度", "Control valve opening"),
    Point("pump_speed_pct", "%", 0, 110, _ALL, "水泵转速", "Pump speed"),
    Point("pump_power_kw", "kW", 0, 20000, _ALL, "水泵功率", "Pump power"),
    Point("outdoor_temp_c", "°C", -55, 50, _ALL, "室外温度", "Outdoor temperature"),
)

BY_NAME: dict[str, Point] = {p.name: p for p in POINTS}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def point(name: str) -> Point:
    from nuanliu.errors import NotFound

    try:
        return BY_NAME[name]
    except KeyError:
        raise NotFound(
            f"telemetry point {name!r} is not in the schema (see docs/telemetry.md)",
            details={"point": name},
        ) from None


def _fmt(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def markdown() -> str:
    """The schema as the Markdown table of ``docs/telemetry.md``."""
    lines = [
        "| point | unit | plausible range | sites | 名称 | name |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for p in POINTS:
        rng = f"{_fmt(p.min_value)} … {_fmt(p.max_value)}"
        if p.cumulative:
            rng += " (counter)"
        lines.append(
            f"| `{p.name}` | {p.unit} | {rng} | {', '.join(p.kinds)} | {p.name_zh} | {p.name_en} |"
        )
    return "\n".join(lines) + "\n"
