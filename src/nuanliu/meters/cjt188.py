"""CJ/T 188 (户用计量仪表数据传输技术条件) heat-meter frames: decoder and builder.

Frame: ``[FE…] 68 T A0…A6 C L DATA… CS 16``. ``T`` is the meter type (0x20–0x29 heat
meters: 0x20 heat, 0x21 cooling, 0x22 heat and cooling, the rest reserved for heat
meters); the address is 7 bytes of BCD, lowest byte first; ``C`` the control code
(0x01 read, 0x81 normal answer, 0xC1 abnormal answer); ``L`` the data length; the
checksum is the byte sum from the ``68`` to the last data byte modulo 256. Multi-byte
numbers are packed BCD, lowest byte first; a value's high nibble ``F`` in the last byte
marks a negative number (2018 edition: cooling meters report negative ΔT and power).

Data identifier ``DI`` 0x901F (sent ``1F 90``) "current data" of a heat meter (46 bytes):

| field | bytes | format |
|---|---|---|
| DI, SER | 3 | DI low byte first, sequence number |
| settlement-day heat (结算日热量) | 4 + unit | XXXXXX.XX |
| current heat (当前热量) | 4 + unit | XXXXXX.XX |
| heat power (热功率) | 4 + unit | XXXXXX.XX |
| flow (流量) | 4 + unit | XXXX.XXXX |
| cumulative volume (累积流量) | 4 + unit | XXXXXX.XX |
| supply / return temperature | 3 + 3 | XXXX.XX °C |
| cumulative working time (累计工作时间) | 3 | XXXXXX h |
| real time (实时时间) | 7 | ss mm hh DD MM YYYY (lowest byte first) |
| status ST | 2 | ST1 D0–D1 valve (00 open, 01 closed, 11 fault), D2 battery low; ST2 meter faults |

The 2018 edition adds, for meters of type 0x22 (heat and cooling), the cumulative
cooling energy (累计冷量, 4 + unit) after the current heat; the decoder accepts both
lengths (46 and 51 bytes) and the builder writes either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from nuanliu.meters.errors import FrameError

PROTOCOL = "CJ/T 188"
HEAT_METER_TYPES = range(0x20, 0x2A)
DI_CURRENT = 0x901F
CONTROL_READ, CONTROL_ANSWER, CONTROL_ABNORMAL = 0x01, 0x81, 0xC1
LEN_2004, LEN_2018 = 0x2E, 0x33

#: Unit codes (CJ/T 188 table of units) → (unit label, factor to the base unit, base).
UNITS: dict[int, tuple[str, Decimal, str]] = {
    0x01: ("J", Decimal(1), "J"),
    0x02: ("Wh", Decimal(1), "Wh"),
    0x05: ("kWh", Decimal(1000), "Wh"),
    0x08: ("MWh", Decimal(10) ** 6, "Wh"),
    0x0A: ("MWh×100", Decimal(10) ** 8, "Wh"),
    0x0B: ("kJ", Decimal(1000), "J"),
    0x0E: ("MJ", Decimal(10) ** 6, "J"),
    0x11: ("GJ", Decimal(10) ** 9, "J"),
    0x13: ("GJ×100", Decimal(10) ** 11, "J"),
    0x14: ("W", Decimal(1), "W"),
    0x17: ("kW", Decimal(1000), "W"),
    0x1A: ("MW", Decimal(10) ** 6, "W"),
    0x29: ("L", Decimal("0.001"), "m^3"),
    0x2C: ("m³", Decimal(1), "m^3"),
    0x32: ("L/h", Decimal("0.001"), "m^3/h"),
    0x35: ("m³/h", Decimal(1), "m^3/h"),
}
UNIT_CODE = {label: code for code, (label, _, _) in UNITS.items()}


@dataclass(frozen=True)
class Quantity:
    value: Decimal
    unit: str  # CJ/T 188 unit label, e.g. "kWh"

    def to_base(self) -> tuple[Decimal, str]:
        label_code = UNIT_CODE[self.unit]
        _, factor, base = UNITS[label_code]
        return self.value * factor, base


@dataclass(frozen=True)
class HeatMeterData:
    """DI 901F current data of a heat meter."""

    settlement_heat: Quantity
    current_heat: Quantity
    heat_power: Quantity
    flow: Quantity
    volume: Quantity
    supply_temp_c: Decimal
    return_temp_c: Decimal
    working_hours: int
    meter_clock: datetime | None  # naive meter-local time; None if the meter sent zeros
    status: int  # ST1 | ST2 << 8
    cooling_energy: Quantity | None = None  # 2018 edition, type 0x22

    def status_errors(self) -> list[str]:
        errors = []
        valve = self.status & 0x03
        if valve == 0x03:
            errors.append("valve fault")
        if self.status & 0x04:
            errors.append("battery low")
        if self.status >> 8:
            errors.append(f"meter fault bits 0x{self.status >> 8:02X}")
        return errors


@dataclass(frozen=True)
class Cjt188Frame:
    meter_type: int
    address: str  # 14 BCD digits, most significant first (as printed on the meter)
    control: int
    di: int | None
    ser: int | None
    data: HeatMeterData | None  # None for requests


def _bcd(data: bytes, offset: int, *, signed: bool = False) -> int:
    value = 0
    negative = False
    last = len(data) - 1
    for pos in range(last, -1, -1):
        hi, lo = data[pos] >> 4, data[pos] & 0x0F
        if signed and pos == last and hi == 0xF:
            negative, hi = True, 0
        if hi > 9 or lo > 9:
            raise FrameError(PROTOCOL, offset + pos, f"0x{data[pos]:02X} is not a BCD byte")
        value = value * 100 + hi * 10 + lo
    return -value if negative else value


def _to_bcd(value: int, n_bytes: int, *, signed: bool = False, what: str = "value") -> bytes:
    negative = value < 0
    if negative and not signed:
        raise FrameError(PROTOCOL, 0, f"{what} {value} cannot be negative")
    digits = f"{abs(value):0{2 * n_bytes}d}"
    limit = 2 * n_bytes - (1 if negative else 0)
    if len(digits) > 2 * n_bytes or (negative and digits[0] != "0"):
        raise FrameError(PROTOCOL, 0, f"{what} {value} does not fit {limit} BCD digits")
    out = bytearray(int(digits[k : k + 2], 16) for k in range(0, len(digits), 2))
    if negative:
        out[0] |= 0xF0
    return bytes(reversed(out))


def checksum(data: bytes) -> int:
    return sum(data) & 0xFF


def decode(frame: bytes) -> Cjt188Frame:
    """Decode one frame (leading FE wake-up bytes allowed); errors name the byte offset."""
    start = 0
    while start < len(frame) and frame[start] == 0xFE:
        start += 1
    f = frame[start:]
    n = len(f)
    if n < 13:
        raise FrameError(PROTOCOL, start + n, f"frame ends after {n} bytes; the minimum is 13")
    if f[0] != 0x68:
        raise FrameError(PROTOCOL, start, f"start byte 0x{f[0]:02X}, expected 0x68")
    meter_type = f[1]
    if meter_type not in HEAT_METER_TYPES:
        raise FrameError(
            PROTOCOL, start + 1, f"meter type 0x{meter_type:02X} is not a heat meter (0x20–0x29)"
        )
    address = _address(f[2:9], start + 2)
    control, length = f[9], f[10]
    expected = 13 + length
    if n < expected:
        raise FrameError(PROTOCOL, start + n, f"truncated: {n} bytes, length field says {expected}")
    if n > expected:
        raise FrameError(PROTOCOL, start + expected, f"{n - expected} bytes after the stop byte")
    cs = checksum(f[: 11 + length])
    if f[11 + length] != cs:
        raise FrameError(
            PROTOCOL, start + 11 + length, f"checksum 0x{f[11 + length]:02X}, computed 0x{cs:02X}"
        )
    if f[-1] != 0x16:
        raise FrameError(PROTOCOL, start + n - 1, f"stop byte 0x{f[-1]:02X}, expected 0x16")
    body = f[11 : 11 + length]
    if control == CONTROL_ABNORMAL:
        raise FrameError(PROTOCOL, start + 9, "the meter answered abnormally (control 0xC1)")
    if length < 3:
        raise FrameError(PROTOCOL, start + 10, f"data length {length} < 3 (DI and SER)")
    di = body[0] | body[1] << 8
    if di == 0x1F90:  # some gateways send the identifier high byte first
        di = DI_CURRENT
    if di != DI_CURRENT:
        raise FrameError(PROTOCOL, start + 11, f"data identifier 0x{di:04X} is not supported")
    ser = body[2]
    if control == CONTROL_READ:
        return Cjt188Frame(meter_type, address, control, di, ser, None)
    if control != CONTROL_ANSWER:
        raise FrameError(PROTOCOL, start + 9, f"control code 0x{control:02X} is not a read answer")
    if length not in (LEN_2004, LEN_2018):
        raise FrameError(
            PROTOCOL, start + 10, f"901F data length {length}, expected {LEN_2004} or {LEN_2018}"
        )
    return Cjt188Frame(meter_type, address, control, di, ser, _heat_data(body, start + 11))


def _address(raw: bytes, offset: int) -> str:
    for pos, b in enumerate(raw):
        if (b >> 4) > 9 or (b & 0x0F) > 9:
            if b == 0xAA:  # wildcard address in broadcast reads
                continue
            raise FrameError(PROTOCOL, offset + pos, f"address byte 0x{b:02X} is not BCD")
    return "".join(f"{b:02X}" for b in reversed(raw))


def _heat_data(body: bytes, base: int) -> HeatMeterData:
    pos = 3

    def quantity(decimals: int, signed: bool = False) -> Quantity:
        nonlocal pos
        raw = _bcd(body[pos : pos + 4], base + pos, signed=signed)
        code = body[pos + 4]
        if code not in UNITS:
            raise FrameError(PROTOCOL, base + pos + 4, f"unit code 0x{code:02X} is unknown")
        pos += 5
        return Quantity(Decimal(raw).scaleb(-decimals), UNITS[code][0])

    def number(n: int, decimals: int, signed: bool = False) -> Decimal:
        nonlocal pos
        raw = _bcd(body[pos : pos + n], base + pos, signed=signed)
        pos += n
        return Decimal(raw).scaleb(-decimals)

    settlement = quantity(2)
    current = quantity(2)
    cooling = quantity(2) if len(body) == LEN_2018 else None
    power = quantity(2, signed=True)
    flow = quantity(4)
    volume = quantity(2)
    supply = number(3, 2, signed=True)
    ret = number(3, 2, signed=True)
    hours = int(number(3, 0))
    clock = _clock(body[pos : pos + 7], base + pos)
    pos += 7
    status = body[pos] | body[pos + 1] << 8
    return HeatMeterData(
        settlement, current, power, flow, volume, supply, ret, hours, clock, status, cooling
    )


def _clock(raw: bytes, offset: int) -> datetime | None:
    if not any(raw):
        return None
    ss, mm, hh, dd, mo = (_bcd(raw[k : k + 1], offset + k) for k in range(5))
    year = _bcd(raw[5:7], offset + 5)
    try:
        return datetime(year, mo, dd, hh, mm, ss)
    except ValueError as exc:
        raise FrameError(
            PROTOCOL, offset, f"real time {year}-{mo}-{dd} {hh}:{mm}:{ss}: {exc}"
        ) from None


def build_read_request(address: str, *, meter_type: int = 0x20, ser: int = 0) -> bytes:
    """The master's 'read current data' request (C=0x01, DI 901F) with FE wake-up bytes."""
    body = bytes([DI_CURRENT & 0xFF, DI_CURRENT >> 8, ser & 0xFF])
    return b"\xfe\xfe\xfe" + _wrap(meter_type, address, CONTROL_READ, body)


def build_answer(
    address: str, data: HeatMeterData, *, meter_type: int = 0x20, ser: int = 0
) -> bytes:
    """A meter's 901F answer carrying ``data`` (tests, simulators, gateway replays)."""
    body = bytearray([DI_CURRENT & 0xFF, DI_CURRENT >> 8, ser & 0xFF])
    body += _quantity(data.settlement_heat, 2, "settlement heat")
    body += _quantity(data.current_heat, 2, "current heat")
    if data.cooling_energy is not None:
        body += _quantity(data.cooling_energy, 2, "cooling energy")
    body += _quantity(data.heat_power, 2, "heat power", signed=True)
    body += _quantity(data.flow, 4, "flow")
    body += _quantity(data.volume, 2, "volume")
    body += _to_bcd(_scaled(data.supply_temp_c, 2, "supply temperature"), 3, signed=True)
    body += _to_bcd(_scaled(data.return_temp_c, 2, "return temperature"), 3, signed=True)
    body += _to_bcd(data.working_hours, 3, what="working hours")
    body += _clock_bytes(data.meter_clock)
    body += bytes([data.status & 0xFF, data.status >> 8 & 0xFF])
    return _wrap(meter_type, address, CONTROL_ANSWER, bytes(body))


def _scaled(value: Decimal, decimals: int, what: str) -> int:
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise FrameError(PROTOCOL, 0, f"{what} {value} has more than {decimals} decimals")
    return int(scaled)


def _quantity(q: Quantity, decimals: int, what: str, *, signed: bool = False) -> bytes:
    if q.unit not in UNIT_CODE:
        raise FrameError(PROTOCOL, 0, f"{what}: unit {q.unit!r} has no CJ/T 188 code")
    raw = _to_bcd(_scaled(q.value, decimals, what), 4, signed=signed, what=what)
    return raw + bytes([UNIT_CODE[q.unit]])


def _clock_bytes(clock: datetime | None) -> bytes:
    if clock is None:
        return bytes(7)
    parts = [clock.second, clock.minute, clock.hour, clock.day, clock.month]
    return bytes(_to_bcd(p, 1)[0] for p in parts) + _to_bcd(clock.year, 2)


def _wrap(meter_type: int, address: str, control: int, body: bytes) -> bytes:
    if meter_type not in HEAT_METER_TYPES:
        raise FrameError(PROTOCOL, 1, f"meter type 0x{meter_type:02X} is not a heat meter")
    if len(address) != 14 or not address.isdigit():
        raise FrameError(PROTOCOL, 2, f"address {address!r} is not 14 decimal digits")
    addr = bytes(int(address[k : k + 2], 16) for k in range(12, -1, -2))
    head = bytes([0x68, meter_type]) + addr + bytes([control, len(body)])
    framed = head + body
    return framed + bytes([checksum(framed), 0x16])
