"""Emulated Colmi R02-style smart ring: the vendor command channel and the big-data sleep channel.

Owns `EmulatedRing`, the `HistoryFeed`/`WearableFeed` protocols it reads physiology from, and
`sleep_days_from_spans`, which turns true sleep spans (UTC) into the nights a ring reports.
Byte formats come from `device.protocols.colmi` (research/ble.md §4.7); this module only decides
*when* and *what* to answer.

GATT layout:

* command service 6e40fff0-…: write 6e400002-… (write / write-without-response), notify
  6e400003-…; 16-byte packets with checksum. Answered: set time (0x01), battery (0x03), real-time
  heart rate start/stop (0x69/0x6A, one reading per `realtime_interval_s` while running),
  heart-rate log of one day (0x15 + u32 day start), the ring's own HRV values of one day (0x39 +
  u32 days ago; `device.protocols.colmi_hrv`; not answered when `has_hrv_history=False`, like the
  older firmware Gadgetbridge mentions).
* big-data service de5bf728-…: write de5bf72a-…, notify de5bf729-…; sleep history request
  `BC 27 …`, reply split into `mtu_payload`-byte notifications. Absent when
  `has_sleep_service=False` (older firmware).
* Device Information.

Time: the ring has a zone-less wall clock. It learns the wall-clock offset from the set-time
request (rounded to 15 min, the finest real zone offset) and uses it for day boundaries, as the
real ring follows whatever local time the phone gave it (colmi.py module docstring). Until set,
the offset is `utc_offset_ms` (0: the ring runs on UTC). The ring only reports the past: HR slots
after "now" are empty and only nights that already ended are in the sleep history.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.profiles.device_information_service import DeviceInformationService

from device.emulator.link import EmulatedPeripheral, wall_clock_ms
from device.emulator.strap import MAX_LEGACY_ADV_BYTES, RRFeed, beats_between
from device.protocols.colmi import (
    BIG_DATA_NOTIFY_UUID,
    BIG_DATA_SERVICE_UUID,
    BIG_DATA_SLEEP,
    BIG_DATA_WRITE_UUID,
    CMD_BATTERY,
    CMD_BIG_DATA,
    CMD_HR_LOG,
    CMD_REAL_TIME_START,
    CMD_REAL_TIME_STOP,
    CMD_SET_TIME,
    NOTIFY_UUID,
    SERVICE_UUID,
    WRITE_UUID,
    SleepDay,
    decode_hr_log_request,
    decode_real_time_hr_request,
    decode_set_time_request,
    encode_battery_response,
    encode_hr_log,
    encode_no_hr_log,
    encode_real_time_hr_response,
    encode_set_time_response,
    encode_sleep_history,
    parse_packet,
)
from device.protocols.colmi_hrv import (
    CMD_HRV_HISTORY,
    HRV_SLOT_MIN,
    HRV_SLOTS_PER_DAY,
    decode_hrv_history_request,
    encode_hrv_history,
    encode_no_hrv_history,
)
from device.protocols.errors import DecodeError

logger = logging.getLogger(__name__)

MINUTE_MS = 60_000
DAY_MS = 86_400_000
SLOT_MS = 5 * MINUTE_MS  # heart-rate log slot
QUARTER_HOUR_MS = 15 * MINUTE_MS
NIGHT_GAP_MS = 2 * 3_600_000  # spans further apart than this belong to different nights
SLEEP_REQUEST = "sleep"  # name for Faults.silence() of the big-data sleep request
_RING_STAGES = {"light", "deep", "rem", "awake"}
_MAX_STAGE_MIN = 0xFF  # one (stage, minutes) pair holds at most 255 minutes


class SleepSpanLike(Protocol):
    """A run of one sleep stage in UTC ms, [start_ms, end_ms); `tracker.model.SleepSpan` fits.

    `stage` is "awake", "light", "deep", "rem" or "asleep" (no stage known; reported as light).
    """

    @property
    def start_ms(self) -> int: ...

    @property
    def end_ms(self) -> int: ...

    @property
    def stage(self) -> str: ...


class HistoryFeed(Protocol):
    """What the ring remembers; `tracker.physiology.Simulation` satisfies it.

    `heart_rate_5min(day_start_ms)`: 288 bpm values (0 = no reading) for the day starting at
    `day_start_ms` (UTC epoch ms of the local midnight). `hrv_30min(day_start_ms)`: 48 values of the
    ring's own HRV (ms, 0 = none) for that day. `sleep_spans()`: all true sleep spans.
    """

    def heart_rate_5min(self, day_start_ms: int) -> np.ndarray: ...

    def hrv_30min(self, day_start_ms: int) -> np.ndarray: ...

    def sleep_spans(self) -> Sequence[SleepSpanLike]: ...


class WearableFeed(RRFeed, HistoryFeed, Protocol):
    """Live beats (real-time HR) and history: what a full physiology model offers."""


def _bad_checksum(packet: bytes) -> bytes:
    """A malformed Colmi packet for fault injection: checksum off by one."""
    return packet[:-1] + bytes([(packet[-1] + 1) & 0xFF])


def sleep_days_from_spans(
    spans: Sequence[SleepSpanLike],
    *,
    now_ms: int,
    utc_offset_ms: int,
    history_days: int = 7,
) -> list[SleepDay]:
    """The nights a ring with wall clock `UTC + utc_offset_ms` reports at `now_ms` (UTC).

    Spans are grouped into nights (gaps over 2 h split nights, shorter gaps count as awake),
    leading and trailing awake spans are trimmed; a night belongs to the local day it ended on, `days_ago` counted from the ring's today; only
    nights that ended by `now_ms` and within `history_days` are kept. Minutes are whole wall-clock
    minutes (floored), so stage minutes add up exactly to the night's duration.
    """
    past = sorted((s for s in spans if s.end_ms <= now_ms and s.end_ms > s.start_ms), key=lambda s: s.start_ms)
    nights: list[list[SleepSpanLike]] = []
    for span in past:
        if nights and span.start_ms - nights[-1][-1].end_ms <= NIGHT_GAP_MS:
            nights[-1].append(span)
        else:
            nights.append([span])
    today = (now_ms + utc_offset_ms) // DAY_MS
    days: list[SleepDay] = []
    for night in nights:
        # The ring's night runs from sleep onset to final awakening: awake time in bed before
        # and after is not part of it (awake spells inside it are).
        while night and str(night[0].stage) == "awake":
            night = night[1:]
        while night and str(night[-1].stage) == "awake":
            night = night[:-1]
        if not night:
            continue
        start_abs_min = (night[0].start_ms + utc_offset_ms) // MINUTE_MS
        end_abs_min = (night[-1].end_ms + utc_offset_ms) // MINUTE_MS
        duration_min = end_abs_min - start_abs_min
        days_ago = today - end_abs_min * MINUTE_MS // DAY_MS
        if duration_min <= 0 or duration_min >= 1440 or not 0 <= days_ago < history_days:
            continue
        stages: list[tuple[str, int]] = []
        cursor = start_abs_min
        for span in night:
            span_start = max((span.start_ms + utc_offset_ms) // MINUTE_MS, cursor)
            span_end = (span.end_ms + utc_offset_ms) // MINUTE_MS
            if span_start > cursor:
                _append_stage(stages, "awake", span_start - cursor)
            stage = str(span.stage)
            _append_stage(stages, stage if stage in _RING_STAGES else "light", span_end - span_start)
            cursor = max(cursor, span_end)
        days.append(
            SleepDay(
                days_ago=int(days_ago),
                start_min=int(start_abs_min % 1440),
                end_min=int(end_abs_min % 1440),
                stages=tuple(_split_long(stages)),
            )
        )
    return days


def _append_stage(stages: list[tuple[str, int]], stage: str, minutes: int) -> None:
    if minutes <= 0:
        return
    if stages and stages[-1][0] == stage:
        stages[-1] = (stage, stages[-1][1] + minutes)
    else:
        stages.append((stage, minutes))


def _split_long(stages: list[tuple[str, int]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for stage, minutes in stages:
        while minutes > _MAX_STAGE_MIN:
            out.append((stage, _MAX_STAGE_MIN))
            minutes -= _MAX_STAGE_MIN
        out.append((stage, minutes))
    return out


class EmulatedRing(EmulatedPeripheral):
    """A Colmi R02-style ring fed by a `WearableFeed`.

    Records what it received (`requests`: raw written packets) and notified (`sent`: raw
    notification values) for assertions.
    """

    def __init__(
        self,
        *,
        feed: WearableFeed,
        now_ms: Callable[[], int] = wall_clock_ms,
        name: str = "R02_EMU1",
        address: str | None = None,
        has_sleep_service: bool = True,
        has_hrv_history: bool = True,
        battery_pct: int = 64,
        charging: bool = False,
        utc_offset_ms: int = 0,
        history_days: int = 7,
        realtime_interval_s: float = 1.0,
        mtu_payload: int = 20,
        firmware: str = "RY02_3.00.06_240523",
        advertising_interval_ms: float = 20.0,
        rssi_dbm: int = -62,
        seed: int = 0,
    ) -> None:
        super().__init__(
            name=name,
            address=address,
            advertising_interval_ms=advertising_interval_ms,
            rssi_dbm=rssi_dbm,
            seed=seed,
        )
        self.feed = feed
        self.now_ms = now_ms
        self.has_sleep_service = has_sleep_service
        self.has_hrv_history = has_hrv_history
        self.battery_pct = battery_pct
        self.charging = charging
        self.utc_offset_ms = utc_offset_ms
        self.history_days = history_days
        self.realtime_interval_s = realtime_interval_s
        self.mtu_payload = mtu_payload
        self.firmware = firmware
        self.requests: list[bytes] = []
        self.sent: list[bytes] = []
        self.corrupt_sleep_replies = 0  # fault injection: corrupt one packet of the next N sleep replies
        self.corrupt_hrv_replies = 0  # fault injection: a bad checksum on one packet of the next N HRV replies
        self._reply_lock = asyncio.Lock()  # FIFO: one request answered at a time, like the ring
        self._realtime: dict[Connection, asyncio.Task[Any]] = {}
        self._notify: Characteristic[Any] | None = None
        self._big_notify: Characteristic[Any] | None = None
        if len(self.advertising_data()) > MAX_LEGACY_ADV_BYTES:
            raise ValueError(f"advertising data for name {name!r} exceeds {MAX_LEGACY_ADV_BYTES} bytes")

    # -- GATT database --------------------------------------------------------------------------

    def build_services(self) -> list[Service]:
        write_props = Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
        self._notify = Characteristic(
            NOTIFY_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        services = [
            Service(
                SERVICE_UUID,
                [
                    Characteristic(
                        WRITE_UUID,
                        write_props,
                        Characteristic.WRITEABLE,
                        CharacteristicValue(write=self._on_command_write),
                    ),
                    self._notify,
                ],
            )
        ]
        if self.has_sleep_service:
            self._big_notify = Characteristic(
                BIG_DATA_NOTIFY_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
            )
            services.append(
                Service(
                    BIG_DATA_SERVICE_UUID,
                    [
                        Characteristic(
                            BIG_DATA_WRITE_UUID,
                            write_props,
                            Characteristic.WRITEABLE,
                            CharacteristicValue(write=self._on_big_data_write),
                        ),
                        self._big_notify,
                    ],
                )
            )
        services.append(
            DeviceInformationService(
                manufacturer_name="Colmi (emulated)", model_number="R02", firmware_revision=self.firmware
            )
        )
        return services

    def advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                        UUID(SERVICE_UUID).to_bytes(force_128=True),
                    ),
                ]
            )
        )

    # -- clock ----------------------------------------------------------------------------------

    def local_now_ms(self) -> int:
        """The ring's wall clock, as ms since the epoch of that wall clock."""
        return self.now_ms() + self.utc_offset_ms

    # -- requests -------------------------------------------------------------------------------

    def _on_command_write(self, connection: Connection, value: bytes) -> None:
        self.requests.append(bytes(value))
        self.spawn(self._answer_command(connection, bytes(value)), name=f"{self.name}-cmd")

    def _on_big_data_write(self, connection: Connection, value: bytes) -> None:
        self.requests.append(bytes(value))
        self.spawn(self._answer_big_data(connection, bytes(value)), name=f"{self.name}-bigdata")

    async def _answer_command(self, connection: Connection, packet: bytes) -> None:
        try:
            command, _payload = parse_packet(packet)
        except DecodeError as exc:
            logger.debug("%s: ignoring bad packet: %s", self.name, exc)  # the real ring is silent
            return
        if self.faults.is_silenced(command):
            return
        async with self._reply_lock:
            try:
                replies = self._replies_for(connection, command, packet)
            except DecodeError as exc:
                logger.debug("%s: ignoring undecodable request: %s", self.name, exc)
                return
            await self._send(connection, replies)

    def _replies_for(self, connection: Connection, command: int, packet: bytes) -> list[bytes]:
        if command == CMD_SET_TIME:
            wall = decode_set_time_request(packet)
            wall_ms = calendar.timegm(wall.timetuple()) * 1000
            offset = wall_ms - self.now_ms()
            self.utc_offset_ms = round(offset / QUARTER_HOUR_MS) * QUARTER_HOUR_MS
            return [encode_set_time_response()]
        if command == CMD_BATTERY:
            return [encode_battery_response(self.battery_pct, self.charging)]
        if command in (CMD_REAL_TIME_START, CMD_REAL_TIME_STOP):
            self._set_realtime(connection, decode_real_time_hr_request(packet))
            return []  # readings follow from the streaming task
        if command == CMD_HR_LOG:
            return self._hr_log(decode_hr_log_request(packet))
        if command == CMD_HRV_HISTORY and self.has_hrv_history:
            return self._hrv_history(decode_hrv_history_request(packet))
        logger.debug("%s: no answer for command 0x%02X", self.name, command)
        return []

    def _hr_log(self, day_start_s: int) -> list[bytes]:
        local_day_start_ms = day_start_s * 1000
        local_now_ms = self.local_now_ms()
        days_back = (local_now_ms // DAY_MS) - (local_day_start_ms // DAY_MS)
        if local_day_start_ms > local_now_ms or days_back >= self.history_days:
            return [encode_no_hr_log()]
        try:
            values = np.asarray(self.feed.heart_rate_5min(local_day_start_ms - self.utc_offset_ms))
        except ValueError:  # outside the model's range, or not a whole-minute day start
            return [encode_no_hr_log()]
        bpm = [int(min(max(round(float(v)), 0), 0xFF)) for v in values[:288]]
        bpm += [0] * (288 - len(bpm))
        for slot in range(288):
            if local_day_start_ms + slot * SLOT_MS > local_now_ms:
                bpm[slot] = 0  # not measured yet
        if not any(bpm):
            return [encode_no_hr_log()]
        return encode_hr_log(day_start_s, bpm)

    def _hrv_history(self, days_ago: int) -> list[bytes]:
        local_now_ms = self.local_now_ms()
        local_day_start_ms = (local_now_ms // DAY_MS - days_ago) * DAY_MS
        if days_ago >= self.history_days:
            return [encode_no_hrv_history()]
        try:
            values = np.asarray(self.feed.hrv_30min(local_day_start_ms - self.utc_offset_ms))
        except ValueError:  # outside the model's range
            return [encode_no_hrv_history()]
        hrv_ms = [int(min(max(round(float(v)), 0), 0xFF)) for v in values[:HRV_SLOTS_PER_DAY]]
        hrv_ms += [0] * (HRV_SLOTS_PER_DAY - len(hrv_ms))
        for slot in range(HRV_SLOTS_PER_DAY):
            if local_day_start_ms + (slot + 1) * HRV_SLOT_MIN * MINUTE_MS > local_now_ms:
                hrv_ms[slot] = 0  # the slot has not ended yet
        if not any(hrv_ms):
            return [encode_no_hrv_history()]
        packets = encode_hrv_history(hrv_ms)
        if self.corrupt_hrv_replies > 0:
            # Fault injection: packet 2 arrives with a bad checksum instead of intact (a garbled radio frame).
            self.corrupt_hrv_replies -= 1
            self.faults.counters.malformed_sent += 1
            packets[2] = _bad_checksum(packets[2])
        return packets

    async def _answer_big_data(self, connection: Connection, frame: bytes) -> None:
        if len(frame) < 2 or frame[0] != CMD_BIG_DATA or frame[1] != BIG_DATA_SLEEP:
            logger.debug("%s: ignoring big-data frame %s", self.name, frame.hex())
            return
        if self.faults.is_silenced(SLEEP_REQUEST):
            return
        days = sleep_days_from_spans(
            self.feed.sleep_spans(),
            now_ms=self.now_ms(),
            utc_offset_ms=self.utc_offset_ms,
            history_days=self.history_days,
        )
        packets = encode_sleep_history(days, self.mtu_payload)
        if self.corrupt_sleep_replies > 0 and packets:
            # Fault injection: one corrupt packet (a wrong magic byte) in this reply.
            self.corrupt_sleep_replies -= 1
            self.faults.counters.malformed_sent += 1
            packets = [bytes([packets[0][0] ^ 0xFF]) + packets[0][1:], *packets[1:]]
        async with self._reply_lock:
            await self._send(connection, packets, big_data=True)

    async def _send(self, connection: Connection, packets: Sequence[bytes], big_data: bool = False) -> None:
        characteristic = self._big_notify if big_data else self._notify
        assert characteristic is not None
        for packet in packets:
            sent = await self.send_notification(
                connection, characteristic, packet, malformed=None if big_data else _bad_checksum
            )
            if not sent:
                return
            self.sent.append(packet)

    # -- real-time heart rate -------------------------------------------------------------------

    def _set_realtime(self, connection: Connection, start: bool) -> None:
        running = self._realtime.get(connection)
        if start and running is None:
            self._realtime[connection] = self.spawn(self._stream_realtime(connection), name=f"{self.name}-rt")
        elif not start and running is not None:
            running.cancel()
            del self._realtime[connection]

    def on_disconnected(self, connection: Connection, reason: int) -> None:
        task = self._realtime.pop(connection, None)
        if task is not None:
            task.cancel()

    def live_bpm(self, window_ms: int = 5_000) -> int | None:
        """Mean heart rate over the last `window_ms` of the feed's beats (None without beats)."""
        t1 = self.now_ms()
        ticks = beats_between(self.feed, t1 - window_ms, t1)
        if not ticks or sum(ticks) <= 0:
            return None
        return int(min(0xFF, round(60 * 1024 * len(ticks) / sum(ticks))))

    async def _stream_realtime(self, connection: Connection) -> None:
        while connection in self.connections:
            await asyncio.sleep(self.realtime_interval_s)
            async with self._reply_lock:
                await self._send(connection, [encode_real_time_hr_response(self.live_bpm())])
