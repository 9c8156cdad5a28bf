"""Stored capture-window summaries: computed once from the RR inside a window, dropped when that RR changes.

The Evidence report needs the summary of every done session's pre and post window; computing them means
reading ~140,000 beats at 200 sessions on every cold report, although they rarely change. So they are kept
in `window_summary`, the way tracker.nights keeps nights:

- Key: the window's exact (person_id, start_ms, end_ms). A session edit or a changed capture plan gives
  other bounds, which simply miss (the old rows stay, unread).
- Values (`WindowStats`): only what the window's beats decide (beats, mean HR, lnRMSSD, unrounded flagged
  and coverage percentages); [capture]'s quality thresholds decide `ok` when read
  (tracker.capture_windows.to_window), so changing them needs no recomputation.

How a stored summary stays equal to a recomputation from the raw RR:
1. Every write or deletion of samples calls `invalidate` in its own transaction (through
   tracker.nights.touch: chunked ingest writes, staged imports, undo): it deletes the person's summaries
   overlapping the changed range and moves the person's `sample_epoch`.
2. `cached_stats` reads the epoch before it reads any beat, and stores what it computed only if the epoch
   has not moved. It checks after a no-op UPDATE of the epoch row: that waits for a writer still in flight
   (on PostgreSQL a plain read would see the old value while the writer's delete already ran before our
   insert; SQLite has one writer at a time). Without this, a sync committing between the read of the
   beats and the store would leave a summary without its beats, its invalidation already spent.
3. Concurrent reports insert with ON CONFLICT DO NOTHING: both computed the same values from the same epoch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.queries import dialect_insert, fetch_tuples
from tracker.storage.models import SampleEpoch, WindowSummary

W = WindowSummary
_VALUES = (W.start_ms, W.end_ms, W.beats, W.hr_bpm, W.ln_rmssd, W.flagged_pct, W.coverage_pct)


@dataclass(frozen=True, slots=True)
class WindowStats:
    """What a capture window's RR alone decides; no setting that can change enters.

    `flagged_pct` and `coverage_pct` are unrounded (None with fewer than 2 beats; coverage 0 with none),
    so the quality gate decided from them at read time equals the one decided from the beats.
    """

    beats: int
    hr_bpm: float | None
    ln_rmssd: float | None
    flagged_pct: float | None
    coverage_pct: float | None


def invalidate(db: so.Session, person_id: int, start_ms: int, end_ms: int) -> None:
    """The person's samples in [start_ms, end_ms] changed (call it in the changing transaction): drop the
    summaries of windows overlapping the range and move the person's epoch."""
    stmt = dialect_insert(db)(SampleEpoch).values(person_id=person_id, epoch=1)
    db.execute(stmt.on_conflict_do_update(index_elements=[SampleEpoch.person_id], set_={"epoch": SampleEpoch.epoch + 1}))
    db.execute(sa.delete(W).where(W.person_id == person_id, W.start_ms <= int(end_ms), W.end_ms > int(start_ms)))


def _epoch(sessionmaker: so.sessionmaker[so.Session], person_id: int) -> int:
    """The person's epoch, its row created first when missing (so a later writer updates, and locks, it)."""
    stmt = sa.select(SampleEpoch.epoch).where(SampleEpoch.person_id == person_id)
    with sessionmaker() as db:
        value = db.scalar(stmt)
    if value is None:
        with sessionmaker.begin() as db:
            # On PostgreSQL this waits for a writer inserting the row in flight, then reads its value.
            db.execute(dialect_insert(db)(SampleEpoch).values(person_id=person_id, epoch=0).on_conflict_do_nothing())
            value = db.scalar(stmt)
    return int(value)


def _stored(sessionmaker: so.sessionmaker[so.Session], person_id: int,
            bounds: Sequence[tuple[int, int]]) -> dict[tuple[int, int], WindowStats]:  # fmt: skip
    """Stored summaries of the person's windows starting in the span of `bounds`; one indexed range read
    (rows of other bounds, e.g. an older capture plan's, are read and ignored)."""
    first, last = min(lo for lo, _ in bounds), max(lo for lo, _ in bounds)
    stmt = sa.select(*_VALUES).where(W.person_id == person_id, W.start_ms >= first, W.start_ms <= last)
    with sessionmaker() as db:
        rows = fetch_tuples(db, stmt)
    return {
        (int(lo), int(hi)): WindowStats(int(n), hr, ln, flagged, coverage)
        for lo, hi, n, hr, ln, flagged, coverage in rows
    }


def _store(sessionmaker: so.sessionmaker[so.Session], person_id: int, epoch: int,
           computed: dict[tuple[int, int], WindowStats], now_ms: int) -> bool:  # fmt: skip
    """Store `computed` if the person's samples did not change since `epoch` was read; True if stored."""
    rows = [
        {"person_id": person_id, "start_ms": lo, "end_ms": hi, "beats": st.beats, "hr_bpm": st.hr_bpm,
         "ln_rmssd": st.ln_rmssd, "flagged_pct": st.flagged_pct, "coverage_pct": st.coverage_pct,
         "computed_ms": now_ms}  # fmt: skip
        for (lo, hi), st in computed.items()
    ]
    mine = SampleEpoch.person_id == person_id
    try:
        with sessionmaker.begin() as db:
            # The epoch row's write lock first (see the module docstring, 2.), then its committed value.
            db.execute(sa.update(SampleEpoch).where(mine).values(epoch=SampleEpoch.epoch))
            if db.scalar(sa.select(SampleEpoch.epoch).where(mine)) != epoch:
                return False  # samples changed meanwhile: these results may miss them; the next report computes
            db.execute(dialect_insert(db)(WindowSummary).on_conflict_do_nothing(), rows)
    except sa.exc.OperationalError:  # e.g. SQLite busy beyond its timeout: the report stands, unstored
        return False
    return True


def cached_stats(sessionmaker: so.sessionmaker[so.Session], person_id: int, bounds: Sequence[tuple[int, int]],
                 compute: Callable[[list[tuple[int, int]]], list[WindowStats]],
                 now_ms: int) -> list[WindowStats]:  # fmt: skip
    """The summary of each window of `bounds` (in order): stored ones read in one query, the missing ones
    computed by `compute` (given the missing bounds, it returns their summaries in that order) and stored."""
    if not bounds:
        return []
    epoch = _epoch(sessionmaker, person_id)  # before any beat is read
    found = _stored(sessionmaker, person_id, bounds)
    missing = list(dict.fromkeys(b for b in bounds if b not in found))
    if missing:
        computed = dict(zip(missing, compute(missing), strict=True))
        _store(sessionmaker, person_id, epoch, computed, now_ms)
        found.update(computed)
    return [found[b] for b in bounds]
