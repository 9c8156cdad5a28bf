"""The BLE thread: owns the process's only asyncio loop, the bumble central if any, and the collector.

bleak needs one event loop for the process's lifetime, so one thread runs it; other threads (web
requests, scheduler jobs, the CLI) hand work to it with `asyncio.run_coroutine_threadsafe` and wait with
a timeout. This class is the `tracker.ports.CollectorPort` the composition root plugs into tracker.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from bleak.exc import BleakError

from device.collector import Collector
from device.link import BackendKwargs, NotInRange
from tracker.errors import UserError
from tracker.ports import CaptureOutcome, ScanResult, SyncOutcome

logger = logging.getLogger(__name__)
_T = TypeVar("_T")
EMULATOR_SPEC = "emulator"


NO_STACK_HINT = (
    "no usable Bluetooth stack ({error}): install and start BlueZ (e.g. `apt install bluez`, "
    "`systemctl start bluetooth`), make sure an adapter is present and powered (`bluetoothctl show`) and the "
    "user may use it (group `bluetooth`); or use a USB dongle through bumble with `--transport usb:0` "
    "(`[ble] backend = \"bumble\"`)"
)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _stack_missing(exc: BaseException) -> bool:
    """True when the platform stack itself is missing (no D-Bus/BlueZ, no adapter), not a device problem."""
    if isinstance(exc, (FileNotFoundError, ConnectionRefusedError, PermissionError)):
        return True
    text = str(exc).lower()
    return any(word in text for word in ("adapter", "bluez", "dbus", "d-bus", "org.freedesktop"))


class BluetoothUnavailable(UserError):
    """Scan/pair/capture/sync failed in a way the person can act on (not in range, no adapter)."""


class BleRuntime:
    """Start once, call from any thread, stop once."""

    def __init__(
        self,
        make_collector: Callable[[BackendKwargs], Collector],
        *,
        backend: str = "system",
        transport: str = EMULATOR_SPEC,
        keystore_path: str | None = None,
        on_loop_start: Callable[[Any], Awaitable[None]] | None = None,
        on_loop_stop: Callable[[], Awaitable[None]] | None = None,
        health_interval_s: float = 10.0,
        reopen_backoff_s: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        """`on_loop_start(central)` runs on the loop after the central opened (the demo and tests attach
        emulated devices to `central.emulator` there); `on_loop_stop()` runs before it closes."""
        self._make_collector = make_collector
        self._backend = backend
        self._transport = transport
        self._keystore_path = keystore_path
        self._on_loop_start = on_loop_start
        self._on_loop_stop = on_loop_stop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="ble", daemon=True)
        self.collector: Collector | None = None
        self.central: Any = None
        self._health_interval_s = health_interval_s
        self._backoff_first_s, self._backoff_max_s = reopen_backoff_s
        # "up", or "reopening" while a lost transport is being reopened (with the last reason)
        self.state = "up"
        self.state_reason: str | None = None
        self.reopen_count = 0

    # -- life cycle -------------------------------------------------------------------------------

    def start(self, timeout_s: float = 30.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise BluetoothUnavailable("the Bluetooth thread did not start in time")
        if self._error is not None:
            raise BluetoothUnavailable(f"Bluetooth could not start: {self._error}") from self._error

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)  # asyncio.Event is not thread-safe
        self._thread.join(timeout_s)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            backend = BackendKwargs()
            if self._backend == "bumble":
                from device.bumble_backend import BumbleCentral, bleak_kwargs

                self.central = BumbleCentral(keystore=self._keystore_path)
                await self.central.open(self._transport)
                scanner, client = bleak_kwargs(self.central)
                backend = BackendKwargs(scanner, client)
            self.collector = self._make_collector(backend)
            if self._on_loop_start is not None:
                await self._on_loop_start(self.central)
        except BaseException as exc:  # reported to start(); the thread ends
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        # Only the bumble transport needs a watchdog. For the system backend (BlueZ) nothing long-lived needs
        # rebuilding (read in bleak 3.1.0 and bleak-retry-connector 4.7.1; no hardware here, so untested):
        # every scan and connect makes a fresh BleakScanner/BleakClient, and those call
        # get_global_bluez_manager() (bleak/backends/bluezdbus/manager.py; BleakScannerBlueZDBus.start,
        # BleakClientBlueZDBus.connect), which runs BlueZManager.async_init(): if the D-Bus connection died it
        # opens a new MessageBus, subscribes InterfacesAdded/InterfacesRemoved/PropertiesChanged again and
        # reloads GetManagedObjects. Since bleak 3.1 (hence the pin) BlueZManager._monitor_bus_disconnect /
        # _handle_bus_disconnect notice a dead bus at once, clear the cache and report connected devices as
        # disconnected, so a sync in flight ends as a lost link and resumes. An adapter unplugged and back, or
        # powered off and on, arrives as InterfacesRemoved/InterfacesAdded/PropertiesChanged on that bus;
        # meanwhile get_default_adapter() raises BleakBluetoothNotAvailableError, which `call` reports with
        # NO_STACK_HINT, and the next operation works again. Known limits: bleak does not watch org.bluez's
        # NameOwnerChanged, so objects of a bluetoothd that crashed stay cached until it announces them again;
        # and bleak_retry_connector/bleak_manager.py get_global_bluez_manager_with_timeout() stops trying
        # D-Bus for the rest of the process after one FileNotFoundError or timeout (its reset,
        # _reset_dbus_socket_cache, is private). That only turns off its optional BlueZ helpers (service
        # cache checks, cache clearing); connections still go through bleak itself.
        watchdog = asyncio.ensure_future(self._watch_transport()) if self.central is not None else None
        try:
            await self._stop.wait()
        finally:
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
            if self._on_loop_stop is not None:
                try:
                    await self._on_loop_stop()
                except Exception:
                    logger.exception("emulator shutdown failed")
            if self.central is not None:
                await self.central.close()

    async def _watch_transport(self) -> None:
        """Probe the bumble controller every health interval; when it is gone (transport closed, controller
        silent) reopen it with exponential back-off instead of failing every sync until a restart."""
        while True:
            await asyncio.sleep(self._health_interval_s)
            if await self.central.probe():
                continue
            self.state, self.state_reason = "reopening", "the Bluetooth controller stopped answering"
            logger.error("Bluetooth transport %s lost; reopening", self._transport)
            await self.central.abandon()
            delay_s = self._backoff_first_s
            while True:
                try:
                    await self.central.open(self._transport)
                    break
                except Exception as exc:  # noqa: BLE001 - keep trying: the dongle may come back
                    self.state_reason = f"reopening failed: {_short(exc)}"
                    logger.warning("reopening Bluetooth transport failed (%s); next try in %.0f s",
                                   _short(exc), delay_s)  # fmt: skip
                    await self.central.abandon()
                    await asyncio.sleep(delay_s)
                    delay_s = min(delay_s * 2, self._backoff_max_s)
            self.reopen_count += 1
            self.state, self.state_reason = "up", None
            logger.warning("Bluetooth transport %s reopened", self._transport)

    # -- CollectorPort ----------------------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, _T], timeout_s: float) -> _T:
        """Run a coroutine on the BLE loop from another thread and wait for it."""
        if self._loop is None or not self._thread.is_alive():
            coro.close()
            raise BluetoothUnavailable("Bluetooth is not running")
        if self.state != "up":
            coro.close()
            raise BluetoothUnavailable(f"Bluetooth is not working: {self.state_reason}")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise BluetoothUnavailable(f"Bluetooth operation timed out after {timeout_s:.0f} s") from None
        except NotInRange as exc:
            raise BluetoothUnavailable(str(exc)) from None
        except (OSError, BleakError) as exc:
            if self._backend == "system" and _stack_missing(exc):
                raise BluetoothUnavailable(NO_STACK_HINT.format(error=_short(exc))) from None
            raise

    def problem(self) -> str | None:
        """For the Devices page and the overview banner: why Bluetooth is not working now, or None."""
        if self._loop is None or not self._thread.is_alive():
            return "Bluetooth is not running in this process"
        if self.state != "up":
            return f"Bluetooth is not working ({self.state_reason}); reopening it"
        return None

    def _collector(self) -> Collector:
        if self.collector is None:
            raise BluetoothUnavailable("Bluetooth is not running")
        return self.collector

    def scan(self, seconds: float) -> list[ScanResult]:
        return self.call(self._collector().scan(seconds), seconds + 30)

    def pair(self, address: str, person_id: int, auth_key: bytes | None = None) -> int:
        return self.call(self._collector().pair(address, person_id, auth_key), 120)

    def capture(self, device_id: int, seconds: float, capture_id: int) -> CaptureOutcome:
        return self.call(self._collector().capture(device_id, seconds, capture_id), seconds + 120)

    def sync(self, device_id: int) -> SyncOutcome:
        return self.call(self._collector().sync(device_id), 600)

    def run_on_loop(self, coro: Coroutine[Any, Any, _T], timeout_s: float = 60) -> _T:
        """For the demo and tests: run arbitrary setup on the BLE loop."""
        return self.call(coro, timeout_s)
