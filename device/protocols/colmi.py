"""Colmi R02/R06/R10 smart ring protocol: packets, requests, replies, in both directions.

Owns every byte format the collector and the emulated ring exchange with a Colmi ring:
the 16-byte command packets on the Nordic-UART-style service (set time, battery,
real-time heart rate, the per-day heart-rate log) and the variable-length "big data"
frames on the second service (sleep history). Decoders raise only DecodeError;
encoders raise ValueError for values that cannot be put on the wire.

Facts learned from (no code copied):

* tahnok/colmi_r02_client @9e08383: ``packet.py`` (16-byte packet, checksum),
  ``set_time.py`` (BCD date, language byte, the set-time reply in
  ``tests/test_set_time.py``), ``battery.py``, ``real_time.py`` (0x69/0x6A),
  ``hr.py`` (heart-rate log sequence) and the real captures in ``tests/test_hr.py``,
  ``tests/captures/heart_rate_log_1730412850.bin``.
* Freeyourgadget/Gadgetbridge @a0948ee: ``devices/colmi/ColmiR0xConstants.java``
  (UUIDs, commands, sleep stage codes), ``devices/colmi/ColmiR0xPacketHandler.java``
  (``historicalSleep``, ``liveHeartRate``), ``service/devices/colmi/
  ColmiR0xDeviceSupport.java`` (big-data reassembly, sleep request, set time in local
  time, heart-rate log request with local midnight encoded as if UTC).
* colmi.puxtril.com/bigdata (big-data header: bytes 4-5 are a CRC-16 of the body).

Time on the ring: the ring keeps a wall clock with no zone. We set it with the local
wall clock (as Gadgetbridge does), so every timestamp exchanged with it —
``hr_log_request``'s day start, ``HeartRateLog.day_start_s``, sleep start/end — is
local wall-clock time. Epoch-style seconds are "local wall clock expressed as if it
were UTC" (``calendar.timegm(local_naive.timetuple())``); converting to real UTC with
the person's IANA zone is the driver's job, not this module's.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

from device.protocols.errors import DecodeError

__all__ = [
    "BIG_DATA_NOTIFY_UUID",
    "BIG_DATA_SERVICE_UUID",
    "BIG_DATA_SLEEP",
    "BIG_DATA_WRITE_UUID",
    "CMD_BATTERY",
    "CMD_BIG_DATA",
    "CMD_HR_LOG",
    "CMD_NOTIFICATION",
    "CMD_REAL_TIME_START",
    "CMD_REAL_TIME_STOP",
    "CMD_SET_TIME",
    "NOTIFY_UUID",
    "PACKET_SIZE",
    "PAYLOAD_SIZE",
    "SERVICE_UUID",
    "SLEEP_STAGE_CODES",
    "SLEEP_STAGE_NAMES",
    "WRITE_UUID",
    "BatteryInfo",
    "HeartRateLog",
    "HeartRateLogParser",
    "SleepDay",
    "SleepHistoryParser",
    "battery_request",
    "decode_battery",
    "decode_hr_log_request",
    "decode_real_time_hr",
    "decode_real_time_hr_request",
    "decode_set_time_request",
    "encode_battery_response",
    "encode_hr_log",
    "encode_no_hr_log",
    "encode_real_time_hr_response",
    "encode_set_time_response",
    "encode_sleep_history",
    "hr_log_request",
    "make_packet",
    "parse_packet",
    "real_time_hr_request",
    "set_time_request",
    "sleep_history_request",
]

# --- GATT -----------------------------------------------------------------------------
# Command channel: 16-byte packets written to WRITE_UUID, replies notified on NOTIFY_UUID.
SERVICE_UUID = "6e40fff0-b5a3-f393-e0a9-e50e24dcca9e"
WRITE_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"
NOTIFY_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"
# Big-data channel ("V2" in Gadgetbridge): variable-length frames, replies may span notifications.
BIG_DATA_SERVICE_UUID = "de5bf728-d711-4e47-af26-65e3012a5dc7"
BIG_DATA_WRITE_UUID = "de5bf72a-d711-4e47-af26-65e3012a5dc7"
BIG_DATA_NOTIFY_UUID = "de5bf729-d711-4e47-af26-65e3012a5dc7"

# --- Command packets ------------------------------------------------------------------
# Every command packet, both directions, is 16 bytes:
#   byte 0      command
#   bytes 1-14  payload (zero-padded)
#   byte 15     checksum = sum(bytes 0..14) & 0xFF
PACKET_SIZE = 16
PAYLOAD_SIZE = 14

CMD_SET_TIME = 0x01
CMD_BATTERY = 0x03
CMD_HR_LOG = 0x15  # "sync heart rate": one day's log, 5-minute slots
CMD_REAL_TIME_START = 0x69  # "manual heart rate" in Gadgetbridge; also start/continue of other readings
CMD_REAL_TIME_STOP = 0x6A
CMD_NOTIFICATION = 0x73  # unsolicited ring → central notices (new data, battery); not decoded here
CMD_BIG_DATA = 0xBC  # first byte of every big-data frame

BIG_DATA_SLEEP = 0x27
_BIG_DATA_HEADER_SIZE = 6

_REAL_TIME_HEART_RATE = 0x01  # reading type in byte 1 of 0x69/0x6A packets (real_time.py)
_REAL_TIME_ACTION_START = 0x01
_REAL_TIME_ACTION_PAUSE = 0x02
_REAL_TIME_ACTION_STOP = 0x04
_HR_LOG_NO_DATA = 0xFF  # sub-type of the single reply when the ring has no log for that day
_SET_TIME_LANGUAGE_ENGLISH = 0x01  # 0 = Chinese (set_time.py)

_UINT32_MAX = 0xFFFF_FFFF
_MINUTES_PER_DAY = 1440


def make_packet(command: int, payload: bytes = b"") -> bytes:
    """Build a 16-byte command packet: command, payload zero-padded to 14 bytes, checksum."""
    if not 0 <= command <= 0xFF:
        raise ValueError(f"command {command} outside 0..255")
    if len(payload) > PAYLOAD_SIZE:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {PAYLOAD_SIZE}")
    body = bytes([command]) + bytes(payload) + bytes(PAYLOAD_SIZE - len(payload))
    return body + bytes([sum(body) & 0xFF])


def parse_packet(data: bytes) -> tuple[int, bytes]:
    """Split a 16-byte command packet into (command, 14-byte payload).

    Raises DecodeError if the length is not 16 or the checksum byte is wrong.
    """
    data = bytes(data)
    if len(data) != PACKET_SIZE:
        raise DecodeError(f"colmi packet: expected {PACKET_SIZE} bytes, got {len(data)}")
    if sum(data[:15]) & 0xFF != data[15]:
        raise DecodeError(f"colmi packet: bad checksum in {data.hex()}")
    return data[0], data[1:15]


def _expect_command(data: bytes, command: int, what: str) -> bytes:
    actual, payload = parse_packet(data)
    if actual != command:
        raise DecodeError(f"colmi {what}: expected command {command:#04x}, got {actual:#04x}")
    return payload


# --- Set time (0x01) ------------------------------------------------------------------
# Request payload: yy mm dd hh mi ss as BCD (yy = year - 2000), then a language byte.
# Reply: 0x01 + capability bit fields (temperature, SpO2, "new sleep protocol", ...),
# which set_time.py decodes and finds of little use; we do not decode it.
# A captured R02 reply (tahnok/colmi_r02_client tests/test_set_time.py); the emulator
# sends it unchanged. Byte 9 = 1 announces the big-data sleep protocol.
_SET_TIME_REPLY_PAYLOAD = bytes.fromhex("0001002200000000010030010010")


def _to_bcd(value: int) -> int:
    return (value // 10) << 4 | value % 10


def _from_bcd(byte: int, what: str) -> int:
    tens, ones = byte >> 4, byte & 0x0F
    if tens > 9 or ones > 9:
        raise DecodeError(f"colmi set time: {what} byte {byte:#04x} is not BCD")
    return tens * 10 + ones


def set_time_request(local_wall_clock: datetime) -> bytes:
    """Set the ring's clock to ``local_wall_clock`` (its own fields, no zone conversion).

    Pass the person's local time: the ring has no time zone, and its day boundaries
    (heart-rate log, sleep) follow whatever wall clock it was given. An aware datetime
    is sent as its own wall clock, not converted to UTC. Years 2000-2099 only.
    """
    t = local_wall_clock
    if not 2000 <= t.year <= 2099:
        raise ValueError(f"year {t.year} outside 2000..2099")
    fields = (t.year - 2000, t.month, t.day, t.hour, t.minute, t.second)
    return make_packet(CMD_SET_TIME, bytes(_to_bcd(v) for v in fields) + bytes([_SET_TIME_LANGUAGE_ENGLISH]))


def decode_set_time_request(packet: bytes) -> datetime:
    """Ring side: the naive wall-clock time carried by a set-time request."""
    payload = _expect_command(packet, CMD_SET_TIME, "set time")
    year, month, day, hour, minute, second = (
        _from_bcd(b, name)
        for b, name in zip(payload[:6], ("year", "month", "day", "hour", "minute", "second"), strict=True)
    )
    try:
        return datetime(2000 + year, month, day, hour, minute, second)
    except ValueError as exc:
        raise DecodeError(f"colmi set time: {exc}") from None


def encode_set_time_response() -> bytes:
    """Ring side: the reply to a set-time request (a captured R02 capability reply)."""
    return make_packet(CMD_SET_TIME, _SET_TIME_REPLY_PAYLOAD)


# --- Battery (0x03) -------------------------------------------------------------------
# Request: 0x03, empty payload. Reply payload: byte 0 level %, byte 1 charging (1 = yes).


@dataclass(frozen=True, slots=True)
class BatteryInfo:
    """Battery state reported by the ring."""

    level_pct: int
    charging: bool


def battery_request() -> bytes:
    """Ask for the battery level."""
    return make_packet(CMD_BATTERY)


def decode_battery(packet: bytes) -> BatteryInfo:
    """Decode a battery reply. Level above 100 % → DecodeError.

    Charging is ``byte == 1`` as in Gadgetbridge (``ColmiR0xDeviceSupport``).
    """
    payload = _expect_command(packet, CMD_BATTERY, "battery")
    level_pct = payload[0]
    if level_pct > 100:
        raise DecodeError(f"colmi battery: level {level_pct} % is above 100")
    return BatteryInfo(level_pct=level_pct, charging=payload[1] == 1)


def encode_battery_response(level_pct: int, charging: bool) -> bytes:
    """Ring side: a battery reply."""
    if not 0 <= level_pct <= 100:
        raise ValueError(f"level_pct {level_pct} outside 0..100")
    return make_packet(CMD_BATTERY, bytes([level_pct, 1 if charging else 0]))


# --- Real-time heart rate (0x69 start, 0x6A stop) -------------------------------------
# Start request payload: reading type (1 = heart rate), action (1 = start).
# Stop request: 0x6A, reading type, 0, 0.
# Reply (about once a second while running): 0x69, reading type, error code, value.
#   error code 0 = ok; 1 = worn incorrectly; 2 = temporary error / no data yet
#   (Gadgetbridge ColmiR0xPacketHandler.liveHeartRate). Value 0 = no reading yet.


def real_time_hr_request(start: bool) -> bytes:
    """Start (True) or stop (False) streaming real-time heart rate."""
    if start:
        return make_packet(CMD_REAL_TIME_START, bytes([_REAL_TIME_HEART_RATE, _REAL_TIME_ACTION_START]))
    return make_packet(CMD_REAL_TIME_STOP, bytes([_REAL_TIME_HEART_RATE, 0, 0]))


def decode_real_time_hr_request(packet: bytes) -> bool:
    """Ring side: True for a start (or continue) request, False for a stop or pause.

    A reading type other than heart rate, or another command, → DecodeError.
    """
    command, payload = parse_packet(packet)
    if command not in (CMD_REAL_TIME_START, CMD_REAL_TIME_STOP):
        raise DecodeError(f"colmi real-time request: unexpected command {command:#04x}")
    if payload[0] != _REAL_TIME_HEART_RATE:
        raise DecodeError(f"colmi real-time request: reading type {payload[0]} is not heart rate")
    if command == CMD_REAL_TIME_STOP:
        return False
    return payload[1] not in (_REAL_TIME_ACTION_PAUSE, _REAL_TIME_ACTION_STOP)


def decode_real_time_hr(packet: bytes) -> int | None:
    """Decode a real-time heart-rate reply: bpm, or None when the ring has no reading.

    None covers a non-zero error code (not worn properly, temporary error) and a zero
    value (the measurement has not settled yet). A reading type other than heart rate,
    or another command, → DecodeError.
    """
    payload = _expect_command(packet, CMD_REAL_TIME_START, "real-time reading")
    if payload[0] != _REAL_TIME_HEART_RATE:
        raise DecodeError(f"colmi real-time reading: type {payload[0]} is not heart rate")
    error_code, bpm = payload[1], payload[2]
    if error_code != 0 or bpm == 0:
        return None
    return bpm


def encode_real_time_hr_response(bpm: int | None, error_code: int = 0) -> bytes:
    """Ring side: a real-time heart-rate reply; ``bpm=None`` sends value 0 (no reading)."""
    value = 0 if bpm is None else bpm
    if not 0 <= value <= 0xFF:
        raise ValueError(f"bpm {bpm} outside 0..255")
    if not 0 <= error_code <= 0xFF:
        raise ValueError(f"error_code {error_code} outside 0..255")
    return make_packet(CMD_REAL_TIME_START, bytes([_REAL_TIME_HEART_RATE, error_code, value]))


# --- Heart-rate log (0x15) ------------------------------------------------------------
# Request payload: u32 LE day start (local midnight as if UTC, see module docstring).
# Reply: a sequence of packets, sub-type in payload byte 0:
#   sub 0      header: byte 2 = packet count N including this header (24 for a day),
#              byte 3 = slot length in minutes (5)
#   sub 1      bytes 2-5 = u32 LE day start (the requested value echoed), bytes 6-14 = 9 slots
#   sub 2..N-1 bytes 2-14 = 13 slots each
#   sub 0xFF   the only packet when the ring has no log for that day
# Slots are uint8 bpm, 0 = no reading. 9 + 22 * 13 = 295 slots arrive for a day of
# 288; the excess is zero and dropped (hr.py truncates/pads to 288 the same way).
_HR_LOG_FIRST_SLOTS = 9
_HR_LOG_SLOTS_PER_PACKET = 13
_HR_LOG_DEFAULT_INTERVAL_MIN = 5


@dataclass(frozen=True, slots=True)
class HeartRateLog:
    """One day of the ring's periodic heart-rate log.

    ``day_start_s`` is the ring's (local wall-clock) day start as seconds since the
    epoch of that wall clock; ``bpm[i]`` is the reading of the slot starting at
    ``day_start_s + i * interval_min * 60``, 0 when there was none. A full day has
    1440 / interval_min values (288 at 5 min). ``bpm`` is empty when the ring answered
    "no data" for the day.
    """

    day_start_s: int
    interval_min: int
    bpm: tuple[int, ...]

    def readings(self) -> tuple[tuple[int, int], ...]:
        """(slot start in ring-clock seconds, bpm) for every slot with a reading."""
        step_s = self.interval_min * 60
        return tuple((self.day_start_s + i * step_s, v) for i, v in enumerate(self.bpm) if v)


def hr_log_request(day_start_s: int) -> bytes:
    """Ask for the heart-rate log of the day starting at ``day_start_s``.

    ``day_start_s`` is the local midnight in ring-clock seconds, i.e.
    ``calendar.timegm(local_midnight.timetuple())`` (Gadgetbridge fetchHistoryHR adds
    the zone and DST offsets to the real epoch for the same result).
    """
    if not 0 <= day_start_s <= _UINT32_MAX:
        raise ValueError(f"day_start_s {day_start_s} outside u32")
    return make_packet(CMD_HR_LOG, struct.pack("<I", day_start_s))


def decode_hr_log_request(packet: bytes) -> int:
    """Ring side: the day start (ring-clock seconds) asked for by a heart-rate log request."""
    payload = _expect_command(packet, CMD_HR_LOG, "heart-rate log request")
    day_start_s: int = struct.unpack_from("<I", payload, 0)[0]
    return day_start_s


def _check_interval(interval_min: int) -> int:
    """Number of slots in a day for this interval (a u8 on the wire that must divide the day)."""
    if not 1 <= interval_min <= 0xFF or _MINUTES_PER_DAY % interval_min:
        raise ValueError(f"interval of {interval_min} min is not a u8 dividing a day")
    return _MINUTES_PER_DAY // interval_min


class HeartRateLogParser:
    """Reassembles the packet sequence of one heart-rate log reply.

    Feed every 0x15 notification in arrival order; ``feed`` returns None until the
    last packet, then the complete :class:`HeartRateLog`, and is ready for the next
    day. A "no data" packet yields an empty log for ``day_start_s`` (the day that was
    asked for, since that packet carries no timestamp; 0 if not given). Packets out
    of sequence, other commands and impossible headers raise DecodeError and discard
    the partial log. A new header in the middle of a log starts over (the central
    re-requested).
    """

    def __init__(self, day_start_s: int | None = None) -> None:
        self._requested_day_start_s = day_start_s
        self.reset()

    def reset(self) -> None:
        """Forget any partial log."""
        self._next_sub = 0
        self._packet_count = 0
        self._interval_min = _HR_LOG_DEFAULT_INTERVAL_MIN
        self._day_start_s = 0
        self._slots: list[int] = []

    def feed(self, packet: bytes) -> HeartRateLog | None:
        """Consume one notification; return the log once its last packet has arrived."""
        try:
            return self._feed(packet)
        except DecodeError:
            self.reset()
            raise

    def _feed(self, packet: bytes) -> HeartRateLog | None:
        payload = _expect_command(packet, CMD_HR_LOG, "heart-rate log")
        sub = payload[0]
        if sub == _HR_LOG_NO_DATA:
            self.reset()
            day_start_s = self._requested_day_start_s if self._requested_day_start_s is not None else 0
            return HeartRateLog(day_start_s=day_start_s, interval_min=_HR_LOG_DEFAULT_INTERVAL_MIN, bpm=())
        if sub == 0:
            self.reset()
            packet_count, interval_min = payload[1], payload[2]
            if packet_count < 2:
                raise DecodeError(f"colmi heart-rate log: header announces {packet_count} packets")
            try:
                _check_interval(interval_min)
            except ValueError as exc:
                raise DecodeError(f"colmi heart-rate log: {exc}") from None
            self._packet_count = packet_count
            self._interval_min = interval_min
            self._next_sub = 1
            return None
        if sub != self._next_sub:
            raise DecodeError(f"colmi heart-rate log: packet {sub} arrived, expected {self._next_sub}")
        if sub == 1:
            (self._day_start_s,) = struct.unpack_from("<I", payload, 1)
            self._slots.extend(payload[5:14])
        else:
            self._slots.extend(payload[1:14])
        self._next_sub += 1
        if sub < self._packet_count - 1:
            return None
        n_slots = _MINUTES_PER_DAY // self._interval_min
        bpm = tuple(self._slots[:n_slots]) + (0,) * max(0, n_slots - len(self._slots))
        log = HeartRateLog(day_start_s=self._day_start_s, interval_min=self._interval_min, bpm=bpm)
        self.reset()
        return log


def encode_hr_log(
    day_start_s: int, bpm: Sequence[int], interval_min: int = _HR_LOG_DEFAULT_INTERVAL_MIN
) -> list[bytes]:
    """Ring side: the packet sequence a ring sends for one day's log.

    ``bpm`` must hold one value (0-255, 0 = none) per slot of the day (288 at 5 min).
    Uses as many packets as the slots need (24 for 288), padding the last with zeros,
    which reproduces captured R02 replies byte for byte.
    """
    n_slots = _check_interval(interval_min)
    if len(bpm) != n_slots:
        raise ValueError(f"need {n_slots} slots for {interval_min}-min intervals, got {len(bpm)}")
    if not 0 <= day_start_s <= _UINT32_MAX:
        raise ValueError(f"day_start_s {day_start_s} outside u32")
    for value in bpm:
        if not 0 <= value <= 0xFF:
            raise ValueError(f"bpm {value} outside 0..255")
    data_packets = 1 + -(-max(0, n_slots - _HR_LOG_FIRST_SLOTS) // _HR_LOG_SLOTS_PER_PACKET)
    packet_count = 1 + data_packets
    capacity = _HR_LOG_FIRST_SLOTS + (data_packets - 1) * _HR_LOG_SLOTS_PER_PACKET
    slots = bytes(bpm) + bytes(capacity - n_slots)
    packets = [
        make_packet(CMD_HR_LOG, bytes([0, packet_count, interval_min])),
        make_packet(CMD_HR_LOG, bytes([1]) + struct.pack("<I", day_start_s) + slots[:_HR_LOG_FIRST_SLOTS]),
    ]
    for sub in range(2, packet_count):
        start = _HR_LOG_FIRST_SLOTS + (sub - 2) * _HR_LOG_SLOTS_PER_PACKET
        packets.append(make_packet(CMD_HR_LOG, bytes([sub]) + slots[start : start + _HR_LOG_SLOTS_PER_PACKET]))
    return packets


def encode_no_hr_log() -> bytes:
    """Ring side: the single reply meaning "no heart-rate log for that day"."""
    return make_packet(CMD_HR_LOG, bytes([_HR_LOG_NO_DATA]))


# --- Sleep history (big data 0xBC / 0x27) ---------------------------------------------
# Big-data frame (both directions), little-endian:
#   0    0xBC
#   1    data id (0x27 sleep, 0x2A SpO2)
#   2-3  u16 body length (bytes after this 6-byte header)
#   4-5  u16 CRC-16/MODBUS of the body (colmi.puxtril.com/bigdata names it crc16;
#        MODBUS is our inference: it gives 0x00FF for the body FF of Gadgetbridge's
#        request and 0xFFFF for an empty body, as puxtril's requests use)
#   6..  body
# The request is BC 27 01 00 FF 00 FF (ColmiR0xDeviceSupport.fetchHistorySleep). The
# reply may be split over several notifications; the receiver concatenates until it
# holds 6 + length bytes (ColmiR0xDeviceSupport.onCharacteristicChanged).
# Sleep body (ColmiR0xPacketHandler.historicalSleep):
#   0    number of days
#   then per day:
#     days ago      u8 (0 = the night that ended today)
#     day bytes     u8 = 4 + 2 * number of stages (the bytes that follow)
#     sleep start   u16 minutes after midnight
#     sleep end     u16 minutes after midnight
#     stages        (stage code u8, minutes u8) pairs, in time order from sleep start
# A body shorter than 2 bytes means no sleep recorded.
SLEEP_STAGE_NAMES: Mapping[int, str] = MappingProxyType({2: "light", 3: "deep", 4: "rem", 5: "awake"})
SLEEP_STAGE_CODES: Mapping[str, int] = MappingProxyType({name: code for code, name in SLEEP_STAGE_NAMES.items()})
_SLEEP_DAY_FIXED_BYTES = 4


def _crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF, no final XOR."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _big_data_frame(data_id: int, body: bytes) -> bytes:
    return struct.pack("<BBHH", CMD_BIG_DATA, data_id, len(body), _crc16_modbus(body)) + body


@dataclass(frozen=True, slots=True)
class SleepDay:
    """One night as the ring reports it.

    ``start_min``/``end_min`` are minutes after local midnight (0-1439). Following
    Gadgetbridge (historicalSleep), the night belongs to the day it ended on, which is
    ``days_ago`` days before the sync day: it ends at that day's midnight + end_min;
    it starts at that midnight + start_min, unless start_min > end_min, in which case
    it started the evening before, at midnight - (1440 - start_min). ``stages`` are
    (name, minutes) in time order from the start; names are "light", "deep", "rem",
    "awake". Stages of 0 minutes, which the ring may send, are dropped on decode (as
    Gadgetbridge ignores them).
    """

    days_ago: int
    start_min: int
    end_min: int
    stages: tuple[tuple[str, int], ...]

    @property
    def start_offset_min(self) -> int:
        """Start relative to midnight of the day the night ended (negative: the evening before)."""
        return self.start_min - _MINUTES_PER_DAY if self.start_min > self.end_min else self.start_min

    @property
    def duration_min(self) -> int:
        """Minutes from sleep start to sleep end."""
        return self.end_min - self.start_offset_min

    def bounds(self, sync_day: date) -> tuple[datetime, datetime]:
        """Naive local wall-clock (start, end), given the local date the history was synced on."""
        midnight = datetime.combine(sync_day - timedelta(days=self.days_ago), time())
        return midnight + timedelta(minutes=self.start_offset_min), midnight + timedelta(minutes=self.end_min)


def sleep_history_request() -> bytes:
    """Ask for the sleep history (big-data request ``BC 27 01 00 FF 00 FF``, to BIG_DATA_WRITE_UUID)."""
    return _big_data_frame(BIG_DATA_SLEEP, b"\xff")


def _decode_sleep_body(body: bytes) -> list[SleepDay]:
    if len(body) < 2:
        return []
    n_days = body[0]
    index = 1
    days: list[SleepDay] = []
    for _ in range(n_days):
        if len(body) < index + 2:
            raise DecodeError(f"colmi sleep: day {len(days)} header truncated")
        days_ago, day_bytes = body[index], body[index + 1]
        index += 2
        if day_bytes < _SLEEP_DAY_FIXED_BYTES or day_bytes % 2:
            raise DecodeError(f"colmi sleep: day {len(days)} announces {day_bytes} bytes")
        if len(body) < index + day_bytes:
            raise DecodeError(f"colmi sleep: day {len(days)} truncated")
        start_min, end_min = struct.unpack_from("<HH", body, index)
        if start_min >= _MINUTES_PER_DAY or end_min >= _MINUTES_PER_DAY:
            raise DecodeError(f"colmi sleep: start {start_min} / end {end_min} not minutes of a day")
        stages: list[tuple[str, int]] = []
        for pair in range(index + _SLEEP_DAY_FIXED_BYTES, index + day_bytes, 2):
            code, minutes = body[pair], body[pair + 1]
            if minutes == 0:
                continue
            name = SLEEP_STAGE_NAMES.get(code)
            if name is None:
                raise DecodeError(f"colmi sleep: unknown stage code {code} ({minutes} min)")
            stages.append((name, minutes))
        index += day_bytes
        days.append(SleepDay(days_ago=days_ago, start_min=start_min, end_min=end_min, stages=tuple(stages)))
    if index != len(body):
        raise DecodeError(f"colmi sleep: {len(body) - index} bytes after the last of {n_days} days")
    return days


class SleepHistoryParser:
    """Reassembles a sleep-history reply from big-data notifications.

    Feed each notification from BIG_DATA_NOTIFY_UUID; ``feed`` returns None until the
    frame is complete, then the nights it holds (an empty list when none), and is
    ready for the next reply. A notification that does not continue a sleep frame
    (wrong magic or data id, more bytes than announced, an undecodable body) raises
    DecodeError and discards the partial frame. With ``verify_crc`` the body's
    CRC-16 is checked too; it is off by default because the CRC algorithm is inferred,
    not confirmed against a captured reply (Gadgetbridge does not check it).
    """

    def __init__(self, verify_crc: bool = False) -> None:
        self._verify_crc = verify_crc
        self._buffer = bytearray()

    def reset(self) -> None:
        """Forget any partial frame."""
        self._buffer.clear()

    def feed(self, notification: bytes) -> list[SleepDay] | None:
        """Consume one notification; return the nights once the frame is complete."""
        try:
            return self._feed(bytes(notification))
        except DecodeError:
            self.reset()
            raise

    def _feed(self, notification: bytes) -> list[SleepDay] | None:
        self._buffer += notification
        buffer = self._buffer
        if not buffer:
            return None
        if buffer[0] != CMD_BIG_DATA:
            raise DecodeError(f"colmi big data: frame starts with {buffer[0]:#04x}, not 0xbc")
        if len(buffer) >= 2 and buffer[1] != BIG_DATA_SLEEP:
            raise DecodeError(f"colmi big data: data id {buffer[1]:#04x} is not sleep")
        if len(buffer) < _BIG_DATA_HEADER_SIZE:
            return None
        length, crc = struct.unpack_from("<HH", buffer, 2)
        total = _BIG_DATA_HEADER_SIZE + length
        if len(buffer) < total:
            return None
        if len(buffer) > total:
            raise DecodeError(f"colmi big data: {len(buffer)} bytes received, frame announces {total}")
        body = bytes(buffer[_BIG_DATA_HEADER_SIZE:])
        self.reset()
        if self._verify_crc and _crc16_modbus(body) != crc:
            raise DecodeError(f"colmi big data: CRC {crc:#06x} does not match body")
        return _decode_sleep_body(body)


def encode_sleep_history(days: Sequence[SleepDay], mtu_payload: int = 20) -> list[bytes]:
    """Ring side: a sleep-history reply split into notifications of ``mtu_payload`` bytes.

    No nights encode as a one-byte body (day count 0), which receivers treat as empty.
    Raises ValueError for values that do not fit: more than 255 nights, days_ago over
    255, start/end outside 0-1439, unknown stage names, stage minutes outside 1-255,
    more than 125 stages in a night.
    """
    if mtu_payload < 1:
        raise ValueError(f"mtu_payload {mtu_payload} must be positive")
    if len(days) > 0xFF:
        raise ValueError(f"{len(days)} nights do not fit a u8 count")
    body = bytearray([len(days)])
    for day in days:
        if not 0 <= day.days_ago <= 0xFF:
            raise ValueError(f"days_ago {day.days_ago} outside 0..255")
        if not (0 <= day.start_min < _MINUTES_PER_DAY and 0 <= day.end_min < _MINUTES_PER_DAY):
            raise ValueError(f"start_min {day.start_min} / end_min {day.end_min} outside 0..1439")
        day_bytes = _SLEEP_DAY_FIXED_BYTES + 2 * len(day.stages)
        if day_bytes > 0xFF:
            raise ValueError(f"{len(day.stages)} stages do not fit one night's u8 byte count")
        body += struct.pack("<BBHH", day.days_ago, day_bytes, day.start_min, day.end_min)
        for name, minutes in day.stages:
            code = SLEEP_STAGE_CODES.get(name)
            if code is None:
                raise ValueError(f"unknown sleep stage {name!r}")
            if not 1 <= minutes <= 0xFF:
                raise ValueError(f"stage of {minutes} min outside 1..255")
            body += bytes([code, minutes])
    frame = _big_data_frame(BIG_DATA_SLEEP, bytes(body))
    return [frame[i : i + mtu_payload] for i in range(0, len(frame), mtu_payload)]
