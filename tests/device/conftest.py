"""Fixtures for the bleak-over-bumble backend and the emulated wearables.

`SteadyFeed` is a tiny deterministic data source satisfying the emulator's feed protocols
(`RRFeed`, `HistoryFeed`): it only supplies numbers (a repeating RR pattern, a fixed heart-rate
day curve, given nights), so tests can compare what arrives through bleak with what was fed.
`arun` runs one coroutine on a fresh loop with a hard timeout (pytest-asyncio is not used).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import numpy as np
import pytest

from tracker.model import SleepSpan

T = TypeVar("T")

DAY_MS = 86_400_000
# 2027-03-01T00:00:00Z, a Monday; tests put "now" a little after it.
DAY0_MS = 1_803_859_200_000


class SteadyFeed:
    """Deterministic physiology numbers.

    Beats: the RR pattern `rr_pattern_ticks` (1/1024 s) repeats forever from `origin_ms`; beat k
    happens at origin + floor(cumulative ticks × 1000/1024) ms and its RR is the pattern entry.
    Heart-rate log: slot i of any day has 50 + (i × 7) % 40 bpm, except every 12th slot from 5
    on, which is 0 ("not worn"). Ring HRV: slot i has 20 + (i × 5) % 60 ms, 0 for every 10th slot
    from 3 on. Sleep: the given spans.
    """

    def __init__(
        self,
        origin_ms: int = DAY0_MS,
        rr_pattern_ticks: Sequence[int] = (819, 840, 799, 860, 830, 810, 845, 805),
        nights: Sequence[SleepSpan] = (),
    ) -> None:
        self.origin_ms = origin_ms
        self.pattern = np.asarray(rr_pattern_ticks, dtype=np.int64)
        self._cum = np.cumsum(self.pattern)
        self._period = int(self._cum[-1])
        self.nights = list(nights)

    def rr_ticks(self, t0_ms: int, t1_ms: int) -> tuple[np.ndarray, np.ndarray]:
        if t1_ms <= t0_ms:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        period_ms = self._period * 1000 / 1024
        c0 = max(0, int((t0_ms - self.origin_ms) // period_ms) - 1)
        c1 = int((t1_ms - self.origin_ms) // period_ms) + 1
        cycles = np.arange(c0, c1 + 1, dtype=np.int64)
        cum_ticks = (cycles[:, None] * self._period + self._cum[None, :]).ravel()
        t_ms = self.origin_ms + (cum_ticks * 1000) // 1024
        ticks = np.tile(self.pattern, len(cycles))
        keep = (t_ms >= t0_ms) & (t_ms < t1_ms)
        return t_ms[keep], ticks[keep]

    def heart_rate_5min(self, day_start_ms: int) -> np.ndarray:
        slots = np.arange(288)
        bpm = 50 + (slots * 7) % 40
        bpm[slots % 12 == 5] = 0
        return bpm.astype(np.int64)

    def hrv_30min(self, day_start_ms: int) -> np.ndarray:
        slots = np.arange(48)
        hrv = 20 + (slots * 5) % 60
        hrv[slots % 10 == 3] = 0
        return hrv.astype(np.int64)

    def sleep_spans(self) -> Sequence[SleepSpan]:
        return self.nights


def run_with_timeout(coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
    """asyncio.run with a hard timeout, so a broken test fails instead of hanging."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout_s)

    return asyncio.run(bounded())


@pytest.fixture
def arun() -> Callable[..., Any]:
    return run_with_timeout


@pytest.fixture
def feed() -> SteadyFeed:
    return SteadyFeed()
