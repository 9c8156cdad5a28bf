"""iCalendar (.ics) events → planned sessions, idempotent by event UID; a moved event moves the session.

Massage appointments already live in people's calendars. Parsing uses the `icalendar` library (RFC 5545:
line folding, time zones, all-day events are its job, not ours). Only events whose title contains the
match text are taken; all-day events are skipped (no time to capture around); a technique named in the
title (e.g. "Deep tissue massage") is recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from tracker.errors import UserError
from tracker.model import SessionStatus
from tracker.people import PersonInfo
from tracker.sessions import TECHNIQUES, SessionFields, Sessions
from tracker.timefmt import to_ms, zone


@dataclass
class IcsResult:
    created: int = 0
    moved: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def _technique(title: str) -> str | None:
    lowered = title.lower().replace("-", " ")
    for key, label in TECHNIQUES.items():
        if key != "other" and label.lower() in lowered:
            return key
    return None


def import_ics(sessions: Sessions, person: PersonInfo, data: bytes, *, match: str, origin: str) -> IcsResult:
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise UserError(f"{origin}: not an iCalendar file: {exc}") from None
    existing = {s.ics_uid: s for s in sessions.list(person.id) if s.ics_uid}
    result = IcsResult()
    for event in calendar.walk("VEVENT"):
        title = str(event.get("SUMMARY", ""))
        uid = str(event.get("UID", "")).strip()
        if match.lower() not in title.lower():
            result.skipped += 1
            continue
        start, end = event.get("DTSTART"), event.get("DTEND")
        if not uid or start is None or not isinstance(start.dt, dt.datetime):
            result.skipped += 1  # no UID (cannot stay idempotent) or an all-day event
            continue
        start_dt = start.dt if start.dt.tzinfo else start.dt.replace(tzinfo=zone(person.tz))  # floating time
        if end is not None and isinstance(end.dt, dt.datetime):
            end_dt = end.dt if end.dt.tzinfo else end.dt.replace(tzinfo=zone(person.tz))
        else:
            duration = event.get("DURATION")
            end_dt = start_dt + (duration.dt if duration is not None else dt.timedelta(hours=1))
        start_ms, end_ms = to_ms(start_dt), to_ms(end_dt)
        status = str(event.get("STATUS", "")).upper()
        try:
            current = existing.get(uid)
            if current is not None:
                if status == "CANCELLED" and current.status != SessionStatus.CANCELLED:
                    sessions.cancel(current.id)
                    result.moved += 1
                elif (current.start_ms, current.end_ms) != (start_ms, end_ms) and current.status != SessionStatus.CANCELLED:
                    sessions.update(current.id, start_ms=start_ms, end_ms=end_ms)
                    result.moved += 1
                else:
                    result.unchanged += 1
                continue
            if status == "CANCELLED":
                result.skipped += 1
                continue
            fields = SessionFields(start_ms=start_ms, end_ms=end_ms, technique=_technique(title),
                                   notes=f"from calendar: {title}"[:500])  # fmt: skip
            sessions.create(person.id, fields, ics_uid=uid)
            result.created += 1
        except UserError as exc:
            result.errors.append(f"{origin}: event {uid!r} ({title}): {exc}")
    return result
