"""APScheduler 3.x wiring: the JobPort over a BackgroundScheduler with its job store on our database.

Jobs are references to the plain functions in tracker.jobs ("tracker.jobs:run_capture") with plain
arguments, so the SQLAlchemy job store can persist them and a restart still runs them. Defaults:
coalesce (a backlog of missed runs runs once), max_instances=1, and a misfire grace time from config.
Only the process holding the service lease starts a scheduler; other processes (the CLI) only read the
store or add jobs to it.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from typing import Any

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker.config import Config
from tracker.ports import JobInfo

logger = logging.getLogger(__name__)
UTC = dt.timezone.utc
JOBS_TABLE = "apscheduler_jobs"
HEARTBEAT_S = 30


def _utc(t_ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(t_ms / 1000, tz=UTC)


class _NoJobTracebacks(logging.Filter):
    """Drops APScheduler's own 'Job ... raised an exception' record (it carries the whole traceback).

    log_failed_job below says the same in one line, and the traceback goes to debug level instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and "raised an exception" in record.getMessage())


def log_failed_job(event: JobExecutionEvent) -> None:
    """One log line per failed job (what, when, the error); the traceback only at debug level."""
    exc = event.exception
    logger.error("job %s failed (scheduled %s): %s: %s", event.job_id,
                 event.scheduled_run_time.isoformat() if event.scheduled_run_time else "?",
                 type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")  # fmt: skip
    logger.debug("job %s traceback:\n%s", event.job_id, "".join(traceback.format_exception(exc)))


class StoreOnlyScheduler(BaseScheduler):
    """A scheduler that edits the shared job store but never runs a job (no thread, no executor work).

    A CLI process uses it to plan, move and list jobs while the service (`tracker run`), which holds the
    lease, is the only process that executes them.
    """

    def wakeup(self) -> None:
        pass  # nothing to wake: this scheduler has no loop

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)


class ApsJobPort:
    """tracker.ports.JobPort on APScheduler: runs jobs in the service, only edits the store elsewhere."""

    def __init__(self, engine: sa.Engine, cfg: Config, *, run_jobs: bool = True) -> None:
        self._store = SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)
        scheduler_class = BackgroundScheduler if run_jobs else StoreOnlyScheduler
        self.scheduler = scheduler_class(
            jobstores={"default": self._store},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": cfg.jobs.misfire_grace_s},
            timezone=UTC,
        )
        if run_jobs:
            self.scheduler.add_listener(log_failed_job, EVENT_JOB_ERROR)
            executor_logger = logging.getLogger("apscheduler.executors.default")
            if not any(isinstance(f, _NoJobTracebacks) for f in executor_logger.filters):
                executor_logger.addFilter(_NoJobTracebacks())

    def start(self, paused: bool = False) -> None:
        """Start the scheduler; a store-only one (run_jobs=False) is started paused and never runs jobs."""
        self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)  # jobs stay persisted in the store

    def _add(self, job_id: str, trigger: Any, func: str, kwargs: dict[str, Any]) -> None:
        # The CLI's store-only scheduler writes straight to the shared store; the service sees the job at
        # its next wake-up, which its lease heartbeat guarantees at least every HEARTBEAT_S seconds.
        self.scheduler.add_job(f"tracker.jobs:{func}", trigger, id=job_id, name=func, kwargs=kwargs,
                               replace_existing=True)  # fmt: skip

    def at(self, job_id: str, run_at_ms: int, func: str, **kwargs: Any) -> None:
        self._add(job_id, DateTrigger(run_date=_utc(run_at_ms)), func, kwargs)

    def every(self, job_id: str, interval_s: float, jitter_s: float, func: str, **kwargs: Any) -> None:
        trigger = IntervalTrigger(seconds=interval_s, jitter=int(jitter_s) or None, timezone=UTC)
        self._add(job_id, trigger, func, kwargs)

    def daily(self, job_id: str, hhmm: str, func: str, **kwargs: Any) -> None:
        hour, minute = (int(x) for x in hhmm.split(":"))
        self._add(job_id, CronTrigger(hour=hour, minute=minute), func, kwargs)  # server's local zone

    def remove(self, job_id: str) -> None:
        try:
            self.scheduler.remove_job(job_id)
        except Exception:  # JobLookupError: already gone (ran, or never planned)
            pass

    def jobs(self) -> list[JobInfo]:
        found = self.scheduler.get_jobs()
        out = []
        for job in found:
            next_run = getattr(job, "next_run_time", None)
            out.append(
                JobInfo(
                    id=job.id,
                    what=job.name,
                    next_run_ms=None if next_run is None else int(next_run.timestamp() * 1000),
                    session_id=int(job.id.split("-")[1]) if job.id.startswith("session-") else None,
                    device_id=job.kwargs.get("device_id"),
                )
            )
        return sorted(out, key=lambda j: (j.next_run_ms is None, j.next_run_ms or 0, j.id))
