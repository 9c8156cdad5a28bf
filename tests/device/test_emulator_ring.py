"""The emulated Colmi ring, driven through bleak's public API over the bumble backend.

Requests are built and replies parsed with `device.protocols.colmi` (the collector's own codec);
expected values come from the feed, so a round trip checks the emulator's choices (clock, day
boundaries, what "now" allows) rather than re-testing the codec.
"""

from __future__ import annotations

import asyncio
import calendar
from datetime import datetime, timedelta, timezone

import pytest
from bleak import BleakClient, BleakScanner
from bleak_retry_connector import establish_connection

from device.emulator import EmulatedRing, SimClock, emulated_world
from device.emulator.ring import SLEEP_REQUEST, sleep_days_from_spans
from device.protocols import colmi
from device.protocols.errors import DecodeError
from tests.device.conftest import DAY0_MS, DAY_MS, SteadyFeed
from tracker.model import SleepSpan, Stage

HOUR_MS = 3_600_000
MIN_MS = 60_000
NOW_MS = DAY0_MS + 2 * DAY_MS + 9 * HOUR_MS + 30 * MIN_MS  # 2027-03-03 09:30 UTC
BERLIN_WINTER_MS = HOUR_MS  # UTC+1


def nights() -> list[SleepSpan]:
    """Two nights in UTC: 21:50→05:40 (ending day 1) and 22:30→06:00 with a 20-min wake gap."""
    n1 = DAY0_MS + DAY_MS - 2 * HOUR_MS - 10 * MIN_MS  # day0 21:50
    n2 = DAY0_MS + 2 * DAY_MS - 90 * MIN_MS  # day1 22:30
    return [
        SleepSpan(n1, n1 + 60 * MIN_MS, Stage.LIGHT),
        SleepSpan(n1 + 60 * MIN_MS, n1 + 150 * MIN_MS, Stage.DEEP),
        SleepSpan(n1 + 150 * MIN_MS, n1 + 230 * MIN_MS, Stage.REM),
        SleepSpan(n1 + 230 * MIN_MS, n1 + 470 * MIN_MS, Stage.ASLEEP),
        SleepSpan(n2, n2 + 200 * MIN_MS, Stage.LIGHT),
        SleepSpan(n2 + 220 * MIN_MS, n2 + 450 * MIN_MS, Stage.DEEP),  # 20 min gap → awake
        SleepSpan(NOW_MS + HOUR_MS, NOW_MS + 2 * HOUR_MS, Stage.LIGHT),  # the future: never reported
    ]


class RingSession:
    """A connected client with notification queues for both ring channels."""

    def __init__(self, client: BleakClient) -> None:
        self.client = client
        self.packets: asyncio.Queue[bytes] = asyncio.Queue()
        self.big: asyncio.Queue[bytes] = asyncio.Queue()

    async def start(self) -> RingSession:
        await self.client.start_notify(colmi.NOTIFY_UUID, lambda _c, d: self.packets.put_nowait(bytes(d)))
        if self.client.services.get_service(colmi.BIG_DATA_SERVICE_UUID) is not None:
            await self.client.start_notify(colmi.BIG_DATA_NOTIFY_UUID, lambda _c, d: self.big.put_nowait(bytes(d)))
        return self

    async def request(self, packet: bytes, response: bool = True) -> None:
        await self.client.write_gatt_char(colmi.WRITE_UUID, packet, response=response)

    async def next_packet(self, timeout: float = 1.0) -> bytes:
        return await asyncio.wait_for(self.packets.get(), timeout)


async def open_ring(world, ring: EmulatedRing) -> RingSession:
    device = await BleakScanner.find_device_by_address(ring.address_str, timeout=2.0, **world.scanner_kwargs)
    assert device is not None
    client = await establish_connection(BleakClient, device, ring.name, **world.client_kwargs)
    return await RingSession(client).start()


def make_ring(**kwargs: object) -> EmulatedRing:
    feed = kwargs.pop("feed", None) or SteadyFeed(nights=nights())
    return EmulatedRing(feed=feed, now_ms=lambda: NOW_MS, **kwargs)  # type: ignore[arg-type]


def test_scan_finds_ring_with_name_and_uart_service(arun) -> None:
    async def scenario() -> None:
        ring = make_ring()
        async with emulated_world(ring) as world:
            found = await BleakScanner.discover(timeout=0.2, return_adv=True, **world.scanner_kwargs)
            filtered = await BleakScanner.discover(
                timeout=0.2, return_adv=True, service_uuids=["180d"], **world.scanner_kwargs
            )
        _device, adv = found[ring.address_str]
        assert adv.local_name == "R02_EMU1"
        assert adv.service_uuids == [colmi.SERVICE_UUID]
        assert adv.rssi == -62
        assert ring.address_str not in filtered  # service filter applies

    arun(scenario())


def test_set_time_teaches_the_ring_its_wall_clock_and_battery_answers(arun) -> None:
    async def scenario() -> None:
        ring = make_ring()
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            local = datetime.fromtimestamp(NOW_MS / 1000, timezone(timedelta(hours=1)))
            await session.request(colmi.set_time_request(local))
            reply = await session.next_packet()
            assert reply == colmi.encode_set_time_response()
            assert ring.utc_offset_ms == BERLIN_WINTER_MS
            await session.request(colmi.battery_request(), response=False)  # write without response too
            assert colmi.decode_battery(await session.next_packet()) == colmi.BatteryInfo(64, False)
            await session.client.disconnect()

    arun(scenario())


def test_real_time_heart_rate_streams_until_stopped(arun) -> None:
    async def scenario() -> None:
        feed = SteadyFeed()
        ring = EmulatedRing(feed=feed, now_ms=SimClock(start_ms=DAY0_MS + HOUR_MS, speed=50.0),
                            realtime_interval_s=0.02)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            await session.request(colmi.real_time_hr_request(True))
            readings = [colmi.decode_real_time_hr(await session.next_packet()) for _ in range(5)]
            await session.request(colmi.real_time_hr_request(False))
            await asyncio.sleep(0.1)
            while not session.packets.empty():
                session.packets.get_nowait()
            await asyncio.sleep(0.1)
            assert session.packets.empty(), "readings continued after stop"
            await session.client.disconnect()
        mean_ticks = sum(feed.pattern.tolist()) / len(feed.pattern)
        expected = round(60 * 1024 / mean_ticks)
        assert all(r is not None and abs(r - expected) <= 2 for r in readings)

    arun(scenario())


def test_heart_rate_log_of_a_past_day_and_of_today_up_to_now(arun) -> None:
    async def scenario() -> None:
        feed = SteadyFeed(nights=nights())
        ring = make_ring(feed=feed, utc_offset_ms=BERLIN_WINTER_MS)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            logs = []
            for day in (1, 2):  # yesterday and today in ring-local days
                day_start_s = (DAY0_MS + day * DAY_MS) // 1000
                parser = colmi.HeartRateLogParser(day_start_s)
                await session.request(colmi.hr_log_request(day_start_s))
                log = None
                while log is None:
                    log = parser.feed(await session.next_packet())
                logs.append(log)
            await session.client.disconnect()
        expected = feed.heart_rate_5min(0).tolist()
        yesterday, today = logs
        assert yesterday.day_start_s == (DAY0_MS + DAY_MS) // 1000
        assert list(yesterday.bpm) == expected
        local_now_min = (NOW_MS + BERLIN_WINTER_MS - (DAY0_MS + 2 * DAY_MS)) // MIN_MS  # 10:30 local
        slots_known = local_now_min // 5 + 1
        assert list(today.bpm[:slots_known]) == expected[:slots_known]
        assert not any(today.bpm[slots_known:])  # the ring cannot know the future

    arun(scenario())


def test_heart_rate_log_for_a_day_without_data_is_the_no_data_reply(arun) -> None:
    async def scenario() -> None:
        ring = make_ring()
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            tomorrow_s = (DAY0_MS + 3 * DAY_MS) // 1000
            await session.request(colmi.hr_log_request(tomorrow_s))
            log = colmi.HeartRateLogParser(tomorrow_s).feed(await session.next_packet())
            await session.client.disconnect()
        assert log is not None and log.bpm == ()

    arun(scenario())


def test_sleep_history_over_big_data_reports_past_nights_in_ring_local_time(arun) -> None:
    async def scenario() -> list[colmi.SleepDay]:
        ring = make_ring(utc_offset_ms=BERLIN_WINTER_MS)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            await session.client.write_gatt_char(colmi.BIG_DATA_WRITE_UUID, colmi.sleep_history_request(), response=True)
            parser = colmi.SleepHistoryParser(verify_crc=True)
            days = None
            chunks = 0
            while days is None:
                chunk = await asyncio.wait_for(session.big.get(), 1.0)
                assert len(chunk) <= 20
                chunks += 1
                days = parser.feed(chunk)
            await session.client.disconnect()
        assert chunks > 1  # the reply really was split over notifications
        return days

    days = arun(scenario())
    assert days == [
        # 21:50 UTC = 22:50 local → 06:40 local; ASLEEP is reported as light
        colmi.SleepDay(1, 22 * 60 + 50, 6 * 60 + 40, (("light", 60), ("deep", 90), ("rem", 80), ("light", 240))),
        # 22:30 UTC = 23:30 local → 07:00 local with the 20-min gap as awake
        colmi.SleepDay(0, 23 * 60 + 30, 7 * 60, (("light", 200), ("awake", 20), ("deep", 230))),
    ]
    for day in days:
        assert sum(minutes for _stage, minutes in day.stages) == day.duration_min


def test_sleep_days_from_spans_honours_history_window_and_splits_long_stages() -> None:
    start = DAY0_MS + 20 * HOUR_MS
    spans = [SleepSpan(start, start + 600 * MIN_MS, Stage.DEEP)]  # 10 h of one stage
    (day,) = sleep_days_from_spans(spans, now_ms=start + DAY_MS, utc_offset_ms=0)
    assert day.stages == (("deep", 255), ("deep", 255), ("deep", 90))
    assert sleep_days_from_spans(spans, now_ms=start + 9 * DAY_MS, utc_offset_ms=0, history_days=7) == []


def test_old_firmware_has_no_big_data_service(arun) -> None:
    async def scenario() -> None:
        ring = make_ring(has_sleep_service=False)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            assert session.client.services.get_service(colmi.BIG_DATA_SERVICE_UUID) is None
            assert session.client.services.get_service(colmi.SERVICE_UUID) is not None
            await session.client.disconnect()

    arun(scenario())


def test_silenced_requests_get_no_answer_others_still_do(arun) -> None:
    async def scenario() -> None:
        ring = make_ring()
        ring.faults.silence(colmi.CMD_BATTERY)
        ring.faults.silence(SLEEP_REQUEST)
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            await session.request(colmi.battery_request())
            with pytest.raises(asyncio.TimeoutError):
                await session.next_packet(timeout=0.2)
            await session.client.write_gatt_char(colmi.BIG_DATA_WRITE_UUID, colmi.sleep_history_request(), response=True)
            await asyncio.sleep(0.2)
            assert session.big.empty()
            await session.request(colmi.set_time_request(datetime(2027, 3, 3, 10, 30)))
            assert colmi.parse_packet(await session.next_packet())[0] == colmi.CMD_SET_TIME
            await session.client.disconnect()
        assert ring.faults.counters.ignored_requests == 2

    arun(scenario())


def test_bad_checksums_are_interleaved_and_link_drops_mid_log(arun) -> None:
    async def scenario() -> None:
        ring = make_ring()
        ring.faults.interleave_malformed(every=4)
        ring.faults.drop_link_after(10)
        lost = asyncio.Event()
        async with emulated_world(ring) as world:
            device = await BleakScanner.find_device_by_address(ring.address_str, timeout=2.0, **world.scanner_kwargs)
            assert device is not None
            client = await establish_connection(
                BleakClient, device, ring.name, disconnected_callback=lambda _c: lost.set(), **world.client_kwargs
            )
            session = await RingSession(client).start()
            await session.request(colmi.hr_log_request((DAY0_MS + DAY_MS) // 1000))
            await asyncio.wait_for(lost.wait(), 2.0)
        received = []
        while not session.packets.empty():
            received.append(session.packets.get_nowait())
        bad = []
        for packet in received:
            try:
                colmi.parse_packet(packet)
            except DecodeError:
                bad.append(packet)
        assert len(received) - len(bad) == 10 == len(ring.sent)  # 10 of the 24 log packets
        assert len(bad) == ring.faults.counters.malformed_sent >= 2

    arun(scenario())


def test_ring_clock_offset_is_rounded_to_quarter_hours(arun) -> None:
    async def scenario() -> None:
        ring = make_ring()
        async with emulated_world(ring) as world:
            session = await open_ring(world, ring)
            # A phone clock 40 s ahead of the ring's, in UTC+5:45 (Nepal).
            wall = datetime.fromtimestamp(NOW_MS / 1000 + 40, timezone(timedelta(hours=5, minutes=45)))
            await session.request(colmi.set_time_request(wall))
            await session.next_packet()
            await session.client.disconnect()
        assert ring.utc_offset_ms == (5 * 60 + 45) * MIN_MS
        assert calendar.timegm(wall.replace(tzinfo=None).timetuple()) * 1000 - ring.local_now_ms() == 40_000

    arun(scenario())


def test_the_physiology_model_feeds_ring_and_strap(arun) -> None:
    """`tracker.physiology.Simulation` satisfies the feed protocols end to end."""
    from device.emulator import EmulatedStrap
    from device.protocols.hrs import HEART_RATE_MEASUREMENT_UUID, decode_heart_rate_measurement
    from tracker.physiology.simulation import simulate
    from tracker.physiology.spec import PersonSpec

    local_midnight = DAY0_MS - BERLIN_WINTER_MS  # 2027-03-01 00:00 Europe/Berlin
    sim = simulate(PersonSpec(), local_midnight - 3 * DAY_MS, 5, seed=3)
    now_ms = local_midnight + DAY_MS + 10 * HOUR_MS  # 2027-03-02 10:00 local

    async def scenario() -> None:
        ring = EmulatedRing(feed=sim, now_ms=lambda: now_ms, utc_offset_ms=BERLIN_WINTER_MS)
        strap = EmulatedStrap(feed=sim, now_ms=SimClock(start_ms=now_ms, speed=50.0), notify_interval_s=0.02)
        async with emulated_world(ring, strap) as world:
            session = await open_ring(world, ring)
            day_start_s = (DAY0_MS) // 1000  # yesterday, local midnight as if UTC
            parser = colmi.HeartRateLogParser(day_start_s)
            await session.request(colmi.hr_log_request(day_start_s))
            log = None
            while log is None:
                log = parser.feed(await session.next_packet())
            await session.client.write_gatt_char(colmi.BIG_DATA_WRITE_UUID, colmi.sleep_history_request(), response=True)
            sleep_parser = colmi.SleepHistoryParser()
            days = None
            while days is None:
                days = sleep_parser.feed(await asyncio.wait_for(session.big.get(), 1.0))
            await session.client.disconnect()

            device = await BleakScanner.find_device_by_address(strap.address_str, timeout=2.0, **world.scanner_kwargs)
            client = await establish_connection(BleakClient, device, "strap", **world.client_kwargs)
            received: list[tuple[int, ...]] = []
            await client.start_notify(
                HEART_RATE_MEASUREMENT_UUID,
                lambda _c, d: received.append(decode_heart_rate_measurement(bytes(d)).rr_ticks_1024),
            )
            while len(received) < 5:
                await asyncio.sleep(0.02)
            await client.disconnect()

        assert list(log.bpm) == sim.heart_rate_5min(local_midnight).tolist()
        assert [d.days_ago for d in days] == list(range(len(days) - 1, -1, -1)) and len(days) >= 3
        assert all(sum(m for _s, m in d.stages) == d.duration_min for d in days)
        assert received == [s.rr_ticks for s in strap.sent[: len(received)]]
        assert all(received)  # a person always has beats

    arun(scenario())
