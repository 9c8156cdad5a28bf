"""The emulated radio world: one bumble `LocalLink` and the controllers and peripherals on it.

Owns:

* `EmulatedController` — bumble's virtual `Controller` with the two fixes emulation needs (below);
* `EmulatorLink` — one `LocalLink` plus helpers to put emulated peripherals on it, to give an
  in-process central its controller (`BumbleCentral.open("emulator")`), and to expose a virtual
  controller on the link through a real HCI transport for another process (`expose`);
* `EmulatedPeripheral` — the base class of the emulated wearables: a bumble `Device` with a static
  random address, fast advertising with `auto_restart=True`, fault hooks and strongly referenced
  background tasks;
* `SimClock` — an accelerated wall clock so tests can stream minutes of physiology in a second;
* `serve_emulator` — what `tracker emulate --transport tcp-server:HOST:PORT --profile strap` runs.

Everything runs on the caller's one asyncio loop; bumble's `LocalLink` delivers PDUs with
`loop.call_soon` (bumble/link.py), so there are no threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from bumble import core, hci, ll
from bumble.controller import Controller
from bumble.device import Connection, Device, DeviceConfiguration, with_connection_from_handle
from bumble.gatt import Characteristic, Service
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, StreamPacketSource, Transport

from device.emulator.faults import (
    REASON_CONNECTION_TIMEOUT,
    REASON_LIMITED_RESOURCES,
    Faults,
    RefuseMode,
)

if TYPE_CHECKING:
    from bumble.transport.common import TransportSink, TransportSource

logger = logging.getLogger(__name__)

_P = TypeVar("_P", bound="EmulatedPeripheral")


class EmulatedController(Controller):
    """bumble's virtual controller, patched where emulation must match real controllers.

    1. `LE Create Connection Cancel` really cancels. bumble 0.0.236's handler only returns SUCCESS
       (controller.py `on_hci_le_create_connection_cancel_command`): the pending connection stays
       armed, no LE Connection Complete (status 0x02) follows, so `Device.connect_le(timeout=...)`
       waits forever and the next connect fails with COMMAND_DISALLOWED. Core spec Vol 4 Part E
       7.8.13 requires the cancel to end with an LE Connection Complete event, status
       UNKNOWN_CONNECTION_IDENTIFIER; we send exactly that.
    2. Advertising reports carry a per-advertiser RSSI from `EmulatorLink.set_rssi` instead of
       bumble's constant -50 dBm, so "strongest signal" and "out of range" logic can be tested.
    """

    def __init__(
        self,
        name: str,
        world: EmulatorLink,
        host_source: TransportSource | None = None,
        host_sink: TransportSink | None = None,
    ) -> None:
        self._world = world
        self.answering = True
        super().__init__(name, host_source=host_source, host_sink=host_sink, link=world.local_link)

    def stop_answering(self) -> None:
        """Fault injection: the controller goes silent (a dongle unplugged, a controller hung). It ignores
        every HCI packet from its host and sends none; its links end as a supervision timeout would."""
        self.answering = False
        self.drop_links()

    def on_packet(self, packet: bytes) -> None:
        if self.answering:
            super().on_packet(packet)

    def on_hci_le_create_connection_cancel_command(
        self, command: hci.HCI_LE_Create_Connection_Cancel_Command
    ) -> hci.HCI_StatusReturnParameters:
        pending = self.pending_le_connection
        self.pending_le_connection = None
        if pending is not None:
            failure = hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0,
                role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address.address_type,
                peer_address=pending.peer_address,
                connection_interval=0,
                peripheral_latency=0,
                supervision_timeout=0,
                central_clock_accuracy=0,
            )
            # The Command Complete for this command is queued when we return; the failure event
            # must follow it, so queue it one loop turn later.
            asyncio.get_running_loop().call_soon(self.send_hci_packet, failure)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def drop_links(self, reason: int = REASON_CONNECTION_TIMEOUT) -> None:
        """End every LE link of this controller, as a supervision timeout does when its host vanished: the
        peripherals see the link go and advertise again (they would otherwise wait for a dead central)."""
        for connection in list(self.le_connections.values()):
            try:
                connection.send_ll_control_pdu(ll.TerminateInd(reason))
            except core.InvalidArgumentError:
                pass  # the peer left the link already
            self.on_le_disconnected(connection, reason)

    def on_hci_reset_command(self, command: hci.HCI_Reset_Command) -> hci.HCI_StatusReturnParameters:
        # A host that (re)starts resets its controller: links of a host that died before do not survive it
        # (bumble's own handler resets nothing).
        self.drop_links()
        return super().on_hci_reset_command(command)

    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        if not self.answering:
            return
        if isinstance(
            packet,
            (hci.HCI_LE_Extended_Advertising_Report_Event, hci.HCI_LE_Advertising_Report_Event),
        ):
            for report in packet.reports:
                rssi = self._world.rssi_for(report.address)
                if rssi is not None:
                    report.rssi = rssi
        super().send_hci_packet(packet)


class SimClock:
    """An accelerated wall clock in epoch milliseconds: `start_ms + elapsed_real * speed`.

    Emulated devices take `now_ms: Callable[[], int]`; passing a SimClock(speed=50) with a 20 ms
    notification interval makes every notification cover one simulated second.
    """

    def __init__(self, start_ms: int | None = None, speed: float = 1.0) -> None:
        self.start_ms = int(time.time() * 1000) if start_ms is None else start_ms
        self.speed = speed
        self._t0 = time.monotonic()

    def __call__(self) -> int:
        return self.start_ms + int((time.monotonic() - self._t0) * 1000.0 * self.speed)


def wall_clock_ms() -> int:
    """Real time in epoch milliseconds (the default clock of emulated devices)."""
    return time.time_ns() // 1_000_000


class _PeripheralDevice(Device):
    """A bumble Device whose GATT server can be told to ignore a connection (fault injection).

    `Device.__init__` registers `self.on_gatt_pdu` as the ATT fixed-channel handler
    (bumble/device.py), so overriding it here is enough to drop every ATT PDU of a chosen link.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.muted_handles: set[int] = set()

    @with_connection_from_handle
    def on_gatt_pdu(self, connection: Connection, pdu: bytes) -> None:  # type: ignore[override]
        if connection.handle in self.muted_handles:
            return
        # The parent is wrapped by the same decorator, so it takes the handle, not the connection.
        super().on_gatt_pdu(connection.handle, pdu)  # type: ignore[arg-type]


class EmulatedPeripheral:
    """Base of emulated wearables: a bumble peripheral with faults and background tasks.

    Subclasses implement `build_services()` and `advertising_data()`, and may override
    `on_connected(connection)` / `on_disconnected(connection, reason)`. Use `spawn()` for
    background work (it keeps a strong reference) and `send_notification()` to notify through the
    fault plan.
    """

    def __init__(
        self,
        *,
        name: str,
        address: str | None = None,
        advertising_interval_ms: float = 20.0,
        rssi_dbm: int = -55,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.address = (
            hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)
            if address is not None
            else hci.Address.generate_static_address()
        )
        if not self.address.is_static:
            # Static random only (research/ble.md §9.4: public addresses break LTK lookup).
            raise ValueError(f"{address} is not a static random address (top bits must be 11)")
        self.advertising_interval_ms = advertising_interval_ms
        self._rssi_dbm = rssi_dbm
        self.faults = Faults(seed)
        self.device: _PeripheralDevice | None = None
        self.connections: list[Connection] = []
        self._dropping: set[Connection] = set()  # links a fault is tearing down
        self._world: EmulatorLink | None = None
        self._controller: EmulatedController | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._advertising_wanted = True

    # -- subclass API -----------------------------------------------------------------------------

    def build_services(self) -> list[Service]:
        raise NotImplementedError

    def advertising_data(self) -> bytes:
        raise NotImplementedError

    def on_connected(self, connection: Connection) -> None:
        """A central connected (and was not refused)."""

    def on_disconnected(self, connection: Connection, reason: int) -> None:
        """A link went down (either side)."""

    # -- life cycle -------------------------------------------------------------------------------

    @property
    def address_str(self) -> str:
        """The address as bleak shows it (upper case, no type suffix)."""
        return self.address.to_string(False)

    @property
    def rssi_dbm(self) -> int:
        return self._rssi_dbm

    @rssi_dbm.setter
    def rssi_dbm(self, value: int) -> None:
        self._rssi_dbm = value
        if self._world is not None:
            self._world.set_rssi(self.address, value)

    async def attach(self, world: EmulatorLink) -> None:
        """Create the bumble Device on `world`, register services, power on and advertise."""
        if self.device is not None:
            raise RuntimeError(f"{self.name} is already attached")
        self._world = world
        self._controller, host = world.create_host(f"periph-{self.name}")
        world.set_rssi(self.address, self._rssi_dbm)
        config = DeviceConfiguration(
            name=self.name,
            address=self.address,
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        )
        device = _PeripheralDevice(config=config, host=host)
        device.add_services(self.build_services())
        device.on(device.EVENT_CONNECTION, self._on_connection)
        self.device = device
        await device.power_on()
        if self._advertising_wanted:
            await self.start_advertising()

    async def detach(self) -> None:
        """Disconnect, stop background tasks, power off and leave the link."""
        device = self.device
        if device is None:
            return
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in list(self.connections):
            await _quiet_disconnect(connection, hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)
        try:
            await device.stop_advertising()
        except Exception:  # noqa: BLE001 - best effort on teardown
            logger.debug("stop_advertising failed during detach", exc_info=True)
        await device.power_off()
        if self._world is not None and self._controller is not None:
            self._world.remove_controller(self._controller)
        self.device = None
        self._controller = None
        self._world = None

    async def start_advertising(self) -> None:
        self._advertising_wanted = True
        device = self._require_device()
        # auto_restart=True: otherwise the peripheral stops advertising after the first
        # disconnection and every reconnect test hangs (research/ble.md §9.2).
        await device.start_advertising(
            auto_restart=True,
            advertising_data=self.advertising_data(),
            scan_response_data=b"",
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        )

    async def stop_advertising(self) -> None:
        self._advertising_wanted = False
        await self._require_device().stop_advertising()

    async def go_out_of_range(self) -> None:
        """Stop advertising and drop any link with a supervision-timeout reason."""
        await self.stop_advertising()
        await self.disconnect_all(REASON_CONNECTION_TIMEOUT)

    async def come_into_range(self) -> None:
        await self.start_advertising()

    async def disconnect_all(self, reason: int = hci.HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR) -> None:
        """Peripheral-initiated disconnect of every link."""
        for connection in list(self.connections):
            await _quiet_disconnect(connection, reason)

    # -- helpers for subclasses -----------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run `coro` in the background, keeping a strong reference until it finishes."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s: background task failed", self.name, exc_info=task.exception())

    async def send_notification(
        self,
        connection: Connection,
        characteristic: Characteristic[Any],
        value: bytes,
        malformed: Callable[[bytes], bytes] | None = None,
    ) -> bool:
        """Notify one subscriber through the fault plan.

        Returns True when `value` went out. The fault plan may drop the link right after it (later
        calls on that link then return False). A malformed packet
        (`malformed(value)`) is sent first when the plan says one is due.
        """
        device = self._require_device()
        if not self._can_notify(connection, characteristic):
            return False
        if malformed is not None and self.faults.malformed_due():
            await device.notify_subscriber(connection, characteristic, malformed(value))
            if not self._can_notify(connection, characteristic):
                return False
        # With a value given, bumble sends synchronously inside this call (gatt_server.py
        # `_notify_single_subscriber` only awaits when it must read the value).
        await device.notify_subscriber(connection, characteristic, value)
        if self.faults.on_packet_sent():
            # Drop in the background: the disconnection handler may cancel the very task that is
            # sending (a stream), and link loss is not something the sender waits for anyway.
            self._dropping.add(connection)
            self.spawn(_quiet_disconnect(connection, self.faults.drop_reason), name=f"{self.name}-drop")
        return True

    def _can_notify(self, connection: Connection, characteristic: Characteristic[Any]) -> bool:
        return (
            connection in self.connections
            and connection not in self._dropping
            and self.is_subscribed(connection, characteristic)
        )

    def is_subscribed(self, connection: Connection, characteristic: Characteristic[Any]) -> bool:
        """True when this link enabled notifications on `characteristic` (CCCD bit 0)."""
        device = self._require_device()
        cccd = device.gatt_server.subscribers.get(connection, {}).get(characteristic.handle)
        return bool(cccd) and bool(cccd[0] & 0x01)

    def _require_device(self) -> _PeripheralDevice:
        if self.device is None:
            raise RuntimeError(f"{self.name} is not attached to an EmulatorLink")
        return self.device

    # -- connection events ------------------------------------------------------------------------

    def _on_connection(self, connection: Connection) -> None:
        device = self._require_device()
        connection.on(
            connection.EVENT_DISCONNECTION,
            lambda reason: self._on_disconnection(connection, reason),
        )
        refusal = self.faults.should_refuse_connection()
        if refusal is RefuseMode.REJECT:
            logger.debug("%s: rejecting connection from %s", self.name, connection.peer_address)
            self.spawn(_quiet_disconnect(connection, REASON_LIMITED_RESOURCES))
            return
        if refusal is RefuseMode.IGNORE:
            logger.debug("%s: ignoring connection from %s", self.name, connection.peer_address)
            device.muted_handles.add(connection.handle)
            return
        self.connections.append(connection)
        self.on_connected(connection)

    def _on_disconnection(self, connection: Connection, reason: int) -> None:
        self._dropping.discard(connection)
        if self.device is not None:
            self.device.muted_handles.discard(connection.handle)
        if connection in self.connections:
            self.connections.remove(connection)
            self.on_disconnected(connection, reason)


async def _quiet_disconnect(connection: Connection, reason: int) -> None:
    """Disconnect, ignoring "already gone" races (the peer may drop first)."""
    try:
        await asyncio.wait_for(connection.disconnect(reason), timeout=2.0)
    except (hci.HCI_Error, hci.HCI_StatusError, asyncio.TimeoutError):
        logger.debug("disconnect of %s raced with link loss", connection.peer_address)
    except asyncio.CancelledError:
        # bumble cancels the wait when the device is flushed (power off); a cancellation of
        # *our* task must still propagate.
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise


class _TcpHciServer:
    """`tcp-server:HOST:PORT` for one virtual controller, robust to a host that vanishes mid-packet.

    bumble's tcp-server transport keeps one packet parser for every client, so a client killed in the middle
    of an HCI packet leaves the parser half-way and the next client's bytes are misread; and the controller
    keeps the dead host's links, so the peripherals never advertise again. Here every client gets a fresh
    parser, and a client that goes away ends the controller's links.
    """

    class _Sink:
        def __init__(self) -> None:
            self.transport: asyncio.Transport | None = None

        def on_packet(self, packet: bytes) -> None:
            if self.transport is not None:
                self.transport.write(packet)

    class _Source:
        def __init__(self) -> None:
            self.sink: Any = None

        def set_packet_sink(self, sink: Any) -> None:
            self.sink = sink

    def __init__(self) -> None:
        self.source = self._Source()  # the controller registers itself here as the packet sink
        self.sink = self._Sink()
        self.controller: EmulatedController | None = None
        self.server: asyncio.Server | None = None

    async def listen(self, host: str, port: int) -> None:
        outer = self

        class Protocol(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport
                self.parser = StreamPacketSource()
                self.parser.set_packet_sink(outer.source.sink)
                outer.sink.transport = transport  # type: ignore[assignment]

            def data_received(self, data: bytes) -> None:
                self.parser.data_received(data)

            def connection_lost(self, exc: Exception | None) -> None:
                if outer.sink.transport is self.transport:
                    outer.sink.transport = None
                    if outer.controller is not None:
                        outer.controller.drop_links()

        self.server = await asyncio.get_running_loop().create_server(Protocol, host if host != "_" else None, port)

    async def close(self) -> None:
        if self.sink.transport is not None:
            self.sink.transport.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class ExposedController:
    """A virtual controller on the link, reachable by another host through an HCI transport."""

    def __init__(self, world: EmulatorLink, transport: Transport | _TcpHciServer, controller: EmulatedController) -> None:
        self.world = world
        self.transport = transport
        self.controller = controller

    async def close(self) -> None:
        self.world.remove_controller(self.controller)
        await self.transport.close()
        # bumble's TcpServerTransport.close() closes source and sink but not the listening socket
        # (bumble/transport/tcp_server.py), so close the server ourselves.
        server = getattr(self.transport, "server", None)
        if server is not None:
            server.close()
            await server.wait_closed()


class EmulatorLink:
    """One bumble LocalLink shared by emulated peripherals and (in-process or remote) centrals.

    In process::

        world = EmulatorLink()
        strap = await world.add(EmulatedStrap(feed=feed, now_ms=SimClock(speed=50), ...))
        ring = await world.add(EmulatedRing(feed=feed, ...))
        central = BumbleCentral(emulator=world)
        await central.open("emulator")
        ...
        await central.close(); await world.close()

    For another process: `exposed = await world.expose("tcp-server:127.0.0.1:9100")`; a central
    there opens `tcp-client:127.0.0.1:9100`.
    """

    def __init__(self) -> None:
        self.local_link = LocalLink()
        self.peripherals: list[EmulatedPeripheral] = []
        self._rssi: dict[bytes, int] = {}
        self._exposed: list[ExposedController] = []
        self._controller_count = 0

    def create_controller(
        self,
        name: str,
        host_source: TransportSource | None = None,
        host_sink: TransportSink | None = None,
    ) -> EmulatedController:
        self._controller_count += 1
        return EmulatedController(
            f"{name}#{self._controller_count}", self, host_source=host_source, host_sink=host_sink
        )

    def create_host(self, name: str) -> tuple[EmulatedController, Host]:
        """A controller on the link plus a bumble Host wired to it in process.

        Same wiring as bumble's own tests (bumble/testing/test_utils.py): the controller is the
        host's packet source, and an AsyncPipeSink defers host→controller packets by one loop turn.
        """
        controller = self.create_controller(name)
        host = Host(controller, AsyncPipeSink(controller))
        return controller, host

    def remove_controller(self, controller: Controller) -> None:
        if controller in self.local_link.controllers:
            self.local_link.remove_controller(controller)

    def set_rssi(self, address: hci.Address | str, rssi_dbm: int) -> None:
        key = bytes(hci.Address(address) if isinstance(address, str) else address)
        self._rssi[key] = rssi_dbm

    def rssi_for(self, address: hci.Address) -> int | None:
        return self._rssi.get(bytes(address))

    async def add(self, peripheral: _P) -> _P:
        """Attach `peripheral` (power on, advertise) and keep it for `close()`."""
        await peripheral.attach(self)
        self.peripherals.append(peripheral)
        return peripheral

    async def remove(self, peripheral: EmulatedPeripheral) -> None:
        await peripheral.detach()
        if peripheral in self.peripherals:
            self.peripherals.remove(peripheral)

    async def expose(self, transport_spec: str) -> ExposedController:
        """Put a second virtual controller on the link, driven by a host through `transport_spec`.

        Typically `tcp-server:127.0.0.1:9100`; the host is a BumbleCentral in another process on
        `tcp-client:127.0.0.1:9100` (same wiring as bumble's apps/controllers.py).
        """
        transport: Transport | _TcpHciServer
        if transport_spec.startswith("tcp-server:"):
            host, _, port = transport_spec.removeprefix("tcp-server:").rpartition(":")
            transport = _TcpHciServer()
            await transport.listen(host, int(port))
        else:
            transport = await open_transport(transport_spec)
        controller = self.create_controller(
            f"hci-{transport_spec}", host_source=transport.source, host_sink=transport.sink  # type: ignore[arg-type]
        )
        if isinstance(transport, _TcpHciServer):
            transport.controller = controller
        exposed = ExposedController(self, transport, controller)
        self._exposed.append(exposed)
        return exposed

    async def close(self) -> None:
        for exposed in self._exposed:
            await exposed.close()
        self._exposed.clear()
        for peripheral in list(self.peripherals):
            await self.remove(peripheral)


PROFILES = ("strap", "ring", "band", "both")
# The emulated band's key when none is given: a demo value, printed by `tracker emulate`, never a real band's.
DEMO_BAND_KEY = bytes.fromhex("0123456789abcdef0123456789abcdef")


def build_profile(
    profile: str, feed: Any, now_ms: Callable[[], int] | None = None, band_key: bytes | None = None
) -> Sequence[EmulatedPeripheral]:
    """The emulated devices of a named profile ("strap", "ring", "band" or "both" = strap and ring), fed by
    `feed`, the physiology model (it satisfies `RRFeed`, `HistoryFeed` and `BandFeed`).
    """
    # Imported here: strap/ring/band import this module for the base class.
    from device.emulator.band import EmulatedBand
    from device.emulator.ring import EmulatedRing
    from device.emulator.strap import EmulatedStrap

    clock = now_ms or wall_clock_ms
    devices: list[EmulatedPeripheral] = []
    if profile in ("strap", "both"):
        devices.append(EmulatedStrap(feed=feed, now_ms=clock))
    if profile in ("ring", "both"):
        devices.append(EmulatedRing(feed=feed, now_ms=clock))
    if profile == "band":
        devices.append(EmulatedBand(feed=feed, now_ms=clock, auth_key=band_key or DEMO_BAND_KEY))
    if not devices:
        raise ValueError(f"unknown emulator profile {profile!r}; expected one of {PROFILES}")
    return devices


async def serve_emulator(
    transport_spec: str,
    profile: str,
    feed: Any,
    stop_event: asyncio.Event,
    *,
    now_ms: Callable[[], int] | None = None,
    ready: asyncio.Event | None = None,
    band_key: bytes | None = None,
    configure: Callable[[list[EmulatedPeripheral]], None] | None = None,
) -> None:
    """Serve emulated wearables to another process until `stop_event` is set.

    The peripherals of `profile` go on a fresh LocalLink together with a virtual controller that a
    host reaches through `transport_spec` (e.g. `tcp-server:127.0.0.1:9100`); a BumbleCentral
    opened on `tcp-client:127.0.0.1:9100` then scans, connects and syncs as with a real dongle.
    `ready` (optional) is set once the transport listens and the devices advertise.
    """
    world = EmulatorLink()
    try:
        peripherals = list(build_profile(profile, feed, now_ms, band_key))
        if configure is not None:
            configure(peripherals)  # fault injection from `tracker emulate` flags
        for peripheral in peripherals:
            await world.add(peripheral)
            if profile == "band" and band_key is None:
                logger.warning("emulated band %s uses the demo auth key %s", peripheral.address_str, DEMO_BAND_KEY.hex())
        await world.expose(transport_spec)
        logger.info("emulating %s on %s", profile, transport_spec)
        if ready is not None:
            ready.set()
        await stop_event.wait()
    finally:
        await world.close()
