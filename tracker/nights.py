"""Stored nightly summaries: computed once, recomputed only for the nights that changed samples touch.

How a summary stays equal to a recomputation from the raw samples:
1. Every write of samples records the time range it touched (`mark_written`, called by tracker.ingest inside
   the same transaction as the rows), and every deletion does the same (`touch`). A crash therefore can
   never leave changed samples without their mark.
2. `NightStore.refresh` turns the marks into night labels (`night_compute.affected_labels`), recomputes
   those nights from the samples (`night_compute`), writes them (deleting nights that no longer exist),
   and deletes exactly the marks it read, all in one transaction. Running it twice changes nothing.
3. Readers call `refresh` for their person first (an index lookup when nothing is pending), so pages,
   the API and the report never see a stale night; the `nightly_summaries` job refreshes everyone.

`tracker nights rebuild [--person P]` recomputes every night from scratch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker import window_store
from tracker.analysis.sleep import Night
from tracker.clock import Clock
from tracker.night_compute import affected_labels, all_labels, compute_nights, runs_of
from tracker.queries import fetch_tuples
from tracker.storage.models import NightDirty, NightSummary, Person

NIGHT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Night) if f.name != "label")
_SAMPLE_TABLES = {"heart_rate": 0, "rr_interval": 0, "sleep_stage": 1}  # table → index of its last time


def touch(db: so.Session, person_id: int, start_ms: int, end_ms: int) -> None:
    """Record that the person's samples in [start_ms, end_ms] changed (call it in the changing transaction).

    Also drops the stored capture-window summaries overlapping the range (tracker.window_store): every
    writer of samples already calls this, so no writer can forget either."""
    db.execute(sa.insert(NightDirty).values(person_id=person_id, start_ms=int(start_ms), end_ms=int(end_ms)))
    window_store.invalidate(db, person_id, start_ms, end_ms)


def mark_written(db: so.Session, person_id: int, table: str, rows: Sequence[Sequence[Any]],
                 inserted: int = -1) -> None:  # fmt: skip
    """The ingest hook: mark the time range of a chunk of rows just written to `table`.

    `inserted` is the driver's row count: 0 means every row already existed (a re-sync), so nothing changed.
    """
    if not rows or inserted == 0:
        return
    last = _SAMPLE_TABLES[table]
    touch(db, person_id, min(int(r[0]) for r in rows), max(int(r[last]) for r in rows))


@dataclass(frozen=True, slots=True, eq=False)
class NightArrays:
    """Stored nights as parallel arrays (one element per stored night, ascending; NaN = missing value)."""

    labels: tuple[dt.date, ...]
    metrics: dict[str, np.ndarray]  # every field of Night but `label`, float64


def _to_row(person_id: int, n: Night, now_ms: int) -> dict[str, Any]:
    row: dict[str, Any] = {k: getattr(n, k) for k in NIGHT_FIELDS}
    if isinstance(row["sleep_efficiency_pct"], float) and math.isnan(row["sleep_efficiency_pct"]):
        row["sleep_efficiency_pct"] = None
    row.update(person_id=person_id, night=n.label, computed_ms=now_ms)
    return row


def _to_night(row: Sequence[Any]) -> Night:
    values = dict(zip(("label", *NIGHT_FIELDS), row, strict=True))
    if values["sleep_efficiency_pct"] is None:
        values["sleep_efficiency_pct"] = math.nan
    values["stages_from_device"] = bool(values["stages_from_device"])
    for k in ("bed_start_ms", "bed_end_ms", "sleep_onset_ms", "sleep_end_ms", "awakenings", "n_hrv_windows"):
        values[k] = int(values[k])
    return Night(**values)


def _columns() -> list[Any]:
    return [NightSummary.night, *(getattr(NightSummary, k) for k in NIGHT_FIELDS)]


def _period(person_id: int, first: dt.date | None, last: dt.date | None) -> sa.Select[Any]:
    """The person's stored nights with labels in [first, last] (None: unbounded), oldest first."""
    stmt = sa.select(*_columns()).where(NightSummary.person_id == person_id)
    if first is not None:
        stmt = stmt.where(NightSummary.night >= first)
    if last is not None:
        stmt = stmt.where(NightSummary.night <= last)
    return stmt.order_by(NightSummary.night)


def write_nights(db: so.Session, person_id: int, labels: Sequence[dt.date], nights: dict[dt.date, Night],
                 now_ms: int) -> None:  # fmt: skip
    """Replace the stored summaries of `labels` by `nights` (labels without a night lose their row)."""
    for run in runs_of(labels, max_len=500):
        db.execute(
            sa.delete(NightSummary).where(
                NightSummary.person_id == person_id, NightSummary.night >= run[0], NightSummary.night <= run[-1]
            )
        )
    rows = [_to_row(person_id, nights[k], now_ms) for k in sorted(nights)]
    if rows:
        db.execute(sa.insert(NightSummary), rows)


def stamp_ms(db: so.Session, person_id: int, now_ms: int) -> int:
    """`computed_ms` for the person's next write: now, but always after the latest stored one.

    Strictly increasing per person, so the latest `computed_ms` moves with every recomputation even when
    two fall in one millisecond (or a test's clock stands still): the evidence cache reads it as the
    nights' version (tracker.data_versions).
    """
    latest = db.scalar(sa.select(sa.func.max(NightSummary.computed_ms)).where(NightSummary.person_id == person_id))
    return now_ms if latest is None else max(now_ms, int(latest) + 1)


def rebuild_person(db: so.Session, person_id: int, tz: str, now_ms: int) -> int:
    """Recompute every night of one person inside `db`'s transaction; return the number stored."""
    now_ms = stamp_ms(db, person_id, now_ms)
    pending = db.scalars(sa.select(NightDirty.id).where(NightDirty.person_id == person_id)).all()
    db.execute(sa.delete(NightSummary).where(NightSummary.person_id == person_id))
    stored = 0
    for run in runs_of(all_labels(db, person_id, tz)):
        nights = compute_nights(db, person_id, tz, run)
        write_nights(db, person_id, [], nights, now_ms)
        stored += len(nights)
    if pending:
        db.execute(sa.delete(NightDirty).where(NightDirty.id.in_(pending)))
    return stored


class NightStore:
    """Reads and maintains the stored nightly summaries (see the module docstring)."""

    def __init__(self, sessionmaker: so.sessionmaker[so.Session], clock: Clock) -> None:
        self._db = sessionmaker
        self._clock = clock
        self._locks: dict[int, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._generations: dict[int, int] = {}  # person → marks consumed / rebuilds in this process

    def generation(self, person_id: int) -> int:
        """How many times this process consumed the person's marks or rebuilt their nights (a version)."""
        return self._generations.get(person_id, 0)

    def _bump(self, person_id: int) -> None:
        with self._locks_guard:
            self._generations[person_id] = self._generations.get(person_id, 0) + 1

    def _lock(self, person_id: int) -> threading.Lock:
        # One refresh per person at a time in this process; two processes at once would only compute the
        # same rows twice (the delete-and-insert of a night is one transaction).
        with self._locks_guard:
            return self._locks.setdefault(person_id, threading.Lock())

    def pending_people(self) -> list[int]:
        with self._db() as db:
            return list(db.scalars(sa.select(NightDirty.person_id).distinct()).all())

    def refresh(self, person_id: int) -> int:
        """Recompute the nights that pending marks touch; return how many nights were recomputed."""
        try:
            return self._refresh(person_id)
        except sa.exc.IntegrityError:  # another process stored the same nights first: its result stands
            return 0

    def _refresh(self, person_id: int) -> int:
        with self._lock(person_id), self._db.begin() as db:
            marks = db.execute(
                sa.select(NightDirty.id, NightDirty.start_ms, NightDirty.end_ms).where(NightDirty.person_id == person_id)
            ).all()
            if not marks:
                return 0
            tz = db.scalar(sa.select(Person.tz).where(Person.id == person_id))
            if tz is None:
                return 0
            labels: set[dt.date] = set()
            for _id, start_ms, end_ms in marks:
                labels.update(affected_labels(int(start_ms), int(end_ms), tz))
            nights = compute_nights(db, person_id, tz, labels)
            write_nights(db, person_id, sorted(labels), nights, stamp_ms(db, person_id, self._clock.now_ms()))
            db.execute(sa.delete(NightDirty).where(NightDirty.id.in_([m[0] for m in marks])))
        # After the commit: a reader that sees the new generation also sees the new rows.
        self._bump(person_id)
        return len(labels)

    def refresh_all(self) -> int:
        return sum(self.refresh(pid) for pid in self.pending_people())

    def rebuild(self, person_id: int) -> int:
        """Recompute every night of the person from the samples; return the number of nights stored."""
        with self._lock(person_id), self._db.begin() as db:
            tz = db.scalar(sa.select(Person.tz).where(Person.id == person_id))
            if tz is None:
                return 0
            stored = rebuild_person(db, person_id, tz, self._clock.now_ms())
        self._bump(person_id)
        return stored

    def nights(self, person_id: int, first: dt.date | None = None, last: dt.date | None = None) -> tuple[Night, ...]:
        """Stored nights with labels in [first, last] (None: unbounded), oldest first; one query."""
        self.refresh(person_id)
        with self._db() as db:
            return tuple(_to_night(r) for r in db.execute(_period(person_id, first, last)).all())

    def recent(self, person_id: int, count: int) -> tuple[Night, ...]:
        """The last `count` stored nights, oldest first."""
        self.refresh(person_id)
        stmt = (
            sa.select(*_columns())
            .where(NightSummary.person_id == person_id)
            .order_by(NightSummary.night.desc())
            .limit(count)
        )
        with self._db() as db:
            return tuple(_to_night(r) for r in reversed(db.execute(stmt).all()))

    def arrays(self, person_id: int, first: dt.date | None = None, last: dt.date | None = None) -> NightArrays:
        """Stored nights of a period as arrays (what the Evidence analysis reads); one query.

        Straight from the cursor's tuples into columns: no Night objects for a history of thousands of nights.
        """
        self.refresh(person_id)
        with self._db() as db:
            rows = fetch_tuples(db, _period(person_id, first, last))
        columns = list(zip(*rows, strict=True)) if rows else [()] * (1 + len(NIGHT_FIELDS))
        labels = tuple(d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in columns[0])
        metrics = {
            k: np.fromiter((math.nan if v is None else float(v) for v in col), dtype=np.float64, count=len(rows))
            for k, col in zip(NIGHT_FIELDS, columns[1:], strict=True)
        }
        return NightArrays(labels=labels, metrics=metrics)
