"""Emulated wearables as bumble peripherals, for tests, benchmarks and `tracker demo`/`emulate`.

Owns the package's public surface and `emulated_world`, the one-call way to build an in-process
world: an `EmulatorLink`, the given peripherals on it, and a `BumbleCentral` opened on the
"emulator" transport, plus the bleak kwargs that point `BleakScanner`/`BleakClient` at it::

    async with emulated_world(EmulatedStrap(feed=sim), EmulatedRing(feed=sim)) as world:
        device = await BleakScanner.find_device_by_address(
            world.peripherals[0].address_str, **world.scanner_kwargs)
        client = await establish_connection(BleakClient, device, "strap", **world.client_kwargs)

Modules: `link` (the radio world, base peripheral, `serve_emulator`), `strap` (Heart Rate
Service chest strap), `ring` (Colmi R0x ring), `faults` (fault injection).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from device.emulator.faults import Faults, RefuseMode
from device.emulator.link import (
    EmulatedPeripheral,
    EmulatorLink,
    SimClock,
    serve_emulator,
    wall_clock_ms,
)
from device.emulator.ring import EmulatedRing, HistoryFeed, SleepSpanLike, WearableFeed
from device.emulator.strap import EmulatedStrap, RRFeed, SentMeasurement

__all__ = [
    "EmulatedPeripheral",
    "EmulatedRing",
    "EmulatedStrap",
    "EmulatedWorld",
    "EmulatorLink",
    "Faults",
    "HistoryFeed",
    "RRFeed",
    "RefuseMode",
    "SentMeasurement",
    "SimClock",
    "SleepSpanLike",
    "WearableFeed",
    "emulated_world",
    "serve_emulator",
    "wall_clock_ms",
]


@dataclass
class EmulatedWorld:
    """What `emulated_world` yields."""

    link: EmulatorLink
    central: Any  # device.bumble_backend.BumbleCentral
    peripherals: list[EmulatedPeripheral]
    scanner_kwargs: dict[str, Any] = field(default_factory=dict)
    client_kwargs: dict[str, Any] = field(default_factory=dict)


@asynccontextmanager
async def emulated_world(
    *peripherals: EmulatedPeripheral, central_name: str = "tracker-central"
) -> AsyncIterator[EmulatedWorld]:
    """Link + peripherals (advertising) + an open in-process BumbleCentral; all closed on exit."""
    from device.bumble_backend import BumbleCentral, bleak_kwargs

    link = EmulatorLink()
    central = BumbleCentral(name=central_name, emulator=link)
    try:
        for peripheral in peripherals:
            await link.add(peripheral)
        await central.open("emulator")
        scanner_kwargs, client_kwargs = bleak_kwargs(central)
        yield EmulatedWorld(link, central, list(peripherals), scanner_kwargs, client_kwargs)
    finally:
        await central.close()
        await link.close()
