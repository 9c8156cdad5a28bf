"""Emulated devices survive a central that vanished in the middle of an exchange (a killed `tracker sync`):
the next central, in a new process on the same TCP transport, finds the device and is answered."""

from __future__ import annotations

import asyncio

from bleak import BleakClient, BleakScanner
from bleak_retry_connector import establish_connection

from device.bumble_backend import BumbleCentral, bleak_kwargs
from device.emulator.link import SimClock, serve_emulator
from device.protocols import colmi
from tests.device.conftest import DAY0_MS, SteadyFeed
from tests.device.test_bumble_backend import free_tcp_port


def test_ring_answers_a_new_central_after_the_last_one_died_mid_request(arun, feed: SteadyFeed) -> None:
    async def scenario() -> None:
        port = free_tcp_port()
        stop, ready = asyncio.Event(), asyncio.Event()
        server = asyncio.create_task(serve_emulator(f"tcp-server:127.0.0.1:{port}", "ring", feed, stop,
                                                    now_ms=SimClock(start_ms=DAY0_MS + 3_600_000), ready=ready))  # fmt: skip
        await asyncio.wait_for(ready.wait(), 5.0)
        try:
            first = BumbleCentral(name="doomed-central")
            await first.open(f"tcp-client:127.0.0.1:{port}")
            scanner_kwargs, client_kwargs = bleak_kwargs(first)
            device = await BleakScanner.find_device_by_name("R02_EMU1", timeout=2.0, **scanner_kwargs)
            assert device is not None
            ring = await establish_connection(BleakClient, device, "ring", **client_kwargs)
            await ring.start_notify(colmi.NOTIFY_UUID, lambda _c, _d: None)
            await ring.write_gatt_char(colmi.WRITE_UUID, colmi.hr_log_request(DAY0_MS // 1000), response=False)
            # killed: the process and its socket vanish, nothing is disconnected politely
            assert first._transport is not None
            await first._transport.close()

            second = BumbleCentral(name="next-central")
            await second.open(f"tcp-client:127.0.0.1:{port}")
            try:
                scanner_kwargs, client_kwargs = bleak_kwargs(second)
                device = await BleakScanner.find_device_by_name("R02_EMU1", timeout=3.0, **scanner_kwargs)
                assert device is not None, "the ring stopped advertising after its central died"
                ring = await establish_connection(BleakClient, device, "ring", **client_kwargs)
                replies: asyncio.Queue[bytes] = asyncio.Queue()
                await ring.start_notify(colmi.NOTIFY_UUID, lambda _c, d: replies.put_nowait(bytes(d)))
                await ring.write_gatt_char(colmi.WRITE_UUID, colmi.battery_request(), response=True)
                while True:  # the first request after connecting: leftovers of the old exchange are skipped
                    command, _ = colmi.parse_packet(await asyncio.wait_for(replies.get(), 2.0))
                    if command == colmi.CMD_BATTERY:
                        break
                await ring.disconnect()
            finally:
                await second.close()
        finally:
            stop.set()
            await asyncio.wait_for(server, 5.0)

    arun(scenario(), 20.0)
