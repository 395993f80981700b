"""EN 13757-3 code tables: VIF/VIFE units and quantities, media, fixed-frame units.

Names, units and scale factors follow the libmbus normalisation (rSCADA, BSD-3-Clause)
so a decoded record can be compared field by field with the ``.norm.xml`` files that
libmbus's test corpus ships. Values are normalised to base units (Wh, J, m^3, W, s, °C).
The tables are generated from the code ranges of EN 13757-3 (``E000 0nnn`` → 10^(nnn-3)
Wh, …) rather than listed entry by entry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class VifEntry(NamedTuple):
    factor: Decimal
    unit: str
    quantity: str


_TIME_FACTORS = (Decimal(1), Decimal(60), Decimal(3600), Decimal(86400))


def _decades(table: dict[int, VifEntry], first: int, count: int, exp0: int, unit: str, q: str):
    for n in range(count):
        table[first + n] = VifEntry(Decimal(1).scaleb(exp0 + n), unit, q)


def _durations(table: dict[int, VifEntry], first: int, q: str, factors=_TIME_FACTORS):
    for n, f in enumerate(factors):
        table[first + n] = VifEntry(f, "s", q)


def _primary() -> dict[int, VifEntry]:
    t: dict[int, VifEntry] = {}
    _decades(t, 0x00, 8, -3, "Wh", "Energy")
    _decades(t, 0x08, 8, 0, "J", "Energy")
    _decades(t, 0x10, 8, -6, "m^3", "Volume")
    _decades(t, 0x18, 8, -3, "kg", "Mass")
    _durations(t, 0x20, "On time")
    _durations(t, 0x24, "Operating time")
    _decades(t, 0x28, 8, -3, "W", "Power")
    _decades(t, 0x30, 8, 0, "J/h", "Power")
    _decades(t, 0x38, 8, -6, "m^3/h", "Volume flow")
    _decades(t, 0x40, 8, -7, "m^3/min", "Volume flow")
    _decades(t, 0x48, 8, -9, "m^3/s", "Volume flow")
    _decades(t, 0x50, 8, -3, "kg/h", "Mass flow")
    _decades(t, 0x58, 4, -3, "°C", "Flow temperature")
    _decades(t, 0x5C, 4, -3, "°C", "Return temperature")
    _decades(t, 0x60, 4, -3, "K", "Temperature difference")
    _decades(t, 0x64, 4, -3, "°C", "External temperature")
    _decades(t, 0x68, 4, -3, "bar", "Pressure")
    one = Decimal(1)
    t[0x6C] = VifEntry(one, "-", "Time point (date)")
    t[0x6D] = VifEntry(one, "-", "Time point (date & time)")
    t[0x6E] = VifEntry(one, "Units for H.C.A.", "H.C.A.")
    t[0x6F] = VifEntry(Decimal(0), "Reserved", "Reserved")
    _durations(t, 0x70, "Averaging Duration")
    _durations(t, 0x74, "Actuality Duration")
    t[0x78] = VifEntry(one, "", "Fabrication No")
    t[0x79] = VifEntry(one, "", "(Enhanced) Identification")
    t[0x7A] = VifEntry(one, "", "Bus Address")
    t[0x7E] = VifEntry(one, "", "Any VIF")
    t[0x7F] = VifEntry(one, "", "Manufacturer specific")
    return t


_FD_NAMES = {
    0x08: "Access Number (transmission count)",
    0x09: "Medium",
    0x0A: "Manufacturer",
    0x0B: "Parameter set identification",
    0x0C: "Model / Version",
    0x0D: "Hardware version",
    0x0E: "Firmware version",
    0x0F: "Software version",
    0x10: "Customer location",
    0x11: "Customer",
    0x12: "Access Code User",
    0x13: "Access Code Operator",
    0x14: "Access Code System Operator",
    0x15: "Access Code Developer",
    0x16: "Password",
    0x17: "Error flags",
    0x18: "Error mask",
    0x1A: "Digital Output",
    0x1B: "Digital Input",
    0x1E: "Retry",
    0x20: "First storage # for cyclic storage",
    0x21: "Last storage # for cyclic storage",
    0x22: "Size of storage block",
    0x3A: "Dimensionless",
    0x60: "Reset counter",
    0x61: "Cumulation counter",
    0x62: "Control signal",
    0x63: "Day of week",
    0x64: "Week number",
    0x65: "Time point of day change",
    0x66: "State of parameter activation",
    0x67: "Special supplier information",
}

_MONTH_S = Decimal("2629743.83")
_YEAR_S = Decimal(31556926)


def _fd() -> dict[int, VifEntry]:
    """VIFE codes after VIF 0xFD (EN 13757-3 table 14), keyed 0x00–0x7F."""
    t: dict[int, VifEntry] = {}
    reserved = VifEntry(Decimal(1), "Reserved", "Reserved")
    for code in range(0x80):
        t[code] = reserved
    _decades(t, 0x00, 4, -3, "Currency units", "Credit")
    _decades(t, 0x04, 4, -3, "Currency units", "Debit")
    for code, name in _FD_NAMES.items():
        t[code] = VifEntry(Decimal(1), "", name)
    t[0x1C] = VifEntry(Decimal(1), "Baud", "Baudrate")
    t[0x1D] = VifEntry(Decimal(1), "Bittimes", "Response delay time")
    _durations(t, 0x24, "Storage interval", (*_TIME_FACTORS, _MONTH_S, _YEAR_S))
    _durations(t, 0x2C, "Duration since last readout")
    _durations(t, 0x31, "Duration of tariff", _TIME_FACTORS[1:])
    _durations(t, 0x34, "Period of tariff", (*_TIME_FACTORS, _MONTH_S, _YEAR_S))
    _decades(t, 0x40, 16, -9, "V", "Voltage")
    _decades(t, 0x50, 16, -12, "A", "Current")
    hours = (Decimal(3600), Decimal(86400), _MONTH_S, _YEAR_S)
    _durations(t, 0x68, "Duration since last cumulation", hours)
    _durations(t, 0x6C, "Operating time battery", hours)
    t[0x70] = VifEntry(Decimal(1), "", "Date and time of battery change")
    return t


def _fb() -> dict[int, VifEntry]:
    """VIFE codes after VIF 0xFB (EN 13757-3 table 12), keyed 0x00–0x7F."""
    t: dict[int, VifEntry] = {}
    reserved = VifEntry(Decimal(1), "Reserved", "Reserved")
    for code in range(0x80):
        t[code] = reserved
    _decades(t, 0x00, 2, 5, "Wh", "Energy")  # 0.1 MWh, 1 MWh
    _decades(t, 0x08, 2, 8, "J", "Energy")  # 0.1 GJ, 1 GJ
    _decades(t, 0x10, 2, 2, "m^3", "Volume")
    _decades(t, 0x18, 2, 5, "kg", "Mass")  # 100 t, 1000 t
    t[0x21] = VifEntry(Decimal("0.1"), "feet^3", "Volume")
    t[0x22] = VifEntry(Decimal("0.1"), "American gallon", "Volume")
    t[0x23] = VifEntry(Decimal(1), "American gallon", "Volume")
    t[0x24] = VifEntry(Decimal("0.001"), "American gallon/min", "Volume flow")
    t[0x25] = VifEntry(Decimal(1), "American gallon/min", "Volume flow")
    t[0x26] = VifEntry(Decimal(1), "American gallon/h", "Volume flow")
    _decades(t, 0x28, 2, 5, "W", "Power")  # 0.1 MW, 1 MW
    _decades(t, 0x30, 2, 8, "J/h", "Power")  # 0.1 GJ/h, 1 GJ/h
    _decades(t, 0x58, 4, -3, "°F", "Flow temperature")
    _decades(t, 0x5C, 4, -3, "°F", "Return temperature")
    _decades(t, 0x60, 4, -3, "°F", "Temperature difference")
    _decades(t, 0x64, 4, -3, "°F", "External temperature")
    _decades(t, 0x70, 4, -3, "°F", "Cold / Warm Temperature Limit")
    _decades(t, 0x74, 4, -3, "°C", "Cold / Warm Temperature Limit")
    _decades(t, 0x78, 8, -3, "W", "Cumul count max power")
    return t


PRIMARY: dict[int, VifEntry] = _primary()
EXT_FD: dict[int, VifEntry] = _fd()
EXT_FB: dict[int, VifEntry] = _fb()

#: Data field (DIF & 0x0F) → data length in bytes (0x0D variable: read from LVAR).
DATA_LENGTH: dict[int, int] = {
    0x0: 0, 0x1: 1, 0x2: 2, 0x3: 3, 0x4: 4, 0x5: 4, 0x6: 6, 0x7: 8,
    0x8: 0, 0x9: 1, 0xA: 2, 0xB: 3, 0xC: 4, 0xD: 0, 0xE: 6, 0xF: 0,
}  # fmt: skip

FUNCTIONS = ("Instantaneous value", "Maximum value", "Minimum value", "Value during error state")

MEDIA: dict[int, str] = {
    0x00: "Other",
    0x01: "Oil",
    0x02: "Electricity",
    0x03: "Gas",
    0x04: "Heat: Outlet",
    0x05: "Steam",
    0x06: "Hot water",
    0x07: "Water",
    0x08: "Heat Cost Allocator",
    0x09: "Compressed Air",
    0x0A: "Cooling load meter: Outlet",
    0x0B: "Cooling load meter: Inlet",
    0x0C: "Heat: Inlet",
    0x0D: "Heat / Cooling load meter",
    0x0E: "Bus/System",
    0x0F: "Unknown Medium",
    0x16: "Cold water",
    0x17: "Dual water",
    0x18: "Pressure",
    0x19: "A/D Converter",
}

FIXED_MEDIA = (
    "Other", "Oil", "Electricity", "Gas", "Heat", "Steam", "Hot Water", "Water",
    "H.C.A.", "Reserved", "Gas Mode 2", "Heat Mode 2", "Hot Water Mode 2",
    "Water Mode 2", "H.C.A. Mode 2", "Reserved",
)  # fmt: skip


def _fixed_units() -> dict[int, tuple[str, str]]:
    """Fixed-frame counter unit codes (EN 1434-3): code → (label, quantity)."""
    out: dict[int, tuple[str, str]] = {0x00: ("h,m,s", "Time"), 0x01: ("D,M,Y", "Time")}
    groups = [
        (0x02, ("Wh", "kWh", "MWh"), "Energy"),
        (0x0B, ("kJ", "MJ", "GJ"), "Energy"),
        (0x14, ("W", "kW", "MW"), "Power"),
        (0x1D, ("kJ/h", "MJ/h", "GJ/h"), "Power"),
        (0x26, ("ml", "l", "m^3"), "Volume"),
        (0x2F, ("ml/h", "l/h", "m^3/h"), "Volume flow"),
    ]
    for first, units, quantity in groups:
        code = first
        for unit in units:
            for prefix in ("", "10 ", "100 "):
                out[code] = (prefix + unit, quantity)
                code += 1
    out[0x38] = ("1e-3 °C", "Temperature")
    out[0x39] = ("units for HCA", "H.C.A.")
    return out


FIXED_UNITS: dict[int, tuple[str, str]] = _fixed_units()
