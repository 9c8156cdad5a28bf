"""Conversions between UTC epoch milliseconds and text in a person's IANA zone (the edges of the system).

Stored times are UTC ms; text shown or exported is local ISO 8601 with its offset, so a file read in any
zone means the same instants, and DST changes are explicit in the offsets.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.timezone.utc


class TimeFormatError(ValueError):
    """Text is not a timestamp of the expected form; the message says why."""


def zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeFormatError(f"unknown IANA time zone {tz!r}") from None


def to_ms(moment: dt.datetime) -> int:
    """Aware datetime → epoch ms (exact: integer arithmetic, no float rounding)."""
    if moment.tzinfo is None:
        raise TimeFormatError("timestamp without an offset")
    try:
        delta = moment - dt.datetime(1970, 1, 1, tzinfo=UTC)
    except OverflowError:  # e.g. year 1 with a positive offset lies before datetime's range
        raise TimeFormatError(f"{moment.isoformat()} is out of range") from None
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def from_ms(t_ms: int, tz: str | dt.tzinfo = UTC) -> dt.datetime:
    tzinfo = zone(tz) if isinstance(tz, str) else tz
    return (dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=t_ms)).astimezone(tzinfo)


def parse_iso_ms(text: str) -> int:
    """ISO 8601 with an offset or Z (e.g. 2027-03-28T10:00:00+02:00) → epoch ms; no offset is an error."""
    text = text.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TimeFormatError(f"unparseable time {text!r} (expected ISO 8601 with an offset or Z)") from None
    if moment.tzinfo is None:
        raise TimeFormatError(f"time {text!r} has no offset (add Z or e.g. +01:00)")
    return to_ms(moment)


def parse_local(text: str, tz: str) -> int:
    """A time typed by a person: with an offset it is exact; without one it is wall-clock time in `tz`.

    Accepts "2027-03-28 10:00", "2027-03-28T10:00", and ISO 8601 with an offset. A wall-clock time that
    falls in a DST gap or overlap resolves with fold=0 (the earlier offset), as zoneinfo does.
    """
    text = text.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TimeFormatError(f"unparseable time {text!r} (expected e.g. 2027-03-28 10:00)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return to_ms(moment)


def format_local(t_ms: int, tz: str | dt.tzinfo) -> str:
    """Epoch ms → local ISO 8601 with offset; milliseconds only when non-zero (so whole seconds stay short)."""
    moment = from_ms(t_ms, tz)
    return moment.isoformat(timespec="milliseconds" if t_ms % 1000 else "seconds")


def local_date_bounds_ms(first: dt.date, last: dt.date, tz: str) -> tuple[int, int]:
    """[local midnight of `first`, local midnight after `last`) in epoch ms."""
    zi = zone(tz)
    start = dt.datetime.combine(first, dt.time(), tzinfo=zi)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zi)
    return to_ms(start), to_ms(end)


# Times a wellness record can plausibly carry. Checked where times enter (web, API, session rules), so an
# instant that later code cannot show (year 10000, or beyond datetime's range) is never stored.
PLAUSIBLE_MIN_MS = 0  # 1970-01-01T00:00:00Z
PLAUSIBLE_MAX_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z


def check_plausible_ms(t_ms: int, label: str = "time") -> int:
    """`t_ms` if it lies in 1970-2099 (UTC), else TimeFormatError naming `label`."""
    if not PLAUSIBLE_MIN_MS <= t_ms < PLAUSIBLE_MAX_MS:
        raise TimeFormatError(f"{label} must lie between 1970-01-01 and 2099-12-31")
    return t_ms
