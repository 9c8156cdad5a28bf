"""Massage and rest-control sessions: create, plan, edit, cancel, complete, with validation.

Used by the CLI, the web pages, the API and the importers. Listeners (the capture planner, plugged in by
the composition root) hear about every change so planned captures follow the session.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.clock import Clock
from tracker.errors import Conflict, NotFound, UserError
from tracker.model import SessionKind, SessionStatus
from tracker.storage.models import Capture, MassageSession, Person
from tracker.timefmt import PLAUSIBLE_MAX_MS, PLAUSIBLE_MIN_MS
from tracker.timefmt import from_ms as local_datetime

logger = logging.getLogger(__name__)

TECHNIQUES: dict[str, str] = {
    "swedish": "Swedish",
    "deep_tissue": "Deep tissue",
    "sports": "Sports",
    "trigger_point": "Trigger point",
    "myofascial": "Myofascial",
    "medical": "Medical",
    "hot_stone": "Hot stone",
    "thai": "Thai",
    "other": "Other",
}
SELF_REPORTS = ("pain_before", "pain_after", "stress_before", "stress_after", "mood_before", "mood_after")
MAX_SESSION_MS = 12 * 3600 * 1000  # longer than 12 h is certainly a typo


class ValidationError(UserError):
    """One or more fields are invalid; `errors` maps field name → message (for inline form messages)."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def normalize_technique(text: str | None) -> str | None:
    """"Deep tissue", "deep-tissue" and "deep_tissue" all mean deep_tissue; empty means none."""
    if text is None or not text.strip():
        return None
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in TECHNIQUES:
        raise ValidationError({"technique": f"unknown technique {text!r} (one of {', '.join(TECHNIQUES)})"})
    return key


@dataclass(frozen=True, slots=True)
class SessionFields:
    """What a person enters about a session."""

    start_ms: int
    end_ms: int
    kind: SessionKind = SessionKind.MASSAGE
    technique: str | None = None
    pressure: int | None = None
    areas: tuple[str, ...] = ()
    therapist: str | None = None
    notes: str | None = None
    pain_before: int | None = None
    pain_after: int | None = None
    stress_before: int | None = None
    stress_after: int | None = None
    mood_before: int | None = None
    mood_after: int | None = None

    def validate(self) -> None:
        errors: dict[str, str] = {}
        for label, t_ms in (("start", self.start_ms), ("end", self.end_ms)):
            if not PLAUSIBLE_MIN_MS <= t_ms < PLAUSIBLE_MAX_MS:
                errors[label] = f"{label} must lie between 1970-01-01 and 2099-12-31"
        for label, text in (("technique", self.technique), ("therapist", self.therapist), ("notes", self.notes),
                            ("areas", ";".join(self.areas))):  # fmt: skip
            if text is not None and not _storable(text):
                errors[label] = f"{label} contains characters that cannot be stored (NUL or invalid Unicode)"
        if len(";".join(self.areas)) > MAX_AREAS_CHARS:
            errors["areas"] = f"body areas are longer than {MAX_AREAS_CHARS} characters in all"
        if self.therapist is not None and len(self.therapist) > MAX_THERAPIST_CHARS:
            errors["therapist"] = f"therapist is longer than {MAX_THERAPIST_CHARS} characters"
        if self.end_ms <= self.start_ms:
            errors["end"] = "end must be after start"
        elif self.end_ms - self.start_ms > MAX_SESSION_MS:
            errors["end"] = "a session cannot last more than 12 hours"
        if self.kind not in tuple(SessionKind):
            errors["kind"] = "kind must be massage or rest"
        if self.technique is not None and self.technique not in TECHNIQUES:
            errors["technique"] = f"unknown technique (one of {', '.join(TECHNIQUES)})"
        if self.pressure is not None and not 1 <= self.pressure <= 5:
            errors["pressure"] = "pressure must be 1-5"
        for name in SELF_REPORTS:
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10:
                errors[name] = f"{name.replace('_', ' ')} must be 0-10"
        if any(not a.strip() or ";" in a for a in self.areas):
            errors["areas"] = "body areas must be non-empty and must not contain ';'"
        if errors:
            raise ValidationError(errors)


MAX_AREAS_CHARS = 255  # the column widths (tracker.storage.models.MassageSession)
MAX_THERAPIST_CHARS = 120


def _storable(text: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no lone surrogate (not encodable as UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: int
    person_id: int
    person_name: str
    tz: str
    status: SessionStatus
    fields: SessionFields
    ics_uid: str | None = None

    @property
    def start_ms(self) -> int:
        return self.fields.start_ms

    @property
    def end_ms(self) -> int:
        return self.fields.end_ms

    @property
    def kind(self) -> SessionKind:
        return self.fields.kind

    def to_dict(self) -> dict[str, Any]:
        from tracker.timefmt import format_local

        f = self.fields
        return {
            "id": self.id,
            "person": self.person_name,
            "status": str(self.status),
            "kind": str(f.kind),
            "start": format_local(f.start_ms, self.tz),
            "end": format_local(f.end_ms, self.tz),
            "minutes": (f.end_ms - f.start_ms) / 60000,
            "technique": f.technique,
            "pressure": f.pressure,
            "areas": list(f.areas),
            "therapist": f.therapist,
            "notes": f.notes,
            **{name: getattr(f, name) for name in SELF_REPORTS},
        }


def _row_fields(row: MassageSession) -> SessionFields:
    return SessionFields(
        start_ms=row.start_ms,
        end_ms=row.end_ms,
        kind=SessionKind(row.kind),
        technique=row.technique,
        pressure=row.pressure,
        areas=tuple(a for a in (row.areas or "").split(";") if a),
        therapist=row.therapist,
        notes=row.notes,
        **{name: getattr(row, name) for name in SELF_REPORTS},
    )


def _info(row: MassageSession, person: Person) -> SessionInfo:
    return SessionInfo(row.id, person.id, person.name, person.tz, SessionStatus(row.status), _row_fields(row), row.ics_uid)


def _apply(row: MassageSession, f: SessionFields) -> None:
    row.start_ms, row.end_ms, row.kind = f.start_ms, f.end_ms, str(f.kind)
    row.technique, row.pressure = f.technique, f.pressure
    row.areas = ";".join(f.areas) or None
    row.therapist, row.notes = f.therapist or None, f.notes or None
    for name in SELF_REPORTS:
        setattr(row, name, getattr(f, name))


Listener = Callable[[SessionInfo, str], None]  # (session, "created" | "updated" | "cancelled" | "completed")


@dataclass
class Sessions:
    """The session service; every method owns its transaction."""

    sessionmaker: so.sessionmaker[so.Session]
    clock: Clock
    listeners: list[Listener] = field(default_factory=list)

    def _notify(self, info: SessionInfo, what: str) -> None:
        for listener in self.listeners:
            try:
                listener(info, what)
            except Exception:  # a planner failure must not undo a stored session; it is logged and visible
                logger.exception("session listener failed for session %s (%s)", info.id, what)

    @staticmethod
    def _person(db: so.Session, person_id: int, user_id: int | None) -> Person:
        person = db.get(Person, person_id)
        if person is None or (user_id is not None and person.user_id != user_id):
            raise NotFound(f"no person {person_id}")
        return person

    @staticmethod
    def _check_overlap(db: so.Session, person_id: int, f: SessionFields, exclude_id: int | None = None) -> None:
        stmt = sa.select(MassageSession).where(
            MassageSession.person_id == person_id,
            MassageSession.status != str(SessionStatus.CANCELLED),
            MassageSession.start_ms < f.end_ms,
            MassageSession.end_ms > f.start_ms,
        )
        if exclude_id is not None:
            stmt = stmt.where(MassageSession.id != exclude_id)
        other = db.scalars(stmt.limit(1)).first()
        if other is not None:
            raise Conflict(f"overlaps session {other.id} of the same person")

    def insert(
        self,
        db: so.Session,
        person: Person,
        f: SessionFields,
        *,
        status: SessionStatus | None = None,
        ics_uid: str | None = None,
        ics_recurrence_id: str = "",
    ) -> MassageSession:
        """Validate and add a session inside the caller's transaction (used by importers)."""
        f.validate()
        self._check_overlap(db, person.id, f)
        now_ms = self.clock.now_ms()
        if status is None:
            status = SessionStatus.PLANNED if f.start_ms > now_ms else SessionStatus.DONE
        row = MassageSession(person_id=person.id, status=str(status), ics_uid=ics_uid,
                             ics_recurrence_id=ics_recurrence_id, created_ms=now_ms, updated_ms=now_ms)  # fmt: skip
        _apply(row, f)
        db.add(row)
        db.flush()
        return row

    def create(
        self,
        person_id: int,
        f: SessionFields,
        *,
        status: SessionStatus | None = None,
        user_id: int | None = None,
        ics_uid: str | None = None,
        ics_recurrence_id: str = "",
    ) -> SessionInfo:
        """Log a past session (done) or plan a future one (planned), unless `status` says otherwise."""
        with self.sessionmaker.begin() as db:
            person = self._person(db, person_id, user_id)
            row = self.insert(db, person, f, status=status, ics_uid=ics_uid, ics_recurrence_id=ics_recurrence_id)
            info = _info(row, person)
        self._notify(info, "created")
        return info

    def create_all(
        self,
        person_id: int,
        fields: Iterable[SessionFields],
        *,
        user_id: int | None = None,
        also: Callable[[so.Session, list[MassageSession]], None] | None = None,
    ) -> list[SessionInfo]:
        """Create several sessions in one transaction, all or none (a trial's plan); `also(db, rows)` adds
        the caller's rows to the same transaction. Listeners hear about each one after the commit."""
        with self.sessionmaker.begin() as db:
            person = self._person(db, person_id, user_id)
            rows = [self.insert(db, person, f) for f in fields]
            if also is not None:
                also(db, rows)
            infos = [_info(row, person) for row in rows]
        for info in infos:
            self._notify(info, "created")
        return infos

    def _load(self, db: so.Session, session_id: int, user_id: int | None) -> tuple[MassageSession, Person]:
        row = db.get(MassageSession, session_id)
        if row is None:
            raise NotFound(f"no session {session_id}")
        person = db.get(Person, row.person_id)
        assert person is not None
        if user_id is not None and person.user_id != user_id:
            raise NotFound(f"no session {session_id}")
        return row, person

    def get(self, session_id: int, user_id: int | None = None) -> SessionInfo:
        with self.sessionmaker() as db:
            return _info(*self._load(db, session_id, user_id))

    def update(self, session_id: int, user_id: int | None = None, **changes: Any) -> SessionInfo:
        """Change fields (names of SessionFields); the planner moves the session's captures."""
        with self.sessionmaker.begin() as db:
            row, person = self._load(db, session_id, user_id)
            if row.status == SessionStatus.CANCELLED:
                raise Conflict(f"session {session_id} is cancelled")
            unknown = set(changes) - {f.name for f in dataclasses.fields(SessionFields)}
            if unknown:
                raise UserError(f"unknown session field(s): {', '.join(sorted(unknown))}")
            f = dataclasses.replace(_row_fields(row), **changes)
            f.validate()
            self._check_overlap(db, person.id, f, exclude_id=row.id)
            _apply(row, f)
            row.updated_ms = self.clock.now_ms()
            info = _info(row, person)
        self._notify(info, "updated")
        return info

    def _set_status(self, session_id: int, status: SessionStatus, user_id: int | None, **changes: Any) -> SessionInfo:
        with self.sessionmaker.begin() as db:
            row, person = self._load(db, session_id, user_id)
            f = dataclasses.replace(_row_fields(row), **changes) if changes else None
            if f is not None:
                f.validate()  # bad self-reports are named first (422), whatever the session's time
            if status == SessionStatus.DONE and row.start_ms > self.clock.now_ms():
                starts = local_datetime(row.start_ms, person.tz).strftime("%a %d %b %Y %H:%M")
                raise Conflict(f"session {session_id} starts {starts}: it can be marked done once it has started")
            if status == SessionStatus.DONE and row.status == SessionStatus.CANCELLED:
                raise Conflict(f"session {session_id} is cancelled: restore it before marking it done")
            if f is not None:
                _apply(row, f)
            row.status = str(status)
            row.updated_ms = self.clock.now_ms()
            info = _info(row, person)
        return info

    def cancel(self, session_id: int, user_id: int | None = None) -> SessionInfo:
        info = self._set_status(session_id, SessionStatus.CANCELLED, user_id)
        self._notify(info, "cancelled")
        return info

    def restore(self, session_id: int, user_id: int | None = None) -> SessionInfo:
        """A cancelled session back to planned (its captures are planned again); refused when the slot is taken."""
        with self.sessionmaker.begin() as db:
            row, person = self._load(db, session_id, user_id)
            if row.status != SessionStatus.CANCELLED:
                raise Conflict(f"session {session_id} is {row.status}, not cancelled: nothing to restore")
            self._check_overlap(db, person.id, _row_fields(row), exclude_id=row.id)
            row.status = str(SessionStatus.PLANNED)
            row.updated_ms = self.clock.now_ms()
            info = _info(row, person)
        self._notify(info, "updated")
        return info

    def delete(self, session_id: int, user_id: int | None = None) -> SessionInfo:
        """Remove a session and its capture windows. The heart-rate and RR samples recorded in those windows
        are stored per person and time, not per capture, so they stay (and count for nights and the Overview)."""
        info = self.get(session_id, user_id)
        self._notify(info, "cancelled")  # the planner drops scheduled capture jobs first
        with self.sessionmaker.begin() as db:
            row, _ = self._load(db, session_id, user_id)
            db.execute(sa.delete(Capture).where(Capture.session_id == row.id))
            db.delete(row)
        return info

    def complete(self, session_id: int, user_id: int | None = None, **self_reports: Any) -> SessionInfo:
        """Mark done, optionally recording the self-reports (pain/stress/mood before and after)."""
        bad = set(self_reports) - set(SELF_REPORTS)
        if bad:
            raise UserError(f"not a self-report: {', '.join(sorted(bad))}")
        info = self._set_status(session_id, SessionStatus.DONE, user_id, **self_reports)
        self._notify(info, "completed")
        return info

    def list(
        self,
        person_id: int | None = None,
        *,
        user_id: int | None = None,
        statuses: Iterable[SessionStatus] | None = None,
        kinds: Iterable[SessionKind] | None = None,
        from_ms: int | None = None,
        to_ms: int | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        after: tuple[int, int] | None = None,
    ) -> list[SessionInfo]:
        """Sessions ordered by (start_ms, id); `after` = the (start_ms, id) of the previous page's last one."""
        with self.sessionmaker() as db:
            stmt = sa.select(MassageSession, Person).join(Person, MassageSession.person_id == Person.id)
            if person_id is not None:
                stmt = stmt.where(MassageSession.person_id == person_id)
            if user_id is not None:
                stmt = stmt.where(Person.user_id == user_id)
            if statuses is not None:
                stmt = stmt.where(MassageSession.status.in_([str(s) for s in statuses]))
            if kinds is not None:
                stmt = stmt.where(MassageSession.kind.in_([str(k) for k in kinds]))
            if from_ms is not None:
                stmt = stmt.where(MassageSession.end_ms > from_ms)
            if to_ms is not None:
                stmt = stmt.where(MassageSession.start_ms < to_ms)
            if after is not None:  # keyset pagination: an index range, however deep the page
                stmt = stmt.where(sa.tuple_(MassageSession.start_ms, MassageSession.id) > sa.tuple_(*after))
            order = MassageSession.start_ms.desc() if newest_first else MassageSession.start_ms
            stmt = stmt.order_by(order, MassageSession.id)
            if limit is not None:
                stmt = stmt.limit(limit)
            return [_info(row, person) for row, person in db.execute(stmt)]
