"""The Bluetooth collector: scan, pair, capture and sync on bleak's public API.

Everything here runs on the process's one asyncio loop (bleak needs one loop for its lifetime).
Notification callbacks only enqueue; decoding happens in consumer coroutines; database writes go off the
loop through `asyncio.to_thread` into tracker's ingest path, one transaction per batch. Malformed packets
are counted and skipped. Every request has a timeout; a part of a sync that does not answer (e.g. a ring
without the sleep service) is recorded as unavailable and the rest goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import numpy as np
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from device import drivers
from device.beats import BeatClock, LiveBeat
from device.drivers.base import REQUEST_ERRORS, Driver, PairContext, SyncContext, SyncCounts
from device.link import BackendKwargs, LinkLost, NotifyQueue, NotInRange, RequestTimeout, connect, now_ms
from device.protocols import gatt_std, hrs
from device.protocols.errors import DecodeError
from tracker.analysis.artifacts import gate_rr
from tracker.clock import Clock
from tracker.config import BleConfig, CaptureConfig, SyncConfig
from tracker.devices import Devices
from tracker.errors import UserError
from tracker.ingest import Ingest, Provenance
from tracker.model import CaptureStatus, RunKind, RunStatus, Source
from tracker.ports import CaptureOutcome, ScanResult, SyncOutcome

logger = logging.getLogger(__name__)
FLUSH_INTERVAL_S = 2.0  # how often live samples are written during a capture
RECONNECT_BACKOFF_S = (0.2, 0.5, 1.0, 2.0, 4.0)


SYNC_RESUMES = 2  # a link lost mid-sync is reconnected this many times; the sync resumes from its cursors


def detect_family(name: str | None, service_uuids: list[str]) -> str | None:
    """Which supported family a device belongs to, from its advertisement."""
    driver = drivers.detect(name, service_uuids)
    return None if driver is None else driver.family


def beats_from_notification(received_ms: int, m: hrs.HeartRateMeasurement) -> list[LiveBeat]:
    """Beat times of one notification on its own (a fresh `BeatClock`): the newest beat ends at the
    receive time. A capture keeps one `BeatClock` so that later notifications follow the RR series."""
    return BeatClock().beats(received_ms, m.rr_ticks_1024)


class Collector:
    """Scan, pair, capture and sync. One instance per process, used from the BLE loop only."""

    def __init__(
        self,
        *,
        devices: Devices,
        ingest: Ingest,
        person_tz: Callable[[int], str],
        clock: Clock,
        ble: BleConfig,
        sync: SyncConfig,
        capture: CaptureConfig,
        backend: BackendKwargs,
    ) -> None:
        self.devices = devices
        self.ingest = ingest
        self.person_tz = person_tz
        self.clock = clock
        self.ble = ble
        self.sync_cfg = sync
        self.capture_cfg = capture
        self.backend = backend
        self._locks: dict[int, asyncio.Lock] = {}  # one operation per device at a time

    def _lock(self, device_id: int) -> asyncio.Lock:
        return self._locks.setdefault(device_id, asyncio.Lock())

    # -- scan -------------------------------------------------------------------------------------

    async def scan(self, seconds: float) -> list[ScanResult]:
        found = await BleakScanner.discover(timeout=seconds, return_adv=True, **self.backend.scanner)
        results = []
        for device, adv in found.values():
            name = adv.local_name or device.name
            results.append(
                ScanResult(device.address, name, adv.rssi, detect_family(name, adv.service_uuids),
                           tuple(adv.service_uuids))  # fmt: skip
            )
        return sorted(results, key=lambda r: (r.family is None, -(r.rssi or -999)))

    # -- pair -------------------------------------------------------------------------------------

    async def pair(self, address: str, person_id: int, auth_key: bytes | None = None) -> int:
        """Connect, read Device Information and battery, do the family's pairing step (a band's key), store
        the device for `person_id`."""
        device = await BleakScanner.find_device_by_address(address, timeout=self.ble.scan_s, **self.backend.scanner)
        if device is None:
            raise NotInRange(f"{address} not found: is it on, near, and not connected to a phone?")
        client = await connect(address, self.backend, scan_timeout_s=self.ble.scan_s, attempts=self.ble.connect_attempts)
        try:
            uuids = [s.uuid for s in client.services]
            driver = drivers.detect(device.name, uuids)
            if driver is None:
                raise NotInRange(f"{address} offers neither the Heart Rate Service nor a supported vendor protocol")
            info: dict[str, str] = {}
            for field_name, uuid in gatt_std.DIS_STRING_UUIDS.items():
                if client.services.get_characteristic(uuid) is None:
                    continue
                try:
                    raw = await asyncio.wait_for(client.read_gatt_char(uuid), self.ble.request_timeout_s)
                    info[field_name] = gatt_std.decode_dis_string(bytes(raw))
                except (DecodeError, BleakError, TimeoutError, asyncio.TimeoutError):
                    continue  # every DIS field is optional
            tz = await asyncio.to_thread(self.person_tz, person_id)
            extra = await driver.on_pair(PairContext(client, self.ble.request_timeout_s, tz, auth_key,
                                                     configure_heart_rate=self.ble.configure_band_heart_rate))  # fmt: skip
            battery = await self._read_battery(client, driver)
        finally:
            await client.disconnect()
        stored = await asyncio.to_thread(
            self.devices.upsert, device.address, person_id, name=device.name or address, family=driver.family,
            manufacturer=info.get("manufacturer"), model=info.get("model"), serial=info.get("serial"),
            firmware=info.get("firmware"), **extra,
        )  # fmt: skip
        if battery is not None:
            await asyncio.to_thread(self.devices.set_battery, stored.id, battery)
        logger.info("paired %s (%s) as device %s for person %s", address, driver.family, stored.id, person_id)
        return stored.id

    async def _read_battery(self, client: BleakClient, driver: Driver) -> int | None:
        try:
            return await driver.battery(client, self.ble.request_timeout_s)
        except REQUEST_ERRORS as exc:
            logger.info("battery not available: %s", exc)
        return None

    # -- capture ----------------------------------------------------------------------------------

    async def capture(self, device_id: int, seconds: float, capture_id: int) -> CaptureOutcome:
        """A live window of heart rate and RR from a Heart Rate Service device, stored as a capture."""
        async with self._lock(device_id):
            return await self._capture(device_id, seconds, capture_id)

    async def _capture(self, device_id: int, seconds: float, capture_id: int) -> CaptureOutcome:
        dev = await asyncio.to_thread(self.devices.get, device_id)
        if dev.person_id is None:
            raise NotInRange(f"device {device_id} belongs to nobody")
        run_id = await asyncio.to_thread(self.devices.start_run, RunKind.CAPTURE, device_id, dev.person_id, f"capture {capture_id}")
        stored = {"rr": 0, "hr": 0}
        try:
            return await self._capture_in_run(dev.person_id, dev.address, dev.family, device_id, run_id, seconds,
                                              capture_id, stored)  # fmt: skip
        except Exception as exc:
            # Whatever went wrong, the capture and its run end `failed` with the error and what was stored.
            message = _describe(exc)
            await asyncio.to_thread(self.devices.update_capture, capture_id, ended_ms=self.clock.now_ms(),
                                    status=str(CaptureStatus.FAILED), message=message, run_id=run_id)  # fmt: skip
            await asyncio.to_thread(self.devices.finish_run, run_id, RunStatus.FAILED, rr_count=stored["rr"],
                                    heart_rate_count=stored["hr"], error=message)  # fmt: skip
            raise

    async def _capture_in_run(self, person_id: int, address: str, family: str, device_id: int, run_id: int,
                              seconds: float, capture_id: int, stored: dict[str, int]) -> CaptureOutcome:  # fmt: skip
        prov = Provenance(person_id, Source.LIVE, device_id, run_id)
        start_ms = self.clock.now_ms()
        end_ms = start_ms + round(seconds * 1000)
        await asyncio.to_thread(self.devices.update_capture, capture_id, started_ms=start_ms, device_id=device_id)
        driver = drivers.driver_for(family)
        if not driver.capabilities.live_capture:
            message = f"a {family} device has no live heart rate: capture with a chest strap"
            await asyncio.to_thread(self.devices.update_capture, capture_id, ended_ms=self.clock.now_ms(),
                                    status=str(CaptureStatus.FAILED), message=message, run_id=run_id)  # fmt: skip
            await asyncio.to_thread(self.devices.finish_run, run_id, RunStatus.FAILED, error=message)
            return CaptureOutcome(capture_id, str(CaptureStatus.FAILED), message=message)
        auth_key = await asyncio.to_thread(self.devices.auth_key, device_id) if driver.needs_auth_key else None
        beat_clock = BeatClock()
        notes = NotifyQueue()
        rr_ms_all: list[float] = []
        pending_rr: list[tuple[int, float]] = []
        pending_hr: list[tuple[int, int]] = []
        counts = {"malformed": 0, "hr": 0, "connected": 0}
        gaps: list[str] = []

        async def flush() -> None:
            rr, hr = pending_rr[:], pending_hr[:]
            pending_rr.clear()
            pending_hr.clear()
            if rr:
                stored["rr"] += await asyncio.to_thread(self.ingest.rr, rr, prov)
            if hr:
                stored["hr"] += await asyncio.to_thread(self.ingest.heart_rate, hr, prov)

        def consume(received_ms: int, data: bytes) -> None:
            try:
                m = hrs.decode_heart_rate_measurement(data)
            except DecodeError:
                counts["malformed"] += 1
                return
            pending_hr.append((received_ms, m.bpm))
            counts["hr"] += 1
            for beat in beat_clock.beats(received_ms, m.rr_ticks_1024):
                if beat.t_ms < start_ms:
                    continue  # RR that ended before the window started
                rr_ms = beat.rr_ticks * 1000 / 1024
                pending_rr.append((beat.t_ms, rr_ms))
                rr_ms_all.append(rr_ms)

        attempt = 0
        message = None
        while self.clock.now_ms() < end_ms:
            gone = asyncio.Event()
            try:
                client = await connect(address, self.backend, scan_timeout_s=min(self.ble.scan_s, max(1.0, (end_ms - self.clock.now_ms()) / 1000)),
                                       attempts=self.ble.connect_attempts, on_disconnect=lambda _c: gone.set())  # fmt: skip
            except NotInRange as exc:
                message = str(exc)
                if counts["connected"] == 0:
                    break  # never reached it: not in range
                gaps.append(f"reconnect failed: {exc}")
                await asyncio.sleep(RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)])
                attempt += 1
                continue
            counts["connected"] += 1
            attempt = 0
            beat_clock.reanchor()  # a new link: beats were lost in between
            try:
                await driver.prepare_live(client, self.ble.request_timeout_s, auth_key)
                await client.start_notify(hrs.HEART_RATE_MEASUREMENT_UUID, notes.callback)  # subscribe, never read
                last_flush = now_ms()
                while self.clock.now_ms() < end_ms and not gone.is_set():
                    wait_s = min(0.25, max(0.0, (end_ms - self.clock.now_ms()) / 1000))
                    try:
                        received_ms, data = await notes.get(wait_s)
                        consume(received_ms, data)
                    except RequestTimeout:
                        pass
                    if now_ms() - last_flush >= FLUSH_INTERVAL_S * 1000:
                        await flush()
                        last_flush = now_ms()
                if gone.is_set() and self.clock.now_ms() < end_ms:
                    gaps.append(f"link lost at {self.clock.now_ms() - start_ms} ms")
            except (BleakError, RequestTimeout, TimeoutError, asyncio.TimeoutError) as exc:
                gaps.append(f"link error: {exc}")
            finally:
                while not notes.queue.empty():
                    consume(*notes.queue.get_nowait())
                if client.is_connected:
                    try:
                        await client.stop_notify(hrs.HEART_RATE_MEASUREMENT_UUID)
                        await driver.finish_live(client, self.ble.request_timeout_s)
                    except (BleakError, TimeoutError, asyncio.TimeoutError):
                        pass
                    await client.disconnect()
        await flush()
        window_s = (end_ms - start_ms) / 1000
        if counts["connected"] == 0:
            status = CaptureStatus.NOT_IN_RANGE
            beats, artifact_pct, missing_s = 0, None, window_s
        else:
            beats = len(rr_ms_all)
            covered_s = float(np.sum(rr_ms_all)) / 1000 if rr_ms_all else 0.0
            missing_s = round(max(0.0, window_s - covered_s), 1)
            gate = gate_rr(np.asarray(rr_ms_all, dtype=float), window_s=window_s) if beats >= 2 else None
            artifact_pct = None if gate is None else round(gate.flagged_pct, 2)
            good = (
                gate is not None
                and gate.flagged_pct <= self.capture_cfg.max_artifact_pct
                and 100 * covered_s / window_s >= self.capture_cfg.min_coverage_pct
            )
            if not driver.capabilities.live_rr:
                # A band sends bpm without RR: the capture is heart rate only, fine when it has readings.
                good = counts["hr"] > 0
                gaps.append("heart rate only: this device sends no RR intervals; HRV needs a chest strap")
            status = CaptureStatus.OK if good else CaptureStatus.INSUFFICIENT_QUALITY
            message = "; ".join(gaps) or None
        await asyncio.to_thread(
            self.devices.update_capture, capture_id, ended_ms=self.clock.now_ms(), status=str(status),
            beats=beats, artifact_pct=artifact_pct, missing_s=missing_s, message=message, run_id=run_id,
        )  # fmt: skip
        run_status = RunStatus.OK if status == CaptureStatus.OK else (
            RunStatus.FAILED if status == CaptureStatus.NOT_IN_RANGE else RunStatus.PARTIAL)  # fmt: skip
        await asyncio.to_thread(
            self.devices.finish_run, run_id, run_status, rr_count=beats, heart_rate_count=counts["hr"],
            malformed_count=counts["malformed"], detail=message if status != CaptureStatus.NOT_IN_RANGE else None,
            error=message if status == CaptureStatus.NOT_IN_RANGE else None,
        )  # fmt: skip
        return CaptureOutcome(capture_id, str(status), beats, counts["hr"], artifact_pct, missing_s, counts["malformed"], message)

    # -- sync -------------------------------------------------------------------------------------

    async def sync(self, device_id: int) -> SyncOutcome:
        async with self._lock(device_id):
            return await self._sync(device_id)

    async def _sync(self, device_id: int) -> SyncOutcome:
        dev = await asyncio.to_thread(self.devices.get, device_id)
        if dev.person_id is None:
            raise NotInRange(f"device {device_id} belongs to nobody")
        driver = drivers.driver_for(dev.family)
        run_id = await asyncio.to_thread(self.devices.start_run, RunKind.SYNC, device_id, dev.person_id, "sync")
        counts = SyncCounts()
        auth_key = await asyncio.to_thread(self.devices.auth_key, device_id) if driver.needs_auth_key else None
        notes: list[str] = []
        try:
            for attempt in range(SYNC_RESUMES + 1):
                gone = asyncio.Event()
                try:
                    client = await connect(dev.address, self.backend, scan_timeout_s=self.ble.scan_s,
                                           attempts=self.ble.connect_attempts, on_disconnect=lambda _c: gone.set())  # fmt: skip
                except NotInRange as exc:
                    counts.error = f"not in range: {exc}"
                    break
                ctx = SyncContext(
                    client=client, devices=self.devices, ingest=self.ingest, device_id=device_id,
                    person_id=dev.person_id, tz=self.person_tz(dev.person_id), run_id=run_id, clock=self.clock,
                    timeout_s=self.ble.request_timeout_s, first_sync_days=self.sync_cfg.first_sync_days, gone=gone,
                    device_name=dev.name, auth_key=auth_key, keep_on_device=self.ble.keep_data_on_band, counts=counts,
                )  # fmt: skip
                try:
                    await driver.sync(ctx)
                    counts.error = None
                    break
                except (LinkLost, EOFError, ConnectionError, BleakError) as exc:
                    # The link went away mid-sync: reconnect and resume from the committed cursors.
                    counts.error = _describe(exc)
                    if attempt < SYNC_RESUMES:
                        notes.append(f"link lost ({counts.error}); reconnected and resumed")
                except (RequestTimeout, TimeoutError, asyncio.TimeoutError, DecodeError, UserError) as exc:
                    counts.error = _describe(exc)
                    break
                finally:
                    await _disconnect(client)
        except Exception as exc:
            # Whatever else went wrong, the run ends `failed` with the error and what it really stored.
            counts.error = _describe(exc)
            await asyncio.to_thread(self._finish_sync, run_id, counts, notes, driver)
            raise
        status = await asyncio.to_thread(self._finish_sync, run_id, counts, notes, driver)
        return SyncOutcome(run_id, device_id, str(status), counts.heart_rate, 0, counts.sleep, counts.malformed,
                           tuple(counts.unavailable + notes), counts.error, device_hrv=counts.hrv_estimates)  # fmt: skip

    def _finish_sync(self, run_id: int, counts: SyncCounts, notes: list[str], driver: Driver) -> RunStatus:
        if counts.error:
            status = RunStatus.FAILED
        elif counts.unavailable and driver.capabilities.history_sync:
            status = RunStatus.PARTIAL
        else:
            status = RunStatus.OK
        detail = "; ".join(counts.unavailable + notes) or None
        self.devices.finish_run(run_id, status, heart_rate_count=counts.heart_rate, sleep_count=counts.sleep,
                                malformed_count=counts.malformed, detail=detail, error=counts.error)  # fmt: skip
        return status


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


async def _disconnect(client: BleakClient) -> None:
    try:
        if client.is_connected:
            await client.disconnect()
    except (BleakError, TimeoutError, asyncio.TimeoutError):
        pass
