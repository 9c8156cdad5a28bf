"""The clock the services read, so tests can control time. Analysis never reads a clock."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Current time, UTC epoch milliseconds."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told to (tests, simulations)."""

    def __init__(self, now_ms: int) -> None:
        self._now_ms = now_ms

    def now_ms(self) -> int:
        return self._now_ms

    def set(self, now_ms: int) -> None:
        self._now_ms = now_ms

    def advance(self, *, ms: int = 0, s: float = 0, minutes: float = 0, hours: float = 0, days: float = 0) -> None:
        self._now_ms += int(ms + 1000 * (s + 60 * minutes + 3600 * hours + 86400 * days))
