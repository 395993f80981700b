"""One reading record for every protocol: what billing and plausibility checks use."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from nuanliu.meters import cjt188, mbus
from nuanliu.meters.errors import FrameError

_TO_GJ = {"Wh": Decimal("0.0000036"), "J": Decimal("1E-9")}
_TO_KW = {"W": Decimal("0.001"), "J/h": Decimal(1) / Decimal(3_600_000)}
_TO_M3_H = {"m^3/h": Decimal(1), "m^3/min": Decimal(60), "m^3/s": Decimal(3600)}
_HOURS = Decimal("0.01")
_FIXED_SCALE = {"": 1, "10 ": 10, "100 ": 100}
_FIXED_BASE = {
    "Wh": ("Wh", 1), "kWh": ("Wh", 1000), "MWh": ("Wh", 10**6),
    "kJ": ("J", 1000), "MJ": ("J", 10**6), "GJ": ("J", 10**9),
    "W": ("W", 1), "kW": ("W", 1000), "MW": ("W", 10**6),
    "ml": ("m^3", Decimal("1E-6")), "l": ("m^3", Decimal("0.001")), "m^3": ("m^3", 1),
    "ml/h": ("m^3/h", Decimal("1E-6")), "l/h": ("m^3/h", Decimal("0.001")),
    "m^3/h": ("m^3/h", 1),
}  # fmt: skip


@dataclass(frozen=True)
class MeterReading:
    """Current values of one heat meter at one read-out, in fixed units."""

    protocol: str  # "mbus" | "cjt188" | "manual"
    meter_address: str  # M-Bus identification number or CJ/T 188 address
    energy_gj: Decimal | None = None  # cumulative heat
    volume_m3: Decimal | None = None  # cumulative volume
    power_kw: Decimal | None = None
    flow_m3_h: Decimal | None = None
    supply_temp_c: Decimal | None = None
    return_temp_c: Decimal | None = None
    operating_hours: Decimal | None = None
    meter_clock: datetime | None = None  # the meter's own clock (meter-local, naive)
    error_flags: tuple[str, ...] = field(default_factory=tuple)
    manufacturer: str | None = None
    medium: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, Decimal):
                out[k] = str(v)
            elif isinstance(v, datetime):
                out[k] = v.isoformat()
            elif isinstance(v, tuple):
                out[k] = list(v)
        return out


def _fixed_unit(label: str) -> tuple[str, Decimal] | None:
    for prefix, scale in _FIXED_SCALE.items():
        if prefix and not label.startswith(prefix):
            continue
        unit = label[len(prefix) :]
        if unit in _FIXED_BASE:
            base, factor = _FIXED_BASE[unit]
            return base, Decimal(factor) * scale
    return None


def _current(records: list[mbus.DataRecord]) -> list[mbus.DataRecord]:
    """Instantaneous, storage 0, tariff 0 or none, valid: the meter's current values."""
    return [
        r
        for r in records
        if r.function in ("Instantaneous value", "Actual value")
        and r.storage_number == 0
        and not r.tariff
        and r.valid
        and isinstance(r.value, Decimal)
    ]


def _base(r: mbus.DataRecord) -> tuple[str, Decimal]:
    assert isinstance(r.value, Decimal)
    fixed = _fixed_unit(r.unit) if r.dif in (0, 1) and r.vif is None else None
    if fixed:
        return fixed[0], r.value * fixed[1]
    return r.unit, r.value


def from_mbus(frame: mbus.MBusFrame) -> MeterReading:
    """The reading record of an M-Bus telegram (first current value of each quantity)."""
    values: dict[str, Decimal] = {}
    for r in _current(frame.records):
        unit, value = _base(r)
        key = None
        if r.quantity == "Energy" and unit in _TO_GJ:
            key, value = "energy_gj", value * _TO_GJ[unit]
        elif r.quantity == "Volume" and unit == "m^3":
            key = "volume_m3"
        elif r.quantity == "Power" and unit in _TO_KW:
            key, value = "power_kw", value * _TO_KW[unit]
        elif r.quantity == "Volume flow" and unit in _TO_M3_H:
            key, value = "flow_m3_h", value * _TO_M3_H[unit]
        elif r.quantity == "Flow temperature" and unit == "°C":
            key = "supply_temp_c"
        elif r.quantity == "Return temperature" and unit == "°C":
            key = "return_temp_c"
        elif r.quantity in ("On time", "Operating time") and unit == "s":
            key, value = "operating_hours", (value / 3600).quantize(_HOURS)
        if key and key not in values:
            if r.dif & 0x0F == 0x05 and r.vif is not None:  # 32-bit real: 7 significant digits
                value = Decimal(f"{value:.7g}")
            values[key] = value
    clock = _mbus_clock(frame.records)
    errors = list(frame.status_errors())
    for r in frame.records:
        if r.quantity == "Error flags" and r.storage_number == 0 and r.value not in ("", 0):
            errors.append(f"error flags {r.value}")
    return MeterReading(
        protocol="mbus",
        meter_address=f"{frame.id:08d}",
        meter_clock=clock,
        error_flags=tuple(errors),
        manufacturer=frame.manufacturer,
        medium=frame.medium,
        **values,  # type: ignore[arg-type]
    )


def _mbus_clock(records: list[mbus.DataRecord]) -> datetime | None:
    for r in records:
        if (
            r.quantity == "Time point (date & time)"
            and r.storage_number == 0
            and isinstance(r.value, str)
            and r.value
        ):
            try:
                return datetime.strptime(r.value, "%Y-%m-%dT%H:%M:%SZ")
            except ValueError:
                return None
    return None


def from_cjt188(frame: cjt188.Cjt188Frame) -> MeterReading:
    if frame.data is None:
        raise FrameError(cjt188.PROTOCOL, 9, "a read request carries no meter data")
    d = frame.data
    heat, heat_unit = d.current_heat.to_base()
    power, power_unit = d.heat_power.to_base()
    flow, _ = d.flow.to_base()
    volume, _ = d.volume.to_base()
    return MeterReading(
        protocol="cjt188",
        meter_address=frame.address,
        energy_gj=heat * _TO_GJ[heat_unit],
        volume_m3=volume,
        power_kw=power * _TO_KW[power_unit],
        flow_m3_h=flow,
        supply_temp_c=d.supply_temp_c,
        return_temp_c=d.return_temp_c,
        operating_hours=Decimal(d.working_hours),
        meter_clock=d.meter_clock,
        error_flags=tuple(d.status_errors()),
        medium="Heat",
    )


def detect_protocol(frame: bytes) -> str:
    """'mbus' or 'cjt188' from the frame's shape (M-Bus repeats its length byte)."""
    f = frame.lstrip(b"\xfe")
    if len(f) >= 4 and f[0] == 0x68 and f[3] == 0x68 and f[1] == f[2] and frame[:1] != b"\xfe":
        return "mbus"
    if len(f) >= 2 and f[0] == 0x68 and 0x20 <= f[1] <= 0x29:
        return "cjt188"
    if len(f) >= 1 and f[0] == 0x68:
        return "mbus"
    raise FrameError("frame", 0, "neither an M-Bus long frame nor a CJ/T 188 frame (no 0x68)")


def decode_frame(frame: bytes, protocol: str | None = None) -> MeterReading:
    """Decode a raw frame of either protocol into the reading record."""
    protocol = protocol or detect_protocol(frame)
    if protocol == "mbus":
        return from_mbus(mbus.decode(frame))
    if protocol == "cjt188":
        return from_cjt188(cjt188.decode(frame))
    raise FrameError("frame", 0, f"protocol {protocol!r} is not mbus or cjt188")
