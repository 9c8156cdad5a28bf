"""The one-process service: lease, Bluetooth runtime, scheduler with its persistent jobs, and the web.

Used by `tracker run`, `tracker demo` and the end-to-end tests. Start order: lease (refuse a second
service on the same database), Bluetooth thread, scheduler; stop in reverse, so jobs stay persisted and
links are closed before the database is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from tracker import jobs as job_functions
from tracker.bootstrap import Tracker, build_tracker
from tracker.clock import Clock
from tracker.config import Config
from tracker.model import SessionStatus
from tracker.planning import Planner
from tracker.service_lock import Lease

from .runtime import make_runtime
from .scheduling import HEARTBEAT_S, ApsJobPort

logger = logging.getLogger(__name__)


class Service:
    def __init__(
        self,
        cfg: Config,
        *,
        clock: Clock | None = None,
        transport: str | None = None,
        on_loop_start: Callable[[Any], Awaitable[None]] | None = None,
        on_loop_stop: Callable[[], Awaitable[None]] | None = None,
        tracker: Tracker | None = None,
    ) -> None:
        self.cfg = cfg
        self.tracker = tracker or build_tracker(cfg, clock)
        self.lease = Lease(self.tracker.sessionmaker, self.tracker.clock, on_lost=self._on_lease_lost)
        self.jobs = ApsJobPort(self.tracker.engine, cfg)
        self.runtime = make_runtime(self.tracker, transport=transport, on_loop_start=on_loop_start,
                                    on_loop_stop=on_loop_stop)  # fmt: skip
        self.planner = Planner(self.tracker.sessionmaker, self.jobs, cfg.capture, self.tracker.clock)
        self._started: list[str] = []

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()  # release the lease at once: the next start must not wait for it to go stale
            raise

    def _start(self) -> None:
        t = self.tracker
        self.lease.acquire()  # Conflict if another service runs on this database
        self._started.append("lease")
        t.extras["lease"] = self.lease
        t.extras["jobs"] = self.jobs
        self.runtime.start()
        self._started.append("runtime")
        t.sessions.listeners.append(self.planner)
        t.devices.listeners.append(self._on_device)
        job_functions.bind(t)
        self.jobs.start()
        self._started.append("jobs")
        self.jobs.every("service-heartbeat", HEARTBEAT_S, 0, "heartbeat")
        self.jobs.daily("nightly-summaries", self.cfg.jobs.nightly_summary_time, "build_nightly_summaries")
        job_functions.ensure_device_jobs(refresh=True)  # a changed [sync] interval_min applies to paired devices
        # [import] watch (a synced Gadgetbridge export or FIT folder) and, with watch_roots, the paths people add
        # on the Data page: the job reads both lists on every run, so a path added there needs no restart
        if self.cfg.imports.watch or self.cfg.imports.watch_roots:
            self.jobs.every("import-watch", 60.0 * self.cfg.imports.interval_min, 0, "watch_imports")
        else:
            self.jobs.remove("import-watch")
        for session in t.sessions.list(statuses=[SessionStatus.PLANNED], from_ms=t.clock.now_ms()):
            self.planner.plan(session)  # idempotent: jobs keep their ids, finished captures are kept
        logger.info("service started")

    def _on_lease_lost(self) -> None:
        """Another service took over after this one stalled: stop running jobs and using the radio now.

        Called from a job thread, so the scheduler is paused (not shut down, which would wait for this very
        thread) and the Bluetooth runtime is stopped from a thread of its own. The web keeps answering.
        """
        logger.error("the service lease was taken by another process: this process stops its scheduler and "
                     "Bluetooth; restart it once the other service is stopped")  # fmt: skip
        if "jobs" in self._started and self.jobs.scheduler.running:
            self.jobs.scheduler.pause()
        if "runtime" in self._started:
            self._started.remove("runtime")
            threading.Thread(target=self.runtime.stop, name="lease-lost-stop", daemon=True).start()

    def _on_device(self, _device: Any, _what: str) -> None:
        job_functions.ensure_device_jobs()  # a paired device gets its periodic sync at once

    def stop(self) -> None:
        if "jobs" in self._started:
            self.jobs.shutdown()
        job_functions.bind(None)
        if self.planner in self.tracker.sessions.listeners:
            self.tracker.sessions.listeners.remove(self.planner)
        if self._on_device in self.tracker.devices.listeners:
            self.tracker.devices.listeners.remove(self._on_device)
        if "runtime" in self._started:
            self.runtime.stop()
        if "lease" in self._started:
            self.lease.release()
        self._started.clear()
        self.tracker.close()
        logger.info("service stopped")
