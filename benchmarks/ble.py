"""Bluetooth benchmark: decoding rate, 20 emulated straps at once, and a 7-day ring history sync.

1. Heart Rate Measurement decoding: notifications/s of device.protocols.hrs, with bumble's own decoder
   on the same bytes as the baseline measured in the same run (ratio = ours / bumble's).
2. 20 emulated straps notifying at 1 Hz, all subscribed through bleak (bumble backend) in one process for
   `--seconds` (default 60): notifications sent vs received (lost must be 0) and process CPU per device.
3. A 7-day Colmi ring history sync through the real collector over the in-process link into a fresh
   SQLite file: seconds and records/s (median of `--repeat` runs).
4. A 7-day Huami band sync (per-minute activity fetch in rounds, with auth) the same way at ATT MTU 23 and
   247: wall and CPU seconds, minutes/s (median of `--repeat` runs), and the ratio of MTU 247 to MTU 23
   (the baseline, measured in the same run).

    python benchmarks/ble.py [--seconds 60] [--repeat 3] [--only decode|straps|ring|band]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from bleak import BleakClient, BleakScanner

from device.bumble_backend import BumbleCentral, bleak_kwargs
from device.collector import Collector
from device.emulator.band import EmulatedBand
from device.emulator.link import EmulatorLink
from device.emulator.ring import EmulatedRing
from device.emulator.strap import EmulatedStrap
from device.link import BackendKwargs
from device.protocols import hrs
from tracker.clock import SystemClock
from tracker.config import BleConfig, CaptureConfig, SyncConfig
from tracker.devices import Devices
from tracker.ingest import Ingest
from tracker.people import People
from tracker.physiology import PersonSpec, simulate
from tracker.storage.db import make_engine, make_sessionmaker, upgrade_schema
from tracker.timefmt import zone


def bench_decode(n: int = 200_000) -> None:
    from bumble.profiles.heart_rate_service import HeartRateService

    rng = random.Random(1)
    packets = [
        hrs.encode_heart_rate_measurement(
            hrs.HeartRateMeasurement(rng.randint(40, 200), True, None, tuple(rng.randint(300, 1500) for _ in range(rng.randint(0, 3))))
        )
        for _ in range(n)
    ]
    start = time.perf_counter()
    for p in packets:
        hrs.decode_heart_rate_measurement(p)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    for p in packets:
        HeartRateService.HeartRateMeasurement.from_bytes(p)
    bumble_s = time.perf_counter() - start
    print(f"[decode] {n:,} HRM notifications: ours {n / ours_s:,.0f}/s, bumble's decoder {n / bumble_s:,.0f}/s, "
          f"ratio {bumble_s / ours_s:.2f}")  # fmt: skip


def _sim(days: int):
    tz = "Europe/Berlin"
    now = dt.datetime.now(zone(tz))
    start = dt.datetime.combine(now.date() - dt.timedelta(days=days), dt.time(), tzinfo=zone(tz))
    return simulate(PersonSpec(tz=tz), int(start.timestamp() * 1000), days + 2, seed=3), tz


async def bench_straps(n_straps: int, seconds: float) -> None:
    sim, _tz = _sim(1)
    world = EmulatorLink()
    straps = [await world.add(EmulatedStrap(feed=sim, name=f"Strap {i:02d}", seed=i)) for i in range(n_straps)]
    central = BumbleCentral(emulator=world)
    await central.open("emulator")
    scanner_kwargs, client_kwargs = bleak_kwargs(central)
    received = [0] * n_straps
    clients = []
    for i, strap in enumerate(straps):
        device = await BleakScanner.find_device_by_address(strap.address_str, timeout=5, **scanner_kwargs)
        client = BleakClient(device, **client_kwargs)
        await client.connect()

        def on_note(_c, _d, i=i) -> None:
            received[i] += 1

        await client.start_notify(hrs.HEART_RATE_MEASUREMENT_UUID, on_note)
        clients.append(client)
    sent_before = [len(s.sent) for s in straps]
    recv_before = received[:]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    for c in clients:
        await c.stop_notify(hrs.HEART_RATE_MEASUREMENT_UUID)
    await asyncio.sleep(0.2)  # let in-flight notifications land
    sent = sum(len(s.sent) for s in straps) - sum(sent_before)
    got = sum(received) - sum(recv_before)
    for c in clients:
        await c.disconnect()
    await central.close()
    await world.close()
    print(f"[straps] {n_straps} straps at 1 Hz for {wall:.0f} s: sent {sent:,}, received {got:,}, lost {sent - got} "
          f"(must be 0); CPU {100 * cpu / wall:.1f} % of one core in all, {100 * cpu / wall / n_straps:.2f} % per device")  # fmt: skip


async def _ring_sync_once(days: int) -> tuple[float, int]:
    sim, tz = _sim(days)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade_schema(engine)
        db = make_sessionmaker(engine)
        clock = SystemClock()
        person = People(db, clock).add("bench", tz)
        devices = Devices(db, clock)
        world = EmulatorLink()
        offset_ms = int(dt.datetime.now(zone(tz)).utcoffset().total_seconds() * 1000)
        ring = await world.add(EmulatedRing(feed=sim, utc_offset_ms=offset_ms, history_days=days + 1))
        central = BumbleCentral(emulator=world)
        await central.open("emulator")
        scanner, client = bleak_kwargs(central)
        collector = Collector(
            devices=devices, ingest=Ingest(db), person_tz=lambda _p: tz, clock=clock,
            ble=BleConfig(backend="bumble", scan_s=3, request_timeout_s=5), sync=SyncConfig(first_sync_days=days),
            capture=CaptureConfig(), backend=BackendKwargs(scanner, client),
        )  # fmt: skip
        device_id = await collector.pair(ring.address_str, person.id)
        start = time.perf_counter()
        outcome = await collector.sync(device_id)
        elapsed = time.perf_counter() - start
        assert outcome.status == "ok", outcome
        await central.close()
        await world.close()
        engine.dispose()
        return elapsed, outcome.heart_rate + outcome.sleep


def bench_ring(days: int, repeat: int) -> None:
    results = [asyncio.run(_ring_sync_once(days)) for _ in range(repeat)]
    seconds = statistics.median(r[0] for r in results)
    records = results[0][1]
    print(f"[ring] {days}-day history sync over the in-process link: {seconds:.2f} s (median of {repeat}), "
          f"{records:,} records, {records / seconds:,.0f} records/s")  # fmt: skip


BAND_KEY = bytes(range(16))


async def _band_sync_once(days: int, mtu: int) -> tuple[float, float, int]:
    sim, tz = _sim(days)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade_schema(engine)
        db = make_sessionmaker(engine)
        clock = SystemClock()
        person = People(db, clock).add("bench", tz)
        devices = Devices(db, clock)
        world = EmulatorLink()
        band = await world.add(EmulatedBand(feed=sim, auth_key=BAND_KEY, history_days=days + 1))
        central = BumbleCentral(emulator=world)
        await central.open("emulator")
        scanner, client = bleak_kwargs(central)
        collector = Collector(
            devices=devices, ingest=Ingest(db), person_tz=lambda _p: tz, clock=clock,
            ble=BleConfig(backend="bumble", scan_s=3, request_timeout_s=5), sync=SyncConfig(first_sync_days=days),
            capture=CaptureConfig(), backend=BackendKwargs(scanner, {**client, "mtu": mtu}),
        )  # fmt: skip
        device_id = await collector.pair(band.address_str, person.id, BAND_KEY)
        cpu0, start = time.process_time(), time.perf_counter()
        outcome = await collector.sync(device_id)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
        assert outcome.status == "ok", outcome
        await central.close()
        await world.close()
        engine.dispose()
        return elapsed, cpu, (band.acked_until_ms - min(band.round_starts)) // 60_000


def bench_band(days: int, repeat: int) -> None:
    rates = {}
    for mtu in (23, 247):
        results = [asyncio.run(_band_sync_once(days, mtu)) for _ in range(repeat)]
        seconds = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        minutes = results[0][2]
        rates[mtu] = minutes / seconds
        print(f"[band] {days}-day sync at MTU {mtu}: {seconds:.2f} s wall, {cpu:.2f} s CPU (median of {repeat}), "
              f"{minutes:,} minutes, {rates[mtu]:,.0f} minutes/s")  # fmt: skip
    print(f"[band] MTU 247 vs MTU 23 (baseline): ratio {rates[247] / rates[23]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the 20 straps stream")
    parser.add_argument("--straps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["decode", "straps", "ring", "band"])
    args = parser.parse_args()
    if args.only in (None, "decode"):
        bench_decode()
    if args.only in (None, "straps"):
        asyncio.run(bench_straps(args.straps, args.seconds))
    if args.only in (None, "ring"):
        bench_ring(7, args.repeat)
    if args.only in (None, "band"):
        bench_band(7, args.repeat)


if __name__ == "__main__":
    main()
