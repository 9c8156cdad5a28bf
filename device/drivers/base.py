"""The seam between the collector and the device families: what a family can do, and how.

The collector schedules, locks, records runs and writes through the ingest path; a driver knows one
family's bytes and conversation. The collector never branches on the family: it asks the driver's
`Capabilities` and calls its methods (in the spirit of Home Assistant's split between an integration and a
device library).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient
from bleak.exc import BleakError

from device.link import RequestTimeout
from device.protocols import gatt_std
from device.protocols.errors import DecodeError
from tracker.clock import Clock
from tracker.devices import Devices
from tracker.ingest import Ingest

logger = logging.getLogger(__name__)

# What a request may raise when a device misbehaves; callers treat these as "not available".
REQUEST_ERRORS = (DecodeError, BleakError, RequestTimeout, TimeoutError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a family can do. `live_rr`: its live notifications carry RR intervals (needed for HRV)."""

    live_capture: bool
    live_rr: bool
    history_sync: bool
    battery: bool
    clock: bool


@dataclass
class SyncCounts:
    """What a sync really stored and what went wrong, kept up to date as it goes (so a failed sync still
    reports the rows it committed)."""

    heart_rate: int = 0
    sleep: int = 0
    hrv_estimates: int = 0
    minutes: int = 0  # per-minute samples received (bands)
    malformed: int = 0
    unavailable: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class SyncContext:
    """Everything a driver's sync needs; built by the collector for one run."""

    client: BleakClient
    devices: Devices
    ingest: Ingest
    device_id: int
    person_id: int
    tz: str
    run_id: int
    clock: Clock
    timeout_s: float
    first_sync_days: int
    gone: asyncio.Event | None = None
    device_name: str = ""
    auth_key: bytes | None = None
    keep_on_device: bool = False
    counts: SyncCounts = field(default_factory=SyncCounts)


@dataclass
class PairContext:
    """What pairing gives a driver: the key the person typed (if any) and the pairing settings."""

    client: BleakClient
    timeout_s: float
    tz: str
    auth_key: bytes | None = None
    configure_heart_rate: bool = True


class Driver:
    """One device family. Subclasses override what their `capabilities` promise."""

    family: str = ""
    capabilities = Capabilities(live_capture=False, live_rr=False, history_sync=False, battery=False, clock=False)
    needs_auth_key = False

    def matches(self, name: str | None, service_uuids: set[str]) -> bool:
        raise NotImplementedError

    async def on_pair(self, ctx: PairContext) -> dict[str, Any]:
        """Family-specific pairing (authentication, configuration); returns extra device fields to store."""
        return {}

    async def battery(self, client: BleakClient, timeout_s: float) -> int | None:
        """Battery percent through the standard Battery Service, if the device offers it."""
        if client.services.get_characteristic(gatt_std.BATTERY_LEVEL_UUID) is None:
            return None
        raw = await asyncio.wait_for(client.read_gatt_char(gatt_std.BATTERY_LEVEL_UUID), timeout_s)
        return gatt_std.decode_battery_level(bytes(raw))

    async def prepare_live(self, client: BleakClient, timeout_s: float, auth_key: bytes | None) -> None:
        """Whatever must happen before Heart Rate Measurement notifications flow (none for a strap)."""

    async def finish_live(self, client: BleakClient, timeout_s: float) -> None:
        """Undo `prepare_live` (best effort; the link may be gone)."""

    async def sync(self, ctx: SyncContext) -> SyncCounts:
        """Pull stored history; the default (no history) only reads the battery."""
        try:
            level = await self.battery(ctx.client, ctx.timeout_s)
        except REQUEST_ERRORS as exc:
            logger.info("battery not available: %s", exc)
            level = None
        if level is not None:
            await asyncio.to_thread(ctx.devices.set_battery, ctx.device_id, level)
        ctx.counts.unavailable.append("history: a Heart Rate Service device stores none (live captures only)")
        return ctx.counts
