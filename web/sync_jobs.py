""""Sync now" from the browser: the sync runs in a background thread; the page polls its job by token.

A Bluetooth sync takes seconds to minutes (a ring's history), longer than a request should wait, so the
view starts a `SyncJobs` job and answers 202 at once. The thread calls `CollectorPort.sync`, which is safe
from any thread (it hands the work to the Bluetooth loop and blocks until done or its own timeout).

Jobs live in memory: the dashboard is one process (waitress threads), and a job's lasting record is the
`run` row the collector writes anyway; this registry only bridges the seconds until it exists. One job
per device at a time (a second "Sync now" while one runs returns the running job); the newest
`MAX_JOBS` are kept.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tracker.clock import Clock
from tracker.errors import UserError
from tracker.ports import SyncOutcome
from tracker.timefmt import format_local

logger = logging.getLogger(__name__)

MAX_JOBS = 200
RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass(frozen=True, slots=True)
class SyncJob:
    token: str
    device_id: int
    user_id: int  # the account that started it: another account cannot read its status
    state: str  # running | done | failed
    started_ms: int
    finished_ms: int | None = None
    outcome: SyncOutcome | None = None
    error: str | None = None

    def to_dict(self, tz: str = "UTC") -> dict[str, Any]:
        return {
            "job": self.token,
            "device_id": self.device_id,
            "state": self.state,
            "started": format_local(self.started_ms, tz),
            "finished": None if self.finished_ms is None else format_local(self.finished_ms, tz),
            "outcome": None if self.outcome is None else self.outcome.to_dict(),
            "error": self.error,
        }


class SyncJobs:
    """Thread-safe registry of background syncs (one per app)."""

    def __init__(self, clock: Clock, max_jobs: int = MAX_JOBS) -> None:
        self._clock = clock
        self._max_jobs = max_jobs
        self._jobs: OrderedDict[str, SyncJob] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, device_id: int, user_id: int, sync: Callable[[int], SyncOutcome]) -> SyncJob:
        """Run `sync(device_id)` in a daemon thread, unless that device already has a running job."""
        with self._lock:
            for job in reversed(self._jobs.values()):
                if job.device_id == device_id and job.state == RUNNING:
                    return job
            job = SyncJob(secrets.token_urlsafe(16), device_id, user_id, RUNNING, self._clock.now_ms())
            self._jobs[job.token] = job
            while len(self._jobs) > self._max_jobs:
                self._jobs.popitem(last=False)
        thread = threading.Thread(target=self._run, args=(job.token, sync), name=f"sync-{device_id}", daemon=True)
        thread.start()
        return job

    def _run(self, token: str, sync: Callable[[int], SyncOutcome]) -> None:
        job = self.get(token)
        if job is None:  # pushed out of the registry before it started (hundreds of syncs at once)
            return
        try:
            outcome = sync(job.device_id)
        except UserError as exc:  # not in range, busy, unpaired: a message for the person
            self._finish(token, FAILED, error=str(exc))
        except Exception as exc:  # a bug or a radio failure: keep the thread's death visible in the log
            logger.exception("sync of device %s failed", job.device_id)
            self._finish(token, FAILED, error=f"sync failed: {type(exc).__name__}: {exc}")
        else:
            state = FAILED if outcome.status == "failed" else DONE
            self._finish(token, state, outcome=outcome, error=outcome.error)

    def _finish(self, token: str, state: str, **fields: Any) -> None:
        with self._lock:
            job = self._jobs.get(token)
            if job is not None:
                self._jobs[token] = replace(job, state=state, finished_ms=self._clock.now_ms(), **fields)

    def get(self, token: str) -> SyncJob | None:
        with self._lock:
            return self._jobs.get(token)

    def latest(self, device_id: int) -> SyncJob | None:
        with self._lock:
            for job in reversed(self._jobs.values()):
                if job.device_id == device_id:
                    return job
        return None
