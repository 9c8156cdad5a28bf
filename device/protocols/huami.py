"""Huami "classic" bands (Mi Band 4/5/6, Amazfit Band 5, Bip S/U): UUIDs, authentication, time, battery,
the per-minute activity fetch, and how sleep and heart rate are read from the samples. Pure: no bleak.

Facts from research/ble.md §4 (Gadgetbridge a0948ee: HuamiService, InitOperation, MiBand4Support,
AbstractFetchOperation, FetchActivityOperation, MiBand2SampleProvider, HeartRateUtils, HuamiBatteryInfo).
No real capture exists; the vectors in tests/device/test_protocols_huami.py are derived from that text.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from device.protocols.errors import DecodeError
from tracker import devices
from tracker.errors import UserError


def _vendor_uuid(short: int) -> str:
    return f"0000{short:04x}-0000-3512-2118-0009af100700"


def _sig_uuid(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


SERVICE_UUID = _sig_uuid(0xFEE0)  # main Mi Band service
AUTH_SERVICE_UUID = _sig_uuid(0xFEE1)  # hosts the auth characteristic
FETCH_UUID = _vendor_uuid(0x0004)  # fetch control: write commands, notify responses
ACTIVITY_DATA_UUID = _vendor_uuid(0x0005)  # activity data: notify
BATTERY_UUID = _vendor_uuid(0x0006)  # battery info: read
AUTH_UUID = _vendor_uuid(0x0009)  # auth: write + notify
CURRENT_TIME_UUID = _sig_uuid(0x2A2B)  # written by the phone, in the band's local time

NAME_PREFIXES = ("MI BAND", "MI SMART BAND", "AMAZFIT BAND", "AMAZFIT BIP", "BIP S", "BIP U")

# Models that send 8-byte samples (Gadgetbridge sets mActivitySampleSize = 8 for them); others send 4.
EIGHT_BYTE_SAMPLE_NAMES = ("MI BAND 5", "MI SMART BAND 5", "MI BAND 6", "MI SMART BAND 6", "AMAZFIT BAND 5", "BIP U")


def sample_size(name: str | None) -> int:
    """Bytes per activity sample for a band with this advertised name."""
    upper = (name or "").upper()
    return 8 if upper.startswith(EIGHT_BYTE_SAMPLE_NAMES) else 4


RESPONSE = 0x10
STATUS_OK = 0x01
AUTH_STATUS_FAILED = 0x04

# Mi Band 4 and later: cryptFlags 0x80, authFlags 0x00 (MiBand4Support / MiBand3Support). The key can only
# be the one the vendor app registered: there is no key-sending step for these models.
CRYPT_FLAGS = 0x80
AUTH_FLAGS = 0x00
KEY_BYTES = 16

FETCH_START = 0x01
FETCH_DATA = 0x02
FETCH_ACK = 0x03
DATA_TYPE_ACTIVITY = 0x01

# Heart Rate Control Point (0x2A39) vendor commands (research/ble.md §4.8).
HR_CONTINUOUS_ON = bytes([0x15, 0x01, 0x01])
HR_CONTINUOUS_OFF = bytes([0x15, 0x01, 0x00])
HR_MANUAL_OFF = bytes([0x15, 0x02, 0x00])
HR_SLEEP_ON = bytes([0x15, 0x00, 0x01])
HR_KEEP_ALIVE = bytes([0x16])


def hr_interval_command(minutes: int) -> bytes:
    """Measure heart rate every `minutes` (0 = off)."""
    if not 0 <= minutes <= 0xFF:
        raise ValueError("heart-rate interval must be 0-255 minutes")
    return bytes([0x14, minutes])


# -- auth key ---------------------------------------------------------------------------------------


def parse_auth_key(text: str) -> bytes:
    """The 16-byte key from 32 hex digits (optionally `0x`-prefixed); ValueError naming the key otherwise."""
    try:
        key = devices.parse_auth_key(text)
    except UserError as exc:
        raise ValueError(str(exc)) from None
    if key is None:
        raise ValueError("the auth key must be 32 hexadecimal digits (got none)")
    return key


def encrypt_random(key: bytes, random: bytes) -> bytes:
    """AES-128-ECB, no padding, of the band's 16 random bytes with the auth key."""
    if len(key) != KEY_BYTES or len(random) != KEY_BYTES:
        raise ValueError("key and random must be 16 bytes")
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the band's protocol
    return encryptor.update(random) + encryptor.finalize()


def random_request(crypt_flags: int = CRYPT_FLAGS, auth_flags: int = AUTH_FLAGS) -> bytes:
    """Ask the band for a challenge: `82 00 02 01 00` on Mi Band 4-6, `02 08` without crypt flags."""
    tail = b"\x02\x01\x00" if crypt_flags else b""
    return bytes([0x02 | crypt_flags, auth_flags]) + tail


def key_response(key: bytes, random: bytes, crypt_flags: int = CRYPT_FLAGS, auth_flags: int = AUTH_FLAGS) -> bytes:
    return bytes([0x03 | crypt_flags, auth_flags]) + encrypt_random(key, random)


@dataclass(frozen=True, slots=True)
class AuthReply:
    step: int  # 2 = challenge, 3 = result (low nibble of byte 1, as Gadgetbridge checks it)
    status: int
    random: bytes = b""


def decode_auth_reply(data: bytes) -> AuthReply:
    if len(data) < 3 or data[0] != RESPONSE:
        raise DecodeError(f"huami auth: not a response: {data.hex()}")
    step, status = data[1] & 0x0F, data[2]
    if step == 0x02 and status == STATUS_OK:
        if len(data) < 19:
            raise DecodeError(f"huami auth: challenge of {len(data)} bytes, need 19")
        return AuthReply(step, status, bytes(data[3:19]))
    return AuthReply(step, status)


def decode_auth_request(data: bytes) -> tuple[int, bytes]:
    """(step, payload) of what a phone wrote to the auth characteristic (the emulator's side)."""
    if len(data) < 2:
        raise DecodeError("huami auth request too short")
    return data[0] & 0x0F, bytes(data[2:])


# -- time -------------------------------------------------------------------------------------------


def tz_quarters(offset: dt.timedelta) -> int:
    return round(offset.total_seconds() / 900)


def encode_current_time(local: dt.datetime) -> bytes:
    """2A2B as the band takes it: CTS date-time, day of week, fractions, adjust reason, then the zone in
    quarter hours (signed). `local` is aware; the band keeps its wall clock and the zone."""
    offset = local.utcoffset() or dt.timedelta(0)
    return struct.pack("<HBBBBBBBBb", local.year, local.month, local.day, local.hour, local.minute, local.second,
                       local.isoweekday(), 0, 0, tz_quarters(offset))  # fmt: skip


def decode_current_time(data: bytes) -> dt.datetime:
    if len(data) < 11:
        raise DecodeError(f"huami time: {len(data)} bytes, need 11")
    year, month, day, hour, minute, second, _dow, _frac, _adj, tzq = struct.unpack_from("<HBBBBBBBBb", data)
    try:
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone(dt.timedelta(minutes=15 * tzq)))
    except ValueError as exc:
        raise DecodeError(f"huami time: {exc}") from None


def fetch_start_request(since: dt.datetime, data_type: int = DATA_TYPE_ACTIVITY) -> bytes:
    """`01 <type> <year u16, month, day, hour, minute> 00 <tz quarters>`, in the band's local time."""
    offset = since.utcoffset() or dt.timedelta(0)
    return struct.pack("<BBHBBBBBb", FETCH_START, data_type, since.year, since.month, since.day, since.hour,
                       since.minute, 0, tz_quarters(offset))  # fmt: skip


def decode_fetch_start_request(data: bytes) -> tuple[int, dt.datetime]:
    if len(data) < 10 or data[0] != FETCH_START:
        raise DecodeError(f"huami fetch: not a start request: {data.hex()}")
    _, data_type, year, month, day, hour, minute, _zero, tzq = struct.unpack_from("<BBHBBBBBb", data)
    try:
        since = dt.datetime(year, month, day, hour, minute, tzinfo=dt.timezone(dt.timedelta(minutes=15 * tzq)))
    except ValueError as exc:
        raise DecodeError(f"huami fetch: {exc}") from None
    return data_type, since


@dataclass(frozen=True, slots=True)
class FetchStart:
    """The band's answer to a start request: how much it holds, and the time of its first sample."""

    ok: bool
    count: int
    start: dt.datetime | None


def encode_fetch_start_reply(count: int, start: dt.datetime | None) -> bytes:
    if start is None:
        return bytes([RESPONSE, FETCH_START, STATUS_OK]) + struct.pack("<I", 0) + bytes(8)
    offset = start.utcoffset() or dt.timedelta(0)
    return bytes([RESPONSE, FETCH_START, STATUS_OK]) + struct.pack(
        "<IHBBBBBb", count, start.year, start.month, start.day, start.hour, start.minute, start.second,
        tz_quarters(offset))  # fmt: skip


def decode_fetch_start_reply(data: bytes) -> FetchStart:
    if len(data) < 3 or data[0] != RESPONSE or data[1] != FETCH_START:
        raise DecodeError(f"huami fetch: not a start reply: {data.hex()}")
    if data[2] != STATUS_OK:
        return FetchStart(False, 0, None)
    if len(data) < 15:
        raise DecodeError(f"huami fetch: start reply of {len(data)} bytes, need 15")
    count, year, month, day, hour, minute, second, tzq = struct.unpack_from("<IHBBBBBb", data, 3)
    if count == 0:
        return FetchStart(True, 0, None)
    try:
        start = dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.timezone(dt.timedelta(minutes=15 * tzq)))
    except ValueError as exc:
        raise DecodeError(f"huami fetch: start date: {exc}") from None
    return FetchStart(True, count, start)


def is_reply(data: bytes, step: int) -> bool:
    """True for `10 <step> ..` on the fetch characteristic."""
    return len(data) >= 3 and data[0] == RESPONSE and data[1] == step


# -- battery ----------------------------------------------------------------------------------------


def encode_battery(level_pct: int, charging: bool) -> bytes:
    return bytes([0x0F, level_pct, 1 if charging else 0]) + bytes(17)


def decode_battery(data: bytes) -> int:
    """Battery percent: byte 1 of the battery-info characteristic (HuamiBatteryInfo)."""
    if len(data) < 2 or data[1] > 100:
        raise DecodeError(f"huami battery: {data.hex()}")
    return data[1]
