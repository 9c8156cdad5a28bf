"""Battery, Device Information and Current Time encoders/decoders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.protocols import DecodeError
from device.protocols.gatt_std import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    CURRENT_TIME_SERVICE_UUID,
    CURRENT_TIME_UUID,
    DEVICE_INFORMATION_SERVICE_UUID,
    DIS_STRING_UUIDS,
    decode_battery_level,
    decode_current_time,
    decode_dis_string,
    encode_current_time,
)


def test_uuids() -> None:
    assert BATTERY_SERVICE_UUID == "0000180f-0000-1000-8000-00805f9b34fb"
    assert BATTERY_LEVEL_UUID == "00002a19-0000-1000-8000-00805f9b34fb"
    assert DEVICE_INFORMATION_SERVICE_UUID == "0000180a-0000-1000-8000-00805f9b34fb"
    assert CURRENT_TIME_SERVICE_UUID == "00001805-0000-1000-8000-00805f9b34fb"
    assert CURRENT_TIME_UUID == "00002a2b-0000-1000-8000-00805f9b34fb"
    assert dict(DIS_STRING_UUIDS) == {
        "manufacturer": "00002a29-0000-1000-8000-00805f9b34fb",
        "model": "00002a24-0000-1000-8000-00805f9b34fb",
        "serial": "00002a25-0000-1000-8000-00805f9b34fb",
        "hardware": "00002a27-0000-1000-8000-00805f9b34fb",
        "firmware": "00002a26-0000-1000-8000-00805f9b34fb",
        "software": "00002a28-0000-1000-8000-00805f9b34fb",
    }


# --- Battery ------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, 64, 100])
def test_battery_level_in_range(level: int) -> None:
    assert decode_battery_level(bytes([level])) == level


@pytest.mark.parametrize("data", [b"", b"\x65", b"\xff", b"\x40\x00"])
def test_battery_level_rejects_bad_bytes(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_battery_level(data)


@given(st.binary(max_size=3))
def test_battery_level_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        level = decode_battery_level(data)
    except DecodeError:
        return
    assert 0 <= level <= 100


# --- Device Information -------------------------------------------------------------


def test_dis_string_strips_trailing_nuls_only() -> None:
    assert decode_dis_string(b"1.6.0") == "1.6.0"
    assert decode_dis_string(b"InfiniTime\x00\x00\x00") == "InfiniTime"
    assert decode_dis_string(b"") == ""
    assert decode_dis_string("Zürich ♥".encode()) == "Zürich ♥"
    assert decode_dis_string(b"a\x00b\x00") == "a\x00b"


@pytest.mark.parametrize("data", [b"\xff", b"abc\xc3", b"\xed\xa0\x80"])
def test_dis_string_rejects_invalid_utf8(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_dis_string(data)


@given(st.binary(max_size=40))
def test_dis_string_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        text = decode_dis_string(data)
    except DecodeError:
        return
    assert text.encode() == data.rstrip(b"\x00")


@given(st.text(max_size=20).filter(lambda s: not s.endswith("\x00")), st.integers(0, 4))
def test_dis_string_round_trip(text: str, padding: int) -> None:
    assert decode_dis_string(text.encode() + bytes(padding)) == text


# --- Current Time -------------------------------------------------------------------


def test_current_time_layout_matches_gadgetbridge_vector() -> None:
    # Gadgetbridge HuamiSupportTest: E6 07 0C 0F 14 26 35 04 00 ... = 2022-12-15 20:38:53,
    # Thursday, in Europe/Paris (the first 9 bytes are the standard Exact Time 256).
    dt = datetime(2022, 12, 15, 20, 38, 53, tzinfo=ZoneInfo("Europe/Paris"))
    data = encode_current_time(dt)
    assert data == bytes.fromhex("e6070c0f142635040000")
    assert decode_current_time(data) == datetime(2022, 12, 15, 20, 38, 53)


def test_current_time_sends_the_wall_clock_of_its_zone() -> None:
    instant = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    paris = encode_current_time(instant.astimezone(ZoneInfo("Europe/Paris")))  # 01:30 CET
    new_york = encode_current_time(instant.astimezone(ZoneInfo("America/New_York")))  # 20:30 EDT, 30 March
    assert decode_current_time(paris) == datetime(2024, 3, 31, 1, 30)
    assert decode_current_time(new_york) == datetime(2024, 3, 30, 20, 30)
    assert paris[7] == 7 and new_york[7] == 6  # Sunday, Saturday


def test_current_time_fractions_and_adjust_reason() -> None:
    dt = datetime(2024, 1, 1, 12, 0, 0, 500_000, tzinfo=UTC)
    data = encode_current_time(dt, adjust_reason=0b0101)
    assert data[8] == 128 and data[9] == 0b0101
    assert decode_current_time(data) == datetime(2024, 1, 1, 12, 0, 0, 500_000)


def test_current_time_encoder_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        encode_current_time(datetime(2024, 1, 1))  # naive
    with pytest.raises(ValueError):
        encode_current_time(datetime(2024, 1, 1, tzinfo=UTC), adjust_reason=0x10)
    with pytest.raises(ValueError):
        encode_current_time(datetime(1500, 1, 1, tzinfo=UTC))


def _cts(year: int = 2024, month: int = 1, day: int = 1, h: int = 0, mi: int = 0, s: int = 0, dow: int = 1) -> bytes:
    return year.to_bytes(2, "little") + bytes([month, day, h, mi, s, dow, 0, 0])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        _cts()[:9],
        _cts() + b"\x00",
        _cts(year=0),  # unknown year
        _cts(year=1581),
        _cts(month=0),  # unknown month
        _cts(month=13),
        _cts(day=0),
        _cts(month=4, day=31),
        _cts(year=2023, month=2, day=29),
        _cts(h=24),
        _cts(mi=60),
        _cts(s=60),
        _cts(dow=8),
    ],
)
def test_current_time_rejects_bad_values(data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_current_time(data)


def test_current_time_accepts_unknown_day_of_week() -> None:
    assert decode_current_time(_cts(2024, 2, 29, 23, 59, 59, dow=0)) == datetime(2024, 2, 29, 23, 59, 59)


def _minutes(m: int) -> timedelta:
    return timedelta(minutes=m)


@given(
    st.datetimes(
        min_value=datetime(1582, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.timezones() | st.builds(timezone, st.integers(-14 * 60, 14 * 60).map(_minutes)),
    ),
    st.integers(0, 0x0F),
)
def test_current_time_round_trip(dt: datetime, adjust_reason: int) -> None:
    data = encode_current_time(dt, adjust_reason)
    assert len(data) == 10
    assert data[7] == dt.isoweekday()
    assert data[9] == adjust_reason
    microsecond = (dt.microsecond * 256 // 1_000_000) * 1_000_000 // 256  # 1/256 s resolution
    assert decode_current_time(data) == dt.replace(tzinfo=None, microsecond=microsecond)


@given(st.binary(max_size=12) | st.binary(min_size=10, max_size=10))
def test_current_time_random_bytes_only_raise_decode_error(data: bytes) -> None:
    try:
        dt = decode_current_time(data)
    except DecodeError:
        return
    assert dt.tzinfo is None and len(data) == 10
