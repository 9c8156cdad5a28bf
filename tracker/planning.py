"""Capture plans: which readings a session gets and when, and keeping the scheduled jobs in step.

The plan is a pure function of the session and [capture] config: a pre-session window ending at the start,
an optional window during the session, a post-session window starting `post_delay_min` after the end,
and a morning-after sync at `morning_sync_time` in the person's zone on the day after the session ends
(DST-correct: wall-clock time through zoneinfo). The `Planner` listens to session changes: planning
schedules the jobs and stores capture rows in state "planned"; editing moves them; cancelling removes them.
A capture whose job never ran stays "planned" with a window in the past: reported as missed, never invented.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.config import CaptureConfig
from tracker.model import CaptureStatus, Phase, SessionStatus
from tracker.ports import JobPort
from tracker.sessions import SessionInfo
from tracker.storage.models import Capture
from tracker.timefmt import to_ms, zone

logger = logging.getLogger(__name__)
MINUTE_MS = 60_000


@dataclass(frozen=True, slots=True)
class PlannedCapture:
    phase: Phase
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True)
class SessionPlan:
    session_id: int
    captures: tuple[PlannedCapture, ...]
    morning_sync_ms: int

    def job_ids(self) -> list[str]:
        ids = [f"session-{self.session_id}-{c.phase}" for c in self.captures]
        return [*ids, f"session-{self.session_id}-morning"]


def morning_after_ms(end_ms: int, tz: str, hhmm: str) -> int:
    """`hhmm` local time on the day after the local date on which the session ends."""
    zi = zone(tz)
    local_end = dt.datetime.fromtimestamp(end_ms / 1000, tz=zi)
    hour, minute = (int(x) for x in hhmm.split(":"))
    morning = dt.datetime.combine(local_end.date() + dt.timedelta(days=1), dt.time(hour, minute), tzinfo=zi)
    return to_ms(morning)


def plan_session(session: SessionInfo, cfg: CaptureConfig) -> SessionPlan:
    """The capture windows and the morning sync for one session (pure)."""
    start_ms, end_ms = session.start_ms, session.end_ms
    captures = [PlannedCapture(Phase.PRE, start_ms - round(cfg.pre_min * MINUTE_MS), start_ms)]
    if cfg.during:
        captures.append(PlannedCapture(Phase.DURING, start_ms, end_ms))
    post_start = end_ms + round(cfg.post_delay_min * MINUTE_MS)
    captures.append(PlannedCapture(Phase.POST, post_start, post_start + round(cfg.post_min * MINUTE_MS)))
    morning = morning_after_ms(end_ms, session.tz, cfg.morning_sync_time)
    return SessionPlan(session.id, tuple(captures), morning)


class Planner:
    """Session listener: keeps capture rows and scheduled jobs in step with planned sessions."""

    def __init__(
        self, sessionmaker: so.sessionmaker[so.Session], jobs: JobPort, cfg: CaptureConfig, clock: Clock
    ) -> None:
        self._db = sessionmaker
        self._jobs = jobs
        self._cfg = cfg
        self._clock = clock

    def __call__(self, session: SessionInfo, what: str) -> None:
        if what == "cancelled":
            self.unplan(session)
        elif session.status == SessionStatus.PLANNED and what in ("created", "updated"):
            self.plan(session)

    def plan(self, session: SessionInfo) -> SessionPlan:
        plan = plan_session(session, self._cfg)
        now_ms = self._clock.now_ms()
        schedule: list[tuple[str, int, int]] = []  # (job id, run at, capture id)
        unschedule: list[str] = []
        with self._db.begin() as db:
            existing = {c.phase: c for c in db.scalars(sa.select(Capture).where(Capture.session_id == session.id))}
            for pc in plan.captures:
                row = existing.pop(str(pc.phase), None)
                if row is None:
                    row = Capture(person_id=session.person_id, session_id=session.id, phase=str(pc.phase),
                                  status=str(CaptureStatus.PLANNED), planned_start_ms=0, planned_end_ms=0)  # fmt: skip
                    db.add(row)
                if row.status == CaptureStatus.PLANNED:  # a finished capture keeps its window and result
                    row.planned_start_ms, row.planned_end_ms = pc.start_ms, pc.end_ms
                db.flush()
                if row.status == CaptureStatus.PLANNED and pc.end_ms > now_ms:
                    schedule.append((f"session-{session.id}-{pc.phase}", pc.start_ms, row.id))
            for stale in existing.values():  # e.g. "during" switched off since planning
                if stale.status == CaptureStatus.PLANNED:
                    unschedule.append(f"session-{session.id}-{stale.phase}")
                    db.delete(stale)
        # Jobs are written after the commit: the job store is another connection, and on SQLite it would
        # wait for our own write lock.
        for job_id, run_at_ms, capture_id in schedule:
            self._jobs.at(job_id, run_at_ms, "run_capture", capture_id=capture_id)
        for job_id in unschedule:
            self._jobs.remove(job_id)
        if plan.morning_sync_ms > now_ms:
            self._jobs.at(f"session-{session.id}-morning", plan.morning_sync_ms, "morning_sync", person_id=session.person_id)
        logger.debug("planned session %s: %d captures, morning sync", session.id, len(plan.captures))
        return plan

    def unplan(self, session: SessionInfo) -> None:
        plan = plan_session(session, self._cfg)
        for job_id in plan.job_ids():
            self._jobs.remove(job_id)
        with self._db.begin() as db:
            db.execute(
                sa.delete(Capture).where(Capture.session_id == session.id, Capture.status == str(CaptureStatus.PLANNED))
            )
