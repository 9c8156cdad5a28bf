"""Weekly trial slots ("Tue 18:00,Fri 18:00") and their dates, in the person's zone (DST-correct).

A slot is a weekday and a wall-clock time. Week k (1-based) of a trial starting on local date D holds
each slot's first occurrence on or after D + 7(k − 1). Times are wall-clock times in the person's zone
through zoneinfo, so 18:00 stays 18:00 across a daylight-saving change (a time in a DST gap resolves
with fold=0, as `timefmt.parse_local` does).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from tracker.errors import UserError
from tracker.timefmt import to_ms, zone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SLOT = re.compile(r"^\s*([A-Za-z]+)\s+(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, slots=True)
class Slot:
    weekday: int  # Monday = 0
    hour: int
    minute: int

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday].title()} {self.hour:02d}:{self.minute:02d}"


def parse_slot(text: str) -> Slot:
    match = _SLOT.match(text)
    if match is None:
        raise UserError(f"slot {text.strip()!r} is not like \"Tue 18:00\"")
    name, hour, minute = match.group(1).lower(), int(match.group(2)), int(match.group(3))
    if name in WEEKDAYS:
        day = WEEKDAYS.index(name)
    elif name in _FULL:
        day = _FULL.index(name)
    else:
        raise UserError(f"slot {text.strip()!r}: {match.group(1)!r} is not a weekday (Mon … Sun)")
    if hour > 23 or minute > 59:
        raise UserError(f"slot {text.strip()!r}: {hour:02d}:{minute:02d} is not a time of day")
    return Slot(day, hour, minute)


def parse_slots(text: str) -> tuple[Slot, Slot]:
    """Exactly two slots on different weekdays (each week compares one massage with one rest)."""
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 2:
        raise UserError(f"give exactly two weekly slots, e.g. \"Tue 18:00,Fri 18:00\" (got {len(parts)})")
    a, b = parse_slot(parts[0]), parse_slot(parts[1])
    if a.weekday == b.weekday:
        # The same night would follow both sessions: the night outcomes could not be told apart.
        raise UserError("the two slots must be on different weekdays (each needs its own next night)")
    return a, b


def format_slots(slots: tuple[Slot, Slot]) -> str:
    return ",".join(str(s) for s in slots)


def slot_start_ms(first_day: dt.date, week: int, slot: Slot, tz: str) -> int:
    """Start of `slot` in week `week` (1-based) of a trial whose first week starts on `first_day`."""
    week_start = first_day + dt.timedelta(days=7 * (week - 1))
    day = week_start + dt.timedelta(days=(slot.weekday - week_start.weekday()) % 7)
    return to_ms(dt.datetime.combine(day, dt.time(slot.hour, slot.minute), tzinfo=zone(tz)))
