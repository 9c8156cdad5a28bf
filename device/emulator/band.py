"""Emulated Huami band (Mi Band 4/5/6, Amazfit Band 5) fed by the physiology model.

Owns `EmulatedBand` and `band_minutes`, which turns the model into the per-minute samples a band stores.
Byte formats come from `device.protocols.huami` and `huami_activity` (research/ble.md §4); this module only
decides when and what to answer.

GATT layout: service 0xFEE0 (fetch control 0x0004 write+notify, activity data 0x0005 notify, battery info
0x0006 read, current time 0x2A2B read+write), service 0xFEE1 (auth 0x0009 write+notify), Heart Rate 0x180D
(measurement 0x2A37 notify, control point 0x2A39 write), Device Information.

Behaviour: authentication with its 16-byte key (a wrong answer is refused with `10 83 04`); nothing but
authentication is answered before it succeeds. The band stores one sample per minute for `history_days`;
a fetch round sends at most `round_minutes` samples from the requested time, in notifications of the link's
ATT payload; an ack (`03`) drops what the last round sent, unless nothing was acknowledged. Every request is
handled per connection, so a central that vanished in the middle of an exchange leaves nothing behind that
the next connection trips over. The band keeps a wall clock in a zone (`utc_offset_ms`, set from the
current-time write); its samples' start dates carry that zone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from bumble.core import AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.profiles.device_information_service import DeviceInformationService

from device.emulator.link import EmulatedPeripheral, wall_clock_ms
from device.emulator.ring import SleepSpanLike
from device.emulator.strap import MAX_LEGACY_ADV_BYTES, RRFeed, beats_between
from device.protocols import hrs, huami
from device.protocols import huami_activity as act
from device.protocols.errors import DecodeError

logger = logging.getLogger(__name__)
MINUTE_MS = 60_000
DAY_MS = 86_400_000
QUARTER_HOUR_MS = 15 * MINUTE_MS
_ATT_NOTIFICATION_OVERHEAD = 3
KIND_ACTIVITY = 0x01
KIND_NOT_WORN = 0x03
KIND_LIGHT = 0x79  # & 0x0F = 9
KIND_DEEP = 0x7B  # & 0x0F = 11
KIND_NO_CHANGE = 0x70  # & 0x0F = 0: "same as before", as the band writes inside a sleep run


class BandFeed(RRFeed, Protocol):
    """What the band reads; `tracker.physiology.Simulation` satisfies it."""

    def heart_rate_1min(self, t0_ms: int, t1_ms: int) -> np.ndarray: ...

    def sleep_spans(self) -> Sequence[SleepSpanLike]: ...


def band_minutes(feed: BandFeed, t0_ms: int, t1_ms: int) -> list[tuple[int, int, int, int]]:
    """(kind, intensity, steps, hr) for each minute of [t0_ms, t1_ms) (whole minutes): heart rate where the
    model has a reading (0xFF otherwise), light/deep sleep from the model's spans (REM reads as light: these
    bands report no REM), the second and later minutes of a sleep run written as "no change"."""
    n = (t1_ms - t0_ms) // MINUTE_MS
    try:
        hr = np.asarray(feed.heart_rate_1min(t0_ms, t1_ms))
    except ValueError:
        hr = np.zeros(n, dtype=np.int64)
    stage = [""] * n
    for span in feed.sleep_spans():
        if span.end_ms <= t0_ms or span.start_ms >= t1_ms or str(span.stage) == "awake":
            continue
        name = "deep" if str(span.stage) == "deep" else "light"
        first = max(0, -(-(span.start_ms - t0_ms) // MINUTE_MS))
        last = min(n, (span.end_ms - t0_ms) // MINUTE_MS)
        for i in range(first, last):
            stage[i] = name
    out = []
    for i in range(n):
        bpm = int(hr[i]) if i < len(hr) else 0
        measured = 10 <= bpm <= 250
        if stage[i]:
            kind = KIND_DEEP if stage[i] == "deep" else KIND_LIGHT
            if i > 0 and stage[i - 1] == stage[i] and i % 2:
                kind = KIND_NO_CHANGE
            out.append((kind, 5, 0, bpm if measured else 0xFF))
        elif measured:
            out.append((KIND_ACTIVITY, 30, (i * 7) % 40, bpm))
        else:
            out.append((KIND_NOT_WORN, 0, 0, 0xFF))
    return out


def _bad_counter(packet: bytes) -> bytes:
    """A malformed activity packet for fault injection: its counter skips ahead."""
    return bytes([(packet[0] + 7) & 0xFF]) + packet[1:]


class _Link:
    """What the band remembers about one connection (forgotten when it ends)."""

    def __init__(self) -> None:
        self.random: bytes | None = None
        self.authenticated = False
        self.round: tuple[int, int] | None = None  # (start_ms, minutes) announced, not yet sent
        self.sent_until_ms: int | None = None  # end of the last round sent (what an ack drops)


class EmulatedBand(EmulatedPeripheral):
    def __init__(
        self,
        *,
        feed: BandFeed,
        auth_key: bytes,
        now_ms: Callable[[], int] = wall_clock_ms,
        name: str = "Mi Smart Band 5",
        address: str | None = None,
        utc_offset_ms: int = 0,
        history_days: int = 7,
        round_minutes: int = 360,
        battery_pct: int = 71,
        live_interval_s: float = 1.0,
        firmware: str = "1.0.2.20",
        advertising_interval_ms: float = 20.0,
        rssi_dbm: int = -60,
        seed: int = 0,
    ) -> None:
        super().__init__(name=name, address=address, advertising_interval_ms=advertising_interval_ms,
                         rssi_dbm=rssi_dbm, seed=seed)  # fmt: skip
        if len(auth_key) != huami.KEY_BYTES:
            raise ValueError("a band's auth key has 16 bytes")
        self.feed = feed
        self.auth_key = auth_key
        self.now_ms = now_ms
        self.utc_offset_ms = utc_offset_ms
        self.history_days = history_days
        self.round_minutes = round_minutes
        self.battery_pct = battery_pct
        self.live_interval_s = live_interval_s
        self.firmware = firmware
        self.sample_size = huami.sample_size(name)
        self.acked_until_ms: int | None = None  # data before this was acknowledged and dropped
        self.hr_interval_min = 0
        self.hr_during_sleep = False
        self.live_commands: list[bytes] = []
        self.auth_results: list[bool] = []
        self.rounds_sent = 0
        self.acks = 0
        self._links: dict[Connection, _Link] = {}
        self._live: dict[Connection, asyncio.Task[Any]] = {}
        self._rng_bytes = random.Random(seed)  # seeded: challenges are reproducible
        self.round_starts: list[int] = []
        self._auth: Characteristic[Any] | None = None
        self._fetch: Characteristic[Any] | None = None
        self._data: Characteristic[Any] | None = None
        self._hrm: Characteristic[Any] | None = None
        if len(self.advertising_data()) > MAX_LEGACY_ADV_BYTES:
            raise ValueError(f"advertising data for name {name!r} exceeds {MAX_LEGACY_ADV_BYTES} bytes")

    # -- GATT database --------------------------------------------------------------------------

    def build_services(self) -> list[Service]:
        notify, read = Characteristic.Properties.NOTIFY, Characteristic.Properties.READ
        write = Characteristic.Properties.WRITE | Characteristic.Properties.WRITE_WITHOUT_RESPONSE
        self._auth = Characteristic(huami.AUTH_UUID, write | notify, Characteristic.WRITEABLE,
                                    CharacteristicValue(write=self._on_auth_write))  # fmt: skip
        self._fetch = Characteristic(huami.FETCH_UUID, write | notify, Characteristic.WRITEABLE,
                                     CharacteristicValue(write=self._on_fetch_write))  # fmt: skip
        self._data = Characteristic(huami.ACTIVITY_DATA_UUID, notify, Characteristic.READABLE, b"")
        battery = Characteristic(huami.BATTERY_UUID, read, Characteristic.READABLE,
                                 CharacteristicValue(read=lambda _c: huami.encode_battery(self.battery_pct, False)))  # fmt: skip
        clock = Characteristic(huami.CURRENT_TIME_UUID, read | Characteristic.Properties.WRITE,
                               Characteristic.READABLE | Characteristic.WRITEABLE,
                               CharacteristicValue(read=self._read_time, write=self._write_time))  # fmt: skip
        self._hrm = Characteristic(hrs.HEART_RATE_MEASUREMENT_UUID, notify, Characteristic.Permissions(0), b"")
        control = Characteristic(hrs.HEART_RATE_CONTROL_POINT_UUID, Characteristic.Properties.WRITE,
                                 Characteristic.WRITEABLE, CharacteristicValue(write=self._on_hr_control))  # fmt: skip
        return [
            Service(huami.SERVICE_UUID, [self._fetch, self._data, battery, clock]),
            Service(huami.AUTH_SERVICE_UUID, [self._auth]),
            Service(hrs.HEART_RATE_SERVICE_UUID, [self._hrm, control]),
            DeviceInformationService(manufacturer_name="Huami (emulated)", model_number=self.name,
                                     firmware_revision=self.firmware),  # fmt: skip
        ]

    def advertising_data(self) -> bytes:
        return bytes(AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
            (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, (0xFEE0).to_bytes(2, "little")),
        ]))  # fmt: skip

    # -- connections ----------------------------------------------------------------------------

    def on_connected(self, connection: Connection) -> None:
        self._links[connection] = _Link()  # a fresh conversation: nothing from an earlier one survives

    def on_disconnected(self, connection: Connection, reason: int) -> None:
        self._links.pop(connection, None)
        task = self._live.pop(connection, None)
        if task is not None:
            task.cancel()

    def _link(self, connection: Connection) -> _Link:
        return self._links.setdefault(connection, _Link())

    # -- clock ----------------------------------------------------------------------------------

    def local_now(self) -> dt.datetime:
        tz = dt.timezone(dt.timedelta(milliseconds=self.utc_offset_ms))
        return dt.datetime.fromtimestamp(self.now_ms() / 1000, tz)

    def _read_time(self, _connection: Connection) -> bytes:
        return huami.encode_current_time(self.local_now())

    def _write_time(self, connection: Connection, value: bytes) -> None:
        try:
            local = huami.decode_current_time(bytes(value))
        except DecodeError:
            return
        offset = local.utcoffset() or dt.timedelta(0)
        self.utc_offset_ms = round(offset.total_seconds() * 1000 / QUARTER_HOUR_MS) * QUARTER_HOUR_MS

    # -- auth -----------------------------------------------------------------------------------

    def _on_auth_write(self, connection: Connection, value: bytes) -> None:
        self.spawn(self._answer_auth(connection, bytes(value)), name=f"{self.name}-auth")

    async def _answer_auth(self, connection: Connection, value: bytes) -> None:
        assert self._auth is not None
        link = self._link(connection)
        try:
            step, payload = huami.decode_auth_request(value)
        except DecodeError:
            return
        if step == 0x02:
            link.random = bytes(self._rng_bytes.getrandbits(8) for _ in range(16))
            link.authenticated = False
            await self.send_notification(connection, self._auth, bytes([huami.RESPONSE, 0x82, 0x01]) + link.random)
        elif step == 0x03 and link.random is not None:
            ok = payload == huami.encrypt_random(self.auth_key, link.random)
            link.authenticated, link.random = ok, None
            self.auth_results.append(ok)
            status = huami.STATUS_OK if ok else huami.AUTH_STATUS_FAILED
            await self.send_notification(connection, self._auth, bytes([huami.RESPONSE, 0x83, status]))

    # -- fetch ----------------------------------------------------------------------------------

    def oldest_ms(self) -> int:
        now = self.now_ms() // MINUTE_MS * MINUTE_MS
        oldest = now - self.history_days * DAY_MS
        return oldest if self.acked_until_ms is None else max(oldest, self.acked_until_ms)

    def _on_fetch_write(self, connection: Connection, value: bytes) -> None:
        self.spawn(self._answer_fetch(connection, bytes(value)), name=f"{self.name}-fetch")

    async def _answer_fetch(self, connection: Connection, value: bytes) -> None:
        assert self._fetch is not None and self._data is not None
        link = self._link(connection)
        if not value or self.faults.is_silenced(value[0]):
            return
        if not link.authenticated:
            await self.send_notification(connection, self._fetch, bytes([huami.RESPONSE, value[0], 0x02]))
            return
        if value[0] == huami.FETCH_START:
            try:
                _kind, since = huami.decode_fetch_start_request(value)
            except DecodeError:
                return
            start_ms = max(int(since.timestamp() * 1000) // MINUTE_MS * MINUTE_MS, self.oldest_ms())
            end_ms = min(self.now_ms() // MINUTE_MS * MINUTE_MS, start_ms + self.round_minutes * MINUTE_MS)
            minutes = max(0, (end_ms - start_ms) // MINUTE_MS)
            link.round = (start_ms, minutes) if minutes else None
            if minutes:
                self.round_starts.append(start_ms)
            tz = dt.timezone(dt.timedelta(milliseconds=self.utc_offset_ms))
            start = dt.datetime.fromtimestamp(start_ms / 1000, tz) if minutes else None
            await self.send_notification(connection, self._fetch, huami.encode_fetch_start_reply(minutes, start))
        elif value[0] == huami.FETCH_DATA and link.round is not None:
            start_ms, minutes = link.round
            link.round = None
            payload = act.encode_samples(band_minutes(self.feed, start_ms, start_ms + minutes * MINUTE_MS),
                                         self.sample_size)  # fmt: skip
            per_packet = connection.att_mtu - _ATT_NOTIFICATION_OVERHEAD - 1
            for packet in act.encode_stream(payload, per_packet):
                if not await self.send_notification(connection, self._data, packet, malformed=_bad_counter):
                    return
            link.sent_until_ms = start_ms + minutes * MINUTE_MS
            self.rounds_sent += 1
            await self.send_notification(connection, self._fetch, bytes([huami.RESPONSE, huami.FETCH_DATA, 0x01]))
        elif value[0] == huami.FETCH_ACK:
            if link.sent_until_ms is not None:
                self.acked_until_ms = max(self.acked_until_ms or 0, link.sent_until_ms)
                self.acks += 1
            await self.send_notification(connection, self._fetch, bytes([huami.RESPONSE, huami.FETCH_ACK, 0x01]))

    # -- heart rate -----------------------------------------------------------------------------

    def _on_hr_control(self, connection: Connection, value: bytes) -> None:
        command = bytes(value)
        self.live_commands.append(command)
        if command[:1] == b"\x14" and len(command) >= 2:
            self.hr_interval_min = command[1]
        elif command == huami.HR_SLEEP_ON:
            self.hr_during_sleep = True
        elif command == huami.HR_CONTINUOUS_ON and connection not in self._live:
            self._live[connection] = self.spawn(self._stream_live(connection), name=f"{self.name}-hr")
        elif command == huami.HR_CONTINUOUS_OFF:
            task = self._live.pop(connection, None)
            if task is not None:
                task.cancel()

    def live_bpm(self, window_ms: int = 5_000) -> int | None:
        t1 = self.now_ms()
        ticks = beats_between(self.feed, t1 - window_ms, t1)
        if not ticks or sum(ticks) <= 0:
            return None
        return int(min(0xFF, round(60 * 1024 * len(ticks) / sum(ticks))))

    async def _stream_live(self, connection: Connection) -> None:
        assert self._hrm is not None
        while connection in self.connections:
            await asyncio.sleep(self.live_interval_s)
            bpm = self.live_bpm()
            if bpm is None:
                continue
            value = hrs.encode_heart_rate_measurement(
                hrs.HeartRateMeasurement(bpm=bpm, sensor_contact=None, energy_expended_kj=None, rr_ticks_1024=()))
            if not await self.send_notification(connection, self._hrm, value):
                if connection not in self.connections:
                    return
