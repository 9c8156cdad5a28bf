"""A changed `[sync] interval_min` applies to devices paired before the change, at the next service start
(their periodic jobs live on in the persistent job store). A fake job port records what is scheduled: this
is a unit test of `ensure_device_jobs` only (tests/test_service.py runs the real scheduler)."""

from __future__ import annotations

import dataclasses
from typing import Any

from tracker import jobs
from tracker.bootstrap import Tracker
from tracker.ports import JobInfo


class RecordingJobs:
    def __init__(self) -> None:
        self.intervals: dict[str, float] = {}

    def every(self, job_id: str, interval_s: float, jitter_s: float, func: str, **kwargs: Any) -> None:
        self.intervals[job_id] = interval_s

    def remove(self, job_id: str) -> None:
        self.intervals.pop(job_id, None)

    def jobs(self) -> list[JobInfo]:
        return [JobInfo(job_id, "sync_device", None) for job_id in self.intervals]


def test_interval_change_applies_to_paired_devices_at_start(tracker: Tracker) -> None:
    person = tracker.people.add("Ana", "Europe/Berlin")
    dev = tracker.devices.upsert("C0:00:00:00:00:01", person.id, name="R02_0001", family="colmi")
    store = RecordingJobs()
    tracker.extras["jobs"] = store
    jobs.bind(tracker)
    try:
        jobs.ensure_device_jobs()
        assert store.intervals == {f"sync-device-{dev.id}": 60.0 * tracker.config.sync.interval_min}
        tracker.config = dataclasses.replace(tracker.config, sync=dataclasses.replace(tracker.config.sync, interval_min=7))
        assert jobs.ensure_device_jobs() == 0  # the heartbeat's reconcile leaves existing jobs alone
        assert jobs.ensure_device_jobs(refresh=True) == 1  # the service start rewrites them
        assert store.intervals == {f"sync-device-{dev.id}": 420.0}
    finally:
        jobs.bind(None)
