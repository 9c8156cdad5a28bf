"""Stored capture-window summaries (tracker.window_store) always equal a computation from the raw RR.

The reference is one query per window (`Reports.rr`, one source) and `summarize_window`; the stored path is
`Reports.windows_of` / the report. Writes go through the real ingest, staged import and undo paths, some
from a second Tracker on the same database ("another process").
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sqlalchemy as sa

from tests.web.seed import MIN_MS, Seeded, rr_series
from tracker.bootstrap import Tracker
from tracker.capture_windows import Window, summarize_window, window_bounds
from tracker.clock import ManualClock
from tracker.config import CaptureConfig, Config
from tracker.import_runs import finish_run, start_run
from tracker.ingest import Provenance
from tracker.model import RunKind, RunStatus, SessionStatus, Source
from tracker.reports import Reports
from tracker.storage.models import WindowSummary


def _done(tracker: Tracker, pid: int):  # type: ignore[no-untyped-def]
    return tracker.sessions.list(pid, statuses=[SessionStatus.DONE])


def _raw(tracker: Tracker, pid: int, capture: CaptureConfig) -> list[tuple[Window, Window]]:
    """(pre, post) of each done session computed from the raw RR, one query per window (the reference)."""
    out = []
    for s in _done(tracker, pid):
        pre, post = (summarize_window(lo, hi, tracker.reports.rr(pid, lo, hi)[1], capture)
                     for lo, hi in window_bounds(s.start_ms, s.end_ms, capture))  # fmt: skip
        out.append((pre, post))
    return out


def _stored(tracker: Tracker, pid: int) -> set[tuple[int, int]]:
    with tracker.sessionmaker() as db:
        rows = db.execute(sa.select(WindowSummary.start_ms, WindowSummary.end_ms).where(WindowSummary.person_id == pid))
        return {(int(lo), int(hi)) for lo, hi in rows}


def _bounds(tracker: Tracker, pid: int, capture: CaptureConfig) -> set[tuple[int, int]]:
    return {b for s in _done(tracker, pid) for b in window_bounds(s.start_ms, s.end_ms, capture)}


def _no_rr_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracker.capture_windows as cw

    def fail(*_args: object) -> None:
        raise AssertionError("the windows' RR was read although every summary is stored")

    monkeypatch.setattr(cw, "windows_rr", fail)


def _reports(tracker: Tracker, cfg: Config) -> Reports:
    return Reports(tracker.sessionmaker, tracker.people, tracker.sessions, cfg, tracker.clock)


def test_first_second_and_rebuilt_reports_equal_the_raw_computation(tracker: Tracker, seeded: Seeded,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    pid = seeded.person.id
    capture = tracker.config.capture
    assert _stored(tracker, pid) == set()
    first = tracker.reports.report(pid).to_dict()  # cold: computes and stores every window
    assert _stored(tracker, pid) == _bounds(tracker, pid, capture) and len(_stored(tracker, pid)) == 2 * 9
    reference = _raw(tracker, pid, capture)
    assert tracker.reports.windows_of(_done(tracker, pid)) == reference
    assert all(pre.beats > 250 and post.beats > 250 for pre, post in reference)

    with monkeypatch.context() as m:  # the second report reads the stored summaries only
        _no_rr_reads(m)
        assert tracker.reports.report(pid).to_dict() == first
        assert tracker.reports.windows_of(_done(tracker, pid)) == reference

    with tracker.sessionmaker.begin() as db:
        db.execute(sa.delete(WindowSummary))
    assert tracker.reports.report(pid).to_dict() == first  # recomputed from the beats: the same report
    assert _stored(tracker, pid) == _bounds(tracker, pid, capture)


def test_a_sync_into_a_window_drops_that_summary_and_the_report_follows(tracker: Tracker, seeded: Seeded,
                                                                        other: Tracker) -> None:  # fmt: skip
    pid = seeded.person.id
    capture = tracker.config.capture
    before = tracker.reports.report(pid).to_dict()
    stored = _stored(tracker, pid)
    s = _done(tracker, pid)[1]
    pre, _post = window_bounds(s.start_ms, s.end_ms, capture)
    # A chest strap synced by another process: more beats than the ring at ~95 bpm, so it is the window's source.
    strap = other.devices.upsert("C4:7C:8D:6A:55:01", pid, name="strap", family="hrs")
    run = other.devices.start_run(RunKind.SYNC, strap.id, pid, origin="test")
    other.ingest.rr(rr_series(np.random.default_rng(1), pre[0], 300, 630.0, 40), Provenance(pid, Source.HISTORY, strap.id, run))
    other.devices.finish_run(run, RunStatus.OK)
    assert _stored(tracker, pid) == stored - {pre}  # only the window the beats fall in

    after = tracker.reports.report(pid).to_dict()
    windows = tracker.reports.windows_of(_done(tracker, pid))
    assert windows == _raw(tracker, pid, capture)
    assert windows[1][0].hr_bpm is not None and windows[1][0].hr_bpm > 90  # the strap's beats
    assert after != before and after["acute"] != before["acute"]
    with tracker.sessionmaker.begin() as db:
        db.execute(sa.delete(WindowSummary))
    assert tracker.reports.report(pid).to_dict() == after


def test_an_import_and_its_undo_drop_the_summary_each_time(tracker: Tracker, seeded: Seeded, other: Tracker,
                                                           clock: ManualClock) -> None:  # fmt: skip
    pid = seeded.person.id
    capture = tracker.config.capture
    original = tracker.reports.windows_of(_done(tracker, pid))
    report = tracker.reports.report(pid).to_dict()
    s = _done(tracker, pid)[4]
    _pre, post = window_bounds(s.start_ms, s.end_ms, capture)
    run = start_run(other.sessionmaker, clock, pid, "strap.csv")
    rows = rr_series(np.random.default_rng(2), post[0], 300, 850.0, 40)  # a file import at ~70 bpm, more beats
    with other.ingest.staged() as batch:
        batch.rr(rows, Provenance(pid, Source.IMPORT, None, run))
    finish_run(other.sessionmaker, clock, run, {"rr": len(rows)}, None, None)
    assert post not in _stored(tracker, pid)
    imported = tracker.reports.windows_of(_done(tracker, pid))
    assert imported == _raw(tracker, pid, capture) and imported[4][1] != original[4][1]
    assert post in _stored(tracker, pid)

    clock.advance(s=1)
    other.import_runs.undo(run)
    assert post not in _stored(tracker, pid)
    assert tracker.reports.windows_of(_done(tracker, pid)) == original
    assert tracker.reports.report(pid).to_dict() == report


def test_a_changed_capture_plan_gives_new_windows_and_thresholds_apply_when_read(tracker: Tracker, seeded: Seeded,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    pid = seeded.person.id
    tracker.reports.report(pid)
    default = _stored(tracker, pid)
    shorter = dataclasses.replace(tracker.config.capture, pre_min=3.0)
    reports = _reports(tracker, tracker.config.replace(capture=shorter))
    windows = reports.windows_of(_done(tracker, pid))
    assert windows == _raw(tracker, pid, shorter)
    assert all(pre.end_ms - pre.start_ms == 3 * MIN_MS for pre, _post in windows)
    new_pre = {(pre.start_ms, pre.end_ms) for pre, _post in windows}
    assert _stored(tracker, pid) == default | new_pre and not new_pre & default  # post windows were reused

    # Stricter quality thresholds: no recomputation, `ok` decided from the stored values as from the beats.
    strict = dataclasses.replace(tracker.config.capture, min_coverage_pct=100.0, max_artifact_pct=0.5)
    with monkeypatch.context() as m:
        _no_rr_reads(m)
        judged = _reports(tracker, tracker.config.replace(capture=strict)).windows_of(_done(tracker, pid))
    assert judged == _raw(tracker, pid, strict)
    lenient = tracker.reports.windows_of(_done(tracker, pid))
    assert [w.quality_ok for p in lenient for w in p] != [w.quality_ok for p in judged for w in p]


def test_beats_written_while_a_report_computes_are_not_stored_stale(tracker: Tracker, seeded: Seeded,
                                                                    other: Tracker, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import tracker.capture_windows as cw

    pid = seeded.person.id
    capture = tracker.config.capture
    s = _done(tracker, pid)[2]
    pre, _post = window_bounds(s.start_ms, s.end_ms, capture)
    strap = other.devices.upsert("C4:7C:8D:6A:66:01", pid, name="strap", family="hrs")
    real = cw.compute_stats

    def compute_then_sync(*args: object):  # type: ignore[no-untyped-def]
        result = real(*args)  # the beats are read: now another process syncs into a window
        rows = rr_series(np.random.default_rng(4), pre[0], 300, 600.0, 40)
        other.ingest.rr(rows, Provenance(pid, Source.LIVE, strap.id))
        return result

    monkeypatch.setattr(cw, "compute_stats", compute_then_sync)
    stale = tracker.reports.windows_of(_done(tracker, pid))
    monkeypatch.undo()
    assert _stored(tracker, pid) == set()  # the epoch moved during the computation: nothing stored
    fresh = tracker.reports.windows_of(_done(tracker, pid))
    assert fresh == _raw(tracker, pid, capture) and fresh[2][0] != stale[2][0]
    assert _stored(tracker, pid) == _bounds(tracker, pid, capture)


def test_concurrent_stores_of_the_same_windows_keep_one_row_each(tracker: Tracker, seeded: Seeded, other: Tracker) -> None:
    pid = seeded.person.id
    sessions = _done(tracker, pid)
    first = tracker.reports.windows_of(sessions)
    with tracker.sessionmaker.begin() as db:  # as if another report stored half of them in between
        db.execute(sa.delete(WindowSummary).where(WindowSummary.start_ms < sessions[4].start_ms))
    assert other.reports.windows_of(sessions) == first
    from tracker.window_store import WindowStats, _epoch, _store

    # A second store of rows that exist (another report's identical results) is not an error.
    stats = {(w.start_ms, w.end_ms): WindowStats(w.beats, w.hr_bpm, w.ln_rmssd, w.flagged_pct, w.coverage_pct)
             for pair in first for w in pair}  # fmt: skip
    assert _store(tracker.sessionmaker, pid, _epoch(tracker.sessionmaker, pid), stats, 0)
    assert len(_stored(tracker, pid)) == 2 * len(sessions)
    assert tracker.reports.windows_of(sessions) == first
