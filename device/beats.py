"""Beat times of a live capture from RR intervals, so that no two beats ever share a millisecond.

A Heart Rate Measurement carries the RR intervals of the beats since the last notification, oldest first,
but no time stamp; only its receive time is known, and notifications can arrive in bursts (after a
reconnect, or when the host was busy) or as a delayed batch. Taking each notification's receive time as
its last beat put several beats at the same millisecond, and the (person, time) key kept only the first.

So beat times follow the RR series: each beat is the previous beat plus its RR. The series is anchored to
the receive time at the start (the newest beat of the first notification ends at its receive time) and
re-anchored only after a real gap: the link was lost (`reanchor()`), or the receive time ran further ahead
of the RR series than any delivery delay explains (beats were lost). Times are strictly increasing.
Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

TICK_MS = 1000 / 1024
GAP_MS = 10_000  # receive time ahead of the RR series by more than this: beats went missing


@dataclass(frozen=True, slots=True)
class LiveBeat:
    t_ms: int
    rr_ticks: int


class BeatClock:
    """Turns (receive time, RR ticks of one notification) into beat times; one instance per capture."""

    def __init__(self, gap_ms: float = GAP_MS) -> None:
        self.gap_ms = gap_ms
        self._last_t: float | None = None  # exact time of the last beat (ms, float: ticks are fractions)
        self._last_int: int | None = None  # its stored (integer) time
        self.reanchors = 0

    def reanchor(self) -> None:
        """The next notification starts a new anchor (after the link was lost)."""
        if self._last_t is not None:
            self._last_t = None
            self.reanchors += 1

    def beats(self, received_ms: int, rr_ticks: Sequence[int]) -> list[LiveBeat]:
        if not rr_ticks:
            return []
        span_ms = sum(rr_ticks) * TICK_MS
        if self._last_t is None or received_ms - (self._last_t + span_ms) > self.gap_ms:
            if self._last_t is not None:
                self.reanchors += 1
            # Anchor: the newest beat ends at the receive time; never before a beat already placed.
            first_end = received_ms - span_ms + rr_ticks[0] * TICK_MS
            start = first_end - rr_ticks[0] * TICK_MS
            if self._last_t is not None and start < self._last_t:
                start = self._last_t
        else:
            start = self._last_t
        out: list[LiveBeat] = []
        t = start
        for ticks in rr_ticks:
            t += ticks * TICK_MS
            t_int = round(t)
            if self._last_int is not None and t_int <= self._last_int:
                t_int = self._last_int + 1  # a 0-tick RR (garbage) must not collide either
            self._last_int = t_int
            out.append(LiveBeat(t_int, ticks))
        self._last_t = t
        return out
