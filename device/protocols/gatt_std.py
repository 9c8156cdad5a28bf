"""Standard GATT services other than heart rate: Battery (0x180F), Device Information
(0x180A) and Current Time (0x1805).

Owns their UUIDs and value formats. Sources: Bluetooth SIG GATT XML
(oesmith/gatt-xml ``org.bluetooth.characteristic.battery_level.xml``,
``org.bluetooth.service.device_information.xml``,
``org.bluetooth.characteristic.current_time.xml``, ``…exact_time_256.xml``,
``…day_date_time.xml``, ``…date_time.xml``) as summarised in research/ble.md §2.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from device.protocols.errors import DecodeError

__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "CURRENT_TIME_SERVICE_UUID",
    "CURRENT_TIME_UUID",
    "DEVICE_INFORMATION_SERVICE_UUID",
    "DIS_STRING_UUIDS",
    "decode_battery_level",
    "decode_current_time",
    "decode_dis_string",
    "encode_current_time",
]


def _sig_uuid(short: int) -> str:
    """128-bit lower-case form of a 16-bit SIG-assigned UUID."""
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


# --- Battery Service ----------------------------------------------------------------
BATTERY_SERVICE_UUID = _sig_uuid(0x180F)
BATTERY_LEVEL_UUID = _sig_uuid(0x2A19)  # uint8 percent 0-100; read mandatory, notify optional


def decode_battery_level(data: bytes) -> int:
    """Decode Battery Level (0x2A19): one uint8, percent 0-100. Anything else → DecodeError."""
    data = bytes(data)
    if len(data) != 1:
        raise DecodeError(f"battery level: expected 1 byte, got {len(data)}")
    level_pct = data[0]
    if level_pct > 100:
        raise DecodeError(f"battery level: {level_pct} % is above 100")
    return level_pct


# --- Device Information Service -----------------------------------------------------
DEVICE_INFORMATION_SERVICE_UUID = _sig_uuid(0x180A)

# The UTF-8 string characteristics of DIS (all optional, read only), by field name.
DIS_STRING_UUIDS: Mapping[str, str] = MappingProxyType(
    {
        "manufacturer": _sig_uuid(0x2A29),
        "model": _sig_uuid(0x2A24),
        "serial": _sig_uuid(0x2A25),
        "hardware": _sig_uuid(0x2A27),
        "firmware": _sig_uuid(0x2A26),
        "software": _sig_uuid(0x2A28),
    }
)


def decode_dis_string(data: bytes) -> str:
    """Decode a DIS string characteristic: UTF-8, trailing NULs removed.

    Some firmwares send C strings with their terminator or a fixed-size NUL-padded
    buffer; the padding is not part of the value. Invalid UTF-8 → DecodeError.
    """
    try:
        return bytes(data).rstrip(b"\x00").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"device information string: invalid UTF-8 ({exc.reason}) in {bytes(data).hex()}") from None


# --- Current Time Service -----------------------------------------------------------
CURRENT_TIME_SERVICE_UUID = _sig_uuid(0x1805)
CURRENT_TIME_UUID = _sig_uuid(0x2A2B)  # read + notify mandatory, write optional

# Current Time (0x2A2B), 10 bytes, little-endian:
#   0-1  year     uint16, 1582-9999 (0 = unknown)
#   2    month    uint8, 1-12 (0 = unknown)
#   3    day      uint8, 1-31 (0 = unknown)
#   4    hours    uint8, 0-23
#   5    minutes  uint8, 0-59
#   6    seconds  uint8, 0-59
#   7    day of week  uint8, 1 = Monday … 7 = Sunday (0 = unknown)
#   8    fractions256 uint8, 1/256 s
#   9    adjust reason bit field: bit0 manual update, bit1 external reference,
#        bit2 time-zone change, bit3 DST change; bits 4-7 reserved
_CURRENT_TIME = struct.Struct("<HBBBBBBBB")
_YEAR_MIN, _YEAR_MAX = 1582, 9999


def encode_current_time(dt: datetime, adjust_reason: int = 0) -> bytes:
    """Encode Current Time (0x2A2B) from an aware datetime.

    The fields carry ``dt``'s own local wall clock (the characteristic has no zone;
    that is Local Time Information's job), so pass the datetime already in the zone
    the device should display. Sub-second precision is kept in 1/256 s, truncated.
    Raises ValueError for a naive datetime, a year outside 1582-9999 or an adjust
    reason using reserved bits.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("encode_current_time needs an aware datetime (its wall clock is sent)")
    if not _YEAR_MIN <= dt.year <= _YEAR_MAX:
        raise ValueError(f"year {dt.year} outside {_YEAR_MIN}..{_YEAR_MAX}")
    if not 0 <= adjust_reason <= 0x0F:
        raise ValueError(f"adjust_reason {adjust_reason:#x} uses reserved bits (allowed 0x00..0x0f)")
    fractions256 = dt.microsecond * 256 // 1_000_000
    return _CURRENT_TIME.pack(
        dt.year,
        dt.month,
        dt.day,
        dt.hour,
        dt.minute,
        dt.second,
        dt.isoweekday(),
        fractions256,
        adjust_reason,
    )


def decode_current_time(data: bytes) -> datetime:
    """Decode Current Time (0x2A2B) into a naive local wall-clock datetime.

    Fractions256 become microseconds (truncated to whole microseconds). The adjust
    reason is not returned. Raises DecodeError for a length other than 10, an unknown
    (0) or out-of-range year/month/day, an impossible date (31 April), hours > 23,
    minutes or seconds > 59, or a day of week > 7. A day of week that is set but
    disagrees with the date is tolerated (the date is authoritative).
    """
    data = bytes(data)
    if len(data) != _CURRENT_TIME.size:
        raise DecodeError(f"current time: expected {_CURRENT_TIME.size} bytes, got {len(data)}")
    year, month, day, hours, minutes, seconds, day_of_week, fractions256, _adjust = _CURRENT_TIME.unpack(data)
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        raise DecodeError(f"current time: year {year} unknown or outside {_YEAR_MIN}..{_YEAR_MAX}")
    if day_of_week > 7:
        raise DecodeError(f"current time: day of week {day_of_week} outside 0..7")
    try:
        return datetime(year, month, day, hours, minutes, seconds, fractions256 * 1_000_000 // 256)
    except ValueError as exc:  # month/day/hour/minute/second out of range, or 0 = unknown
        raise DecodeError(f"current time: {exc} in {data.hex()}") from None
