"""Session rules on the service and the pages: done refused before the start, restore, delete keeping the
samples, filters, and messages that say what happened."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.errors import Conflict
from tracker.model import SessionKind, SessionStatus
from tracker.people import PersonInfo
from tracker.sessions import SessionFields
from tracker.storage.models import Capture, HeartRateRow

HOUR_MS = 3_600_000


def make(tracker: Tracker, person: PersonInfo, start_ms: int, kind: SessionKind = SessionKind.MASSAGE) -> int:
    fields = SessionFields(start_ms=start_ms, end_ms=start_ms + HOUR_MS, kind=kind)
    return tracker.sessions.create(person.id, fields).id


def test_done_is_refused_before_the_start(tracker: Tracker, ana: PersonInfo, ana_client: FlaskClient) -> None:
    now = tracker.clock.now_ms()
    future = make(tracker, ana, now + 3 * 24 * HOUR_MS)
    with pytest.raises(Conflict, match="can be marked done once it has started"):
        tracker.sessions.complete(future)
    assert tracker.sessions.get(future).status == SessionStatus.PLANNED
    page = ana_client.post(f"/sessions/{future}/done", data={"pain_before": "3"}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Not marked done: this session starts" in html and "Marked the session" not in html
    assert tracker.sessions.get(future).status == SessionStatus.PLANNED
    assert "Mark done</a>" not in ana_client.get(f"/sessions/{future}").get_data(as_text=True)
    past = tracker.sessions.create(ana.id, SessionFields(start_ms=now - 5 * HOUR_MS, end_ms=now - 4 * HOUR_MS,
                                                         kind=SessionKind.MASSAGE), status=SessionStatus.PLANNED).id  # fmt: skip
    html = ana_client.post(f"/sessions/{past}/done", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Marked the session of" in html and tracker.sessions.get(past).status == SessionStatus.DONE
    html = ana_client.post(f"/sessions/{past}/done", data={"pain_after": "2"}, follow_redirects=True).get_data(as_text=True)
    assert "Saved your ratings for this session." in html and "Marked the session" not in html


def test_cancel_then_restore(tracker: Tracker, ana: PersonInfo, ana_client: FlaskClient) -> None:
    sid = make(tracker, ana, tracker.clock.now_ms() + 24 * HOUR_MS)
    html = ana_client.post(f"/sessions/{sid}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "Cancelled the massage session of" in html
    assert "Restore session" in ana_client.get(f"/sessions/{sid}").get_data(as_text=True)
    html = ana_client.post(f"/sessions/{sid}/restore", follow_redirects=True).get_data(as_text=True)
    assert "Restored the massage session of" in html and "as planned" in html
    assert tracker.sessions.get(sid).status == SessionStatus.PLANNED
    with pytest.raises(Conflict, match="nothing to restore"):
        tracker.sessions.restore(sid)
    # a slot taken meanwhile: restoring would overlap, so it is refused with the reason
    tracker.sessions.cancel(sid)
    make(tracker, ana, tracker.sessions.get(sid).start_ms + 30 * 60_000)
    html = ana_client.post(f"/sessions/{sid}/restore", follow_redirects=True).get_data(as_text=True)
    assert "Not restored: overlaps session" in html
    assert tracker.sessions.get(sid).status == SessionStatus.CANCELLED


def test_delete_keeps_the_samples(tracker: Tracker, ana: PersonInfo, ana_client: FlaskClient) -> None:
    start = tracker.clock.now_ms() - 3 * HOUR_MS
    sid = make(tracker, ana, start)
    with tracker.sessionmaker.begin() as db:
        db.add(Capture(person_id=ana.id, session_id=sid, phase="pre", planned_start_ms=start - 600_000,
                       planned_end_ms=start, status="ok"))  # fmt: skip
        for i in range(10):
            db.add(HeartRateRow(person_id=ana.id, t_ms=start - 600_000 + i * 60_000, bpm=60 + i, source="live"))
    html = ana_client.post(f"/sessions/{sid}/delete", follow_redirects=True).get_data(as_text=True)
    assert "Deleted the massage session of" in html and "heart data recorded around it is kept" in html
    assert ana_client.get(f"/sessions/{sid}").status_code == 404
    with tracker.sessionmaker() as db:
        assert db.scalar(sa.select(sa.func.count()).select_from(Capture).where(Capture.session_id == sid)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(HeartRateRow).where(HeartRateRow.person_id == ana.id)) == 10


def test_list_filters_by_kind_and_status(tracker: Tracker, ana: PersonInfo, ana_client: FlaskClient) -> None:
    now = tracker.clock.now_ms()
    massage = make(tracker, ana, now - 30 * HOUR_MS)
    rest = make(tracker, ana, now - 50 * HOUR_MS, SessionKind.REST)
    cancelled = make(tracker, ana, now + 30 * HOUR_MS)
    tracker.sessions.cancel(cancelled)

    def shown(query: str) -> set[int]:
        html = ana_client.get(f"/sessions{query}").get_data(as_text=True)
        return {sid for sid in (massage, rest, cancelled) if f'href="/sessions/{sid}"' in html}

    assert shown("") == {massage, rest, cancelled}
    assert shown("?kind=rest") == {rest}
    assert shown("?kind=massage") == {massage, cancelled}
    assert shown("?status=cancelled") == {cancelled}
    assert shown("?kind=massage&status=done") == {massage} and shown("?status=done") == {massage, rest}
    assert ana_client.get("/sessions?status=gone").status_code == 400
    assert "No sessions match" in ana_client.get("/sessions?kind=rest&status=cancelled").get_data(as_text=True)
