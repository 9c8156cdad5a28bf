"""The report services on stored nightly summaries instead of nights recomputed from raw samples.

`tracker.reports.Reports` loads every heart-rate and RR sample of the nights a page shows and summarises
them on each request. This subclass answers the same three questions (`nights`, `recent_nights`,
`nights_between`) from `tracker.nights.NightStore`, so the overview, a session's nights, the Sleep page,
`/api/v1/nights` and the report read one row per night. It is a subclass rather than an edit of
tracker/reports.py only because that module is being rewritten in parallel ("Honest evidence"); once that
lands, the store can be passed to Reports directly and this module deleted.
"""

from __future__ import annotations

from typing import Any

from tracker.analysis.sleep import Night, night_label
from tracker.nights import NightStore
from tracker.reports import OVERVIEW_NIGHTS, Reports


class StoredNightsReports(Reports):
    def __init__(self, *args: Any, night_store: NightStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._night_store = night_store

    def nights(self, person_id: int) -> tuple[Night, ...]:
        return self._night_store.nights(person_id)

    def recent_nights(self, person_id: int, count: int = OVERVIEW_NIGHTS) -> tuple[Night, ...]:
        return self._night_store.recent(person_id, count)

    def nights_between(self, person_id: int, tz: str, start_ms: int, end_ms: int) -> tuple[Night, ...]:
        return self._night_store.nights(person_id, night_label(start_ms, tz), night_label(end_ms - 1, tz))

    def rebuild_nights(self, person_id: int) -> int:
        return self._night_store.rebuild(person_id)
