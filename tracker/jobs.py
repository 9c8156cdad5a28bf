"""Scheduled work as plain functions: thin, idempotent calls into services. No scheduler import here.

APScheduler's SQLAlchemy job store persists jobs by a textual reference to a module-level function and
plain arguments, so jobs survive restarts; the live `Tracker` they act on cannot be pickled, so the
composition root binds it once at start (`bind`). Each function returns how much work it did.
Idempotent: run twice or late, nothing is stored twice (captures in a final state are not redone; syncs
write through the ingest path's natural keys).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tracker.model import CaptureStatus, RunStatus
from tracker.run_recovery import close_dead_runs

if TYPE_CHECKING:
    from tracker.bootstrap import Tracker

logger = logging.getLogger(__name__)
_bound: Tracker | None = None


class NotBound(RuntimeError):
    pass


def bind(tracker: Tracker | None) -> None:
    global _bound
    _bound = tracker


class LeaseLost(RuntimeError):
    pass


def _tracker() -> Tracker:
    """The bound Tracker, after checking (and renewing) the service lease.

    Every job starts here, so a process that stalled while another service took over runs no further job,
    not even the ones that fire right after the stall, before the heartbeat job would notice.
    """
    if _bound is None:
        raise NotBound("tracker.jobs used before the composition root bound a Tracker")
    lease = _bound.extras.get("lease")
    if lease is not None and not lease.heartbeat():
        raise LeaseLost("the service lease was taken by another process; this process runs no more jobs")
    return _bound


def run_capture(capture_id: int) -> int:
    """Take the reading for a planned capture window; return 1 if a capture ran, else 0."""
    t = _tracker()
    devices = t.devices
    cap = devices.capture(capture_id)
    if cap.status != CaptureStatus.PLANNED:
        return 0  # already taken (a second run of the same job): nothing twice
    now_ms = t.clock.now_ms()
    if now_ms >= cap.planned_end_ms:
        devices.update_capture(capture_id, status=str(CaptureStatus.FAILED), message="missed: the job ran after the window")
        return 0
    candidates = [d for d in devices.list() if d.person_id == cap.person_id and d.family == "hrs"]
    if not candidates:
        devices.update_capture(capture_id, status=str(CaptureStatus.FAILED), message="no paired heart-rate strap")
        return 0
    collector = devices.collector
    if collector is None:
        devices.update_capture(capture_id, status=str(CaptureStatus.FAILED), message="Bluetooth not available")
        return 0
    seconds = (cap.planned_end_ms - max(now_ms, cap.planned_start_ms)) / 1000
    outcome = None
    for dev in candidates:  # the first strap in range takes the reading
        devices.update_capture(capture_id, device_id=dev.id)
        outcome = collector.capture(dev.id, seconds, capture_id)
        if outcome.status != CaptureStatus.NOT_IN_RANGE:
            break
    logger.info("capture %s: %s", capture_id, outcome.status if outcome else "none")
    return 1


def sync_device(device_id: int, attempt: int = 0) -> int:
    """Sync one device; on failure schedule a retry with back-off. Return records stored."""
    t = _tracker()
    devices = t.devices
    collector = devices.collector
    if collector is None:
        return 0
    dev = devices.get(device_id)
    if not dev.paired:
        return 0
    outcome = collector.sync(device_id)
    if outcome.status == RunStatus.FAILED:
        backoff = t.config.sync.retry_backoff_s
        jobs = t.extras.get("jobs")
        if jobs is not None and attempt < len(backoff):
            delay_ms = int(1000 * backoff[attempt])
            jobs.at(f"retry-sync-{device_id}", t.clock.now_ms() + delay_ms, "sync_device",
                    device_id=device_id, attempt=attempt + 1)  # fmt: skip
            logger.warning("sync of device %s failed (%s); retry %d in %.0f s", device_id, outcome.error,
                           attempt + 1, delay_ms / 1000)  # fmt: skip
        return 0
    return outcome.heart_rate + outcome.rr + outcome.sleep


def morning_sync(person_id: int) -> int:
    """The morning after a session: sync every paired device of the person (the night's sleep)."""
    t = _tracker()
    total = 0
    for dev in t.devices.list():
        if dev.person_id == person_id:
            total += sync_device(dev.id)
    return total


def build_nightly_summaries() -> int:
    """Recompute the stored nights that new or deleted samples touched (tracker.nights); return their number.

    Readers refresh their own person on demand; this keeps the work off the first page view after a sync.
    """
    return _tracker().nights.refresh_all()


def sync_interval_s(device_interval_min: int | None, default_min: int) -> float:
    return 60.0 * (device_interval_min or default_min)


def heartbeat() -> int:
    """Renew the service lease, close runs of dead processes, keep one sync job per paired device (every 30 s)."""
    t = _tracker()  # renews the lease (and stops this service if it was lost)
    close_dead_runs(t.sessionmaker, t.clock)
    return ensure_device_jobs()


def ensure_device_jobs(refresh: bool = False) -> int:
    """Reconcile periodic sync jobs with paired devices (per-device interval, jitter); return changes.

    `refresh` (at service start) rewrites every device's job, so a changed `[sync] interval_min` or jitter
    applies to devices paired before the change (their jobs live on in the persistent job store)."""
    t = _tracker()
    jobs = t.extras.get("jobs")
    if jobs is None:
        return 0
    wanted = {f"sync-device-{d.id}": d for d in t.devices.list()}
    have = {j.id: j for j in jobs.jobs() if j.id.startswith("sync-device-")}
    changes = 0
    for job_id, dev in wanted.items():
        if refresh or job_id not in have:
            jobs.every(job_id, sync_interval_s(dev.sync_interval_min, t.config.sync.interval_min),
                       t.config.sync.jitter_s, "sync_device", device_id=dev.id)  # fmt: skip
            changes += 1
    for job_id in have.keys() - wanted.keys():
        jobs.remove(job_id)
        changes += 1
    return changes


def watch_imports() -> int:
    """Re-import watched Gadgetbridge exports and FIT folders that changed ([import] watch, and the paths people
    added on the Data page, read anew on every run); return files read."""
    from tracker.importers.watch import scan

    return scan(_tracker())
