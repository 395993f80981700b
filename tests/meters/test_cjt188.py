"""CJ/T 188 heat-meter frames: builder → decoder round trip, checksum and BCD checks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.meters import cjt188
from nuanliu.meters.cjt188 import HeatMeterData, Quantity
from nuanliu.meters.errors import FrameError
from nuanliu.meters.reading import decode_frame

ADDRESS = "00000012345678"


def _data(**kw) -> HeatMeterData:
    base = dict(
        settlement_heat=Quantity(Decimal("1234.56"), "kWh"),
        current_heat=Quantity(Decimal("2345.67"), "kWh"),
        heat_power=Quantity(Decimal("3.50"), "kW"),
        flow=Quantity(Decimal("0.1234"), "m³/h"),
        volume=Quantity(Decimal("456.78"), "m³"),
        supply_temp_c=Decimal("55.12"),
        return_temp_c=Decimal("40.05"),
        working_hours=1234,
        meter_clock=datetime(2026, 12, 1, 8, 30, 15),
        status=0,
    )
    base.update(kw)
    return HeatMeterData(**base)


def test_hand_built_frame_layout() -> None:
    frame = cjt188.build_answer(ADDRESS, _data())
    assert frame[:2] == b"\x68\x20"
    assert frame[2:9] == bytes.fromhex("78563412000000")  # address, lowest byte first
    assert frame[9:11] == b"\x81\x2e"  # answer, 46 data bytes
    assert frame[11:14] == b"\x1f\x90\x00"  # DI 901F low byte first, SER 0
    assert frame[14:19] == bytes.fromhex("5634120005")  # 1234.56 kWh → BCD 00123456, unit 05
    assert frame[-2] == sum(frame[:-2]) & 0xFF and frame[-1] == 0x16


def test_decoded_reading_record() -> None:
    r = decode_frame(cjt188.build_answer(ADDRESS, _data()))
    assert r.protocol == "cjt188" and r.meter_address == ADDRESS
    assert r.energy_gj == Decimal("2345.67") * Decimal("0.0036")
    assert r.power_kw == Decimal("3.50")
    assert r.volume_m3 == Decimal("456.78")
    assert (r.supply_temp_c, r.return_temp_c) == (Decimal("55.12"), Decimal("40.05"))
    assert r.operating_hours == 1234
    assert r.meter_clock == datetime(2026, 12, 1, 8, 30, 15)


def test_gj_unit_and_2018_cooling_field() -> None:
    d = _data(
        current_heat=Quantity(Decimal("12.34"), "GJ"),
        cooling_energy=Quantity(Decimal("1.00"), "GJ"),
    )
    f = cjt188.decode(cjt188.build_answer(ADDRESS, d, meter_type=0x22))
    assert f.data == d
    assert decode_frame(cjt188.build_answer(ADDRESS, d, meter_type=0x22)).energy_gj == Decimal(
        "12.34"
    )


def test_status_bits_become_error_flags() -> None:
    r = decode_frame(cjt188.build_answer(ADDRESS, _data(status=0x0407)))
    assert r.error_flags == ("valve fault", "battery low", "meter fault bits 0x04")


def test_read_request_has_wakeup_and_decodes() -> None:
    req = cjt188.build_read_request(ADDRESS)
    assert req[:3] == b"\xfe\xfe\xfe"
    f = cjt188.decode(req)
    assert (f.control, f.di, f.data) == (0x01, 0x901F, None)


_money = st.decimals(min_value=0, max_value=Decimal("999999.99"), places=2)


@settings(max_examples=200, deadline=None)
@given(
    heat=_money,
    power=st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("99999.99"), places=2),
    flow=st.decimals(min_value=0, max_value=Decimal("9999.9999"), places=4),
    supply=st.decimals(min_value=Decimal("-999.99"), max_value=Decimal("9999.99"), places=2),
    hours=st.integers(0, 999999),
    meter_type=st.integers(0x20, 0x29),
    address=st.text("0123456789", min_size=14, max_size=14),
    unit=st.sampled_from(["kWh", "MWh", "GJ", "MJ"]),
    clock=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    status=st.integers(0, 0xFFFF),
)
def test_encode_decode_round_trip(
    heat, power, flow, supply, hours, meter_type, address, unit, clock, status
):
    d = _data(
        current_heat=Quantity(heat, unit),
        heat_power=Quantity(power, "kW"),
        flow=Quantity(flow, "m³/h"),
        supply_temp_c=supply,
        working_hours=hours,
        meter_clock=clock.replace(microsecond=0),
        status=status,
    )
    f = cjt188.decode(cjt188.build_answer(address, d, meter_type=meter_type))
    assert (f.meter_type, f.address, f.data) == (meter_type, address, d)


def test_checksum_is_checked() -> None:
    frame = bytearray(cjt188.build_answer(ADDRESS, _data()))
    frame[-2] ^= 0xFF
    with pytest.raises(FrameError, match=f"byte {len(frame) - 2}: checksum"):
        cjt188.decode(bytes(frame))


def test_bcd_is_checked_with_byte_offset() -> None:
    frame = bytearray(cjt188.build_answer(ADDRESS, _data()))
    frame[19] = 0x5A  # first byte of the current heat
    frame[-2] = sum(frame[:-2]) & 0xFF
    with pytest.raises(FrameError, match="byte 19: 0x5A is not a BCD byte"):
        cjt188.decode(bytes(frame))


def test_unknown_unit_and_meter_type() -> None:
    frame = bytearray(cjt188.build_answer(ADDRESS, _data()))
    frame[23] = 0x99  # unit code of the current heat
    frame[-2] = sum(frame[:-2]) & 0xFF
    with pytest.raises(FrameError, match="byte 23: unit code 0x99"):
        cjt188.decode(bytes(frame))
    water = bytearray(cjt188.build_answer(ADDRESS, _data()))
    water[1] = 0x10
    with pytest.raises(FrameError, match="byte 1: meter type 0x10 is not a heat meter"):
        cjt188.decode(bytes(water))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_truncated_or_flipped_frames_fail_clearly(data: st.DataObject) -> None:
    frame = bytearray(cjt188.build_answer(ADDRESS, _data()))
    if data.draw(st.booleans(), label="truncate"):
        cut = data.draw(st.integers(0, len(frame) - 1))
        broken = bytes(frame[:cut])
    else:
        pos = data.draw(st.integers(0, len(frame) - 1))
        frame[pos] ^= 1 << data.draw(st.integers(0, 7))
        broken = bytes(frame)
    with pytest.raises(FrameError) as info:
        cjt188.decode(broken)
    assert 0 <= info.value.offset <= len(broken)


def test_builder_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(FrameError, match="more than 2 decimals"):
        cjt188.build_answer(ADDRESS, _data(supply_temp_c=Decimal("55.123")))
    with pytest.raises(FrameError, match="does not fit"):
        cjt188.build_answer(ADDRESS, _data(working_hours=10**6))
