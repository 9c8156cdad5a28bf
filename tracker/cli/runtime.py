"""Wiring the Bluetooth runtime (device/) into a Tracker: the collector port, devices service, backend choice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from device.collector import Collector
from device.link import BackendKwargs
from device.runtime import BleRuntime
from tracker.bootstrap import Tracker
from tracker.devices import Devices


def devices_of(tracker: Tracker) -> Devices:
    return tracker.devices


def make_runtime(
    tracker: Tracker,
    *,
    transport: str | None = None,
    on_loop_start: Callable[[Any], Awaitable[None]] | None = None,
    on_loop_stop: Callable[[], Awaitable[None]] | None = None,
) -> BleRuntime:
    """A BleRuntime for this tracker; `transport` (a bumble spec) implies the bumble backend."""
    cfg = tracker.config
    devices = devices_of(tracker)
    tz_cache: dict[int, str] = {}

    def person_tz(person_id: int) -> str:
        if person_id not in tz_cache:
            tz_cache[person_id] = tracker.people.get(person_id).tz
        return tz_cache[person_id]

    def make(backend: BackendKwargs) -> Collector:
        return Collector(
            devices=devices, ingest=tracker.ingest, person_tz=person_tz, clock=tracker.clock, ble=cfg.ble,
            sync=cfg.sync, capture=cfg.capture, backend=backend,
        )  # fmt: skip

    backend = "bumble" if transport else cfg.ble.backend
    runtime = BleRuntime(
        make, backend=backend, transport=transport or cfg.ble.transport,
        keystore_path=str(cfg.data_dir / "bumble_keys.json"), on_loop_start=on_loop_start, on_loop_stop=on_loop_stop,
    )  # fmt: skip
    devices.collector = runtime
    return runtime
