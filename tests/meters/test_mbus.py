"""Every shared M-Bus frame decodes exactly as libmbus's .norm.xml; bad copies fail clearly."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nuanliu.meters import mbus
from nuanliu.meters.errors import FrameError
from nuanliu.meters.reading import decode_frame

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "meters" / "mbus"
if not DATA.is_dir():  # worktrees live beside /work/shared
    DATA = Path("/work/shared/data/meters/mbus")
FRAMES = sorted(DATA.glob("*.hex"))
pytestmark = pytest.mark.skipif(not FRAMES, reason="shared M-Bus test vectors not present")


def _frame(path: Path) -> bytes:
    return mbus.parse_hex(path.read_text())


def _norm(path: Path) -> tuple[dict[str, str], list[dict[str, str]]]:
    text = path.with_suffix(".norm.xml").read_text(encoding="latin-1")
    text = text.encode("latin-1").decode("utf-8")  # the files hold UTF-8 bytes (°C)
    fields = re.compile(r"<(\w+)>(.*?)</\1>", re.S)
    slave = re.search(r"<SlaveInformation>(.*?)</SlaveInformation>", text, re.S)
    header = {k: html.unescape(v) for k, v in fields.findall(slave.group(1))} if slave else {}
    records = [
        {k: html.unescape(v) for k, v in fields.findall(body)}
        for body in re.findall(r"<DataRecord id=\"\d+\">(.*?)</DataRecord>", text, re.S)
    ]
    return header, records


def _as_norm(frame: mbus.MBusFrame, r: mbus.DataRecord, keys: set[str]) -> dict[str, str]:
    got = {"Function": r.function, "Unit": r.unit, "Quantity": r.quantity}
    if isinstance(r.value, Decimal):
        got["Value"] = f"{r.value:f}" if frame.ci == 0x73 else f"{r.value:.6f}"
    else:
        got["Value"] = r.value
    got["StorageNumber"] = str(r.storage_number)
    if r.tariff is not None:
        got["Tariff"], got["Device"] = str(r.tariff), str(r.device)
    return {k: v for k, v in got.items() if k in keys or k in ("Tariff", "Device")}


@pytest.mark.parametrize("path", FRAMES, ids=lambda p: p.stem)
def test_frame_decodes_exactly_as_norm_xml(path: Path) -> None:
    frame = mbus.decode(_frame(path))
    header, expected = _norm(path)
    assert f"{frame.id}" == header["Id"]
    assert frame.medium == header["Medium"]
    assert frame.access_number == int(header["AccessNumber"])
    assert f"{frame.status:02X}" == header["Status"]
    if "Manufacturer" in header:
        assert frame.manufacturer == header["Manufacturer"]
        assert frame.version == int(header["Version"])
    assert len(frame.records) == len(expected)
    for k, (want, rec) in enumerate(zip(expected, frame.records, strict=True)):
        assert _as_norm(frame, rec, set(want)) == want, f"record {k} at byte {rec.offset}"


def test_reading_record_of_a_heat_meter() -> None:
    """Engelmann SensoStar 2C: 2.88 GJ (800 kWh), 12.9 m³, 95/43 °C, clock 2012-06-06 20:50."""
    r = decode_frame(_frame(DATA / "engelmann_sensostar2c.hex"))
    assert r.energy_gj == Decimal("2.88")
    assert r.volume_m3 == Decimal("12.9")
    assert (r.supply_temp_c, r.return_temp_c) == (Decimal(95), Decimal(43))
    assert r.meter_clock is not None and r.meter_clock.isoformat() == "2012-06-06T20:50:00"
    assert r.error_flags == ()


def test_error_bcd_value_is_kept_but_never_used() -> None:
    """Elster F96: the 'value during error state' holds hex digits; it is marked invalid."""
    frame = mbus.decode(_frame(DATA / "ELS_Elster-F96-Plus.hex"))
    bad = [r for r in frame.records if not r.valid]
    assert bad and all(r.function == "Value during error state" for r in bad)


def test_fixed_frame_counters() -> None:
    r = decode_frame(_frame(DATA / "sen_pollusonic_2.hex"))
    assert r.energy_gj == Decimal("6531") * Decimal("0.0036")  # 6531 kWh
    assert r.volume_m3 == Decimal("0.069")  # 69 l


@pytest.mark.parametrize("path", FRAMES[:6], ids=lambda p: p.stem)
def test_each_truncation_is_a_frame_error_at_the_end(path: Path) -> None:
    data = _frame(path)
    for cut in range(len(data)):
        with pytest.raises(FrameError) as info:
            mbus.decode(data[:cut])
        assert 0 <= info.value.offset <= cut


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_bit_flip_gives_a_clear_error(path: Path, data: st.DataObject) -> None:
    frame = bytearray(_frame(path))
    pos = data.draw(st.integers(0, len(frame) - 1), label="byte")
    bit = data.draw(st.integers(0, 7), label="bit")
    frame[pos] ^= 1 << bit
    with pytest.raises(FrameError) as info:
        mbus.decode(bytes(frame))
    assert 0 <= info.value.offset <= len(frame)
    assert "byte" in info.value.message


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FRAMES), st.data())
def test_corrupted_payload_with_fixed_checksum_never_crashes(
    path: Path, data: st.DataObject
) -> None:
    """Garbage inside a frame whose checksum is recomputed: decode or FrameError, nothing else."""
    frame = bytearray(_frame(path))
    start, end = 7, len(frame) - 2
    pos = data.draw(st.integers(start, end - 1))
    frame[pos] = data.draw(st.integers(0, 255))
    frame[-2] = sum(frame[4:-2]) & 0xFF
    try:
        decoded = mbus.decode(bytes(frame))
    except FrameError as exc:
        assert start <= exc.offset <= len(frame)
    else:
        assert decoded.records is not None


def test_unknown_ci_names_the_byte() -> None:
    data = bytearray(_frame(DATA / "engelmann_sensostar2c.hex"))
    data[6] = 0x51
    data[-2] = sum(data[4:-2]) & 0xFF
    with pytest.raises(FrameError, match="byte 6: CI field 0x51"):
        mbus.decode(bytes(data))
