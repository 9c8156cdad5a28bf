"""Versions of everything the Evidence report reads for one person, in one round trip of index lookups.

The evidence cache (tracker.evidence) keeps a report for as long as this key is unchanged, so the key must
change with every input of the report:

- sessions (the report reads every done session; adds, edits, completions, cancellations, deletions):
  count, highest id, latest and summed `updated_ms` (an edit moves its row's `updated_ms`; a deletion
  lowers the count). Edits within one millisecond are caught in-process by the session listener
  (`Reports`' generation counter).
- nightly summaries (the report reads them all): count and latest `computed_ms`, which
  `tracker.nights.NightStore` keeps strictly increasing per person, so every recomputation moves it,
  in this process or another.
- samples in capture windows: every write or deletion of samples leaves a `night_dirty` mark in its own
  transaction (tracker.ingest, tracker.import_runs); pending marks count here, and consuming them bumps
  `NightStore.generation` in this process. Syncs and imports by another process also move the person's
  runs (count, highest id, latest end, undone runs). The stored capture-window summaries
  (tracker.window_store) are not part of the key: the same transaction that changes a window's beats
  deletes its summary and leaves the night mark above, and storing a summary changes no input.
- the trial (its id and status, deviations, and the clock: "planned/running/finished" and missed sessions
  follow the time, so the key holds where `now` stands among the trial's session times).
- the primary endpoint's recorded history; the person's name and zone; [analysis] and [capture] settings,
  which the caller adds.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.import_runs import UNDONE
from tracker.model import SessionStatus
from tracker.storage.models import (
    MassageSession,
    NightDirty,
    NightSummary,
    PrimaryEndpointChange,
    Run,
    Trial,
    TrialAllocation,
    TrialDeviation,
)

def _scalar(stmt: sa.Select[Any]) -> sa.ScalarSelect[Any]:
    return stmt.scalar_subquery()


class EvidenceVersions(NamedTuple):
    sessions: int
    session_max_id: int | None
    session_max_updated_ms: int | None
    session_sum_updated_ms: Any
    nights: int
    nights_computed_ms: int | None
    night_marks_pending: int
    runs: int
    run_max_id: int | None
    run_max_ended_ms: int | None
    runs_undone: int
    endpoints: int
    endpoint_max_id: int | None
    trial_id: int | None
    trial_status: str | None
    trial_deviations: int
    trial_started_slots: int  # trial sessions whose (last seen) start is before now
    trial_future_slots: int  # … after now
    trial_missed: int  # trial sessions still planned after their end


def evidence_versions(db: so.Session, person_id: int, now_ms: int) -> EvidenceVersions:
    """The database half of the evidence key (see the module docstring); one statement."""
    s, n, r, e = MassageSession, NightSummary, Run, PrimaryEndpointChange
    mine_s, mine_n, mine_r = s.person_id == person_id, n.person_id == person_id, r.person_id == person_id
    trial_id = _scalar(sa.select(sa.func.max(Trial.id)).where(Trial.person_id == person_id))
    a = TrialAllocation
    stmt = sa.select(
        _scalar(sa.select(sa.func.count(s.id)).where(mine_s)),
        _scalar(sa.select(sa.func.max(s.id)).where(mine_s)),
        _scalar(sa.select(sa.func.max(s.updated_ms)).where(mine_s)),
        _scalar(sa.select(sa.func.sum(s.updated_ms)).where(mine_s)),
        _scalar(sa.select(sa.func.count()).select_from(n).where(mine_n)),
        _scalar(sa.select(sa.func.max(n.computed_ms)).where(mine_n)),
        _scalar(sa.select(sa.func.count(NightDirty.id)).where(NightDirty.person_id == person_id)),
        _scalar(sa.select(sa.func.count(r.id)).where(mine_r)),
        _scalar(sa.select(sa.func.max(r.id)).where(mine_r)),
        _scalar(sa.select(sa.func.max(r.ended_ms)).where(mine_r)),
        _scalar(sa.select(sa.func.count(r.id)).where(mine_r, r.status == UNDONE)),
        _scalar(sa.select(sa.func.count(e.id)).where(e.person_id == person_id)),
        _scalar(sa.select(sa.func.max(e.id)).where(e.person_id == person_id)),
        trial_id,
        _scalar(sa.select(Trial.status).where(Trial.id == trial_id)),
        _scalar(sa.select(sa.func.count(TrialDeviation.id)).where(TrialDeviation.trial_id == trial_id)),
        # where now stands among the trial's times (its view says planned / running / finished)
        _scalar(sa.select(sa.func.count()).select_from(a).where(a.trial_id == trial_id, a.seen_start_ms < now_ms)),
        _scalar(sa.select(sa.func.count()).select_from(a).where(a.trial_id == trial_id, a.seen_start_ms > now_ms)),
        # trial sessions still planned after their end show as missed
        _scalar(
            sa.select(sa.func.count())
            .select_from(a)
            .join(s, s.id == a.session_id)
            .where(a.trial_id == trial_id, s.status == str(SessionStatus.PLANNED), s.end_ms < now_ms)
        ),
    )
    return EvidenceVersions(*db.execute(stmt).one())
