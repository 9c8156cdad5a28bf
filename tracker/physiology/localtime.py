"""Vectorised local-time arithmetic for one IANA zone over a bounded span (DST-correct, fold=0).

The model needs thousands of wall-clock → UTC conversions (bedtimes, wake times, local hour of every
second of a day). Calling zoneinfo per value would dominate the run time, so `TzTable` samples the
zone's UTC offset every 3 h over the span, locates each transition to the millisecond by bisection, and
then answers with `np.searchsorted`. Assumes at most one transition per 3 h, true of every real zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

DAY_MS = 86_400_000
MINUTE_MS = 60_000
_STEP_MS = 3 * 3_600_000
_UTC = dt.timezone.utc


def _offset_ms(zone: ZoneInfo, t_ms: int) -> int:
    moment = dt.datetime(1970, 1, 1, tzinfo=_UTC) + dt.timedelta(milliseconds=t_ms)
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds() * 1000)


class TzTable:
    """UTC offsets of `tz` for instants in [t0_ms, t1_ms) (a little margin is added on both sides)."""

    def __init__(self, tz: str, t0_ms: int, t1_ms: int) -> None:
        zone = ZoneInfo(tz)
        samples_ms = np.arange(t0_ms - 2 * DAY_MS, t1_ms + 2 * DAY_MS + _STEP_MS, _STEP_MS, dtype=np.int64)
        offsets = [_offset_ms(zone, int(t)) for t in samples_ms]
        change_ms: list[int] = []
        new_offsets: list[int] = [offsets[0]]
        for i in range(1, len(offsets)):
            if offsets[i] == offsets[i - 1]:
                continue
            lo, hi = int(samples_ms[i - 1]), int(samples_ms[i])  # offset(lo) = old, offset(hi) = new
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_ms(zone, mid) == offsets[i - 1]:
                    lo = mid
                else:
                    hi = mid
            change_ms.append(hi)
            new_offsets.append(offsets[i])
        self.tz = tz
        self.t0_ms = int(samples_ms[0])
        self.t1_ms = int(samples_ms[-1])
        self._change_ms = np.asarray(change_ms, dtype=np.int64)  # first instant of each new offset
        self._offsets_ms = np.asarray(new_offsets, dtype=np.int64)
        # In wall-clock terms a transition takes effect at T + max(old, new): wall times in a gap
        # (spring) or an overlap (autumn) keep the old offset, which is zoneinfo's fold=0 choice.
        before = self._offsets_ms[:-1]
        after = self._offsets_ms[1:]
        self._change_wall_ms = self._change_ms + np.maximum(before, after)

    def offset_ms(self, t_ms: np.ndarray | int) -> np.ndarray:
        """UTC offset (ms) in effect at UTC instants `t_ms`."""
        return self._offsets_ms[np.searchsorted(self._change_ms, t_ms, side="right")]

    def wall_to_utc_ms(self, wall_ms: np.ndarray | int) -> np.ndarray:
        """Local wall-clock times, written as ms since 1970-01-01T00:00 *local*, → UTC epoch ms (fold=0)."""
        wall = np.asarray(wall_ms, dtype=np.int64)
        return wall - self._offsets_ms[np.searchsorted(self._change_wall_ms, wall, side="right")]

    def local_day(self, t_ms: np.ndarray | int) -> np.ndarray:
        """Local calendar day of UTC instants, as days since 1970-01-01."""
        t = np.asarray(t_ms, dtype=np.int64)
        return (t + self.offset_ms(t)) // DAY_MS

    def local_midnight_ms(self, day: np.ndarray | int) -> np.ndarray:
        """UTC instant of local midnight starting `day` (days since 1970-01-01)."""
        return self.wall_to_utc_ms(np.asarray(day, dtype=np.int64) * DAY_MS)


def weekday(day: np.ndarray | int) -> np.ndarray:
    """0 = Monday … 6 = Sunday for days since 1970-01-01 (a Thursday)."""
    return (np.asarray(day, dtype=np.int64) + 3) % 7
