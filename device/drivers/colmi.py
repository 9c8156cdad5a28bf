"""The Colmi R0x ring driver: set its clock, battery, the heart-rate log day by day, the sleep history, the
ring's own HRV values day by day.

Resumable without gaps or duplicates: each day's log is written in its own transaction together with the
"hr_log" cursor (the start of that day), the sleep nights with the "sleep" cursor (the end of the newest
night), each day of HRV values with the "hrv_log" cursor, so an interrupted sync restarts from the last
committed day; rows already stored are skipped by the natural keys. Today's logs are partial until
midnight, so the cursors stay at today's start and today is fetched again next time.

The ring's HRV values (command 0x39, `device.protocols.colmi_hrv`) are its own estimate with an
unpublished method: they go to `device_metric` as `MetricKind.DEVICE_HRV_MS`, never into RR or lnRMSSD.

The ring keeps a zone-less wall clock set from our set-time request; its "day start" values are that
wall clock's midnight encoded as if it were UTC. We convert with the person's UTC offset at sync time,
the same offset the ring was just given.
"""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import logging
from typing import Any

from bleak import BleakClient

from device.drivers.base import Capabilities, Driver, SyncContext, SyncCounts
from device.link import NotifyQueue, RequestTimeout
from device.protocols import colmi, colmi_hrv
from device.protocols.errors import DecodeError
from tracker.ingest import CursorUpdate, Provenance
from tracker.model import MetricKind, Source, Stage
from tracker.timefmt import zone

logger = logging.getLogger(__name__)
DAY_MS = 86_400_000
MINUTE_MS = 60_000
HR_LOG_ATTEMPTS = 3  # a day whose reply was garbled (bad checksum) is asked for again
SLEEP_ATTEMPTS = 3
HRV_ATTEMPTS = 3
STAGE_NAMES = {"light": Stage.LIGHT, "deep": Stage.DEEP, "rem": Stage.REM, "awake": Stage.AWAKE}


class ColmiSession:
    """Request/response over the ring's command channel (16-byte packets, answers by notification)."""

    def __init__(self, client: BleakClient, timeout_s: float, gone: asyncio.Event | None = None) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.gone = gone
        self.notes = NotifyQueue(gone)
        self.malformed = 0
        self._subscribed = False

    async def subscribe(self) -> None:
        if not self._subscribed:
            await self.client.start_notify(colmi.NOTIFY_UUID, self.notes.callback)
            self._subscribed = True

    async def request(self, packet: bytes, command: int) -> bytes:
        """Send one request and return the first valid answer packet for `command`."""
        await self.subscribe()
        self.notes.drain()
        await self.client.write_gatt_char(colmi.WRITE_UUID, packet, response=False)
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise RequestTimeout(f"command 0x{command:02x}: no answer within {self.timeout_s:.0f} s")
            _t, data = await self.notes.get(remaining)
            try:
                got, _payload = colmi.parse_packet(data)
            except DecodeError:
                self.malformed += 1
                continue
            if got == command:
                return data

    async def battery(self) -> colmi.BatteryInfo:
        return colmi.decode_battery(await self.request(colmi.battery_request(), colmi.CMD_BATTERY))

    async def set_time(self, local_wall_clock: dt.datetime) -> None:
        await self.request(colmi.set_time_request(local_wall_clock), colmi.CMD_SET_TIME)

    async def hr_log(self, day_start_s: int) -> colmi.HeartRateLog:
        parser = colmi.HeartRateLogParser(day_start_s)
        log: colmi.HeartRateLog = await self._sequence(colmi.hr_log_request(day_start_s), colmi.CMD_HR_LOG, parser)
        return log

    async def hrv_day(self, days_ago: int) -> colmi_hrv.HrvDay:
        parser = colmi_hrv.HrvHistoryParser(days_ago)
        request = colmi_hrv.hrv_history_request(days_ago)
        day: colmi_hrv.HrvDay = await self._sequence(request, colmi_hrv.CMD_HRV_HISTORY, parser)
        return day

    async def _sequence(self, request: bytes, command: int, parser: Any) -> Any:
        """Send `request`, feed every `command` reply packet to `parser` until it returns a result."""
        await self.subscribe()
        self.notes.drain()
        await self.client.write_gatt_char(colmi.WRITE_UUID, request, response=False)
        while True:
            _t, data = await self.notes.get(self.timeout_s)
            try:
                got, _ = colmi.parse_packet(data)
            except DecodeError:
                # A corrupted packet (bad checksum): count and skip it. If it stood for a packet that is
                # now missing, the parser sees the gap in the sequence and the day is asked for again.
                self.malformed += 1
                continue
            if got != command:
                continue  # an unsolicited notice between log packets
            try:
                result = parser.feed(data)
            except DecodeError:
                self.malformed += 1
                raise
            if result is not None:
                return result

    async def sleep_history(self) -> list[colmi.SleepDay]:
        if self.client.services.get_characteristic(colmi.BIG_DATA_WRITE_UUID) is None:
            raise RequestTimeout("no big-data (sleep) service on this ring")
        big = NotifyQueue(self.gone)
        await self.client.start_notify(colmi.BIG_DATA_NOTIFY_UUID, big.callback)
        try:
            parser = colmi.SleepHistoryParser()
            await self.client.write_gatt_char(colmi.BIG_DATA_WRITE_UUID, colmi.sleep_history_request(), response=False)
            while True:
                _t, data = await big.get(self.timeout_s)
                try:
                    nights = parser.feed(data)
                except DecodeError:
                    self.malformed += 1
                    raise
                if nights is not None:
                    return nights
        finally:
            try:
                await self.client.stop_notify(colmi.BIG_DATA_NOTIFY_UUID)
            except Exception:  # the link may already be gone; nothing to undo then
                pass


class ColmiSync:
    """One sync of one ring; counts are updated as rows are committed (a failed sync reports them)."""

    def __init__(self, ctx: SyncContext) -> None:
        self.ctx = ctx

    async def run(self) -> SyncCounts:
        ctx = self.ctx
        counts = ctx.counts
        ring = ColmiSession(ctx.client, ctx.timeout_s, ctx.gone)
        prov = Provenance(ctx.person_id, Source.HISTORY, ctx.device_id, ctx.run_id)
        now_ms = ctx.clock.now_ms()
        local_now = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone(ctx.tz))
        offset_ms = int(local_now.utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]
        try:
            try:
                await ring.set_time(local_now.replace(tzinfo=None))
            except RequestTimeout as exc:
                counts.unavailable.append(f"set time: {exc}")
            try:
                info = await ring.battery()
                await asyncio.to_thread(ctx.devices.set_battery, ctx.device_id, info.level_pct)
            except (RequestTimeout, DecodeError) as exc:
                counts.unavailable.append(f"battery: {exc}")
            await self._heart_rate_log(ring, prov, now_ms, offset_ms, counts)
            await self._sleep(ring, prov, now_ms, offset_ms, counts)
            await self._device_hrv(ring, prov, now_ms, offset_ms, counts)
        finally:
            counts.malformed += ring.malformed
        return counts

    async def _sleep(self, ring: ColmiSession, prov: Provenance, now_ms: int, offset_ms: int,
                     counts: SyncCounts) -> None:  # fmt: skip
        for attempt in range(1, SLEEP_ATTEMPTS + 1):
            try:
                nights = await ring.sleep_history()
            except RequestTimeout as exc:
                counts.unavailable.append(f"sleep: unavailable ({exc})")
                return
            except DecodeError as exc:
                if attempt == SLEEP_ATTEMPTS:
                    counts.unavailable.append(f"sleep: garbled reply {SLEEP_ATTEMPTS} times, skipped ({exc})")
                    return
                continue  # a corrupt sleep packet: ask again; never crash the sync
            counts.sleep += await self._store_sleep(nights, prov, now_ms, offset_ms)
            return

    async def _heart_rate_log(self, ring: ColmiSession, prov: Provenance, now_ms: int, offset_ms: int,
                              counts: SyncCounts) -> None:  # fmt: skip
        ctx = self.ctx
        today_local_ms = (now_ms + offset_ms) // DAY_MS * DAY_MS  # ring-clock midnight today
        cursor = await asyncio.to_thread(ctx.ingest.cursor, ctx.device_id, "hr_log")
        if cursor is None:
            first_local_ms = today_local_ms - (ctx.first_sync_days - 1) * DAY_MS
        else:
            first_local_ms = min((cursor + offset_ms) // DAY_MS * DAY_MS, today_local_ms)
        for day_local_ms in range(first_local_ms, today_local_ms + DAY_MS, DAY_MS):
            day_start_s = day_local_ms // 1000
            log = None
            for _attempt in range(HR_LOG_ATTEMPTS):
                try:
                    log = await ring.hr_log(day_start_s)
                    break
                except DecodeError:
                    continue  # garbled reply: ask for the day again
            if log is None:
                # Skip the rest of the log (the cursor stays before this day, so the next sync asks again)
                # and go on with sleep: one flaky day must not fail the whole sync.
                counts.unavailable.append(
                    f"heart-rate log from {dt.datetime.fromtimestamp(day_start_s, dt.UTC):%Y-%m-%d}: "
                    f"garbled {HR_LOG_ATTEMPTS} times, skipped until the next sync"
                )
                return
            rows = [((t_s * 1000) - offset_ms, bpm) for t_s, bpm in log.readings()]
            rows = [(t, bpm) for t, bpm in rows if t <= now_ms and 20 <= bpm <= 250]  # never store garbage
            day_real_start_ms = day_local_ms - offset_ms
            counts.heart_rate += await asyncio.to_thread(
                ctx.ingest.heart_rate, rows, prov, CursorUpdate(ctx.device_id, "hr_log", day_real_start_ms)
            )

    async def _device_hrv(self, ring: ColmiSession, prov: Provenance, now_ms: int, offset_ms: int,
                          counts: SyncCounts) -> None:  # fmt: skip
        """The ring's own HRV values, one day per request (0x39 + days ago), oldest first, each day committed
        with the "hrv_log" cursor. The ring keeps 7 days; an older cursor resumes at the oldest it has."""
        ctx = self.ctx
        today_local_ms = (now_ms + offset_ms) // DAY_MS * DAY_MS
        oldest_local_ms = today_local_ms - (colmi_hrv.HRV_HISTORY_DAYS - 1) * DAY_MS
        cursor = await asyncio.to_thread(ctx.ingest.cursor, ctx.device_id, "hrv_log")
        if cursor is None:
            first_local_ms = today_local_ms - (ctx.first_sync_days - 1) * DAY_MS
        else:
            first_local_ms = min((cursor + offset_ms) // DAY_MS * DAY_MS, today_local_ms)
        for day_local_ms in range(max(first_local_ms, oldest_local_ms), today_local_ms + DAY_MS, DAY_MS):
            days_ago = (today_local_ms - day_local_ms) // DAY_MS
            day = None
            for _attempt in range(HRV_ATTEMPTS):
                try:
                    day = await ring.hrv_day(days_ago)
                    break
                except DecodeError:
                    continue  # garbled reply: ask for the day again
                except RequestTimeout as exc:
                    # Older firmware does not answer 0x39 at all (Gadgetbridge's note in onCharacteristicChanged).
                    counts.unavailable.append(f"device HRV: unavailable ({exc})")
                    return
            if day is None:
                counts.unavailable.append(
                    f"device HRV from {dt.datetime.fromtimestamp(day_local_ms / 1000, dt.UTC):%Y-%m-%d}: "
                    f"garbled {HRV_ATTEMPTS} times, skipped until the next sync"
                )
                return
            rows = [(day_local_ms + minute * MINUTE_MS - offset_ms, str(MetricKind.DEVICE_HRV_MS), float(ms))
                    for minute, ms in day.readings()]  # fmt: skip
            rows = [r for r in rows if r[0] <= now_ms]
            cursor_update = CursorUpdate(ctx.device_id, "hrv_log", day_local_ms - offset_ms)
            counts.hrv_estimates += await asyncio.to_thread(ctx.ingest.device_metrics, rows, prov, cursor_update)

    async def _store_sleep(self, nights: list[colmi.SleepDay], prov: Provenance, now_ms: int, offset_ms: int) -> int:
        today_local = dt.date.fromtimestamp(0) + dt.timedelta(days=(now_ms + offset_ms) // DAY_MS)
        rows: list[tuple[int, int, str]] = []
        for night in nights:
            start_naive, _end_naive = night.bounds(today_local)
            t = calendar.timegm(start_naive.timetuple()) * 1000 - offset_ms
            for name, minutes in night.stages:
                stage = STAGE_NAMES.get(name)
                end = t + minutes * MINUTE_MS
                if stage is not None and minutes > 0 and end <= now_ms:
                    rows.append((t, end, str(stage)))
                t = end
        if not rows:
            return 0
        cursor = CursorUpdate(self.ctx.device_id, "sleep", max(r[1] for r in rows))
        return await asyncio.to_thread(self.ctx.ingest.sleep, rows, prov, cursor)


COLMI_NAME_PREFIXES = ("R02", "R03", "R06", "R09", "R10", "COLMI")


class ColmiDriver(Driver):
    """Colmi R0x rings (R02, R03, R06, R09, R10): no key; history over the vendor command channel."""

    family = "colmi"
    capabilities = Capabilities(live_capture=False, live_rr=False, history_sync=True, battery=True, clock=True)

    def matches(self, name: str | None, service_uuids: set[str]) -> bool:
        if colmi.SERVICE_UUID in service_uuids:
            return True
        return bool(name) and name.upper().startswith(COLMI_NAME_PREFIXES)  # type: ignore[union-attr]

    async def battery(self, client: BleakClient, timeout_s: float) -> int | None:
        level = await super().battery(client, timeout_s)
        if level is None:
            level = (await ColmiSession(client, timeout_s).battery()).level_pct
        return level

    async def on_pair(self, ctx: Any) -> dict[str, Any]:
        return {}

    async def sync(self, ctx: SyncContext) -> SyncCounts:
        return await ColmiSync(ctx).run()
