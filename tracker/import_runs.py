"""Import runs: every file import is a run; what a run stored can be counted and undone exactly.

Each stored sample and imported session carries the `run_id` of the import that stored it. A re-import
skips rows that already exist (ON CONFLICT DO NOTHING), so those keep the run that first stored them:
undoing a run deletes exactly the rows that run stored, never rows another import or a device stored.

Warnings: a file whose data lie in the future, or far from the person's other data (a wrong year, a
wrong person's file), is still imported, with a warning that says so and how to undo it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import NotFound, UserError
from tracker.model import RunKind, RunStatus
from tracker.nights import touch
from tracker.storage.models import DeviceMetric, HeartRateRow, MassageSession, Person, RRRow, Run, SleepRow
from tracker.timefmt import format_local

DAY_MS = 86_400_000
FUTURE_SLACK_MS = DAY_MS  # a clock a little ahead, or time zones, is not "the future"
FAR_MS = 365 * DAY_MS  # further than this from all the person's other data
UNDONE = "undone"  # Run.status after `tracker import --undo`


def start_run(sessionmaker: so.sessionmaker[so.Session], clock: Clock, person_id: int, origin: str) -> int:
    with sessionmaker.begin() as db:
        run = Run(kind=str(RunKind.IMPORT), person_id=person_id, started_ms=clock.now_ms(),
                  status=str(RunStatus.RUNNING), origin=origin[:255])  # fmt: skip
        db.add(run)
        db.flush()
        return run.id


def finish_run(sessionmaker: so.sessionmaker[so.Session], clock: Clock, run_id: int, counts: dict[str, int],
               error: str | None, warning: str | None) -> None:  # fmt: skip
    """Close the run with its counts ("heart_rate", "rr", "sleep", "sessions"), error or warning."""
    with sessionmaker.begin() as db:
        run = db.get(Run, run_id)
        assert run is not None
        run.ended_ms = clock.now_ms()
        run.status = str(RunStatus.FAILED if error else RunStatus.OK)
        run.error = error
        run.detail = warning
        for name, value in counts.items():
            setattr(run, {"sessions": "session_count"}.get(name, f"{name}_count"), value)


def data_extent(sessionmaker: so.sessionmaker[so.Session], person_id: int) -> tuple[int, int] | None:
    """(first, last) ms of the person's stored samples of any kind (index lookups only), or None."""
    parts = [
        (sa.func.min(HeartRateRow.t_ms), sa.func.max(HeartRateRow.t_ms), HeartRateRow),
        (sa.func.min(RRRow.t_ms), sa.func.max(RRRow.t_ms), RRRow),
        (sa.func.min(SleepRow.start_ms), sa.func.max(SleepRow.end_ms), SleepRow),
    ]
    lows, highs = [], []
    with sessionmaker() as db:
        for lo, hi, model in parts:
            row = db.execute(sa.select(lo, hi).where(model.person_id == person_id)).one()
            if row[0] is not None:
                lows.append(int(row[0]))
                highs.append(int(row[1]))
    return (min(lows), max(highs)) if lows else None


def warnings_for(first_ms: int | None, last_ms: int | None, before: tuple[int, int] | None, now_ms: int,
                 tz: str) -> str | None:  # fmt: skip
    """Why a file's data look misplaced, or None."""
    if first_ms is None or last_ms is None:
        return None
    notes = []
    if last_ms > now_ms + FUTURE_SLACK_MS:
        notes.append(f"data reach into the future (up to {format_local(last_ms, tz)})")
    if before is not None:
        gap_ms = max(before[0] - last_ms, first_ms - before[1], 0)
        if gap_ms > FAR_MS:
            notes.append(
                f"data ({format_local(first_ms, tz)[:10]} to {format_local(last_ms, tz)[:10]}) lie {gap_ms // DAY_MS} "
                f"days from the person's other data ({format_local(before[0], tz)[:10]} to {format_local(before[1], tz)[:10]})"
            )
    return "; ".join(notes) or None


@dataclass(frozen=True, slots=True)
class RunRows:
    """What a run stored that is still there."""

    run_id: int
    origin: str | None
    status: str
    heart_rate: int
    rr: int
    sleep: int
    sessions: int
    device_metrics: int = 0  # a device's own values (Apple's SDNN, Garmin's overnight HRV)

    @property
    def total(self) -> int:
        return self.heart_rate + self.rr + self.sleep + self.sessions + self.device_metrics


_TABLES = {"heart_rate": HeartRateRow, "rr": RRRow, "sleep": SleepRow, "sessions": MassageSession,
           "device_metrics": DeviceMetric}


class ImportRuns:
    """Count and undo what an import run stored."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock) -> None:
        self._db = sessionmaker
        self._clock = clock

    def _run(self, db: so.Session, run_id: int, user_id: int | None) -> Run:
        run = db.get(Run, run_id)
        owner = None if run is None or run.person_id is None else db.get(Person, run.person_id)
        if run is None or (user_id is not None and (owner is None or owner.user_id != user_id)):
            raise NotFound(f"no run {run_id}")  # another account's run is "no run", not "forbidden"
        if run.kind != str(RunKind.IMPORT):
            raise UserError(f"run {run_id} is a {run.kind}, not an import: only imports can be undone")
        return run

    def stored(self, run_id: int, user_id: int | None = None) -> RunRows:
        """The rows run `run_id` stored that are still there (shown before undoing)."""
        with self._db() as db:
            run = self._run(db, run_id, user_id)
            counts = {
                name: int(db.scalar(sa.select(sa.func.count()).select_from(model).where(model.run_id == run_id)) or 0)
                for name, model in _TABLES.items()
            }
            return RunRows(run_id, run.origin, run.status, **counts)

    def undo(self, run_id: int, user_id: int | None = None) -> RunRows:
        """Delete exactly the rows run `run_id` stored, in one transaction; return what was deleted."""
        with self._db.begin() as db:
            run = self._run(db, run_id, user_id)
            _touch_nights(db, run_id)  # the nights these rows fed are recomputed from what remains
            deleted = {
                name: max(db.execute(sa.delete(model).where(model.run_id == run_id)).rowcount, 0)
                for name, model in _TABLES.items()
            }
            total = sum(deleted.values())
            run.status = UNDONE
            run.detail = f"undone: deleted {total} rows" + (f" ({run.detail})" if run.detail else "")
            run.ended_ms = run.ended_ms or self._clock.now_ms()
            return RunRows(run_id, run.origin, UNDONE, **deleted)


def _touch_nights(db: so.Session, run_id: int) -> None:
    spans = [
        sa.select(HeartRateRow.person_id, sa.func.min(HeartRateRow.t_ms), sa.func.max(HeartRateRow.t_ms))
        .where(HeartRateRow.run_id == run_id).group_by(HeartRateRow.person_id),
        sa.select(RRRow.person_id, sa.func.min(RRRow.t_ms), sa.func.max(RRRow.t_ms))
        .where(RRRow.run_id == run_id).group_by(RRRow.person_id),
        sa.select(SleepRow.person_id, sa.func.min(SleepRow.start_ms), sa.func.max(SleepRow.end_ms))
        .where(SleepRow.run_id == run_id).group_by(SleepRow.person_id),
    ]
    for stmt in spans:
        for person_id, lo, hi in db.execute(stmt).all():
            if lo is not None:
                touch(db, person_id, lo, hi)
