"""Fixtures shared by the report-state tests (evidence cache, stored window summaries)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.seed import Seeded, seed_person
from tracker.bootstrap import Tracker, build_tracker
from tracker.clock import ManualClock


@pytest.fixture
def seeded(tracker: Tracker) -> Seeded:
    """Ana with 35 nights, sessions and RR around them (tests.web.seed)."""
    return seed_person(tracker, tracker.people.add("Ana", "Europe/Berlin"), nights=35)


@pytest.fixture
def other(tracker: Tracker, clock: ManualClock) -> Iterator[Tracker]:
    """"Another process": a second Tracker on the same database (its own night store, listeners, cache)."""
    t = build_tracker(tracker.config, clock)
    yield t
    t.close()
