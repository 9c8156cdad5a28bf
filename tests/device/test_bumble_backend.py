"""The bleak backend over bumble: bleak's public API against emulated devices.

Backend behaviour that is not about one wearable: the shared central, scanner ref-counting and
filters, connect timeouts and cancellation, concurrent connects, error mapping, link loss during
an operation, service filters, bonding to a JSON key store, and the two-transport scenario
(`serve_emulator` on tcp-server, a central on tcp-client in the same process).
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from pathlib import Path

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError, BleakGATTProtocolError, BleakGATTProtocolErrorCode
from bleak_retry_connector import establish_connection

from device.bumble_backend import (
    BumbleCentral,
    BumbleClientBackend,
    BumbleDeviceDetails,
    BumbleScannerBackend,
    bleak_kwargs,
)
from device.emulator import EmulatedRing, EmulatedStrap, EmulatorLink, SimClock, emulated_world, serve_emulator
from device.protocols import colmi
from device.protocols.hrs import (
    BODY_SENSOR_LOCATION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    decode_heart_rate_measurement,
)
from tests.device.conftest import DAY0_MS, SteadyFeed

BATTERY_SERVICE = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL = "00002a19-0000-1000-8000-00805f9b34fb"


async def find(world, peripheral) -> object:
    device = await BleakScanner.find_device_by_address(
        peripheral.address_str, timeout=2.0, **world.scanner_kwargs
    )
    assert device is not None, f"{peripheral.name} not found"
    return device


def test_bleak_kwargs_for_platform_and_bumble() -> None:
    assert bleak_kwargs(None) == ({}, {})
    central = BumbleCentral()
    scanner_kwargs, client_kwargs = bleak_kwargs(central)
    assert scanner_kwargs == {"backend": BumbleScannerBackend, "bumble_central": central}
    assert client_kwargs == {"backend": BumbleClientBackend, "bumble_central": central}


def test_central_opens_once_and_closes_idempotently(arun) -> None:
    async def scenario() -> None:
        central = BumbleCentral()
        await central.open("emulator")
        assert central.is_open and central.emulator is not None
        with pytest.raises(BleakError):
            await central.open("emulator")
        await central.close()
        await central.close()
        assert not central.is_open

    arun(scenario())


def test_two_scanners_share_the_central_and_find_both_devices(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap, ring = EmulatedStrap(feed=feed), EmulatedRing(feed=feed)
        async with emulated_world(strap, ring) as world:
            first = BleakScanner(**world.scanner_kwargs)
            second = BleakScanner(**world.scanner_kwargs)
            await first.start()
            await second.start()
            await asyncio.sleep(0.15)
            await first.stop()
            assert world.central.device.is_scanning  # second still scanning
            second._backend.seen_devices.clear()
            await asyncio.sleep(0.15)
            await second.stop()
            assert not world.central.device.is_scanning
            found = second.discovered_devices_and_advertisement_data
            assert {strap.address_str, ring.address_str} <= set(first.discovered_devices_and_advertisement_data)
            assert {strap.address_str, ring.address_str} <= set(found)  # kept coming after first stopped
            device, _adv = found[strap.address_str]
            assert isinstance(device.details, BumbleDeviceDetails)
            assert await BleakScanner.find_device_by_address("C0:11:22:33:44:55", timeout=0.1,
                                                             **world.scanner_kwargs) is None

    arun(scenario())


def test_connect_times_out_fast_and_the_central_stays_usable(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            device = await find(world, strap)
            await strap.stop_advertising()
            await asyncio.sleep(0.05)
            client = BleakClient(device, timeout=0.3, **world.client_kwargs)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await client.connect()
            assert time.monotonic() - started < 1.0
            await strap.come_into_range()
            await client.connect()  # the cancelled attempt left nothing pending
            assert client.is_connected
            await asyncio.sleep(0.05)
            assert len(world.central.device.connections) == 1  # and no orphan link
            await client.disconnect()

    arun(scenario())


def test_connect_by_address_string_and_concurrent_connects(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap, ring = EmulatedStrap(feed=feed), EmulatedRing(feed=feed)
        async with emulated_world(strap, ring) as world:
            devices = [await find(world, p) for p in (strap, ring)]
            # Both at once: bumble allows one pending LE connection per Device; the central
            # serializes them instead of failing one with "connection already pending".
            clients = await asyncio.gather(
                *(
                    establish_connection(BleakClient, d, p.name, **world.client_kwargs)
                    for d, p in zip(devices, (strap, ring))
                )
            )
            assert all(c.is_connected for c in clients)
            by_string = BleakClient(strap.address_str, **world.client_kwargs)
            assert by_string.name == strap.name  # remembered from the advertisement
            for client in clients:
                await client.disconnect()
            await by_string.connect()
            assert await by_string.read_gatt_char(BATTERY_LEVEL) == bytearray([87])
            await by_string.disconnect()

    arun(scenario())


def test_services_filter_mtu_and_write_without_response_size(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            device = await find(world, strap)
            client = BleakClient(device, services=["180f"], **world.client_kwargs)
            await client.connect()
            assert [s.uuid for s in client.services] == [BATTERY_SERVICE]
            assert client.mtu_size > 23
            level = client.services.get_characteristic(BATTERY_LEVEL)
            assert level is not None
            assert level.max_write_without_response_size == client.mtu_size - 3
            await client.disconnect()

    arun(scenario())


def test_att_errors_map_to_bleak_protocol_errors(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            client = await establish_connection(BleakClient, await find(world, strap), "s", **world.client_kwargs)
            with pytest.raises(BleakGATTProtocolError) as read_error:
                await client.read_gatt_char(HEART_RATE_MEASUREMENT_UUID)
            with pytest.raises(BleakGATTProtocolError) as write_error:
                await client.write_gatt_char(BODY_SENSOR_LOCATION_UUID, b"\x02", response=True)
            await client.disconnect()
        assert read_error.value.code is BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
        assert write_error.value.code is BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED

    arun(scenario())


def test_pending_operation_fails_fast_on_link_loss_and_times_out_when_unanswered(arun, feed) -> None:
    async def scenario() -> None:
        strap = EmulatedStrap(feed=feed)
        async with emulated_world(strap) as world:
            device = await find(world, strap)
            peripheral_device = strap.device
            assert peripheral_device is not None

            client = BleakClient(device, gatt_timeout=0.3, **world.client_kwargs)
            await client.connect()
            # Make the strap's GATT server go mute on this link (what RefuseMode.IGNORE does).
            peripheral_device.muted_handles.add(strap.connections[0].handle)
            with pytest.raises(TimeoutError):
                await client.read_gatt_char(BATTERY_LEVEL)
            await client.disconnect()

            client = BleakClient(device, gatt_timeout=5.0, **world.client_kwargs)
            await client.connect()
            peripheral_device.muted_handles.add(strap.connections[0].handle)
            read = asyncio.ensure_future(client.read_gatt_char(BATTERY_LEVEL))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            await strap.disconnect_all()
            with pytest.raises(BleakError, match="disconnected"):
                await read
            assert time.monotonic() - started < 2.0  # not the 5 s GATT timeout
            with pytest.raises(BleakError, match="not connected"):
                await client.read_gatt_char(BATTERY_LEVEL)

    arun(scenario())


def test_pairing_persists_in_a_json_key_store(arun, feed: SteadyFeed, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"

    async def scenario() -> None:
        link = EmulatorLink()
        strap = await link.add(EmulatedStrap(feed=feed))
        central = BumbleCentral(emulator=link, keystore=str(keys), address="C2:00:00:00:00:01")
        await central.open("emulator")
        try:
            scanner_kwargs, client_kwargs = bleak_kwargs(central)
            device = await BleakScanner.find_device_by_address(strap.address_str, timeout=2.0, **scanner_kwargs)
            client = await establish_connection(BleakClient, device, "strap", pair=True, **client_kwargs)
            assert strap.connections[0].is_encrypted
            await client.disconnect()
        finally:
            await central.close()
            await link.close()

    arun(scenario())
    stored = json.loads(keys.read_text())
    (namespace,) = stored.values()
    assert len(namespace) == 1 and "ltk" in next(iter(namespace.values()))


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_emulator_over_tcp_reaches_a_central_on_tcp_client(arun, feed: SteadyFeed) -> None:
    """`tracker emulate --transport tcp-server:…` in one process, the collector's central in another."""

    async def scenario() -> None:
        port = free_tcp_port()
        stop, ready = asyncio.Event(), asyncio.Event()
        clock = SimClock(start_ms=DAY0_MS, speed=1.0)
        server = asyncio.create_task(
            serve_emulator(f"tcp-server:127.0.0.1:{port}", "both", feed, stop, now_ms=clock, ready=ready)
        )
        await asyncio.wait_for(ready.wait(), 5.0)
        central = BumbleCentral(name="remote-central")
        try:
            await central.open(f"tcp-client:127.0.0.1:{port}")
            scanner_kwargs, client_kwargs = bleak_kwargs(central)
            found = await BleakScanner.discover(timeout=0.3, return_adv=True, **scanner_kwargs)
            names = {adv.local_name: device for device, adv in found.values()}
            assert {"EMU Strap 0001", "R02_EMU1"} <= set(names)

            strap = await establish_connection(BleakClient, names["EMU Strap 0001"], "strap", **client_kwargs)
            hrm: asyncio.Queue[bytes] = asyncio.Queue()
            await strap.start_notify(HEART_RATE_MEASUREMENT_UUID, lambda _c, d: hrm.put_nowait(bytes(d)))
            measurement = decode_heart_rate_measurement(await asyncio.wait_for(hrm.get(), 3.0))
            assert measurement.rr_ticks_1024 and set(measurement.rr_ticks_1024) <= set(feed.pattern.tolist())
            await strap.disconnect()

            ring = await establish_connection(BleakClient, names["R02_EMU1"], "ring", **client_kwargs)
            replies: asyncio.Queue[bytes] = asyncio.Queue()
            await ring.start_notify(colmi.NOTIFY_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
            await ring.write_gatt_char(colmi.WRITE_UUID, colmi.battery_request(), response=True)
            assert colmi.decode_battery(await asyncio.wait_for(replies.get(), 2.0)).level_pct == 64
            await ring.disconnect()
        finally:
            await central.close()
            stop.set()
            await asyncio.wait_for(server, 5.0)

    arun(scenario(), 15.0)


def test_closing_the_central_disconnects_clients_without_reporting_link_loss(arun, feed) -> None:
    async def scenario() -> None:
        link = EmulatorLink()
        strap = await link.add(EmulatedStrap(feed=feed))
        central = BumbleCentral(emulator=link)
        await central.open("emulator")
        scanner_kwargs, client_kwargs = bleak_kwargs(central)
        lost: list[object] = []
        try:
            device = await BleakScanner.find_device_by_address(
                strap.address_str, timeout=2.0, scanning_mode="passive", **scanner_kwargs
            )
            assert device is not None
            client = await establish_connection(BleakClient, device, "strap", disconnected_callback=lost.append,
                                                **client_kwargs)
        finally:
            await central.close()
        await asyncio.sleep(0.05)
        assert not client.is_connected and lost == []
        assert strap.connections == []  # the peripheral saw the link go
        await link.close()

    arun(scenario())
