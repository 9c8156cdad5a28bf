"""Connecting to a device through bleak's public API, and request/response over notifications.

Connections go through bleak-retry-connector's `establish_connection` (retries with back-off on the
transient errors real adapters produce). Notification callbacks only enqueue; consumers read the queue.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from bleak_retry_connector import establish_connection

logger = logging.getLogger(__name__)


class NotInRange(Exception):
    """The device did not advertise, or refused every connection attempt."""


class RequestTimeout(Exception):
    """A device did not answer a request in time (older firmware, busy device, link trouble)."""


@dataclass
class BackendKwargs:
    """What selects bleak's backend: ({}, {}) for the platform stack, or the bumble backend's kwargs."""

    scanner: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def find(address: str, backend: BackendKwargs, timeout_s: float) -> BLEDevice:
    device = await BleakScanner.find_device_by_address(address, timeout=timeout_s, **backend.scanner)
    if device is None:
        raise NotInRange(f"{address} not found within {timeout_s:.0f} s")
    return device


async def connect(
    address: str,
    backend: BackendKwargs,
    *,
    scan_timeout_s: float,
    attempts: int,
    on_disconnect: Callable[[BleakClient], None] | None = None,
) -> BleakClient:
    """Find and connect with retries; NotInRange when the device cannot be reached."""
    device = await find(address, backend, scan_timeout_s)
    try:
        return await establish_connection(
            BleakClient, device, device.name or address, disconnected_callback=on_disconnect,
            max_attempts=attempts, **backend.client,
        )  # fmt: skip
    except (BleakError, TimeoutError, asyncio.TimeoutError) as exc:
        raise NotInRange(f"{address}: could not connect: {exc}") from exc


class LinkLost(ConnectionError):
    """The link dropped while we waited for an answer."""


class NotifyQueue:
    """Collects notifications of one characteristic; the callback only enqueues (never blocks the loop).

    With `gone` (set by the client's disconnected callback) a wait ends as soon as the link drops,
    instead of running out the request timeout.
    """

    def __init__(self, gone: asyncio.Event | None = None) -> None:
        self.queue: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self.gone = gone

    def callback(self, _sender: Any, data: bytearray) -> None:
        self.queue.put_nowait((now_ms(), bytes(data)))

    async def get(self, timeout_s: float) -> tuple[int, bytes]:
        if not self.queue.empty():
            return self.queue.get_nowait()
        if self.gone is not None and self.gone.is_set():
            raise LinkLost("link lost")
        getter = asyncio.ensure_future(self.queue.get())
        waiters: set[asyncio.Future[Any]] = {getter}
        if self.gone is not None:
            waiters.add(asyncio.ensure_future(self.gone.wait()))
        done, pending = await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if getter in done:
            return getter.result()
        if done:
            raise LinkLost("link lost while waiting for an answer")
        raise RequestTimeout(f"no answer within {timeout_s:.0f} s")

    def drain(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
