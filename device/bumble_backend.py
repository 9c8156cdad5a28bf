"""A bleak 3.1 backend over Google's bumble host stack.

Owns `BumbleCentral` (one bumble `Device` acting as central, opened once per HCI transport and
shared), `BumbleScannerBackend` (`BaseBleakScanner`), `BumbleClientBackend` (`BaseBleakClient`)
and `bleak_kwargs()`, which turns a central (or None for the platform backend) into the keyword
arguments the collector passes to `BleakScanner(...)` and `BleakClient(...)` /
`bleak_retry_connector.establish_connection(...)`.

Why a shared central: a bumble transport (USB dongle, serial port, TCP socket) can be opened only
once, so scanner and clients must not each open it (the reason bleak PR #1681 stalled, see
research/ble.md §7.4). The central is injected with a `bumble_central=` kwarg, which bleak passes
straight through to the backend constructors (bleak/__init__.py `BleakScanner.__init__`,
`BleakClient.__init__`).

Transport specs: anything `bumble.transport.open_transport` accepts (`usb:0`,
`serial:/dev/ttyACM0`, `tcp-client:HOST:PORT`, ...) plus `emulator`, an in-process
`device.emulator.link.EmulatorLink` shared with emulated peripherals.

Behaviour worth knowing:

* `disconnected_callback` fires only on an *unsolicited* disconnect of an established connection
  (peer or link loss), never after our own `disconnect()`/`unpair()`/`BumbleCentral.close()`
  and never for a link that drops while `connect()` is still running (connect raises instead). This follows the docstring
  of `BaseBleakClient.set_disconnected_callback`; BlueZ fires it on every disconnect.
* Connect timeout = min(per-call `timeout`, constructor `timeout`). bleak-retry-connector always
  passes `timeout=20.0` to `connect()` (bleak_retry_connector `BLEAK_TIMEOUT`), so the
  constructor value is the only way for a caller to ask for a shorter attempt.
* Every GATT operation has a timeout (`gatt_timeout`, default 10 s) and fails fast with
  `BleakError` when the link drops while it is pending. ATT error responses become
  `BleakGATTProtocolError(code)`; timeouts raise `TimeoutError`.
* Pairing uses bumble SMP: `pair()` re-encrypts with a stored LTK when the key store has one for
  the peer, otherwise pairs (Just Works by default). Keys live in memory unless the central is
  given `keystore="path.json"`; `unpair()` disconnects and deletes the peer's keys.
* Only static random addresses are used for the central (research/ble.md §9.4).
* bumble allows one pending LE connection per Device, so concurrent connects through one central
  are serialized (each still bounded by its own timeout).
* RSSI in the emulator is per peripheral (`EmulatedPeripheral.rssi_dbm`); a real controller
  reports the measured value.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuid_lib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CHARACTERISTIC_PROPERTIES, CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, core, hci
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, DeviceConfiguration
from bumble.gatt_client import CharacteristicProxy, ServiceProxy
from bumble.host import Host
from bumble.transport import open_transport

if TYPE_CHECKING:
    from bumble.transport.common import Transport

    from device.emulator.link import EmulatedController, EmulatorLink

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

EMULATOR_SPEC = "emulator"
DEFAULT_GATT_TIMEOUT_S = 10.0
DEFAULT_MTU = 247  # what BlueZ asks for; peripherals answer with their own maximum
ATT_DEFAULT_MTU = 23

_UUID_LIST_TYPES = (
    AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_32_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
    AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
)
_SERVICE_DATA_TYPES = (
    AdvertisingData.SERVICE_DATA_16_BIT_UUID,
    AdvertisingData.SERVICE_DATA_32_BIT_UUID,
    AdvertisingData.SERVICE_DATA_128_BIT_UUID,
)


def bleak_uuid(uuid: core.UUID) -> str:
    """bumble UUID → bleak's lower-case 128-bit string (bumble stores UUIDs little-endian)."""
    return str(uuid_lib.UUID(bytes=uuid.to_bytes(force_128=True)[::-1]))


@dataclass(frozen=True, slots=True)
class BumbleDeviceDetails:
    """`BLEDevice.details` for this backend.

    Not a dict with a "path" key on purpose: bleak-retry-connector only talks to BlueZ over
    D-Bus when `details` is such a dict (bleak_retry_connector/bluez.py
    `_device_details_value_or_none`), so this keeps it off D-Bus entirely.
    """

    address: hci.Address  # with its type (public/random), needed to connect
    central: BumbleCentral


class BumbleCentral:
    """One bumble Device acting as central on one HCI transport, shared by scanner and clients.

    Open it once (`await central.open("usb:0")`), pass it to the backends through `bleak_kwargs`,
    close it once. Not thread-safe: use it from the one asyncio loop bleak runs on.
    """

    def __init__(
        self,
        *,
        name: str = "tracker-central",
        address: str | None = None,
        keystore: str | None = None,
        emulator: EmulatorLink | None = None,
        scan_interval_ms: float = 60.0,
        scan_window_ms: float = 60.0,
    ) -> None:
        """
        Args:
            name: GAP name of the central.
            address: static random address (top two bits 11); random per open if None. Give a
                fixed one together with `keystore` so bonds survive restarts.
            keystore: path of a bumble JsonKeyStore file; in-memory keys if None.
            emulator: the EmulatorLink to join for the "emulator" transport spec (a fresh one is
                created if None; see `emulator` property).
            scan_interval_ms / scan_window_ms: LE scan parameters (bumble defaults to 60/60).
        """
        self.name = name
        self._address = address
        self._keystore = keystore
        self._emulator = emulator
        self._scan_interval_ms = scan_interval_ms
        self._scan_window_ms = scan_window_ms
        self.transport_spec: str | None = None
        self._device: Device | None = None
        self._transport: Transport | None = None
        self._controller: EmulatedController | None = None
        self._scan_listeners: dict[object, Callable[[Advertisement], None]] = {}
        self._scan_lock = asyncio.Lock()
        self._scanning_active: bool | None = None
        self._connect_lock = asyncio.Lock()
        self._connecting: set[bytes] = set()  # peer address bytes with a connect in flight
        self._known: dict[str, tuple[hci.Address, str | None]] = {}  # from advertisements
        self._tasks: set[asyncio.Task[Any]] = set()
        self.closing = False  # set while close() tears links down: clients do not report them

    # -- life cycle -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._device is not None

    @property
    def device(self) -> Device:
        if self._device is None:
            raise BleakError("BumbleCentral is not open")
        return self._device

    @property
    def emulator(self) -> EmulatorLink | None:
        """The EmulatorLink this central joined (transport spec "emulator"), else None."""
        return self._emulator

    @property
    def address(self) -> str:
        return self.device.random_address.to_string(False)

    async def open(self, transport_spec: str) -> None:
        """Open the HCI transport (or join the emulator link), power on the bumble Device."""
        if self._device is not None:
            raise BleakError(f"BumbleCentral already open on {self.transport_spec}")
        address = (
            hci.Address(self._address, hci.Address.RANDOM_DEVICE_ADDRESS)
            if self._address
            else hci.Address.generate_static_address()
        )
        if not address.is_static:
            raise ValueError(f"{self._address} is not a static random address")
        if transport_spec == EMULATOR_SPEC:
            if self._emulator is None:
                from device.emulator.link import EmulatorLink

                self._emulator = EmulatorLink()
            self._controller, host = self._emulator.create_host(f"central-{self.name}")
        else:
            self._transport = await open_transport(transport_spec)
            host = Host(self._transport.source, self._transport.sink)
        config = DeviceConfiguration(
            name=self.name,
            address=address,
            # JsonKeyStore namespaces keys by the controller's public address when it has one
            # (bumble/keys.py `JsonKeyStore.from_device`), else by our random address.
            keystore=f"JsonKeyStore:{self._keystore}" if self._keystore else None,
        )
        device = Device(config=config, host=host)
        device.on(device.EVENT_ADVERTISEMENT, self._on_advertisement)
        device.on(device.EVENT_CONNECTION, self._on_connection)
        try:
            await asyncio.wait_for(device.power_on(), timeout=10.0)
        except BaseException:
            await self._release_transport()
            raise
        self._device = device
        self.transport_spec = transport_spec
        logger.info("bumble central %s open on %s", self.address, transport_spec)

    async def close(self) -> None:
        """Disconnect every link, stop scanning, power off and release the transport."""
        device = self._device
        if device is None:
            return
        self.closing = True
        for connection in list(device.connections.values()):
            try:
                await asyncio.wait_for(connection.disconnect(), timeout=2.0)
            except Exception:  # noqa: BLE001 - best effort on shutdown
                logger.debug("disconnect during close failed", exc_info=True)
        if device.is_scanning:
            try:
                await asyncio.wait_for(device.stop_scanning(), timeout=2.0)
            except Exception:  # noqa: BLE001
                logger.debug("stop_scanning during close failed", exc_info=True)
        self._scan_listeners.clear()
        self._scanning_active = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(device.power_off(), timeout=2.0)
        except Exception:  # noqa: BLE001
            logger.debug("power_off failed", exc_info=True)
        self._device = None
        self.closing = False
        await self._release_transport()

    async def probe(self, timeout_s: float = 3.0) -> bool:
        """True when the controller answers a harmless HCI command (Read BD_ADDR) within `timeout_s`."""
        device = self._device
        if device is None:
            return False
        try:
            await asyncio.wait_for(device.host.send_command(hci.HCI_Read_BD_ADDR_Command()), timeout_s)
        except Exception:  # noqa: BLE001 - any failure means the transport is not usable
            return False
        return True

    async def abandon(self) -> None:
        """Forget a transport that stopped answering: no HCI traffic (it would only time out), just release it
        so `open()` can start over on a fresh one."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._scan_listeners.clear()
        self._scanning_active = None
        self._connecting.clear()
        self._device = None
        if self._controller is not None and hasattr(self._controller, "drop_links"):
            self._controller.drop_links()  # the peripherals must not wait for a central that is gone
        try:
            await asyncio.wait_for(self._release_transport(), 5.0)
        except Exception:  # noqa: BLE001
            logger.debug("releasing a lost transport failed", exc_info=True)
            self._transport = None
            self._controller = None

    async def _release_transport(self) -> None:
        if self._controller is not None and self._emulator is not None:
            self._emulator.remove_controller(self._controller)
            self._controller = None
        if self._transport is not None:
            await self._transport.close()
            self._transport = None

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- scanning (shared by every scanner backend) -----------------------------------------------

    async def add_scan_listener(
        self, key: object, listener: Callable[[Advertisement], None], active: bool
    ) -> None:
        """Start controller scanning if this is the first listener."""
        async with self._scan_lock:
            self._scan_listeners[key] = listener
            if self._scanning_active is None:
                await self.device.start_scanning(
                    active=active,
                    scan_interval=self._scan_interval_ms,
                    scan_window=self._scan_window_ms,
                    filter_duplicates=False,
                )
                self._scanning_active = active

    async def remove_scan_listener(self, key: object) -> None:
        """Stop controller scanning when the last listener leaves."""
        async with self._scan_lock:
            self._scan_listeners.pop(key, None)
            if not self._scan_listeners and self._scanning_active is not None:
                self._scanning_active = None
                if self._device is not None and self._device.is_scanning:
                    await self._device.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        name = _local_name(advertisement.data)
        key = advertisement.address.to_string(False)
        previous = self._known.get(key)
        self._known[key] = (advertisement.address, name or (previous[1] if previous else None))
        for listener in list(self._scan_listeners.values()):
            listener(advertisement)

    def lookup(self, address: str) -> tuple[hci.Address, str | None]:
        """The typed bumble address (and last advertised name) for a bleak address string."""
        key = address.upper()
        if key in self._known:
            return self._known[key]
        # Never seen: assume LE random, like bumble's own string parsing for LE (hci.py
        # `Address.from_string_for_transport`).
        return hci.Address(key, hci.Address.RANDOM_DEVICE_ADDRESS), None

    # -- connections ------------------------------------------------------------------------------

    async def connect(self, peer: hci.Address) -> Connection:
        """Create an LE connection; the caller bounds the wait (cancellation is handled here).

        bumble allows one pending LE connection per Device (device.py `connect_le`:
        "connection already pending"), so connects through one central are serialized.
        """
        device = self.device
        async with self._connect_lock:
            self._connecting.add(bytes(peer))
            try:
                return await device.connect(
                    peer, transport=core.PhysicalTransport.LE, timeout=None
                )
            except core.BaseBumbleError as exc:
                # e.g. core.ConnectionError from an LE Connection Complete with an error status;
                # bleak-retry-connector retries BleakError, not bumble's exceptions.
                raise BleakError(f"connect to {peer.to_string(False)} failed: {exc}") from exc
            except asyncio.CancelledError:
                # Our caller timed out. Tell the controller to stop initiating; without this a
                # real controller keeps the create-connection pending and later connects alone.
                try:
                    await asyncio.wait_for(
                        device.send_sync_command(hci.HCI_LE_Create_Connection_Cancel_Command()),
                        timeout=2.0,
                    )
                except Exception:  # noqa: BLE001 - the controller may have completed meanwhile
                    logger.debug("create-connection cancel failed", exc_info=True)
                raise
            finally:
                self._connecting.discard(bytes(peer))

    def _on_connection(self, connection: Connection) -> None:
        # A central-role link nobody is waiting for (a connect that completed just after its
        # caller gave up) would otherwise stay up forever and block the peripheral.
        if connection.role == hci.Role.CENTRAL and bytes(connection.peer_address) not in self._connecting:
            logger.debug("dropping orphan connection to %s", connection.peer_address)
            self._spawn(connection.disconnect())


def _local_name(data: AdvertisingData) -> str | None:
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    return name if isinstance(name, str) else None


def advertisement_to_bleak(advertisement: Advertisement) -> AdvertisementData:
    """Translate a bumble Advertisement into bleak's AdvertisementData."""
    data = advertisement.data
    service_uuids: list[str] = []
    for ad_type in _UUID_LIST_TYPES:
        for uuids in data.get_all(ad_type):
            for uuid in uuids:  # type: ignore[union-attr]
                text = bleak_uuid(uuid)
                if text not in service_uuids:
                    service_uuids.append(text)
    manufacturer_data: dict[int, bytes] = {}
    for company, payload in data.get_all(AdvertisingData.MANUFACTURER_SPECIFIC_DATA):  # type: ignore[misc]
        manufacturer_data[company] = bytes(payload)
    service_data: dict[str, bytes] = {}
    for ad_type in _SERVICE_DATA_TYPES:
        for uuid, payload in data.get_all(ad_type):  # type: ignore[misc]
            service_data[bleak_uuid(uuid)] = bytes(payload)
    tx_power_raw = data.get(AdvertisingData.TX_POWER_LEVEL)
    # bumble decodes TX power as an unsigned byte (core.py `ad_data_to_object`); it is sint8 dBm.
    tx_power = None if tx_power_raw is None else int.from_bytes([tx_power_raw], "little", signed=True)  # type: ignore[list-item]
    return AdvertisementData(
        local_name=_local_name(data),
        manufacturer_data=manufacturer_data,
        service_data=service_data,
        service_uuids=service_uuids,
        tx_power=tx_power,
        rssi=advertisement.rssi,
        platform_data=(advertisement,),
    )


class BumbleScannerBackend(BaseBleakScanner):
    """`BaseBleakScanner` on a shared BumbleCentral: `BleakScanner(backend=..., bumble_central=c)`."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: Literal["active", "passive"] = "active",
        *,
        bumble_central: BumbleCentral,
        **kwargs: Any,  # swallows bleak's bluez={}, cb={} (bleak/__init__.py BleakScanner)
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        if service_uuids is not None:
            self._service_uuids = [normalize_uuid_str(u) for u in service_uuids]
        self._central = bumble_central
        self._active = scanning_mode != "passive"
        self._key = object()

    async def start(self) -> None:
        self.seen_devices = {}  # BaseBleakScanner: "must be cleared when scanning starts"
        await self._central.add_scan_listener(self._key, self._on_advertisement, self._active)

    async def stop(self) -> None:
        await self._central.remove_scan_listener(self._key)

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        adv = advertisement_to_bleak(advertisement)
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        address = advertisement.address.to_string(False)
        previous = self.seen_devices.get(address)
        # Keep a name learned from an earlier advertisement (scan responses come and go), as
        # BlueZ does with its Name property.
        name = adv.local_name or (previous[0].name if previous else None)
        device = self.create_or_update_device(
            address,
            address,
            name,
            BumbleDeviceDetails(advertisement.address, self._central),
            adv,
        )
        self.call_detection_callbacks(device, adv)


@dataclass
class _Subscription:
    proxy: CharacteristicProxy[bytes]
    subscriber: Callable[[bytes], None]


class BumbleClientBackend(BaseBleakClient):
    """`BaseBleakClient` on a shared BumbleCentral.

    `BleakClient(device, backend=BumbleClientBackend, bumble_central=central)`, or through
    `establish_connection(BleakClient, device, name, backend=..., bumble_central=central)`.
    Extra kwargs: `mtu` (ATT MTU to request, None to keep 23), `gatt_timeout` (seconds).
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        bumble_central: BumbleCentral,
        services: set[str] | None = None,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        mtu: int | None = DEFAULT_MTU,
        gatt_timeout: float = DEFAULT_GATT_TIMEOUT_S,
        **kwargs: Any,  # bluez={}, winrt={}, pair=..., _is_retry_client=... from bleak/retry-connector
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._central = bumble_central
        self._service_filter = services
        self._mtu_request = mtu
        self._gatt_timeout = gatt_timeout
        self._peer: hci.Address | None = None
        self._name: str | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            self._name = address_or_ble_device.name
            details = address_or_ble_device.details
            if isinstance(details, BumbleDeviceDetails):
                self._peer = details.address
        self._connection: Connection | None = None
        self._connected = False  # True once connect() returned successfully
        self._disconnect_requested = False
        self._disconnect_reason: int | None = None
        self._subscriptions: dict[int, _Subscription] = {}

    # -- properties -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        if self._name:
            return self._name
        _, advertised = self._central.lookup(self.address)
        return advertised or self.address.replace(":", "-")

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._connected

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else ATT_DEFAULT_MTU

    # -- connection -------------------------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect, exchange MTU, optionally pair, discover services.

        `kwargs` may hold `timeout` and `dangerous_use_bleak_cache` (bleak-retry-connector);
        the cache flag is ignored: discovery is cheap and a stale cache is worse.
        """
        if self.is_connected:
            return
        timeout = min(float(kwargs.get("timeout", self._timeout)), self._timeout)
        peer = self._peer or self._central.lookup(self.address)[0]
        self._disconnect_requested = False
        self._disconnect_reason = None
        connection: Connection | None = None
        try:
            async with asyncio.timeout(timeout):
                connection = await self._central.connect(peer)
                self._attach(connection)
                if self._mtu_request and self._mtu_request > ATT_DEFAULT_MTU:
                    try:
                        await self._gatt(
                            "MTU exchange", connection.gatt_client.request_mtu(self._mtu_request)
                        )
                    except BleakGATTProtocolError:
                        pass  # peer does not support MTU exchange; stay at 23
                if pair:
                    await self.pair()
                self.services = await self._discover(connection)
        except TimeoutError as exc:
            await self._abort(connection)
            raise TimeoutError(f"connect to {self.address} timed out after {timeout} s") from exc
        except BaseException:
            await self._abort(connection)
            raise
        self._connected = True

    def _attach(self, connection: Connection) -> None:
        # The peer may already have dropped the link between "connection complete" and now
        # (a device refusing connections does exactly that).
        if self._central.device.lookup_connection(connection.handle) is not connection:
            raise BleakError(f"{self.address}: disconnected during connect")
        self._connection = connection
        connection.on(
            connection.EVENT_DISCONNECTION,
            lambda reason: self._on_disconnection(connection, reason),
        )

    async def _abort(self, connection: Connection | None) -> None:
        """Tear down a half-built connection after a failed connect()."""
        self._disconnect_requested = True
        self._connected = False
        if connection is not None and self._connection is connection:
            try:
                await asyncio.wait_for(connection.disconnect(), timeout=2.0)
            except Exception:  # noqa: BLE001 - link may be gone already
                logger.debug("disconnect after failed connect raised", exc_info=True)
        self._connection = None

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        if self._connection is not connection:
            return
        # Our own disconnect() and the central shutting down are not "unsolicited".
        report = self._connected and not self._disconnect_requested and not self._central.closing
        self._connection = None
        self._connected = False
        self._disconnect_reason = reason
        self._subscriptions.clear()
        logger.debug("%s disconnected, reason 0x%02X", self.address, reason)
        if report and self._disconnected_callback is not None:
            # Scheduled, not called inline: we are inside bumble's event dispatch.
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def disconnect(self) -> None:
        connection = self._connection
        self._disconnect_requested = True
        if connection is None:
            return
        try:
            await asyncio.wait_for(connection.disconnect(), timeout=self._gatt_timeout)
        except (hci.HCI_Error, hci.HCI_StatusError) as exc:
            logger.debug("disconnect: %s", exc)
        finally:
            self._connection = None
            self._connected = False
            self._subscriptions.clear()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Pair (bumble SMP, Just Works by default) or re-encrypt with stored keys."""
        connection = self._require_connection()
        if connection.is_encrypted:
            return
        keystore = self._central.device.keystore
        keys = await keystore.get(str(connection.peer_address)) if keystore else None
        try:
            if keys is not None and (keys.ltk is not None or keys.ltk_central is not None):
                await self._gatt("encrypt", connection.encrypt())
            else:
                await self._gatt("pair", connection.pair())
        except BleakError:
            raise
        except TimeoutError:
            raise
        except Exception as exc:  # bumble raises ProtocolError/HCI_Error subclasses
            raise BleakError(f"{self.address}: pairing failed: {exc}") from exc

    async def unpair(self) -> None:
        """Disconnect (bleak: "unpairing will also disconnect") and forget the peer's keys."""
        peer = self._peer or self._central.lookup(self.address)[0]
        await self.disconnect()
        keystore = self._central.device.keystore
        if keystore is None:
            return
        try:
            await keystore.delete(str(peer))
        except KeyError:
            pass  # not paired: nothing to forget

    # -- services ---------------------------------------------------------------------------------

    async def _discover(self, connection: Connection) -> BleakGATTServiceCollection:
        client = connection.gatt_client
        wanted = (
            [core.UUID(u) for u in self._service_filter] if self._service_filter else []
        )
        services: list[ServiceProxy] = await self._gatt(
            "service discovery", client.discover_services(wanted)
        )
        collection = BleakGATTServiceCollection()
        for service in services:
            bleak_service = BleakGATTService(service, service.handle, bleak_uuid(service.uuid))
            collection.add_service(bleak_service)
            characteristics = await self._gatt(
                "characteristic discovery", client.discover_characteristics([], service)
            )
            for characteristic in characteristics:
                bleak_characteristic = BleakGATTCharacteristic(
                    characteristic,
                    characteristic.handle,
                    bleak_uuid(characteristic.uuid),
                    _property_names(int(characteristic.properties)),
                    # A callable, evaluated on access, because MTU can change after discovery
                    # (bleak/backends/characteristic.py accepts int or zero-arg callable).
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_characteristic)
                descriptors = await self._gatt(
                    "descriptor discovery", client.discover_descriptors(characteristic)
                )
                # bumble's subscribe() re-discovers unless told it was done (gatt_client.py).
                characteristic.descriptors_discovered = True
                for descriptor in descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor,
                            descriptor.handle,
                            bleak_uuid(descriptor.type),
                            bleak_characteristic,
                        )
                    )
        return collection

    # -- I/O --------------------------------------------------------------------------------------

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return await self._read(characteristic.handle, use_cached)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return await self._read(descriptor.handle, use_cached)

    async def _read(self, handle: int, use_cached: bool) -> bytearray:
        connection = self._require_connection()
        client = connection.gatt_client
        if use_cached and handle in client.cached_values:
            return bytearray(client.cached_values[handle][1])
        value = await self._gatt(f"read 0x{handle:04X}", client.read_value(handle))
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        connection = self._require_connection()
        await self._gatt(
            f"write 0x{characteristic.handle:04X}",
            connection.gatt_client.write_value(
                characteristic.handle, bytes(data), with_response=response
            ),
        )

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: SizedBuffer) -> None:
        connection = self._require_connection()
        await self._gatt(
            f"write descriptor 0x{descriptor.handle:04X}",
            connection.gatt_client.write_value(descriptor.handle, bytes(data), with_response=True),
        )

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        """Subscribe (CCCD 01 00, or 02 00 for indicate-only characteristics)."""
        connection = self._require_connection()
        proxy: CharacteristicProxy[bytes] = characteristic.obj
        if characteristic.get_descriptor("2902") is None:
            raise BleakError(f"{characteristic.uuid} has no CCCD; cannot notify")
        if characteristic.handle in self._subscriptions:
            await self.stop_notify(characteristic)

        def subscriber(value: bytes) -> None:
            if self._connection is connection:
                callback(bytearray(value))

        await self._gatt(
            f"subscribe {characteristic.uuid}",
            connection.gatt_client.subscribe(proxy, subscriber, prefer_notify=True),
        )
        self._subscriptions[characteristic.handle] = _Subscription(proxy, subscriber)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        connection = self._require_connection()
        subscription = self._subscriptions.pop(characteristic.handle, None)
        if subscription is None:
            return
        await self._gatt(
            f"unsubscribe {characteristic.uuid}",
            connection.gatt_client.unsubscribe(subscription.proxy, subscription.subscriber),
        )

    # -- plumbing ---------------------------------------------------------------------------------

    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise BleakError(f"{self.address}: not connected")
        return self._connection

    async def _gatt(self, what: str, operation: Awaitable[_T]) -> _T:
        """Run one bumble GATT/SMP operation with a timeout, failing fast on link loss.

        bumble cancels the pending ATT response future when the link drops (gatt_client.py
        `Client.on_disconnection`), which surfaces here as a CancelledError that is *not* a
        cancellation of our task; `cancel_on_disconnection` covers operations not yet sent.
        """
        connection = self._require_connection()
        guarded = connection.cancel_on_disconnection(operation)
        try:
            async with asyncio.timeout(self._gatt_timeout):
                return await guarded
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # a real cancellation of the caller
            reason = self._disconnect_reason
            detail = f" (reason 0x{reason:02X})" if reason is not None else ""
            raise BleakError(f"{self.address}: disconnected during {what}{detail}") from None
        except TimeoutError as exc:
            raise TimeoutError(f"{self.address}: {what} timed out") from exc
        except core.TimeoutError as exc:  # bumble's own (not a builtin subclass)
            raise TimeoutError(f"{self.address}: {what} timed out") from exc
        except core.BaseBumbleError as exc:
            raise BleakError(f"{self.address}: {what} failed: {exc}") from exc


def _property_names(properties: int) -> list[CharacteristicPropertyName]:
    return [name for bit, name in CHARACTERISTIC_PROPERTIES.items() if properties & bit]


def bleak_kwargs(central: BumbleCentral | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(scanner kwargs, client kwargs) for `BleakScanner(**s)` and `BleakClient(dev, **c)`.

    `None` means "the platform's own backend" and yields `({}, {})`. The client kwargs also go
    unchanged into `bleak_retry_connector.establish_connection(BleakClient, device, name, **c)`.
    """
    if central is None:
        return {}, {}
    return (
        {"backend": BumbleScannerBackend, "bumble_central": central},
        {"backend": BumbleClientBackend, "bumble_central": central},
    )
