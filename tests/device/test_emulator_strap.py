"""The emulated chest strap, driven only through bleak's public API over the bumble backend.

Covers: advertisement content, fast connect through bleak-retry-connector, the GATT database
(HRS notify-only, DIS, battery), RR ticks received == RR ticks sent, faults (link drop after N
notifications, malformed notifications, refused connections), and pairing.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakGATTProtocolError, BleakGATTProtocolErrorCode
from bleak_retry_connector import establish_connection

from device.emulator import EmulatedStrap, RefuseMode, SimClock, emulated_world
from device.protocols.errors import DecodeError
from device.protocols.hrs import (
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    HeartRateMeasurement,
    decode_heart_rate_measurement,
)
from tests.device.conftest import DAY0_MS, SteadyFeed

BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"
DIS = {
    "00002a29-0000-1000-8000-00805f9b34fb": "Tracker Emulation",  # manufacturer
    "00002a24-0000-1000-8000-00805f9b34fb": "HRM-1",  # model
    "00002a25-0000-1000-8000-00805f9b34fb": "EMU-0001",  # serial
    "00002a26-0000-1000-8000-00805f9b34fb": "1.0.0",  # firmware
}


def fast_strap(feed: SteadyFeed, **kwargs: object) -> EmulatedStrap:
    """1 simulated second per 20 ms notification."""
    return EmulatedStrap(
        feed=feed,
        now_ms=SimClock(start_ms=DAY0_MS + 3_600_000, speed=50.0),
        notify_interval_s=0.02,
        **kwargs,  # type: ignore[arg-type]
    )


async def connect(world, strap: EmulatedStrap, **kwargs: object) -> BleakClient:
    device = await BleakScanner.find_device_by_address(strap.address_str, timeout=2.0, **world.scanner_kwargs)
    assert device is not None
    return await establish_connection(BleakClient, device, strap.name, **world.client_kwargs, **kwargs)


def test_scan_reports_name_rssi_service_and_manufacturer_data(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed, rssi_dbm=-61)
        async with emulated_world(strap) as world:
            seen: list[str] = []
            scanner = BleakScanner(lambda d, a: seen.append(d.address), **world.scanner_kwargs)
            async with scanner:
                await asyncio.sleep(0.2)
            found = await BleakScanner.discover(timeout=0.2, return_adv=True, **world.scanner_kwargs)
        assert strap.address_str in seen
        device, adv = found[strap.address_str]
        assert device.name == "EMU Strap 0001"
        assert adv.local_name == "EMU Strap 0001"
        assert adv.rssi == -61
        assert adv.service_uuids == [HEART_RATE_SERVICE_UUID]
        assert adv.manufacturer_data == {0xFFFF: b"\x01"}

    arun(scenario())


def test_connect_is_fast_and_exposes_the_gatt_database(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            device = await BleakScanner.find_device_by_address(strap.address_str, timeout=2.0, **world.scanner_kwargs)
            assert device is not None
            started = time.monotonic()
            client = await establish_connection(BleakClient, device, strap.name, **world.client_kwargs)
            elapsed = time.monotonic() - started
            try:
                assert client.is_connected
                assert elapsed < 0.5, f"connect took {elapsed:.3f} s"
                uuids = {service.uuid for service in client.services}
                assert {HEART_RATE_SERVICE_UUID, "0000180f-0000-1000-8000-00805f9b34fb",
                        "0000180a-0000-1000-8000-00805f9b34fb"} <= uuids
                hrm = client.services.get_characteristic(HEART_RATE_MEASUREMENT_UUID)
                assert hrm is not None and hrm.properties == ["notify"]
                assert hrm.get_descriptor("00002902-0000-1000-8000-00805f9b34fb") is not None
                for uuid, text in DIS.items():
                    assert (await client.read_gatt_char(uuid)).decode() == text
                assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])
                assert await client.read_gatt_char(BODY_SENSOR_LOCATION_UUID) == bytearray([1])  # chest
            finally:
                await client.disconnect()

    arun(scenario())


def test_hrm_read_is_refused_like_a_conforming_strap(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            client = await connect(world, strap)
            with pytest.raises(BleakGATTProtocolError) as raised:
                await client.read_gatt_char(HEART_RATE_MEASUREMENT_UUID)
            assert raised.value.code is BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
            await client.disconnect()

    arun(scenario())


def test_notified_rr_ticks_equal_what_the_strap_sent_and_the_feed_gave(arun, feed: SteadyFeed) -> None:
    async def scenario() -> list[HeartRateMeasurement]:
        strap = fast_strap(feed)
        received: list[HeartRateMeasurement] = []
        got_enough = asyncio.Event()

        def on_hrm(_char: object, data: bytearray) -> None:
            received.append(decode_heart_rate_measurement(bytes(data)))
            if len(received) >= 30:
                got_enough.set()

        async with emulated_world(strap) as world:
            client = await connect(world, strap)
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, on_hrm)
            await asyncio.wait_for(got_enough.wait(), 5.0)
            await client.stop_notify(HEART_RATE_MEASUREMENT_UUID)
            await asyncio.sleep(0.1)  # anything in flight lands; nothing new is sent
            count_after_stop = len(received)
            await asyncio.sleep(0.1)
            assert len(received) == count_after_stop, "notifications continued after stop_notify"
            await client.disconnect()
        assert [(m.bpm, m.rr_ticks_1024) for m in received] == [(s.bpm, s.rr_ticks) for s in strap.sent]
        assert all(m.sensor_contact is True for m in received)
        # The beats sent are exactly the feed's beats up to the last notification, in order, none
        # dropped or repeated (the window starts a minute early: the first interval's length
        # depends on scheduling, so compare the tail).
        sent_ticks = [t for s in strap.sent for t in s.rr_ticks]
        fed = feed.rr_ticks(strap.sent[0].t_ms - 60_000, strap.sent[-1].t_ms)[1].tolist()
        assert fed[-len(sent_ticks):] == sent_ticks
        return received

    received = arun(scenario())
    assert 55 <= received[-1].bpm <= 80


def test_long_intervals_split_rr_over_notifications_within_mtu(arun, feed: SteadyFeed) -> None:
    """20 simulated seconds per notification = ~24 beats: more than 9 RR must be split."""

    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed, now_ms=SimClock(start_ms=DAY0_MS, speed=1000.0),
                              notify_interval_s=0.02)
        received: list[bytes] = []
        async with emulated_world(strap) as world:
            # mtu=None keeps the default ATT MTU of 23: 20-byte notifications.
            client = await connect(world, strap, mtu=None)
            assert client.mtu_size == 23
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, lambda _c, d: received.append(bytes(d)))
            while len(strap.sent) < 6:
                await asyncio.sleep(0.02)
            await client.disconnect()
        assert max(len(value) for value in received) <= 20
        assert max(len(s.rr_ticks) for s in strap.sent) == 9
        decoded = [decode_heart_rate_measurement(v).rr_ticks_1024 for v in received]
        assert decoded == [s.rr_ticks for s in strap.sent[: len(decoded)]]

    arun(scenario())


def test_battery_notifications(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        levels: asyncio.Queue[int] = asyncio.Queue()
        async with emulated_world(strap) as world:
            client = await connect(world, strap)
            await client.start_notify(BATTERY_LEVEL, lambda _c, d: levels.put_nowait(d[0]))
            await strap.set_battery(42)
            assert await asyncio.wait_for(levels.get(), 1.0) == 42
            assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([42])
            await client.disconnect()

    arun(scenario())


def test_peripheral_disconnect_fires_disconnected_callback_but_own_disconnect_does_not(arun, feed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            lost: list[BleakClient] = []
            fired = asyncio.Event()

            def on_lost(client: BleakClient) -> None:
                lost.append(client)
                fired.set()

            client = await connect(world, strap, disconnected_callback=on_lost)
            await client.disconnect()
            await asyncio.sleep(0.05)
            assert lost == []  # our own disconnect is not "unsolicited"

            client = await connect(world, strap, disconnected_callback=on_lost)
            await strap.disconnect_all()
            await asyncio.wait_for(fired.wait(), 1.0)
            assert lost == [client]
            assert not client.is_connected

    arun(scenario())


def test_link_drop_after_n_notifications(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = fast_strap(feed)
        strap.faults.drop_link_after(5)
        received: list[bytes] = []
        fired = asyncio.Event()
        async with emulated_world(strap) as world:
            client = await connect(world, strap, disconnected_callback=lambda _c: fired.set())
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, lambda _c, d: received.append(bytes(d)))
            await asyncio.wait_for(fired.wait(), 3.0)
        assert len(received) == 5 == len(strap.sent)
        assert strap.faults.counters.dropped == 1

    arun(scenario())


def test_seeded_random_drop_point_is_reproducible(feed: SteadyFeed) -> None:
    first = EmulatedStrap(feed=feed, seed=7).faults.drop_link_randomly(3, 50)
    second = EmulatedStrap(feed=feed, seed=7).faults.drop_link_randomly(3, 50)
    assert first == second and 3 <= first <= 50


def test_malformed_notifications_are_interleaved(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = fast_strap(feed)
        strap.faults.interleave_malformed(every=3)
        good: list[HeartRateMeasurement] = []
        bad: list[bytes] = []

        def on_hrm(_c: object, data: bytearray) -> None:
            try:
                good.append(decode_heart_rate_measurement(bytes(data)))
            except DecodeError:
                bad.append(bytes(data))

        async with emulated_world(strap) as world:
            client = await connect(world, strap)
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, on_hrm)
            while len(good) < 12:
                await asyncio.sleep(0.02)
            await client.disconnect()
        assert len(bad) >= 3
        assert len(bad) == strap.faults.counters.malformed_sent
        assert [m.rr_ticks_1024 for m in good] == [s.rr_ticks for s in strap.sent[: len(good)]]

    arun(scenario())


@pytest.mark.parametrize("mode", [RefuseMode.REJECT, RefuseMode.IGNORE])
def test_refused_first_connections_recover_through_establish_connection(arun, feed, mode) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        strap.faults.refuse_connections(2, mode)
        async with emulated_world(strap) as world:
            # timeout= caps each attempt (bleak-retry-connector asks for 20 s per attempt).
            client = await connect(world, strap, timeout=0.3)
            assert client.is_connected
            assert await client.read_gatt_char(BATTERY_LEVEL) == bytearray([87])
            await client.disconnect()
        assert strap.faults.counters.refused == 2

    arun(scenario(), 8.0)


def test_pair_bonds_and_reconnect_reencrypts_and_unpair_forgets(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            keystore = world.central.device.keystore
            client = await connect(world, strap)
            await client.pair()
            assert strap.connections[0].is_encrypted
            assert await keystore.get(strap.address_str) is not None
            await client.disconnect()

            client = await connect(world, strap, pair=True)  # bonded: encrypts with the stored LTK
            assert strap.connections[0].is_encrypted
            await client.unpair()
            assert not client.is_connected
            assert await keystore.get(strap.address_str) is None

    arun(scenario())


def test_out_of_range_drops_the_link_and_hides_the_strap_until_it_returns(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            lost = asyncio.Event()
            client = await connect(world, strap, disconnected_callback=lambda _c: lost.set())
            await strap.go_out_of_range()
            await asyncio.wait_for(lost.wait(), 1.0)
            assert await BleakScanner.find_device_by_address(strap.address_str, timeout=0.3,
                                                             **world.scanner_kwargs) is None
            await strap.come_into_range()
            client = await connect(world, strap)
            assert client.is_connected
            await client.disconnect()

    arun(scenario())
