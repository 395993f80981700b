"""M-Bus (EN 13757-2/-3) RSP_UD long frames → data records.

Own decoder rather than pyMeterBus (see ``docs`` in the package README): every error
names the byte offset, values are exact ``Decimal`` (no binary-float noise), fixed-data
frames (CI 0x73) decode too, and the output matches libmbus's normalised records, which
the shared test vectors were produced with.

A long frame is ``68 L L 68 C A CI data… CS 16``; ``L`` counts C, A, CI and data; the
checksum is the byte sum of C…data modulo 256. Offsets in errors count from the first
``68``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from decimal import Decimal

from nuanliu.meters.errors import FrameError
from nuanliu.meters.mbus_tables import (
    DATA_LENGTH,
    EXT_FB,
    EXT_FD,
    FIXED_MEDIA,
    FIXED_UNITS,
    FUNCTIONS,
    MEDIA,
    PRIMARY,
    VifEntry,
)

PROTOCOL = "M-Bus"
_HEADER_CI = {0x72: 12, 0x7A: 4, 0x78: 0}  # variable data, LSB first: header length
_FIXED_CI = 0x73
_DATA_START = 7
_BCD_CODINGS = (0x09, 0x0A, 0x0B, 0x0C, 0x0E)  # offset of the first byte after CI in a long frame


@dataclass(frozen=True)
class DataRecord:
    """One decoded variable data record (or one counter of a fixed-data frame)."""

    offset: int  # byte offset of the DIF in the frame
    function: str
    storage_number: int
    tariff: int | None  # None when the record has no DIFE
    device: int | None
    unit: str
    quantity: str
    value: Decimal | str  # numbers normalised to ``unit``; dates and texts as str
    valid: bool = True  # False: the meter marked the value as an error (hex digits in BCD)
    dif: int = 0
    vif: int | None = None
    vife: tuple[int, ...] = ()


@dataclass(frozen=True)
class MBusFrame:
    """The header fields and records of one RSP_UD telegram."""

    address: int
    ci: int
    id: int  # identification (serial) number, decoded from BCD
    manufacturer: str | None
    version: int | None
    medium: str
    medium_code: int | None
    access_number: int
    status: int
    signature: int | None
    records: list[DataRecord] = field(default_factory=list)
    more_records_follow: bool = False

    def status_errors(self) -> list[str]:
        """Error bits of the application status byte (EN 13757-3 table 5)."""
        names = {0x04: "power low", 0x08: "permanent error", 0x10: "temporary error"}
        return [n for bit, n in names.items() if self.status & bit]


def parse_hex(text: str) -> bytes:
    """Bytes from a hex dump (spaces, newlines, ``0x`` prefixes and colons allowed)."""
    cleaned = text.replace("0x", "").replace("0X", "").replace(":", " ").replace(",", " ")
    digits = "".join(cleaned.split())
    for i, ch in enumerate(digits):
        if ch not in "0123456789abcdefABCDEF":
            raise FrameError("hex", i // 2, f"{ch!r} is not a hex digit")
    if len(digits) % 2:
        raise FrameError("hex", len(digits) // 2, "odd number of hex digits")
    return bytes.fromhex(digits)


def decode(frame: bytes) -> MBusFrame:
    """Decode one long frame; raises :class:`FrameError` naming the byte at fault."""
    user_data_end = _check_link_layer(frame)
    ci = frame[6]
    if ci == _FIXED_CI:
        return _decode_fixed(frame, user_data_end)
    if ci not in _HEADER_CI:
        raise FrameError(PROTOCOL, 6, f"CI field 0x{ci:02X} is not a supported RSP_UD")
    return _decode_variable(frame, ci, user_data_end)


def _check_link_layer(frame: bytes) -> int:
    n = len(frame)
    if n < 9:
        raise FrameError(PROTOCOL, n, f"frame ends after {n} bytes; a long frame has ≥ 9")
    if frame[0] != 0x68:
        raise FrameError(PROTOCOL, 0, f"start byte 0x{frame[0]:02X}, expected 0x68")
    if frame[1] != frame[2]:
        raise FrameError(PROTOCOL, 2, f"length bytes differ (0x{frame[1]:02X}/0x{frame[2]:02X})")
    if frame[3] != 0x68:
        raise FrameError(PROTOCOL, 3, f"second start byte 0x{frame[3]:02X}, expected 0x68")
    length = frame[1]
    if length < 3:
        raise FrameError(PROTOCOL, 1, f"length {length} is too short for C, A and CI")
    expected = length + 6
    if n < expected:
        raise FrameError(PROTOCOL, n, f"truncated: {n} bytes, length field says {expected}")
    if n > expected:
        raise FrameError(PROTOCOL, expected, f"{n - expected} bytes after the stop byte")
    checksum = sum(frame[4 : 4 + length]) & 0xFF
    if frame[4 + length] != checksum:
        raise FrameError(
            PROTOCOL,
            4 + length,
            f"checksum 0x{frame[4 + length]:02X}, computed 0x{checksum:02X}",
        )
    if frame[-1] != 0x16:
        raise FrameError(PROTOCOL, n - 1, f"stop byte 0x{frame[-1]:02X}, expected 0x16")
    if frame[4] & 0x40:
        raise FrameError(PROTOCOL, 4, f"C field 0x{frame[4]:02X} is master-to-slave, not RSP_UD")
    return 4 + length


def bcd_int(data: bytes, offset: int, *, signed: bool = True) -> int:
    """Little-endian packed BCD; an ``F`` high nibble in the last byte means negative.

    Raises :class:`FrameError` on a nibble above 9 (use :func:`bcd_lenient` for values
    where meters put hex digits on purpose to mark an error)."""
    value, bad_at = bcd_lenient(data, signed=signed)
    if bad_at is not None:
        raise FrameError(PROTOCOL, offset + bad_at, f"0x{data[bad_at]:02X} is not a BCD byte")
    return value


def bcd_lenient(data: bytes, *, signed: bool = True) -> tuple[int, int | None]:
    """(value, index of the first non-BCD byte or None).

    EN 13757-3 lets a meter fill a BCD field with hex digits A–E to signal an error.
    The value then follows libmbus's reading (a high nibble above 9 counts as 0, a low
    one at face value) so records compare with the reference decodings; the caller marks
    it invalid so no reading record ever uses it."""
    value = 0
    bad_at: int | None = None
    last = len(data) - 1
    for pos in range(last, -1, -1):
        hi, lo = data[pos] >> 4, data[pos] & 0x0F
        if pos == last and hi == 0xF and signed:
            hi = 0
        elif (hi > 9 or lo > 9) and bad_at is None:
            bad_at = pos
        if lo > 9 and bad_at is None:
            bad_at = pos
        value = (value * 10 + (hi if hi < 10 else 0)) * 10 + lo
    if signed and data and data[last] >> 4 == 0xF:
        value = -value
    return value, bad_at


def _manufacturer(code: int) -> str:
    return "".join(chr(((code >> s) & 0x1F) + 64) for s in (10, 5, 0))


def _decode_variable(frame: bytes, ci: int, end: int) -> MBusFrame:
    header_len = _HEADER_CI[ci]
    if end - _DATA_START < header_len:
        raise FrameError(PROTOCOL, end, f"user data ends inside the {header_len}-byte header")
    h = frame[_DATA_START : _DATA_START + header_len]
    if header_len == 12:
        ident = bcd_int(h[0:4], _DATA_START, signed=False)
        manufacturer = _manufacturer(h[4] | h[5] << 8)
        version, medium_code, access, status = h[6], h[7], h[8], h[9]
        signature: int | None = h[10] | h[11] << 8
    elif header_len == 4:
        ident, manufacturer, version, medium_code = 0, None, None, None
        access, status, signature = h[0], h[1], h[2] | h[3] << 8
    else:
        ident, manufacturer, version, medium_code, access, status, signature = (
            0, None, None, None, 0, 0, None,
        )  # fmt: skip
    records, more = _records(frame, _DATA_START + header_len, end)
    return MBusFrame(
        address=frame[5],
        ci=ci,
        id=ident,
        manufacturer=manufacturer,
        version=version,
        medium=MEDIA.get(medium_code, "Unknown") if medium_code is not None else "",
        medium_code=medium_code,
        access_number=access,
        status=status,
        signature=signature,
        records=records,
        more_records_follow=more,
    )


def _records(frame: bytes, i: int, end: int) -> tuple[list[DataRecord], bool]:
    records: list[DataRecord] = []
    while i < end:
        dif = frame[i]
        if dif == 0x2F:  # idle filler
            i += 1
            continue
        if dif in (0x0F, 0x1F):  # manufacturer-specific data to the end: kept as hex, not read
            rest = frame[i + 1 : end]
            function = "More records follow" if dif == 0x1F else "Manufacturer specific"
            records.append(
                DataRecord(i, function, 0, None, None, "", "", rest.hex(" ").upper(), dif)
            )
            return records, dif == 0x1F
        record, i = _record(frame, i, end)
        records.append(record)
    return records, False


def _record(frame: bytes, start: int, end: int) -> tuple[DataRecord, int]:
    dif = frame[start]
    i = start + 1
    difes: list[int] = []
    ext = dif & 0x80
    while ext:
        if i >= end:
            raise FrameError(PROTOCOL, i, "record ends inside its DIFE chain")
        if len(difes) == 10:
            raise FrameError(PROTOCOL, i, "more than 10 DIFE bytes")
        difes.append(frame[i])
        ext = frame[i] & 0x80
        i += 1
    if i >= end:
        raise FrameError(PROTOCOL, i, "record ends before its VIF")
    vif = frame[i]
    i += 1
    custom = ""
    if vif & 0x7F == 0x7C:  # plain-text VIF: length, then ASCII stored last-char-first
        if i >= end:
            raise FrameError(PROTOCOL, i, "record ends before the plain-text VIF length")
        n = frame[i]
        if i + 1 + n > end:
            raise FrameError(PROTOCOL, i, f"plain-text VIF of {n} bytes runs past the data")
        custom = frame[i + 1 : i + 1 + n][::-1].decode("latin-1")
        i += 1 + n
    vifes: list[int] = []
    ext = vif & 0x80
    while ext:
        if i >= end:
            raise FrameError(PROTOCOL, i, "record ends inside its VIFE chain")
        if len(vifes) == 10:
            raise FrameError(PROTOCOL, i, "more than 10 VIFE bytes")
        vifes.append(frame[i])
        ext = frame[i] & 0x80
        i += 1
    coding = dif & 0x0F
    if coding == 0x08:
        raise FrameError(PROTOCOL, start, f"DIF 0x{dif:02X} (selection for readout) in a response")
    length = DATA_LENGTH[coding]
    if coding == 0x0D:
        if i >= end:
            raise FrameError(PROTOCOL, i, "record ends before the LVAR byte")
        length = _lvar_length(frame[i], i)
        i += 1
    if i + length > end:
        raise FrameError(
            PROTOCOL, i, f"record at byte {start} needs {length} data bytes, {end - i} left"
        )
    data = frame[i : i + length]
    entry, mbus_vife = _vif_entry(vif, vifes, custom, start)
    value = _value(coding, data, vif, vifes, i, entry)
    valid = True
    if coding in _BCD_CODINGS:
        valid = bcd_lenient(data)[1] is None
    if isinstance(value, Decimal):
        value = _apply_vife(value * entry.factor, vif, mbus_vife)
    storage = (dif & 0x40) >> 6
    tariff = device = None
    if difes:
        tariff = device = 0
        for k, dife in enumerate(difes):
            storage |= (dife & 0x0F) << (1 + 4 * k)
            tariff |= ((dife & 0x30) >> 4) << (2 * k)
            device |= ((dife & 0x40) >> 6) << k
    record = DataRecord(
        offset=start,
        function=FUNCTIONS[(dif & 0x30) >> 4],
        storage_number=storage,
        tariff=tariff,
        device=device,
        unit=entry.unit,
        quantity=entry.quantity,
        value=value,
        valid=valid,
        dif=dif,
        vif=vif,
        vife=tuple(vifes),
    )
    return record, i + length


def _lvar_length(lvar: int, offset: int) -> int:
    if lvar <= 0xBF:
        return lvar
    if lvar <= 0xDF:
        return (lvar & 0x0F) * 2  # BCD digits, two per byte
    if lvar <= 0xEF:
        return lvar - 0xE0  # binary number
    if lvar <= 0xFA:
        return lvar - 0xF0  # floating point
    raise FrameError(PROTOCOL, offset, f"LVAR 0x{lvar:02X} is reserved")


def _vif_entry(vif: int, vifes: list[int], custom: str, start: int) -> tuple[VifEntry, int | None]:
    """(unit entry, the first VIFE if it modifies a primary VIF)."""
    if vif in (0xFD, 0xFB):
        if not vifes:
            raise FrameError(PROTOCOL, start, f"VIF 0x{vif:02X} needs a VIFE")
        table = EXT_FD if vif == 0xFD else EXT_FB
        return table[vifes[0] & 0x7F], None
    if vif & 0x7F == 0x7C:
        return VifEntry(Decimal(1), "-", custom), vifes[0] if vifes else None
    code = vif & 0x7F
    if code not in PRIMARY:
        raise FrameError(PROTOCOL, start, f"VIF 0x{vif:02X} is not defined in EN 13757-3")
    return PRIMARY[code], vifes[0] if vifes else None


def _apply_vife(value: Decimal, vif: int, vife: int | None) -> Decimal:
    """Correction VIFEs on a primary VIF (EN 13757-3 table 15: 0x70–0x7D)."""
    if vife is None or not vif & 0x80:
        return value
    code = vife & 0x7F
    if 0x70 <= code <= 0x77:
        return value * Decimal(1).scaleb((code & 0x07) - 6)
    if 0x78 <= code <= 0x7B:
        return value + Decimal(1).scaleb((code & 0x03) - 3)
    if code == 0x7D:
        return value * 1000
    return value


def _is_datetime(vif: int, vifes: list[int]) -> bool:
    if vif & 0x7F == 0x6D:
        return True
    return vif == 0xFD and bool(vifes) and vifes[0] & 0x7F in (0x30, 0x70)


def _value(
    coding: int, data: bytes, vif: int, vifes: list[int], offset: int, entry: VifEntry
) -> Decimal | str:
    if coding == 0x00:
        return ""
    if coding == 0x0F:
        return data.hex(" ").upper()
    if coding == 0x0D:
        return data[::-1].decode("latin-1")
    if coding == 0x02 and vif & 0x7F == 0x6C:
        return _date_g(data)
    if coding in (0x04, 0x06) and _is_datetime(vif, vifes):
        return _date_time(data)
    if coding == 0x05:
        (real,) = struct.unpack("<f", data)
        if real != real or real in (float("inf"), float("-inf")):
            raise FrameError(PROTOCOL, offset, "32-bit real is NaN or infinite")
        return Decimal(repr(real)) if real != int(real) else Decimal(int(real))
    if coding in _BCD_CODINGS:
        return Decimal(bcd_lenient(data)[0])
    return Decimal(int.from_bytes(data, "little", signed=True))


def _year(two_digits: int) -> int:
    """Two-digit year of types F/G/I: 81–127 are 19xx (as libmbus reads them), else 20xx."""
    return 1900 + two_digits if two_digits > 80 else 2000 + two_digits


def _date_g(d: bytes) -> str:
    day, month = d[0] & 0x1F, d[1] & 0x0F
    year = _year(((d[0] & 0xE0) >> 5) | ((d[1] & 0xF0) >> 1))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _date_time(d: bytes) -> str:
    """Type F (4 bytes: min, hour, day, month/year) or I (6 bytes: sec first)."""
    if len(d) == 6:
        sec, d = d[0] & 0x3F, d[1:]
    else:
        sec = 0
    if d[0] & 0x80:  # IV bit: the meter marks its clock invalid
        return ""
    minute, hour, day, month = d[0] & 0x3F, d[1] & 0x1F, d[2] & 0x1F, d[3] & 0x0F
    year = _year(((d[2] & 0xE0) >> 5) | ((d[3] & 0xF0) >> 1))
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{sec:02d}Z"


def _decode_fixed(frame: bytes, end: int) -> MBusFrame:
    """CI 0x73: identification, access no., status, two unit bytes, two 4-byte counters."""
    if end - _DATA_START != 16:
        raise FrameError(PROTOCOL, end, f"fixed data is {end - _DATA_START} bytes, expected 16")
    d = frame[_DATA_START:end]
    ident = bcd_int(d[0:4], _DATA_START, signed=False)
    access, status, t1, t2 = d[4], d[5], d[6], d[7]
    medium_code = ((t1 & 0xC0) >> 6) | ((t2 & 0xC0) >> 4)
    function = "Stored value" if status & 0x40 else "Actual value"
    records = []
    for k, (unit_code, at) in enumerate(((t1, 8), (t2, 12))):
        raw = d[at : at + 4]
        offset = _DATA_START + at
        if status & 0x80:
            value = Decimal(int.from_bytes(raw, "little"))
        else:
            value = Decimal(bcd_int(raw, offset, signed=False))
        unit, quantity = FIXED_UNITS.get(unit_code & 0x3F, ("reserved", "Unknown"))
        records.append(DataRecord(offset, function, 0, None, None, unit, quantity, value, dif=k))
    return MBusFrame(
        address=frame[5],
        ci=_FIXED_CI,
        id=ident,
        manufacturer=None,
        version=None,
        medium=FIXED_MEDIA[medium_code],
        medium_code=None,
        access_number=access,
        status=status,
        signature=None,
        records=records,
    )
