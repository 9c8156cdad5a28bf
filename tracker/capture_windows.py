"""RR intervals of many capture windows in a bounded number of queries (for the Evidence report).

The report needs the RR of every done session's pre and post windows. One query per window (what
`Reports.windows` does per session) costs two compiled round trips per session; one query over the whole
span would load every overnight beat in between. Here the windows are sorted and sent `BATCH_WINDOWS` at a
time as one OR of indexed time ranges, so 200 sessions (400 windows) take 2 queries and only the beats
inside windows travel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.queries import fetch_tuples, rows_to_arrays
from tracker.storage.models import RRRow

BATCH_WINDOWS = 256


def windows_rr(sessionmaker: so.sessionmaker[so.Session], person_id: int,
               windows: Sequence[tuple[int, int]]) -> list[tuple[np.ndarray, np.ndarray]]:  # fmt: skip
    """(t_ms, rr_ms) of the person's RR in each [start_ms, end_ms) of `windows`, in the order given."""
    out: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0, np.int64), np.empty(0)) for _ in windows]
    order = sorted(range(len(windows)), key=lambda i: windows[i])
    with sessionmaker() as db:
        for first in range(0, len(order), BATCH_WINDOWS):
            batch = order[first : first + BATCH_WINDOWS]
            ranges = [sa.and_(RRRow.t_ms >= windows[i][0], RRRow.t_ms < windows[i][1]) for i in batch]
            stmt = (
                sa.select(RRRow.t_ms, RRRow.rr_ms)
                .where(RRRow.person_id == person_id, sa.or_(*ranges))
                .order_by(RRRow.t_ms)
            )
            t, rr = rows_to_arrays(fetch_tuples(db, stmt))
            for i in batch:  # windows may overlap: each takes its own slice of the sorted beats
                lo, hi = np.searchsorted(t, windows[i], side="left")
                out[i] = (t[lo:hi], rr[lo:hi])
    return out
