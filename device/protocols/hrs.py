"""Heart Rate Service (HRS, 0x180D): UUIDs, the Heart Rate Measurement and Body Sensor
Location formats.

Owns the byte layout of Heart Rate Measurement (0x2A37) in both directions: the
collector decodes notifications from chest straps and watches, the emulator and the
benchmarks encode them. Sources: Bluetooth SIG GATT XML
(oesmith/gatt-xml ``org.bluetooth.characteristic.heart_rate_measurement.xml``,
``…body_sensor_location.xml``, ``…heart_rate_control_point.xml``) as summarised in
research/ble.md §1; vectors in vectors/hrs/heart_rate_measurement.json.

RR intervals are kept in the unit they travel in, 1/1024 s ("ticks"), so that
decode → encode is lossless; :attr:`HeartRateMeasurement.rr_ms` converts exactly
(1000/1024 is a dyadic fraction, so the float result is exact).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from device.protocols.errors import DecodeError

__all__ = [
    "BODY_SENSOR_LOCATION_UUID",
    "HEART_RATE_CONTROL_POINT_UUID",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "RESET_ENERGY_EXPENDED",
    "BodySensorLocation",
    "HeartRateMeasurement",
    "decode_body_sensor_location",
    "decode_heart_rate_measurement",
    "encode_heart_rate_measurement",
]

HEART_RATE_SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
HEART_RATE_MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"  # notify only; reads are excluded
BODY_SENSOR_LOCATION_UUID = "00002a38-0000-1000-8000-00805f9b34fb"  # read, uint8 enum
HEART_RATE_CONTROL_POINT_UUID = "00002a39-0000-1000-8000-00805f9b34fb"  # write, uint8 command

# Heart Rate Control Point (0x2A39) command: reset the accumulated Energy Expended to 0.
# Any other value is answered with ATT error 0x80 ("Control Point value not supported").
RESET_ENERGY_EXPENDED = 0x01

# Heart Rate Measurement flags byte (byte 0). Multi-byte fields are little-endian.
#   bit 0    HR value format: 0 → uint8 bpm, 1 → uint16 bpm
#   bit 1    sensor contact detected (meaningful only when bit 2 is set)
#   bit 2    sensor contact feature supported
#   bit 3    Energy Expended present: uint16, kilojoules, saturates at 0xFFFF
#   bit 4    RR-Interval present: one or more uint16, 1/1024 s, oldest first
#   bits 5-7 reserved for future use; ignored on decode (as the SIG text requires), 0 on encode
# After the flags: HR (1 or 2 bytes) → Energy Expended (2) → RR intervals (2 each) to the end.
_FLAG_HR_UINT16 = 0x01
_FLAG_CONTACT_DETECTED = 0x02
_FLAG_CONTACT_SUPPORTED = 0x04
_FLAG_ENERGY_EXPENDED = 0x08
_FLAG_RR = 0x10

_UINT8_MAX = 0xFF
_UINT16_MAX = 0xFFFF


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification.

    ``sensor_contact`` is None when the sensor does not report contact in this
    connection, else whether skin contact is detected. ``energy_expended_kj`` is the
    accumulated energy (kJ) when present. ``rr_ticks_1024`` are the RR intervals in
    1/1024 s, oldest first (possibly several per notification, possibly none).
    """

    bpm: int
    sensor_contact: bool | None
    energy_expended_kj: int | None
    rr_ticks_1024: tuple[int, ...]

    @property
    def rr_ms(self) -> tuple[float, ...]:
        """RR intervals in milliseconds (ticks * 1000 / 1024, exact in binary floating point)."""
        return tuple(ticks * 1000 / 1024 for ticks in self.rr_ticks_1024)


def decode_heart_rate_measurement(data: bytes) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement (0x2A37) value.

    Raises DecodeError for: empty input; a value shorter than its flags announce; the
    RR flag set with no RR bytes (Nordic's vector N5 ``17 01 01``); an odd number of
    RR bytes; bytes left over when the RR flag is clear.
    """
    data = bytes(data)
    if not data:
        raise DecodeError("heart rate measurement: empty value")
    flags = data[0]
    offset = 1

    if flags & _FLAG_HR_UINT16:
        if len(data) < offset + 2:
            raise DecodeError(f"heart rate measurement: uint16 bpm truncated in {data.hex()}")
        (bpm,) = struct.unpack_from("<H", data, offset)
        offset += 2
    else:
        if len(data) < offset + 1:
            raise DecodeError(f"heart rate measurement: uint8 bpm missing in {data.hex()}")
        bpm = data[offset]
        offset += 1

    sensor_contact: bool | None = None
    if flags & _FLAG_CONTACT_SUPPORTED:
        sensor_contact = bool(flags & _FLAG_CONTACT_DETECTED)

    energy_expended_kj: int | None = None
    if flags & _FLAG_ENERGY_EXPENDED:
        if len(data) < offset + 2:
            raise DecodeError(f"heart rate measurement: energy expended truncated in {data.hex()}")
        (energy_expended_kj,) = struct.unpack_from("<H", data, offset)
        offset += 2

    rest = data[offset:]
    if flags & _FLAG_RR:
        if not rest:
            raise DecodeError(f"heart rate measurement: RR flag set but no RR bytes in {data.hex()}")
        if len(rest) % 2:
            raise DecodeError(f"heart rate measurement: odd number of RR bytes in {data.hex()}")
        rr_ticks_1024 = struct.unpack(f"<{len(rest) // 2}H", rest)
    else:
        if rest:
            raise DecodeError(f"heart rate measurement: {len(rest)} unexpected trailing bytes in {data.hex()}")
        rr_ticks_1024 = ()

    return HeartRateMeasurement(
        bpm=bpm,
        sensor_contact=sensor_contact,
        energy_expended_kj=energy_expended_kj,
        rr_ticks_1024=tuple(rr_ticks_1024),
    )


def encode_heart_rate_measurement(m: HeartRateMeasurement) -> bytes:
    """Encode a Heart Rate Measurement value (the inverse of the decoder).

    Uses a uint8 heart rate when ``bpm`` ≤ 255 and uint16 above, as bumble's encoder
    does. The caller keeps the value within the ATT payload (20 bytes at the default
    MTU: at most 9 RR with uint8 HR and no energy). Raises ValueError for fields
    outside their wire ranges.
    """
    if not 0 <= m.bpm <= _UINT16_MAX:
        raise ValueError(f"bpm {m.bpm} outside 0..65535")
    flags = 0
    body = bytearray()
    if m.bpm > _UINT8_MAX:
        flags |= _FLAG_HR_UINT16
        body += struct.pack("<H", m.bpm)
    else:
        body.append(m.bpm)
    if m.sensor_contact is not None:
        flags |= _FLAG_CONTACT_SUPPORTED
        if m.sensor_contact:
            flags |= _FLAG_CONTACT_DETECTED
    if m.energy_expended_kj is not None:
        if not 0 <= m.energy_expended_kj <= _UINT16_MAX:
            raise ValueError(f"energy_expended_kj {m.energy_expended_kj} outside 0..65535")
        flags |= _FLAG_ENERGY_EXPENDED
        body += struct.pack("<H", m.energy_expended_kj)
    if m.rr_ticks_1024:
        for ticks in m.rr_ticks_1024:
            if not 0 <= ticks <= _UINT16_MAX:
                raise ValueError(f"RR {ticks} ticks outside 0..65535")
        flags |= _FLAG_RR
        body += struct.pack(f"<{len(m.rr_ticks_1024)}H", *m.rr_ticks_1024)
    return bytes([flags]) + bytes(body)


class BodySensorLocation(IntEnum):
    """Body Sensor Location (0x2A38), uint8. Values 7-255 are reserved by the SIG."""

    OTHER = 0
    CHEST = 1
    WRIST = 2
    FINGER = 3
    HAND = 4
    EAR_LOBE = 5
    FOOT = 6


def decode_body_sensor_location(data: bytes) -> BodySensorLocation:
    """Decode a Body Sensor Location (0x2A38) value: exactly one byte.

    A reserved value (7-255) raises DecodeError rather than being mapped to OTHER:
    a device sending one is either newer than the specification we know or broken,
    and the caller (which treats the location as optional metadata) should log it
    and go on without a location instead of storing a guess.
    """
    data = bytes(data)
    if len(data) != 1:
        raise DecodeError(f"body sensor location: expected 1 byte, got {len(data)}")
    try:
        return BodySensorLocation(data[0])
    except ValueError:
        raise DecodeError(f"body sensor location: reserved value {data[0]}") from None
