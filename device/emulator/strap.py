"""Emulated heart-rate chest strap: a bumble peripheral speaking the standard Heart Rate Service.

Owns `EmulatedStrap`, the `RRFeed` protocol it reads beats from, and `SentMeasurement`, its record
of every Heart Rate Measurement it notified (so tests compare received RR in raw 1/1024 s ticks).

GATT layout (research/ble.md §1–§2):

* Heart Rate 0x180D: Heart Rate Measurement 0x2A37 NOTIFY only — a read is answered with ATT error
  READ_NOT_PERMITTED, as the SIG excludes reads (bumble itself would serve it, research/ble.md
  §1.5, so a collector that reads HRM fails here as on a conforming strap); Body Sensor Location
  0x2A38 READ (chest).
* Battery 0x180F: Battery Level 0x2A19 READ + NOTIFY.
* Device Information 0x180A: manufacturer, model, serial, hardware and firmware strings.

Streaming: once a central enables HRM notifications, every `notify_interval_s` of real time the
strap asks the feed for the beats of the elapsed interval of *its clock* (`now_ms`, injectable,
e.g. `SimClock(speed=50)`), and notifies bpm plus those RR intervals, oldest first, splitting
them over several notifications when they exceed the ATT payload (9 RR at the default MTU).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np
from bumble import att
from bumble.core import AdvertisingData
from bumble.device import Connection
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.profiles.device_information_service import DeviceInformationService

from device.emulator.link import EmulatedPeripheral, wall_clock_ms
from device.protocols.hrs import (
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    BodySensorLocation,
    HeartRateMeasurement,
    encode_heart_rate_measurement,
)

logger = logging.getLogger(__name__)

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
TEST_COMPANY_ID = 0xFFFF  # SIG: "reserved for internal use / testing"; never a real vendor
MAX_LEGACY_ADV_BYTES = 31  # LE legacy advertising payload (Core Vol 6 Part B 2.3.1)
_ATT_NOTIFICATION_OVERHEAD = 3  # opcode + handle: payload = ATT_MTU - 3


class RRFeed(Protocol):
    """Where the strap's beats come from; `tracker.physiology.Simulation` satisfies it.

    `rr_ticks(t0_ms, t1_ms)` returns the beats whose time lies in [t0_ms, t1_ms): `t_ms` (int64
    epoch ms of each beat, ascending) and `ticks`, the RR interval ending at that beat in 1/1024 s.
    """

    def rr_ticks(self, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray]: ...


class SentMeasurement(NamedTuple):
    """One Heart Rate Measurement as notified: strap-clock time, bpm, RR in 1/1024 s ticks."""

    t_ms: int
    bpm: int
    rr_ticks: tuple[int, ...]


def beats_between(feed: RRFeed, t0_ms: int, t1_ms: int) -> tuple[int, ...]:
    """RR ticks of the feed's beats in [t0_ms, t1_ms), clamped to uint16; none outside its range.

    `Simulation.rr_ticks` raises ValueError outside the simulated span; a device past the end of
    the model simply stops seeing beats (as a strap taken off does).
    """
    try:
        _t_ms, ticks = feed.rr_ticks(t0_ms, t1_ms)
    except ValueError:
        logger.debug("feed has no beats for [%d, %d)", t0_ms, t1_ms)
        return ()
    return tuple(int(min(max(x, 0), 0xFFFF)) for x in np.asarray(ticks).tolist())


def truncate_measurement(value: bytes) -> bytes:
    """A malformed HRM for fault injection: an odd RR byte count, or the RR flag with no RR.

    Both are rejected by a conforming decoder (the second is Nordic's vector N5).
    """
    if value[0] & 0x10 and len(value) > 2:
        return value[:-1]
    return bytes([value[0] | 0x10]) + value[1:]


def _reject_read(connection: Connection) -> bytes:
    # HRM: "Read: Excluded" (SIG XML); answer like a conforming server.
    raise att.ATT_Error(att.ErrorCode.READ_NOT_PERMITTED)


def _reject_write(connection: Connection, value: bytes) -> None:
    # bumble's server does not check write permissions ("TODO: check permissions" in
    # gatt_server.py `on_att_write_request`): a static value would simply be overwritten.
    raise att.ATT_Error(att.ErrorCode.WRITE_NOT_PERMITTED)


class EmulatedStrap(EmulatedPeripheral):
    """A chest strap with HRS (+RR), Battery and Device Information, fed by an `RRFeed`."""

    def __init__(
        self,
        *,
        feed: RRFeed,
        now_ms: Callable[[], int] = wall_clock_ms,
        name: str = "EMU Strap 0001",
        address: str | None = None,
        notify_interval_s: float = 1.0,
        battery_pct: int = 87,
        sensor_contact: bool | None = True,
        manufacturer: str = "Tracker Emulation",
        model: str = "HRM-1",
        serial: str = "EMU-0001",
        hardware: str = "rev A",
        firmware: str = "1.0.0",
        advertising_interval_ms: float = 20.0,
        rssi_dbm: int = -55,
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
        self.notify_interval_s = notify_interval_s
        self.burst = 1  # measurements per burst (fault injection: bursty delivery)
        self._hold_until = 0.0
        self.battery_pct = battery_pct
        self.sensor_contact = sensor_contact
        self.info = {
            "manufacturer_name": manufacturer,
            "model_number": model,
            "serial_number": serial,
            "hardware_revision": hardware,
            "firmware_revision": firmware,
        }
        self.sent: list[SentMeasurement] = []
        self._streams: dict[Connection, asyncio.Task[Any]] = {}
        self._last_bpm: int | None = None
        self._hrm: Characteristic[Any] | None = None
        self._battery: Characteristic[Any] | None = None
        if len(self.advertising_data()) > MAX_LEGACY_ADV_BYTES:
            raise ValueError(f"advertising data for name {name!r} exceeds {MAX_LEGACY_ADV_BYTES} bytes")

    # -- GATT database --------------------------------------------------------------------------

    def build_services(self) -> list[Service]:
        self._hrm = Characteristic(
            HEART_RATE_MEASUREMENT_UUID,
            Characteristic.Properties.NOTIFY,
            Characteristic.Permissions(0),
            CharacteristicValue(read=_reject_read),
        )
        self._hrm.on(Characteristic.EVENT_SUBSCRIPTION, self._on_hrm_subscription)
        location = Characteristic(
            BODY_SENSOR_LOCATION_UUID,
            Characteristic.Properties.READ,
            Characteristic.READABLE,
            CharacteristicValue(
                read=lambda _connection: bytes([BodySensorLocation.CHEST]), write=_reject_write
            ),
        )
        self._battery = Characteristic(
            BATTERY_LEVEL_UUID,
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(
                read=lambda _connection: bytes([self.battery_pct]), write=_reject_write
            ),
        )
        return [
            Service(HEART_RATE_SERVICE_UUID, [self._hrm, location]),
            Service(BATTERY_SERVICE_UUID, [self._battery]),
            DeviceInformationService(**self.info),
        ]

    def advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    # LE General Discoverable, BR/EDR not supported
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        (0x180D).to_bytes(2, "little"),
                    ),
                    (
                        AdvertisingData.MANUFACTURER_SPECIFIC_DATA,
                        TEST_COMPANY_ID.to_bytes(2, "little") + b"\x01",
                    ),
                ]
            )
        )

    # -- battery --------------------------------------------------------------------------------

    async def set_battery(self, pct: int) -> None:
        """Change the battery level and notify subscribed centrals."""
        self.battery_pct = pct
        if self._battery is None:
            return
        for connection in list(self.connections):
            if self.is_subscribed(connection, self._battery):
                await self.send_notification(connection, self._battery, bytes([pct]))

    # -- streaming ------------------------------------------------------------------------------

    def _on_hrm_subscription(self, bearer: Any, notify_enabled: bool, indicate_enabled: bool) -> None:
        connection = bearer  # plain ATT bearer == the ACL Connection (no EATT here)
        running = self._streams.get(connection)
        if notify_enabled and connection in self.connections and running is None:
            self._streams[connection] = self.spawn(self._stream(connection), name=f"{self.name}-hrm")
        elif not notify_enabled and running is not None:
            del self._streams[connection]
            running.cancel()

    def on_disconnected(self, connection: Connection, reason: int) -> None:
        task = self._streams.pop(connection, None)
        if task is not None:
            task.cancel()

    def hold(self, seconds: float) -> None:
        """Hold notifications for `seconds` of real time, then send them all at once (a delayed batch)."""
        self._hold_until = time.monotonic() + seconds

    async def _stream(self, connection: Connection) -> None:
        assert self._hrm is not None
        pending: list[tuple[int, tuple[int, ...]]] = []
        try:
            t_prev = self.now_ms()
            while connection in self.connections:
                await asyncio.sleep(self.notify_interval_s)
                t_now = self.now_ms()
                pending.append((t_now, beats_between(self.feed, t_prev, t_now)))
                t_prev = t_now
                # `burst` > 1: measurements go out in bursts of that many, back to back, as a strap does
                # after a reconnect or when the host was busy; `hold()` delays a whole batch.
                if len(pending) < self.burst or time.monotonic() < self._hold_until:
                    continue
                batch, pending = pending, []
                for t_ms, rr in batch:
                    if not await self._notify_measurement(connection, t_ms, rr):
                        return
        finally:
            if self._streams.get(connection) is asyncio.current_task():
                del self._streams[connection]

    def _bpm_for(self, rr: Sequence[int]) -> int | None:
        total = sum(rr)
        if total > 0:
            # Mean rate over this interval's beats: 60 s × 1024 ticks/s × beats / ticks.
            self._last_bpm = max(1, min(0xFFFF, round(60 * 1024 * len(rr) / total)))
        return self._last_bpm

    async def _notify_measurement(self, connection: Connection, t_ms: int, rr: tuple[int, ...]) -> bool:
        """Notify bpm + RR (split to fit the ATT payload); False when the link is gone."""
        assert self._hrm is not None
        bpm = self._bpm_for(rr)
        if bpm is None:
            return True  # no beat seen yet: nothing honest to report
        payload = connection.att_mtu - _ATT_NOTIFICATION_OVERHEAD
        hr_bytes = 2 if bpm > 0xFF else 1
        max_rr = max(1, (payload - 1 - hr_bytes) // 2)
        chunks = [rr[i : i + max_rr] for i in range(0, len(rr), max_rr)] or [()]
        for chunk in chunks:
            value = encode_heart_rate_measurement(
                HeartRateMeasurement(
                    bpm=bpm,
                    sensor_contact=self.sensor_contact,
                    energy_expended_kj=None,
                    rr_ticks_1024=chunk,
                )
            )
            sent = await self.send_notification(
                connection, self._hrm, value, malformed=truncate_measurement
            )
            if not sent:
                return False
            self.sent.append(SentMeasurement(t_ms, bpm, chunk))
        return True
