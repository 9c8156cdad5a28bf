"""The evidence cache is keyed on data versions: any change the report reads recomputes it, nothing else does.

"Another process" is a second Tracker on the same database (its own night store, listeners and cache),
as a `tracker import` or a second server would be.
"""

from __future__ import annotations


import numpy as np
import sqlalchemy as sa

from tests.web.seed import MIN_MS, Seeded, rr_series
from tracker.bootstrap import Tracker, build_tracker
from tracker.capture_windows import window_bounds
from tracker.config import AnalysisConfig
from tracker.evidence import EvidenceCache
from tracker.import_runs import finish_run, start_run
from tracker.ingest import Provenance
from tracker.model import RunKind, RunStatus, SessionKind, Source
from tracker.reports import Reports
from tracker.sessions import SessionFields
from tracker.storage.models import NightSummary
from tracker.timefmt import parse_local


def _fresh(tracker: Tracker, person_id: int) -> bool:
    """Whether the report was computed (not a cache hit); asserts the next call is then a hit."""
    first = tracker.reports.evidence(person_id)
    assert tracker.reports.evidence(person_id).cached
    return not first.cached


def test_an_unchanged_database_is_a_cache_hit_however_long_ago(tracker: Tracker, seeded: Seeded, clock) -> None:  # type: ignore[no-untyped-def]
    pid = seeded.person.id
    first = tracker.reports.evidence(pid)
    assert not first.cached
    clock.advance(s=6 * 3600)
    hit = tracker.reports.evidence(pid)
    assert hit.cached and hit.report is first.report and hit.computed_ms == first.computed_ms
    other_reports = build_tracker(tracker.config, clock)  # another process reading changes nothing either
    try:
        assert not other_reports.reports.evidence(pid).cached and other_reports.reports.evidence(pid).cached
    finally:
        other_reports.close()
    assert tracker.reports.evidence(pid).cached


def test_session_changes_recompute(tracker: Tracker, seeded: Seeded, other: Tracker, clock) -> None:  # type: ignore[no-untyped-def]
    pid = seeded.person.id
    assert _fresh(tracker, pid)
    start = seeded.sessions[-1].start_ms + 2 * 86_400_000
    added = tracker.sessions.create(pid, SessionFields(start, start + 60 * MIN_MS, kind=SessionKind.MASSAGE))
    tracker.sessions.complete(added.id)
    assert _fresh(tracker, pid)  # added (and completed in the same millisecond)
    tracker.sessions.update(seeded.sessions[2].id, pressure=1)
    assert _fresh(tracker, pid)  # edited, clock not moved: the listener counts it
    clock.advance(s=1)
    other.sessions.update(seeded.sessions[3].id, pain_after=0)
    assert _fresh(tracker, pid)  # edited by another process: updated_ms moved
    other.sessions.delete(added.id)
    assert _fresh(tracker, pid)  # deleted by another process: the count fell
    assert not _fresh(tracker, pid)


def test_a_sync_adding_rr_in_a_window_recomputes(tracker: Tracker, seeded: Seeded, other: Tracker, clock) -> None:  # type: ignore[no-untyped-def]
    pid = seeded.person.id
    s = seeded.sessions[1]
    (pre_lo, _), (post_lo, _) = window_bounds(s.start_ms, s.end_ms, tracker.config.capture)
    strap = tracker.devices.upsert("C4:7C:8D:6A:33:01", pid, name="strap", family="hrs")
    rng = np.random.default_rng(3)
    assert _fresh(tracker, pid)
    before = tracker.reports.windows(s)[0]

    # In this process: the ingest leaves a night mark; consuming it bumps the night store's generation.
    run = tracker.devices.start_run(RunKind.CAPTURE, strap.id, pid, origin="test")
    tracker.ingest.rr(rr_series(rng, pre_lo, 300, 650.0, 40), Provenance(pid, Source.LIVE, strap.id, run))
    ev = tracker.reports.evidence(pid)
    assert not ev.cached and tracker.reports.windows(s)[0] != before  # the strap's beats now fill the window
    assert tracker.reports.evidence(pid).cached

    # Another process syncs and consumes its own marks before this one looks: its run still moves the key.
    clock.advance(s=1)
    run = other.devices.start_run(RunKind.SYNC, strap.id, pid, origin="test")
    other.ingest.rr(rr_series(rng, post_lo, 300, 640.0, 40), Provenance(pid, Source.HISTORY, strap.id, run))
    other.devices.finish_run(run, RunStatus.OK)
    other.nights.refresh(pid)
    assert _fresh(tracker, pid)


def test_a_sync_by_another_process_for_a_person_without_nights_recomputes(tracker: Tracker, other: Tracker,
                                                                         clock) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    # A strap-only person: no night is stored, so only the runs (and pending marks) can tell.
    pid = tracker.people.add("Cy", "Europe/Berlin").id
    start = clock.now_ms() - 3 * 86_400_000
    s = tracker.sessions.create(pid, SessionFields(start, start + 60 * MIN_MS, kind=SessionKind.MASSAGE))
    tracker.sessions.complete(s.id)
    strap = tracker.devices.upsert("C4:7C:8D:6A:44:01", pid, name="strap", family="hrs")
    assert _fresh(tracker, pid)
    (pre_lo, _), (post_lo, _) = window_bounds(start, start + 60 * MIN_MS, tracker.config.capture)
    rng = np.random.default_rng(9)
    # In this process, without a run: the consumed night marks count (the night store's generation).
    tracker.ingest.rr(rr_series(rng, post_lo, 300, 950.0, 40), Provenance(pid, Source.LIVE, strap.id))
    assert _fresh(tracker, pid)
    clock.advance(s=1)
    run = other.devices.start_run(RunKind.SYNC, strap.id, pid, origin="test")
    other.ingest.rr(rr_series(rng, pre_lo, 300, 900.0, 40), Provenance(pid, Source.HISTORY, strap.id, run))
    other.devices.finish_run(run, RunStatus.OK)
    other.nights.refresh(pid)
    assert tracker.reports.nights(pid) == ()
    assert _fresh(tracker, pid)
    assert tracker.reports.evidence(pid).report.to_dict()["acute"][0]["n_available"] == 1


def test_nights_recomputed_after_an_import_or_an_undo_recompute(tracker: Tracker, seeded: Seeded, other: Tracker,
                                                                   clock) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    pid = seeded.person.id
    assert _fresh(tracker, pid)
    night = tracker.reports.nights(pid)[-3]
    assert night.resting_hr_bpm is not None and night.resting_hr_bpm > 40
    run = start_run(other.sessionmaker, clock, pid, "nights.csv")
    rows = [(t, 30) for t in range(night.sleep_onset_ms, night.sleep_end_ms, MIN_MS)]
    other.ingest.heart_rate(rows, Provenance(pid, Source.IMPORT, None, run))
    finish_run(other.sessionmaker, clock, run, {"heart_rate": len(rows)}, None, None)
    other.nights.refresh(pid)  # the import's process recomputed the nights already
    assert tracker.reports.nights(pid)[-3].resting_hr_bpm == 30
    assert _fresh(tracker, pid)
    clock.advance(s=1)
    other.import_runs.undo(run)
    other.nights.refresh(pid)
    assert tracker.reports.nights(pid)[-3] == night
    assert _fresh(tracker, pid)
    # A rebuild rewrites every night (same values): the stored nights' version moves all the same.
    other.nights.rebuild(pid)
    assert _fresh(tracker, pid)


def test_night_versions_move_even_when_the_clock_stands_still(tracker: Tracker, seeded: Seeded) -> None:
    pid = seeded.person.id
    tracker.nights.refresh(pid)
    stamps = []
    for _ in range(3):
        tracker.nights.rebuild(pid)
        with tracker.sessionmaker() as db:
            stamps.append(db.scalar(sa.select(sa.func.max(NightSummary.computed_ms)).where(NightSummary.person_id == pid)))
    assert stamps[0] < stamps[1] < stamps[2]


def test_trial_records_and_settings_change_the_key(tracker: Tracker, seeded: Seeded, clock) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    pid = seeded.person.id
    assert _fresh(tracker, pid)
    tracker.trials.plan_trial(pid, 6, "Tue 18:00,Fri 18:00", first_day=dt.date(2027, 3, 8), seed=7)
    assert _fresh(tracker, pid)
    assert tracker.reports.evidence(pid).report.to_dict()["trial"]["status"] == "planned"
    clock.set(parse_local("2027-03-10 12:00", "Europe/Berlin"))  # after the first trial session (Tue 9th)
    ev = tracker.reports.evidence(pid)  # the clock passed the first trial session: running, with a missed one
    assert not ev.cached and ev.report.to_dict()["trial"]["status"] == "running"
    cfg = tracker.config.replace(analysis=AnalysisConfig(primary_metric="resting_hr_bpm", primary_lag=2))
    mine = Reports(tracker.sessionmaker, tracker.people, tracker.sessions, cfg, clock, night_store=tracker.nights)
    assert mine.evidence_key(pid) != tracker.reports.evidence_key(pid)


def test_the_cache_keeps_the_most_recently_used_people() -> None:
    cache = EvidenceCache(max_people=2)
    a, b, c = object(), object(), object()
    cache.put(1, "k1", a)  # type: ignore[arg-type]
    cache.put(2, "k2", b)  # type: ignore[arg-type]
    assert cache.get(1, "k1") is a  # 1 is now the most recent
    cache.put(3, "k3", c)  # type: ignore[arg-type]
    assert len(cache) == 2 and cache.get(2, "k2") is None and cache.get(1, "k1") is a and cache.get(3, "k3") is c
    assert cache.get(1, "other key") is None


def test_without_nights_the_date_is_part_of_the_key(tracker: Tracker, clock) -> None:  # type: ignore[no-untyped-def]
    pid = tracker.people.add("Dee", "UTC").id  # nothing recorded: the report's period is today's date
    first = tracker.reports.evidence(pid)
    clock.advance(s=3600)
    assert tracker.reports.evidence(pid).cached
    clock.advance(s=86_400)
    later = tracker.reports.evidence(pid)
    assert not later.cached and later.report.period_start > first.report.period_start
