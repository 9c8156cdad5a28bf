"""iCalendar (.ics) events → planned sessions, idempotent; moved or cancelled events move or cancel them.

Massage appointments already live in people's calendars. Parsing uses `icalendar` (RFC 5545: line folding,
time zones, all-day events), and recurring events are expanded by `recurring-ical-events` (RRULE, RDATE,
EXDATE, and single occurrences moved or cancelled by a RECURRENCE-ID override, as Google Calendar and
Outlook export them): recurrence rules are full of corner cases that a well-kept library already handles.

Each session is keyed by (UID, RECURRENCE-ID) within the person: a single event has RECURRENCE-ID "" (so
moving it changes its DTSTART, not its key), an occurrence of a series has the UTC instant it was
scheduled at by the rule. Re-importing the same file changes nothing; a moved occurrence moves its
session; an occurrence that disappeared from a series in the file (EXDATE, a shortened rule) or whose
status is CANCELLED cancels its planned session. Only events whose title contains the match text are
taken; all-day events are skipped (no time to capture around); a technique named in the title (e.g.
"Deep tissue massage") is recorded. Series are expanded from EXPAND_PAST before now to EXPAND_AHEAD after.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tracker.errors import UserError
from tracker.model import SessionStatus
from tracker.people import PersonInfo
from tracker.sessions import TECHNIQUES, SessionFields, Sessions
from tracker.storage.models import MassageSession
from tracker.timefmt import UTC, from_ms, to_ms, zone

EXPAND_PAST = dt.timedelta(days=2 * 365)
EXPAND_AHEAD = dt.timedelta(days=365)


@dataclass
class IcsResult:
    created: int = 0
    moved: int = 0
    unchanged: int = 0
    skipped: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Occurrence:
    uid: str
    recurrence_id: str
    title: str
    start_ms: int
    end_ms: int
    cancelled: bool


def _technique(title: str) -> str | None:
    lowered = title.lower().replace("-", " ")
    for key, label in TECHNIQUES.items():
        if key != "other" and label.lower() in lowered:
            return key
    return None


def _aware(value: dt.datetime, tz: str) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=zone(tz))  # floating time: the person's zone


def _recurrence_key(value: Any, tz: str) -> str:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    return _aware(moment, tz).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _occurrences(calendar: Any, person: PersonInfo, now_ms: int, match: str, result: IcsResult) -> list[_Occurrence]:
    import recurring_ical_events

    recurring = {
        str(e.get("UID", "")).strip()
        for e in calendar.walk("VEVENT")
        if any(e.get(key) is not None for key in ("RRULE", "RDATE", "RECURRENCE-ID"))
    }
    now = from_ms(now_ms, UTC)
    try:
        expanded = recurring_ical_events.of(calendar).between(now - EXPAND_PAST, now + EXPAND_AHEAD)
    except Exception as exc:  # the library's errors have no common base; the file is the user's input
        raise UserError(f"cannot expand the calendar's recurring events: {exc}") from None
    out = []
    for event in expanded:
        title = str(event.get("SUMMARY", ""))
        uid = str(event.get("UID", "")).strip()
        start, end = event.get("DTSTART"), event.get("DTEND")
        if match.lower() not in title.lower() or not uid or start is None or not isinstance(start.dt, dt.datetime):
            result.skipped += 1  # not a massage, no UID (cannot stay idempotent), or an all-day event
            continue
        start_dt = _aware(start.dt, person.tz)
        if end is not None and isinstance(end.dt, dt.datetime):
            end_dt = _aware(end.dt, person.tz)
        else:
            duration = event.get("DURATION")
            end_dt = start_dt + (duration.dt if duration is not None else dt.timedelta(hours=1))
        rid = event.get("RECURRENCE-ID")
        key = _recurrence_key(rid.dt, person.tz) if uid in recurring and rid is not None else ""
        cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
        out.append(_Occurrence(uid, key, title, to_ms(start_dt), to_ms(end_dt), cancelled))
    return out


def import_ics(sessions: Sessions, person: PersonInfo, data: bytes, *, match: str, origin: str) -> IcsResult:
    """Create, move or cancel the person's sessions to match the calendar; errors become messages."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise UserError(f"{origin}: not an iCalendar file: {exc}") from None
    result = IcsResult()
    now_ms = sessions.clock.now_ms()
    try:
        occurrences = _occurrences(calendar, person, now_ms, match, result)
    except UserError as exc:
        raise UserError(f"{origin}: {exc}") from None
    uids_in_file = {o.uid for o in occurrences} | {
        str(e.get("UID", "")).strip() for e in calendar.walk("VEVENT") if match.lower() in str(e.get("SUMMARY", "")).lower()
    }
    with sessions.sessionmaker() as db:
        rows = db.execute(
            sa.select(MassageSession.id, MassageSession.ics_uid, MassageSession.ics_recurrence_id,
                      MassageSession.status, MassageSession.start_ms, MassageSession.end_ms)
            .where(MassageSession.person_id == person.id, MassageSession.ics_uid.is_not(None))
        ).all()  # fmt: skip
    existing = {(r.ics_uid, r.ics_recurrence_id): r for r in rows}
    wanted = {(o.uid, o.recurrence_id): o for o in occurrences}
    lo_ms, hi_ms = to_ms(from_ms(now_ms, UTC) - EXPAND_PAST), to_ms(from_ms(now_ms, UTC) + EXPAND_AHEAD)

    def attempt(label: str, action: Any) -> bool:
        try:
            action()
            return True
        except UserError as exc:
            result.errors.append(f"{origin}: event {label}: {exc}")
            return False

    # 1. Cancellations first, so a moved occurrence may take the place of one that went away.
    for key, row in existing.items():
        o = wanted.get(key)
        gone = o is None and key[0] in uids_in_file and key[1] != "" and lo_ms <= row.start_ms < hi_ms
        if (gone or (o is not None and o.cancelled)) and row.status == str(SessionStatus.PLANNED):
            if attempt(f"{key[0]!r} {key[1]}".strip(), lambda sid=row.id: sessions.cancel(sid)):
                result.cancelled += 1
    # 2. Moves and new sessions, in time order.
    for key, o in sorted(wanted.items(), key=lambda kv: kv[1].start_ms):
        label = f"{o.uid!r}{' ' + o.recurrence_id if o.recurrence_id else ''} ({o.title})"
        row = existing.get(key)
        if row is not None:
            if o.cancelled or row.status == str(SessionStatus.CANCELLED):
                result.unchanged += 1
            elif (row.start_ms, row.end_ms) != (o.start_ms, o.end_ms):
                if attempt(label, lambda sid=row.id, o=o: sessions.update(sid, start_ms=o.start_ms, end_ms=o.end_ms)):
                    result.moved += 1
            else:
                result.unchanged += 1
            continue
        if o.cancelled:
            result.skipped += 1
            continue
        fields = SessionFields(start_ms=o.start_ms, end_ms=o.end_ms, technique=_technique(o.title),
                               notes=f"from calendar: {o.title}"[:500])  # fmt: skip
        if attempt(label, lambda f=fields, o=o: sessions.create(person.id, f, ics_uid=o.uid, ics_recurrence_id=o.recurrence_id)):
            result.created += 1
    return result
