"""One service, even after a stall: a service whose lease was taken stops running jobs and using the radio
at once; a start that fails releases its lease so the next start is not blocked."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tracker import jobs
from tracker.cli.service import Service
from tracker.config import Config
from device.runtime import BluetoothUnavailable
from tracker.service_lock import Lease
from tracker.storage.db import make_engine, upgrade_schema
from tracker.storage.models import ServiceLock


@pytest.fixture
def service_config(config: Config) -> Config:
    engine = make_engine(config.database_url)
    upgrade_schema(engine)
    engine.dispose()
    return config


def _eventually_raises(call, error: type[Exception], timeout_s: float) -> bool:
    """True once `call` raises `error` (the collector has let go of the radio), within the time limit."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            call()
        except error:
            return True
        time.sleep(0.1)
    return False


def _steal(service: Service) -> Lease:
    """What a second `tracker run` does after this one stalled past the stale limit."""
    with service.tracker.sessionmaker.begin() as db:
        db.execute(sa.update(ServiceLock).values(heartbeat_ms=0))  # as if the stall lasted forever
    other = Lease(service.tracker.sessionmaker, service.tracker.clock, holder="other-host:1")
    other.acquire()
    return other


def test_lost_lease_stops_scheduler_and_bluetooth_at_once(service_config: Config) -> None:
    service = Service(service_config, transport="emulator")
    service.start()
    try:
        assert service.jobs.scheduler.state == 1  # STATE_RUNNING
        _steal(service)
        with pytest.raises(jobs.LeaseLost):
            jobs.sync_device(1)  # the first job after the stall notices, and runs nothing
        assert service.jobs.scheduler.state == 2  # STATE_PAUSED: no further job runs here
        assert _eventually_raises(lambda: service.runtime.scan(0.5), BluetoothUnavailable, timeout_s=10)
        assert service.lease.heartbeat() is False  # never taken back
    finally:
        service.stop()


def test_heartbeat_job_notices_a_lost_lease(service_config: Config) -> None:
    service = Service(service_config, transport="emulator")
    service.start()
    try:
        _steal(service)
        with pytest.raises(jobs.LeaseLost):
            jobs.heartbeat()
        assert service.jobs.scheduler.state == 2
    finally:
        service.stop()


def test_failed_start_releases_the_lease(service_config: Config) -> None:
    broken = Service(service_config, transport="serial:/dev/does-not-exist")
    with pytest.raises(BluetoothUnavailable):
        broken.start()  # e.g. the Bluetooth dongle is missing
    # the next start gets the lease at once instead of waiting 90 s for it to go stale
    again = Service(service_config, transport="emulator")
    again.start()
    again.stop()
