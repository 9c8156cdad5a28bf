"""The RR of all sessions' capture windows in a bounded number of queries equals one query per window."""

from __future__ import annotations

import numpy as np

from tests.web.seed import seed_person
from tracker.bootstrap import Tracker
from tracker.capture_windows import windows_rr


def test_windows_rr_matches_per_window_queries_in_few_statements(tracker: Tracker, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tracker.capture_windows as cw

    person = tracker.people.add("Ana", "Europe/Berlin")
    seeded = seed_person(tracker, person, nights=35)
    windows = []
    for s in seeded.sessions:
        pre, post = tracker.reports.windows(s)
        windows += [(pre.start_ms, pre.end_ms), (post.start_ms, post.end_ms)]
    windows.append((windows[0][0] - 1, windows[0][1] + 1))  # an overlapping window
    queries = []
    real = cw.fetch_tuples
    monkeypatch.setattr(cw, "fetch_tuples", lambda db, stmt: queries.append(stmt) or real(db, stmt))
    monkeypatch.setattr(cw, "BATCH_WINDOWS", 8)
    got = windows_rr(tracker.sessionmaker, person.id, windows[::-1])
    assert len(queries) == 3  # 19 windows in batches of 8, not one query per window
    for (t, rr), (lo, hi) in zip(got, windows[::-1], strict=True):
        t_ref, rr_ref = tracker.reports.rr(person.id, lo, hi)
        assert np.array_equal(t, t_ref) and np.array_equal(rr, rr_ref) and len(t) > 0
