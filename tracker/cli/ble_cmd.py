"""`tracker scan|pair|devices|unpair|capture|sync|emulate`: Bluetooth from the command line."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from tracker.bootstrap import Tracker, build_tracker
from tracker.config import Config
from tracker.devices import parse_auth_key as devices_parse_auth_key
from tracker.errors import UserError
from tracker.model import Phase
from tracker.timefmt import format_local

from .output import print_json, print_table
from .person_arg import add_person_option
from .runtime import devices_of, make_runtime


@contextmanager
def ble_tracker(cfg: Config, transport: str | None) -> Iterator[Tracker]:
    tracker = build_tracker(cfg)
    try:
        with radio(tracker, transport):
            yield tracker
    finally:
        tracker.close()


@contextmanager
def radio(tracker: Tracker, transport: str | None) -> Iterator[None]:
    """The Bluetooth runtime (its event loop thread and collector) for the duration of the block."""
    runtime = make_runtime(tracker, transport=transport)
    try:
        runtime.start()
        yield
    finally:
        runtime.stop()


def cmd_scan(cfg: Config, args: argparse.Namespace) -> int:
    with ble_tracker(cfg, args.transport) as tracker:
        found = devices_of(tracker).require_collector().scan(args.seconds)
    if args.json:
        print_json([r.to_dict() for r in found])
    else:
        print_table(["address", "name", "rssi", "family"], [[r.address, r.name, r.rssi, r.family or "-"] for r in found])
    return 0


def parse_auth_key(text: str | None) -> bytes | None:
    """A band's key from the command line or a form (never echoed back: messages name the problem only)."""
    try:
        return devices_parse_auth_key(text)
    except UserError as exc:
        raise UserError(f"--auth-key: {exc}") from None


def cmd_pair(cfg: Config, args: argparse.Namespace) -> int:
    auth_key = parse_auth_key(args.auth_key)
    tracker = build_tracker(cfg)
    try:
        person = tracker.people.get(args.person)  # an unknown or ambiguous name fails before any radio work
        with radio(tracker, args.transport):
            devices = devices_of(tracker)
            device_id = devices.require_collector().pair(args.address, person.id, auth_key)
            info = devices.get(device_id)
    finally:
        tracker.close()
    print(f"paired {info.name} ({info.family}, {info.address}) as device {info.id} for {person.name}; "
          f"battery {info.battery_pct if info.battery_pct is not None else '?'} %")  # fmt: skip
    return 0


def cmd_devices(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        found = devices_of(tracker).list(include_unpaired=args.all)
    finally:
        tracker.close()
    if args.json:
        print_json([d.to_dict() for d in found])
    else:
        print_table(
            ["id", "name", "family", "address", "person", "battery", "last sync", "status"],
            [[d.id, d.name, d.family, d.address, d.person_name, d.battery_pct,
              None if d.last_sync_ms is None else format_local(d.last_sync_ms, cfg.people.default_timezone),
              d.last_sync_status if d.paired else "unpaired"] for d in found],  # fmt: skip
        )
    return 0


def cmd_unpair(cfg: Config, args: argparse.Namespace) -> int:
    tracker = build_tracker(cfg)
    try:
        info = devices_of(tracker).unpair(args.device)
    finally:
        tracker.close()
    print(f"device {info.id} ({info.name}) unpaired; its data is kept")
    return 0


def cmd_capture(cfg: Config, args: argparse.Namespace) -> int:
    if args.seconds <= 0:
        raise UserError("--seconds must be positive")
    if (args.session is None) != (args.phase is None):
        raise UserError("--session and --phase go together")
    with ble_tracker(cfg, args.transport) as tracker:
        devices = devices_of(tracker)
        dev = devices.get(args.device)
        if dev.person_id is None:
            raise UserError(f"device {dev.name} is not paired to a person")
        now_ms = tracker.clock.now_ms()
        capture_id = devices.new_capture(dev.person_id, dev.id, now_ms, now_ms + round(args.seconds * 1000),
                                         session_id=args.session, phase=args.phase or str(Phase.ADHOC))  # fmt: skip
        outcome = devices.require_collector().capture(dev.id, args.seconds, capture_id)
    if args.json:
        print_json(outcome.to_dict())
    else:
        print(f"capture {capture_id}: {outcome.status}, {outcome.beats} beats, artefacts "
              f"{outcome.artifact_pct if outcome.artifact_pct is not None else '-'} %, missing {outcome.missing_s} s"
              f"{', ' + str(outcome.malformed) + ' malformed notifications skipped' if outcome.malformed else ''}")  # fmt: skip
    return 0 if outcome.status in ("ok", "insufficient_quality") else 1


def cmd_sync(cfg: Config, args: argparse.Namespace) -> int:
    with ble_tracker(cfg, args.transport) as tracker:
        devices = devices_of(tracker)
        targets = [devices.get(args.device)] if args.device else devices.list()
        if not targets:
            raise UserError("no paired devices (tracker pair ADDRESS --person NAME)")
        outcomes = [devices.require_collector().sync(d.id) for d in targets]
    if args.json:
        print_json([o.to_dict() for o in outcomes])
    else:
        for o in outcomes:
            extra = "; ".join(o.unavailable)
            own_hrv = f", {o.device_hrv} HRV values (the device's own estimate)" if o.device_hrv else ""
            print(f"device {o.device_id}: {o.status}: {o.heart_rate} heart-rate, {o.sleep} sleep records{own_hrv}"
                  f"{', ' + str(o.malformed) + ' malformed skipped' if o.malformed else ''}"
                  f"{' (' + extra + ')' if extra else ''}{' error: ' + o.error if o.error else ''}")  # fmt: skip
    return 0 if all(o.status != "failed" for o in outcomes) else 1


def cmd_emulate(cfg: Config, args: argparse.Namespace) -> int:
    """Run one emulated wearable on a bumble transport until Ctrl-C (for testing any BLE software)."""
    import datetime as dt

    from device.emulator.link import serve_emulator
    from tracker.physiology import PersonSpec, simulate
    from tracker.timefmt import zone

    tz = cfg.people.default_timezone
    today = dt.datetime.now(zone(tz)).date()
    start = dt.datetime.combine(today - dt.timedelta(days=args.days - 1), dt.time(), tzinfo=zone(tz))
    sim = simulate(PersonSpec(tz=tz), int(start.timestamp() * 1000), args.days + 1, seed=args.seed)

    band_key = parse_auth_key(args.auth_key)

    def configure(peripherals: list) -> None:
        # The same fault injection the tests use, for every profile.
        for p in peripherals:
            if args.refuse_connections:
                p.faults.refuse_connections(args.refuse_connections)
            if args.malformed_every:
                p.faults.interleave_malformed(args.malformed_every)
            if args.drop_after:
                p.faults.drop_link_after(args.drop_after)
            if args.drop_randomly:
                low, _, high = args.drop_randomly.partition("-")
                try:
                    p.faults.drop_link_randomly(int(low), int(high or low), repeat=True)
                except ValueError:
                    raise UserError("--drop-randomly takes LOW-HIGH packet counts, e.g. 20-200") from None
            for request in args.silence or ():
                p.faults.silence(int(request, 0) if request[:1].isdigit() else request)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(f"emulating a {args.profile} on {args.transport} (seed {args.seed}, {args.days} days); Ctrl-C stops",
              flush=True)  # fmt: skip
        if args.profile == "band" and band_key is None:
            from device.emulator.link import DEMO_BAND_KEY

            print(f"the emulated band's auth key (a demo key): {DEMO_BAND_KEY.hex()}", flush=True)
        await serve_emulator(args.transport, args.profile, sim, stop, band_key=band_key, configure=configure)

    asyncio.run(main())
    return 0


def _transport(p: argparse.ArgumentParser) -> None:
    p.add_argument("--transport", metavar="SPEC",
                   help="bumble transport (usb:0, serial:/dev/ttyACM0, tcp-client:HOST:PORT); implies the bumble backend")  # fmt: skip


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("scan", help="list nearby heart-rate straps and rings")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--json", action="store_true")
    _transport(p)
    p.set_defaults(handler=cmd_scan)
    p = sub.add_parser("pair", help="connect, read device information and battery, store the device")
    p.add_argument("address", help="as printed by scan")
    add_person_option(p, required=True)
    p.add_argument("--auth-key", metavar="HEX",
                   help="a Huami band's 16-byte auth key (32 hex digits; from Gadgetbridge or the vendor-cloud token tools)")  # fmt: skip
    _transport(p)
    p.set_defaults(handler=cmd_pair)
    p = sub.add_parser("devices", help="paired devices, battery and last sync")
    p.add_argument("--all", action="store_true", help="include unpaired devices")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_devices)
    p = sub.add_parser("unpair", help="stop syncing a device (its data is kept)")
    p.add_argument("device", help="name, id or address")
    p.set_defaults(handler=cmd_unpair)
    p = sub.add_parser("capture", help="a live heart-rate/RR window from a Heart Rate Service device")
    p.add_argument("device", help="name, id or address")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--session", type=int)
    p.add_argument("--phase", choices=[str(Phase.PRE), str(Phase.DURING), str(Phase.POST)])
    p.add_argument("--json", action="store_true")
    _transport(p)
    p.set_defaults(handler=cmd_capture)
    p = sub.add_parser("sync", help="pull stored history (ring: heart-rate log, sleep, battery; sets its clock)")
    p.add_argument("device", nargs="?", help="name, id or address (default: every paired device)")
    p.add_argument("--json", action="store_true")
    _transport(p)
    p.set_defaults(handler=cmd_sync)
    p = sub.add_parser("emulate", help="run an emulated strap, ring or band on a bumble transport")
    p.add_argument("--transport", required=True, metavar="SPEC", help="e.g. tcp-server:127.0.0.1:9100")
    p.add_argument("--profile", choices=["strap", "ring", "band", "both"], required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--auth-key", metavar="HEX", help="the emulated band's key (default: a fixed demo key, printed)")
    p.add_argument("--refuse-connections", type=int, metavar="N", help="refuse the first N connection attempts")
    p.add_argument("--malformed-every", type=int, metavar="N", help="send a malformed packet after every N good ones")
    p.add_argument("--drop-after", type=int, metavar="N", help="drop the link once after N packets")
    p.add_argument("--drop-randomly", metavar="LOW-HIGH", help="drop the link after a random LOW..HIGH packets, again and again")
    p.add_argument("--silence", action="append", metavar="REQUEST",
                   help="never answer this request (a Colmi command byte such as 0x15, or 'sleep'); repeatable")  # fmt: skip
    p.set_defaults(handler=cmd_emulate)
