"""The primary endpoint's history per person: when it was first recorded, and every change after.

The endpoint itself is still set where it always was, `[analysis] primary_metric` / `primary_lag` in
config.toml (default: lag-1 nightly lnRMSSD). A config file has no memory, so the tracker keeps one: the
first time a person's report (or trial) uses an endpoint it is recorded with the time and the number of
done sessions, and whenever the configured endpoint differs from the last recorded one, the change is
recorded the same way. The report shows it ("changed on DATE, after N sessions"): an endpoint picked
after seeing the data is a forking path (science.md §6 C), and the reader deserves to know.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so

from tracker.model import SessionStatus
from tracker.storage.models import MassageSession, PrimaryEndpointChange
from tracker.timefmt import from_ms


@dataclass(frozen=True, slots=True)
class EndpointEntry:
    metric: str
    lag: int
    set_ms: int
    sessions_done: int

    def date(self, tz: str) -> str:
        return from_ms(self.set_ms, tz).date().isoformat()

    def to_dict(self, tz: str) -> dict[str, object]:
        return {"metric": self.metric, "lag": self.lag, "set": self.date(tz), "set_ms": self.set_ms,
                "sessions_done": self.sessions_done}  # fmt: skip


def history(db: so.Session, person_id: int) -> list[EndpointEntry]:
    rows = db.scalars(
        sa.select(PrimaryEndpointChange)
        .where(PrimaryEndpointChange.person_id == person_id)
        .order_by(PrimaryEndpointChange.set_ms, PrimaryEndpointChange.id)
    )
    entries: list[EndpointEntry] = []
    for r in rows:
        # Two reports computed at once may both record the same first entry: a repeat is not a change.
        if not entries or (entries[-1].metric, entries[-1].lag) != (r.metric, r.lag):
            entries.append(EndpointEntry(r.metric, r.lag, r.set_ms, r.sessions_done))
    return entries


def record(db: so.Session, person_id: int, metric: str, lag: int, now_ms: int) -> list[EndpointEntry]:
    """Record the endpoint in use unless it is already the latest entry; return the whole history."""
    entries = history(db, person_id)
    if entries and (entries[-1].metric, entries[-1].lag) == (metric, lag):
        return entries
    done = db.scalar(
        sa.select(sa.func.count(MassageSession.id)).where(
            MassageSession.person_id == person_id, MassageSession.status == str(SessionStatus.DONE)
        )
    )
    db.add(PrimaryEndpointChange(person_id=person_id, metric=metric, lag=lag, set_ms=now_ms, sessions_done=int(done or 0)))
    db.flush()
    return [*entries, EndpointEntry(metric, lag, now_ms, int(done or 0))]


def describe(entries: list[EndpointEntry], tz: str) -> str:
    """One line for the report: "set on DATE" or "changed on DATE, after N sessions (was …)"."""
    if not entries:
        return "not recorded yet"
    last = entries[-1]
    if len(entries) == 1:
        return f"set on {last.date(tz)}, after {last.sessions_done} session{'s' if last.sessions_done != 1 else ''}"
    before = entries[-2]
    return (f"changed on {last.date(tz)}, after {last.sessions_done} session{'s' if last.sessions_done != 1 else ''} "
            f"(was {before.metric} night {before.lag}, first set on {entries[0].date(tz)})")  # fmt: skip
