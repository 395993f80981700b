"""The network schema, declared once: one column list per element kind.

It drives the defaults and dtype coercion of :class:`nuanliu.network.model.Network`,
the type/range/choice checks of :mod:`nuanliu.network.validate` and the generated
reference ``docs/network-schema.md`` (``nuanliu network schema``).

Conventions: ids are strings, an empty string means "no reference"; pressures are
bar gauge; temperatures °C; floats use NaN for "not given".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

DType = Literal["str", "float", "bool"]

NAN = math.nan


@dataclass(frozen=True)
class Column:
    """One column of an element table."""

    name: str
    dtype: DType
    unit: str
    default: Any
    description: str
    required: bool = False
    #: allowed values of a ``str`` column (None = free text)
    choices: tuple[str, ...] | None = None
    #: inclusive / exclusive bounds of a ``float`` column (checked when the value is given)
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    #: element kind this id column refers to (e.g. ``"junctions"``)
    ref: str | None = None

    def range_text(self) -> str:
        """Human description of the allowed values, for docs and error messages."""
        parts: list[str] = []
        if self.choices:
            parts.append("one of " + ", ".join(f"`{c}`" for c in self.choices))
        if self.gt is not None:
            parts.append(f"> {self.gt:g}")
        if self.ge is not None:
            parts.append(f"≥ {self.ge:g}")
        if self.le is not None:
            parts.append(f"≤ {self.le:g}")
        if self.ref:
            parts.append(f"id in `{self.ref}`")
        return "; ".join(parts)


def _id(name: str, what: str) -> Column:
    return Column(name, "str", "", "", f"Unique id of the {what}.", required=True)


def _ref(name: str, description: str, *, required: bool = True) -> Column:
    return Column(name, "str", "", "", description, required=required, ref="junctions")


_NAME = Column("name", "str", "", "", "Display name (free text).")
_IN_SERVICE = Column(
    "in_service", "bool", "", True, "False takes the element out of the model (open circuit)."
)

#: pressure rating (bar gauge) of elements whose ``pn_bar`` is NaN, unless the network's
#: ``meta["limits"]["pn_bar"]`` sets another (physical-limit check, nuanliu.sim.limits)
DEFAULT_PN_BAR = 16.0


def _pn(what: str) -> Column:
    return Column(
        "pn_bar",
        "float",
        "bar(g)",
        NAN,
        f"Pressure rating (PN) of the {what}: highest allowed gauge pressure. NaN = the "
        f"network's `meta.limits.pn_bar`, else PN{DEFAULT_PN_BAR:g}.",
        gt=0.0,
    )


JUNCTIONS: tuple[Column, ...] = (
    _id("junction_id", "junction (node)"),
    _NAME,
    Column("elevation_m", "float", "m", 0.0, "Height above sea level (or a datum)."),
    Column(
        "x",
        "float",
        "m or °",
        NAN,
        "Easting; longitude when meta['crs'] == 'EPSG:4326'. NaN if unknown.",
    ),
    Column(
        "y",
        "float",
        "m or °",
        NAN,
        "Northing; latitude when meta['crs'] == 'EPSG:4326'. NaN if unknown.",
    ),
    _pn("junction (fittings, branches)"),
)

SOURCES: tuple[Column, ...] = (
    _id("source_id", "heat source"),
    _NAME,
    _ref("supply_junction_id", "Outlet junction (flow leaves the source into the supply side)."),
    _ref("return_junction_id", "Inlet junction (flow returns from the return side)."),
    Column(
        "control",
        "str",
        "",
        "pressure",
        "`pressure`: holds outlet and inlet pressure (the pressure reference); "
        "`flow`: injects `mdot_kg_s`; `heat`: injects the flow that carries `heat_w`.",
        required=True,
        choices=("pressure", "flow", "heat"),
    ),
    Column(
        "supply_temp_c",
        "float",
        "°C",
        NAN,
        "Supply (outlet) temperature set-point.",
        required=True,
        gt=0.0,
        le=200.0,
    ),
    Column(
        "supply_pressure_bar",
        "float",
        "bar(g)",
        NAN,
        "Outlet pressure set-point (control `pressure`); a `flow`/`heat` source with it "
        "holds it where no pressure-holding element is in its part (pandapipes' "
        "circ_pump_mass).",
        ge=-1.0,
    ),
    Column(
        "return_pressure_bar",
        "float",
        "bar(g)",
        NAN,
        "Inlet pressure set-point (control `pressure`); the lift is supply − return.",
        ge=-1.0,
    ),
    Column("mdot_kg_s", "float", "kg/s", NAN, "Injected mass flow (control `flow`).", ge=0.0),
    Column("heat_w", "float", "W", NAN, "Injected heat (control `heat`).", ge=0.0),
    Column("capacity_w", "float", "W", NAN, "Maximum heat output; NaN = unlimited.", gt=0.0),
    _IN_SERVICE,
)

PUMPS: tuple[Column, ...] = (
    _id("pump_id", "pump"),
    _NAME,
    _ref("from_junction_id", "Suction-side junction."),
    _ref("to_junction_id", "Discharge-side junction."),
    Column(
        "control",
        "str",
        "",
        "lift",
        "`lift`: fixed pressure rise `lift_bar`; `curve`: head from H = a0 + a1·Q + a2·Q².",
        required=True,
        choices=("lift", "curve"),
    ),
    Column("lift_bar", "float", "bar", NAN, "Pressure rise (control `lift`).", ge=0.0),
    Column("head_a0_m", "float", "m", NAN, "Shut-off head a0 of the pump curve.", gt=0.0),
    Column("head_a1_s_per_m2", "float", "s/m²", NAN, "Linear coefficient a1 (Q in m³/s)."),
    Column("head_a2_s2_per_m5", "float", "s²/m⁵", NAN, "Quadratic coefficient a2 (≤ 0).", le=0.0),
    Column(
        "curve_density_kg_m3",
        "float",
        "kg/m³",
        NAN,
        "Fixed density of the curve: Q = ṁ/ρ and Δp = ρ·g·H at this ρ, a pressure-over-mass-"
        "flow law (pandapipes evaluates its curves at ρ(0 °C)); NaN = the water at the pump.",
        gt=0.0,
    ),
    Column(
        "speed_ratio",
        "float",
        "",
        1.0,
        "Speed relative to the curve's nominal speed (affinity laws).",
        gt=0.0,
        le=1.5,
    ),
    Column(
        "efficiency", "float", "", 0.75, "Wire-to-water efficiency for electricity.", gt=0.0, le=1.0
    ),
    Column(
        "purpose",
        "str",
        "",
        "booster",
        "`circulation` (at a source), `relay` (on a long line), `booster` (in the network).",
        choices=("circulation", "relay", "booster"),
    ),
    Column(
        "min_flow_m3_h",
        "float",
        "m³/h",
        NAN,
        "Smallest allowed flow (operating range); NaN = 0 (no reverse flow).",
        ge=0.0,
    ),
    Column(
        "max_flow_m3_h",
        "float",
        "m³/h",
        NAN,
        "Largest allowed flow; NaN = the curve's end, where the head falls to 0 at the "
        "running speed (no limit for a `lift` pump).",
        gt=0.0,
    ),
    _pn("pump casing"),
    _IN_SERVICE,
)

PIPES: tuple[Column, ...] = (
    _id("pipe_id", "pipe"),
    _NAME,
    _ref("from_junction_id", "Start junction (positive flow runs from → to)."),
    _ref("to_junction_id", "End junction."),
    Column(
        "side",
        "str",
        "",
        "supply",
        "Which side of the network the pipe belongs to.",
        required=True,
        choices=("supply", "return"),
    ),
    Column("length_m", "float", "m", NAN, "Pipe length.", required=True, gt=0.0),
    Column("inner_diameter_m", "float", "m", NAN, "Inner diameter.", required=True, gt=0.0),
    Column("roughness_mm", "float", "mm", 0.05, "Equivalent sand roughness.", ge=0.0),
    Column(
        "u_w_per_m_k",
        "float",
        "W/(m·K)",
        0.0,
        "Heat loss per metre of pipe per kelvin above ambient (0 = adiabatic).",
        ge=0.0,
    ),
    Column("ambient_temp_c", "float", "°C", 10.0, "Ground (or air) temperature around the pipe."),
    Column(
        "minor_loss_zeta", "float", "", 0.0, "Sum of local loss coefficients (bends, tees).", ge=0.0
    ),
    Column("dn_mm", "float", "mm", NAN, "Nominal diameter DN (informative).", gt=0.0),
    Column(
        "max_velocity_m_s",
        "float",
        "m/s",
        NAN,
        "Highest allowed flow velocity; NaN = the default by DN (`dn_mm`, else the inner "
        "diameter), see docs/solver.md 'Physical limits'.",
        gt=0.0,
    ),
    _pn("pipe"),
    _IN_SERVICE,
)

VALVES: tuple[Column, ...] = (
    _id("valve_id", "valve"),
    _NAME,
    _ref("from_junction_id", "Inlet junction."),
    _ref("to_junction_id", "Outlet junction."),
    Column(
        "kv_m3_h",
        "float",
        "m³/h",
        NAN,
        "Flow at 1 bar pressure drop when fully open.",
        required=True,
        gt=0.0,
    ),
    Column("opening", "float", "", 1.0, "Opening 0…1 (0 = closed).", ge=0.0, le=1.0),
    _pn("valve"),
    _IN_SERVICE,
)

STATIONS: tuple[Column, ...] = (
    _id("station_id", "heat-exchange station"),
    _NAME,
    Column(
        "kind",
        "str",
        "",
        "substation",
        "`substation` (换热站, feeds a secondary network) or `isolation` (隔压换热站, "
        "separates two primary networks).",
        required=True,
        choices=("substation", "isolation"),
    ),
    _ref("primary_supply_junction_id", "Primary-side inlet junction (supply)."),
    _ref("primary_return_junction_id", "Primary-side outlet junction (return)."),
    _ref(
        "secondary_supply_junction_id",
        "Secondary-side outlet junction; empty when the secondary is not modelled.",
        required=False,
    ),
    _ref(
        "secondary_return_junction_id",
        "Secondary-side inlet junction; empty when the secondary is not modelled.",
        required=False,
    ),
    Column(
        "heat_demand_w",
        "float",
        "W",
        NAN,
        "Heat delivered to the (unmodelled) secondary side.",
        ge=0.0,
    ),
    Column(
        "secondary_supply_temp_c",
        "float",
        "°C",
        NAN,
        "Secondary supply temperature set-point.",
        required=True,
        gt=0.0,
        le=200.0,
    ),
    Column(
        "secondary_return_temp_c",
        "float",
        "°C",
        NAN,
        "Secondary return temperature: the set-point of an unmodelled secondary; for a "
        "modelled one the design value (used by the pandapipes export).",
        gt=0.0,
        le=200.0,
    ),
    Column(
        "secondary_supply_pressure_bar",
        "float",
        "bar(g)",
        NAN,
        "Secondary outlet pressure held by the station (modelled secondary).",
        ge=-1.0,
    ),
    Column(
        "secondary_return_pressure_bar",
        "float",
        "bar(g)",
        NAN,
        "Secondary inlet pressure held by the station (modelled secondary).",
        ge=-1.0,
    ),
    Column(
        "ua_w_per_k",
        "float",
        "W/K",
        NAN,
        "Counter-flow heat-exchanger conductance at design flow.",
        gt=0.0,
    ),
    Column(
        "effectiveness",
        "float",
        "",
        NAN,
        "Heat-exchanger effectiveness, used when `ua_w_per_k` is NaN.",
        gt=0.0,
        le=1.0,
    ),
    Column(
        "floor_area_m2",
        "float",
        "m²",
        NAN,
        "Heated floor area served (informative; links to the registry).",
        ge=0.0,
    ),
    Column(
        "min_dp_bar",
        "float",
        "bar",
        0.0,
        "Differential pressure the station needs across its primary supply/return.",
        ge=0.0,
    ),
    _IN_SERVICE,
)

CONSUMERS: tuple[Column, ...] = (
    _id("consumer_id", "consumer"),
    _NAME,
    _ref("supply_junction_id", "Supply-side junction (inlet)."),
    _ref("return_junction_id", "Return-side junction (outlet)."),
    Column("heat_demand_w", "float", "W", NAN, "Heat drawn from the water.", required=True, ge=0.0),
    Column(
        "control",
        "str",
        "",
        "return_temp",
        "`return_temp`: flow follows from demand and `return_temp_c`; `flow`: fixed `mdot_kg_s`.",
        required=True,
        choices=("return_temp", "flow"),
    ),
    Column(
        "return_temp_c",
        "float",
        "°C",
        NAN,
        "Return temperature set-point (control `return_temp`).",
        gt=0.0,
        le=200.0,
    ),
    Column("mdot_kg_s", "float", "kg/s", NAN, "Mass flow (control `flow`).", ge=0.0),
    Column(
        "min_dp_bar",
        "float",
        "bar",
        0.0,
        "Differential pressure the consumer needs across supply/return.",
        ge=0.0,
    ),
    Column("floor_area_m2", "float", "m²", NAN, "Heated floor area (informative).", ge=0.0),
    _IN_SERVICE,
)

CONTROLS: tuple[Column, ...] = (
    _id("control_id", "control loop"),
    _NAME,
    Column(
        "kind",
        "str",
        "",
        "dp",
        "`dp`: hold the smallest differential pressure over the measured elements (the "
        "critical one) at `setpoint`; `pressure`: hold the lowest pressure over the measured "
        "junctions at `setpoint`; `valves`: the control valves of the actuator stations/"
        "consumers throttle the differential pressure above `setpoint` (what the element "
        "needs with its valve fully open) and burn at most `actuator_max_bar`.",
        required=True,
        choices=("dp", "pressure", "valves"),
    ),
    Column(
        "actuator_kind",
        "str",
        "",
        "",
        "What acts: `source` (its circulation pump: lift for `dp`, held return pressure for "
        "`pressure`), `station` (an isolation station's secondary side, likewise), `pump` "
        "(speed ratio of a curve pump group, lift of a `lift` pump), `valve` (opening), "
        "`station`/`consumer` control valves for `valves`.",
        required=True,
        choices=("source", "station", "pump", "valve", "consumer"),
    ),
    Column(
        "actuator_ids",
        "str",
        "",
        "",
        "Ids of the acting elements, separated by spaces or commas (a pump group runs at one "
        "speed); for `valves` empty = every station (or consumer) of that kind.",
    ),
    Column(
        "measured_kind",
        "str",
        "",
        "",
        "`station`, `consumer` or `junction`; empty = `dp`: every station and consumer in the "
        "actuator's hydraulic part, `pressure`: the actuator's inlet (pump suction, source or "
        "station return junction).",
        choices=("station", "consumer", "junction"),
    ),
    Column(
        "measured_ids",
        "str",
        "",
        "",
        "Ids of the measured elements (spaces or commas); for `dp` on junctions, pairs "
        "`supply return`. Empty = all of `measured_kind` in the actuator's part.",
    ),
    Column(
        "setpoint_bar",
        "float",
        "bar",
        NAN,
        "Set-point: differential pressure (`dp`, `valves`) or gauge pressure (`pressure`).",
        required=True,
    ),
    Column(
        "actuator_min",
        "float",
        "",
        NAN,
        "Lowest actuator value: speed ratio (pumps; default 0.3), bar (lift or held "
        "pressure; default 0), opening (valves; default 0.01); for `valves` unused.",
    ),
    Column(
        "actuator_max",
        "float",
        "",
        NAN,
        "Highest actuator value: speed ratio (default 1.1), bar (default 25), opening "
        "(default 1); for `valves` the largest differential pressure (bar) a valve may "
        "burn (default 10).",
    ),
    Column(
        "bypass_kv_m3_h",
        "float",
        "m³/h",
        NAN,
        "Kv of the check-valve bypass around a curve-pump group (speed actuator): when even "
        "one pump at its minimum speed would push the measured value past the set-point, "
        "the group stops and the bypass carries its flow. Empty = no bypass (the group "
        "then rests at its minimum speed). Groups of identical pumps are also staged: the "
        "fewest pumps that hold the set-point within their speed range run.",
    ),
    Column(
        "enabled",
        "bool",
        "",
        True,
        "False: the control is ignored (actuators keep their table values).",
    ),
)

#: element kind → columns, in the order tables are stored and documented
SCHEMA: dict[str, tuple[Column, ...]] = {
    "junctions": JUNCTIONS,
    "sources": SOURCES,
    "pumps": PUMPS,
    "pipes": PIPES,
    "valves": VALVES,
    "stations": STATIONS,
    "consumers": CONSUMERS,
    "controls": CONTROLS,
}

ELEMENT_KINDS: tuple[str, ...] = tuple(SCHEMA)

#: element kind → its id column
ID_COLUMN: dict[str, str] = {kind: cols[0].name for kind, cols in SCHEMA.items()}

#: element kind → singular name, for messages and GeoJSON ``element`` properties
SINGULAR: dict[str, str] = {
    "junctions": "junction",
    "sources": "source",
    "pumps": "pump",
    "pipes": "pipe",
    "valves": "valve",
    "stations": "station",
    "consumers": "consumer",
    "controls": "control",
}

_DESCRIPTIONS: dict[str, str] = {
    "junctions": "Nodes where pipes and other elements meet.",
    "sources": "Heat sources with their circulation pump (CHP plant, boiler house).",
    "pumps": "Pumps between two junctions (relay and booster stations; parallel pumps = rows).",
    "pipes": "Pipes; supply and return are separate rows.",
    "valves": "Valves (throttling or shut-off) between two junctions.",
    "stations": "Heat-exchange stations (换热站) and pressure-isolation stations (隔压换热站).",
    "consumers": "Consumers drawing heat directly between a supply and a return junction.",
    "controls": "Part-load control loops: the solver sets pump speeds, pressure-holding "
    "levels and valve positions so that each enabled control meets its set-point, or "
    "reports that it cannot (see docs/solver.md, Part-load control).",
}


def columns(kind: str) -> tuple[Column, ...]:
    """The columns of ``kind``; raises ``KeyError`` naming the known kinds."""
    try:
        return SCHEMA[kind]
    except KeyError:
        raise KeyError(f"unknown element kind {kind!r}; known: {', '.join(SCHEMA)}") from None


def column(kind: str, name: str) -> Column:
    for col in columns(kind):
        if col.name == name:
            return col
    raise KeyError(f"{kind} has no column {name!r}")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default_text(col: Column) -> str:
    if col.dtype == "float":
        return "NaN" if math.isnan(col.default) else f"{col.default:g}"
    if col.dtype == "bool":
        return str(col.default)
    return f"`{col.default}`" if col.default else "(empty)"


def schema_markdown() -> str:
    """The schema as a markdown reference (the content of docs/network-schema.md)."""
    lines = [
        "# Network schema",
        "",
        "Generated from `src/nuanliu/network/schema.py` by `nuanliu network schema`; "
        "do not edit by hand (a test checks it is up to date).",
        "",
        "Ids are strings and an empty string means no reference. Pressures are bar gauge, "
        "temperatures °C, floats use NaN for *not given*. **Required** values must be given "
        "for every element; conditional requirements (e.g. `lift_bar` for a `lift` pump) "
        "are checked by `nuanliu.network.validate`.",
        "",
    ]
    for kind, cols in SCHEMA.items():
        lines += [f"## `{kind}`", "", _DESCRIPTIONS[kind], ""]
        lines.append("| column | type | unit | default | required | allowed | description |")
        lines.append("|---|---|---|---|---|---|---|")
        for c in cols:
            lines.append(
                "| "
                + " | ".join(
                    _md_cell(x)
                    for x in (
                        f"`{c.name}`",
                        c.dtype,
                        c.unit,
                        _default_text(c),
                        "yes" if c.required else "",
                        c.range_text(),
                        c.description,
                    )
                )
                + " |"
            )
        lines.append("")
    return "\n".join(lines)
