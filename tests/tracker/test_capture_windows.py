"""All sessions' capture windows in a bounded number of queries equal one query per window, with two devices.

The per-window reference path is `Reports.rr` over each window (`tracker.sources.choose_source`: one
source per window, the one with the most beats), then `summarize_window`; the batched path is
`capture_windows.windows_rr` / `Reports.windows_of`, which the Evidence report uses.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tests.web.seed import MIN_MS, Seeded, rr_series, seed_person
from tracker.analysis.report import build_report
from tracker.bootstrap import Tracker
from tracker.capture_windows import summarize_window, window_bounds, windows_rr
from tracker.ingest import Provenance
from tracker.model import RunKind, SessionStatus, Source


def _per_window(tracker: Tracker, person_id: int, sessions):  # type: ignore[no-untyped-def]
    """(pre, post) of each session, one query per window (the reference)."""
    capture = tracker.config.capture
    out = []
    for s in sessions:
        pair = []
        for lo, hi in window_bounds(s.start_ms, s.end_ms, capture):
            _t, rr = tracker.reports.rr(person_id, lo, hi)
            pair.append(summarize_window(lo, hi, rr, capture))
        out.append(tuple(pair))
    return out


def _add_strap(tracker: Tracker, seeded: Seeded) -> None:
    """A chest strap beside the ring: more beats than the ring in some windows, fewer in others, a tie in one."""
    person = seeded.person
    strap = tracker.devices.upsert("C4:7C:8D:6A:22:01", person.id, name="strap", family="hrs")
    run = tracker.devices.start_run(RunKind.CAPTURE, strap.id, person.id, origin="test")
    prov = Provenance(person.id, Source.LIVE, strap.id, run)
    rng = np.random.default_rng(42)
    capture = tracker.config.capture
    ring_t, _ = tracker.reports.rr(person.id, *window_bounds(seeded.sessions[4].start_ms, seeded.sessions[4].end_ms,
                                                             capture)[0])  # fmt: skip
    for i, s in enumerate(seeded.sessions):
        (pre_lo, pre_hi), (post_lo, post_hi) = window_bounds(s.start_ms, s.end_ms, capture)
        if i % 3 == 0:  # the strap recorded the whole pre window at ~90 bpm: more beats than the ring
            tracker.ingest.rr(rr_series(rng, pre_lo, 300, 667.0, 40), prov)
        elif i % 3 == 1:  # only 2 minutes of the post window: fewer beats, the ring stays chosen
            tracker.ingest.rr(rr_series(rng, post_lo + MIN_MS, 120, 1100.0, 50), prov)
    # A tie: the strap has exactly the ring's beat times in session 4's pre window, other values.
    tracker.ingest.rr([(int(t), 700.0 + (k % 7)) for k, t in enumerate(ring_t)], prov)


def test_windows_rr_matches_per_window_queries_in_few_statements(tracker: Tracker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tracker.capture_windows as cw

    person = tracker.people.add("Ana", "Europe/Berlin")
    seeded = seed_person(tracker, person, nights=35)
    _add_strap(tracker, seeded)
    windows = [b for s in seeded.sessions for b in window_bounds(s.start_ms, s.end_ms, tracker.config.capture)]
    windows.append((windows[0][0] - 1, windows[0][1] + 1))  # an overlapping window
    queries = []
    real = cw.fetch_matrix
    monkeypatch.setattr(cw, "fetch_matrix", lambda db, stmt, n, v: queries.append(stmt) or real(db, stmt, n, v))
    monkeypatch.setattr(cw, "BATCH_WINDOWS", 8)
    got = windows_rr(tracker.sessionmaker, person.id, windows[::-1])
    assert len(queries) == 3  # 18 disjoint ranges in batches of 8, not one query per window
    for (t, rr), (lo, hi) in zip(got, windows[::-1], strict=True):
        t_ref, rr_ref = tracker.reports.rr(person.id, lo, hi)
        assert np.array_equal(t, t_ref) and np.array_equal(rr, rr_ref) and len(t) > 0


def test_two_devices_batched_windows_and_report_equal_the_per_session_computation(tracker: Tracker) -> None:
    person = tracker.people.add("Ben", "Europe/Berlin")
    seeded = seed_person(tracker, person, nights=35, seed=5)
    _add_strap(tracker, seeded)
    sessions = tracker.sessions.list(person.id, statuses=[SessionStatus.DONE])
    reference = _per_window(tracker, person.id, sessions)
    batched = tracker.reports.windows_of(sessions)
    assert batched == reference
    # The strap's beats were chosen where it had more (its ~90 bpm), the ring's (~68 bpm) elsewhere.
    pre_hr = [pre.hr_bpm for pre, _post in batched]
    assert all(pre_hr[i] > 84 for i in range(0, len(sessions), 3))
    assert all(pre_hr[i] < 78 for i in range(len(sessions)) if i % 3)
    assert batched[4][0].beats == len(tracker.reports.rr(person.id, batched[4][0].start_ms, batched[4][0].end_ms)[0])

    # The whole report from the batched inputs equals the one from per-session windows.
    info = tracker.people.get(person.id)
    inputs = tracker.reports.report_inputs(info)
    sessions_ref = tuple(
        dataclasses.replace(si, pre=pre.summary(), post=post.summary())
        for si, (pre, post) in zip(inputs.sessions, reference, strict=True)
    )
    assert sessions_ref == inputs.sessions
    ref = build_report(dataclasses.replace(inputs, sessions=sessions_ref)).to_dict()
    assert build_report(inputs).to_dict() == ref
    assert tracker.reports.report(person.id).to_dict()["acute"] == ref["acute"]
