"""The Huami band driver (Mi Band 4/5/6, Amazfit Band 5, Bip S/U): authenticate with the band's key, set its
clock in the person's zone, battery, the per-minute activity fetch in rounds, live heart rate through the
standard Heart Rate Service.

Resumable without gaps or duplicates: each round's minutes are committed together with the "activity"
cursor (the minute after the round's last sample) before the round is acknowledged (the ack tells the band it
may drop the data), so a link lost at any point only repeats the round; rows already stored are skipped by
the ingest path's natural keys. Sleep is read per round; an awake stretch that straddles two rounds is not
recognised as awake (rounds hold many hours, so this is rare), and the forward fill of kinds 0/10 starts
afresh at each sync.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from bleak import BleakClient

from device.drivers.base import Capabilities, Driver, PairContext, SyncContext, SyncCounts
from device.link import NotifyQueue, RequestTimeout
from device.protocols import hrs, huami
from device.protocols import huami_activity as activity
from device.protocols.errors import DecodeError
from tracker.errors import UserError
from tracker.ingest import CursorUpdate, Provenance
from tracker.model import BPM_MAX, BPM_MIN, Source
from tracker.timefmt import zone

logger = logging.getLogger(__name__)
MINUTE_MS = 60_000
DAY_MS = 86_400_000
MAX_ROUNDS = 64  # Gadgetbridge stops at 6; a week at a round of a few hours needs more
ROUND_ATTEMPTS = 3  # a round whose packets arrived out of sequence is fetched again
KEEP_ALIVE_S = 10.0  # the band stops continuous live heart rate without a ping now and then
CURSOR_STREAM = "activity"


def _join_cursor(next_minute_ms: int, kind: int | None) -> int:
    """The "activity" cursor: the next minute to fetch, plus 1 + the last sleep kind in its low digits, so the
    forward fill of kinds 0/10 continues across syncs (the cursor still only grows: minutes step by 60,000)."""
    return next_minute_ms + (0 if kind is None else 1 + kind)


def _split_cursor(cursor_ms: int) -> tuple[int, int | None]:
    extra = cursor_ms % MINUTE_MS
    return cursor_ms - extra, (extra - 1 if extra else None)


class AuthKeyError(UserError):
    """The band refused the auth key (or none was given)."""


CONTROL, DATA = 0, 1  # tags of the fetch conversation's two characteristics, in one queue (arrival order)


class HuamiSession:
    """Request/response on the band's auth and fetch characteristics."""

    def __init__(self, client: BleakClient, timeout_s: float, gone: asyncio.Event | None = None) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.gone = gone
        self.malformed = 0
        self.packets = 0
        self._auth: NotifyQueue | None = None
        self._fetch: NotifyQueue | None = None

    async def _answer(self, queue: NotifyQueue, accept: Any, what: str, tag: int | None = None) -> bytes:
        """The first notification `accept` takes; others (leftovers of a half-finished exchange) are skipped."""
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise RequestTimeout(f"{what}: no answer within {self.timeout_s:.0f} s")
            got_tag, data = await queue.get(remaining)
            if (tag is None or got_tag == tag) and accept(data):
                return data

    async def _fetch_queue(self) -> NotifyQueue:
        if self._fetch is None:
            queue = NotifyQueue(self.gone)
            # Both characteristics feed one queue so data packets and the end marker keep their order.
            await self.client.start_notify(huami.FETCH_UUID, lambda _s, d: queue.queue.put_nowait((CONTROL, bytes(d))))
            await self.client.start_notify(huami.ACTIVITY_DATA_UUID,
                                           lambda _s, d: queue.queue.put_nowait((DATA, bytes(d))))  # fmt: skip
            self._fetch = queue
        return self._fetch

    async def authenticate(self, key: bytes) -> None:
        if self._auth is None:
            self._auth = NotifyQueue(self.gone)
            await self.client.start_notify(huami.AUTH_UUID, self._auth.callback)
        queue = self._auth
        queue.drain()
        await self.client.write_gatt_char(huami.AUTH_UUID, huami.random_request(), response=False)
        data = await self._answer(queue, lambda d: len(d) >= 3 and d[0] == huami.RESPONSE and d[1] & 0x0F == 2,
                                  "auth challenge")  # fmt: skip
        challenge = huami.decode_auth_reply(data)
        if challenge.status != huami.STATUS_OK:
            raise AuthKeyError(f"the band refused to start authentication (status {challenge.status})")
        await self.client.write_gatt_char(huami.AUTH_UUID, huami.key_response(key, challenge.random), response=False)
        data = await self._answer(queue, lambda d: len(d) >= 3 and d[0] == huami.RESPONSE and d[1] & 0x0F == 3,
                                  "auth result")  # fmt: skip
        if huami.decode_auth_reply(data).status != huami.STATUS_OK:
            raise AuthKeyError(
                "the band rejected the auth key: check the 32-digit key (Gadgetbridge's device settings or the "
                "vendor-cloud token tools give it; it changes when the band is paired with the vendor app again)"
            )

    async def fetch_round(self, since: dt.datetime) -> tuple[huami.FetchStart, bytes]:
        """One fetch round: the start reply and the round's payload (empty when nothing is due)."""
        queue = await self._fetch_queue()
        queue.drain()
        await self.client.write_gatt_char(huami.FETCH_UUID, huami.fetch_start_request(since), response=False)
        reply = huami.decode_fetch_start_reply(
            await self._answer(queue, lambda d: huami.is_reply(d, huami.FETCH_START), "fetch start", CONTROL))
        if not reply.ok or reply.count == 0:
            return reply, b""
        stream = activity.ActivityStream()
        await self.client.write_gatt_char(huami.FETCH_UUID, bytes([huami.FETCH_DATA]), response=False)
        while True:
            tag, data = await queue.get(self.timeout_s)
            if tag == DATA:
                self.packets += 1
                stream.feed(data)  # DecodeError: a packet out of sequence
            elif huami.is_reply(data, huami.FETCH_DATA):
                return reply, bytes(stream.buffer)

    async def ack(self) -> None:
        queue = await self._fetch_queue()
        await self.client.write_gatt_char(huami.FETCH_UUID, bytes([huami.FETCH_ACK]), response=False)
        await self._answer(queue, lambda d: huami.is_reply(d, huami.FETCH_ACK), "fetch ack", CONTROL)

    async def set_time(self, local: dt.datetime) -> None:
        await self.client.write_gatt_char(huami.CURRENT_TIME_UUID, huami.encode_current_time(local), response=True)


class HuamiDriver(Driver):
    family = "huami"
    capabilities = Capabilities(live_capture=True, live_rr=False, history_sync=True, battery=True, clock=True)
    needs_auth_key = True

    def __init__(self) -> None:
        self._keep_alive: dict[int, asyncio.Task[None]] = {}

    def matches(self, name: str | None, service_uuids: set[str]) -> bool:
        if huami.SERVICE_UUID in service_uuids or huami.AUTH_SERVICE_UUID in service_uuids:
            return True
        return bool(name) and name.upper().startswith(huami.NAME_PREFIXES)  # type: ignore[union-attr]

    async def on_pair(self, ctx: PairContext) -> dict[str, Any]:
        if ctx.auth_key is None:
            raise AuthKeyError("a Huami band needs its auth key: pair with --auth-key HEX (32 hex digits)")
        session = HuamiSession(ctx.client, ctx.timeout_s)
        await session.authenticate(ctx.auth_key)
        if ctx.configure_heart_rate:
            # Every minute, and during sleep too: what makes the per-minute history carry heart rate.
            for command in (huami.hr_interval_command(1), huami.HR_SLEEP_ON):
                await ctx.client.write_gatt_char(hrs.HEART_RATE_CONTROL_POINT_UUID, command, response=True)
        return {"auth_key": ctx.auth_key.hex()}

    async def battery(self, client: BleakClient, timeout_s: float) -> int | None:
        if client.services.get_characteristic(huami.BATTERY_UUID) is None:
            return await super().battery(client, timeout_s)
        raw = await asyncio.wait_for(client.read_gatt_char(huami.BATTERY_UUID), timeout_s)
        return huami.decode_battery(bytes(raw))

    async def prepare_live(self, client: BleakClient, timeout_s: float, auth_key: bytes | None) -> None:
        if auth_key is not None:
            await HuamiSession(client, timeout_s).authenticate(auth_key)
        for command in (huami.HR_MANUAL_OFF, huami.HR_CONTINUOUS_OFF, huami.HR_CONTINUOUS_ON):
            await client.write_gatt_char(hrs.HEART_RATE_CONTROL_POINT_UUID, command, response=True)

        async def keep_alive() -> None:
            while client.is_connected:
                await asyncio.sleep(KEEP_ALIVE_S)
                await client.write_gatt_char(hrs.HEART_RATE_CONTROL_POINT_UUID, huami.HR_KEEP_ALIVE, response=True)

        self._keep_alive[id(client)] = asyncio.get_running_loop().create_task(keep_alive())

    async def finish_live(self, client: BleakClient, timeout_s: float) -> None:
        task = self._keep_alive.pop(id(client), None)
        if task is not None:
            task.cancel()
        if client.is_connected:
            await client.write_gatt_char(hrs.HEART_RATE_CONTROL_POINT_UUID, huami.HR_CONTINUOUS_OFF, response=True)

    async def sync(self, ctx: SyncContext) -> SyncCounts:
        if ctx.auth_key is None:
            raise AuthKeyError("no auth key stored for this band: pair it again with --auth-key HEX")
        counts = ctx.counts
        session = HuamiSession(ctx.client, ctx.timeout_s, ctx.gone)
        try:
            await session.authenticate(ctx.auth_key)
            tz = zone(ctx.tz)
            now_ms = ctx.clock.now_ms()
            try:
                await session.set_time(dt.datetime.fromtimestamp(now_ms / 1000, tz))
            except Exception as exc:  # noqa: BLE001 - a clock that cannot be set does not stop the sync
                counts.unavailable.append(f"set time: {exc}")
            try:
                level = await self.battery(ctx.client, ctx.timeout_s)
                if level is not None:
                    await asyncio.to_thread(ctx.devices.set_battery, ctx.device_id, level)
            except (DecodeError, RequestTimeout, TimeoutError) as exc:
                counts.unavailable.append(f"battery: {exc}")
            await self._fetch(ctx, session, tz, now_ms)
        finally:
            counts.malformed += session.malformed
        return counts

    async def _fetch(self, ctx: SyncContext, session: HuamiSession, tz: dt.tzinfo, now_ms: int) -> None:
        counts = ctx.counts
        prov = Provenance(ctx.person_id, Source.HISTORY, ctx.device_id, ctx.run_id)
        cursor = await asyncio.to_thread(ctx.ingest.cursor, ctx.device_id, CURSOR_STREAM)
        if cursor is None:
            since_ms = (now_ms - ctx.first_sync_days * DAY_MS) // MINUTE_MS * MINUTE_MS
            previous_kind: int | None = None
            # Fix the first sync's window now, so a resumed or repeated first sync starts at the same minute.
            await asyncio.to_thread(ctx.ingest.sleep, [], prov, CursorUpdate(ctx.device_id, CURSOR_STREAM, since_ms))
        else:
            since_ms, previous_kind = _split_cursor(cursor)
        for _round in range(MAX_ROUNDS):
            if since_ms >= now_ms - MINUTE_MS:
                return
            since = dt.datetime.fromtimestamp(since_ms / 1000, tz)
            for attempt in range(1, ROUND_ATTEMPTS + 1):
                try:
                    reply, payload = await session.fetch_round(since)
                    break
                except DecodeError as exc:
                    session.malformed += 1
                    if attempt == ROUND_ATTEMPTS:
                        counts.unavailable.append(f"activity from {since:%Y-%m-%d %H:%M}: garbled {attempt} times, "
                                                  f"skipped until the next sync ({exc})")  # fmt: skip
                        return
            if reply.start is None:
                return  # nothing (more) on the band
            start_ms = int(reply.start.timestamp() * 1000)
            try:
                samples = activity.decode_samples(payload, huami.sample_size(ctx.device_name), start_ms)
            except DecodeError as exc:
                session.malformed += 1
                counts.unavailable.append(f"activity from {since:%Y-%m-%d %H:%M}: {exc}")
                return
            samples = [s for s in samples if s.t_ms >= since_ms]  # a band that answers from earlier
            if not samples:
                return
            hr_rows = [(t, bpm) for t, bpm in activity.heart_rate_rows(samples) if BPM_MIN <= bpm <= BPM_MAX]
            sleep_rows = activity.sleep_rows(samples, previous_kind)
            previous_kind = activity.fill_kinds(samples, previous_kind)[-1]
            cursor_ms = _join_cursor(samples[-1].t_ms + MINUTE_MS, previous_kind)
            end_ms = samples[-1].t_ms + MINUTE_MS
            counts.heart_rate += await asyncio.to_thread(ctx.ingest.heart_rate, hr_rows, prov)
            counts.sleep += await asyncio.to_thread(ctx.ingest.sleep, sleep_rows, prov,
                                                    CursorUpdate(ctx.device_id, CURSOR_STREAM, cursor_ms))  # fmt: skip
            counts.minutes += len(samples)
            if not ctx.keep_on_device:
                await session.ack()  # only after the commit: a lost link repeats the round, never loses it
            since_ms = end_ms
