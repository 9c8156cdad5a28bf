"""Session pages: list, add, edit, cancel, mark done, detail; inline messages; another account's ids are 404."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.conftest import T0_MS
from tracker.bootstrap import Tracker
from tracker.model import SessionStatus
from tracker.people import PersonInfo
from tracker.sessions import SessionFields, SessionInfo
from tracker.timefmt import parse_local

HOUR_MS = 3600 * 1000
FORM = {
    "start_date": "2027-02-20",
    "start_time": "10:00",
    "minutes": "60",
    "kind": "massage",
    "technique": "deep_tissue",
    "pressure": "4",
    "areas": "back, neck",
    "therapist": "Mia",
    "notes": "first one",
    "pain_before": "6",
    "stress_before": "7",
}


def _field_errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error" id="([a-z_]+)-error">', html)


def _session(tracker: Tracker, person: PersonInfo, start_ms: int, minutes: int = 60) -> SessionInfo:
    return tracker.sessions.create(person.id, SessionFields(start_ms, start_ms + minutes * 60_000))


def test_add_a_past_session_logs_it_done_in_local_time(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    assert ana_client.get("/sessions/new").status_code == 200
    response = ana_client.post("/sessions/new", data=FORM)
    assert response.status_code == 302
    [stored] = tracker.sessions.list(ana.id)
    assert response.headers["Location"] == f"/sessions/{stored.id}"
    assert stored.status == SessionStatus.DONE
    assert stored.start_ms == parse_local("2027-02-20 10:00", "Europe/Berlin")
    assert stored.end_ms - stored.start_ms == HOUR_MS
    f = stored.fields
    assert (f.technique, f.pressure, f.areas, f.therapist, f.pain_before, f.stress_before) == (
        "deep_tissue", 4, ("back", "neck"), "Mia", 6, 7,
    )  # fmt: skip
    detail = ana_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Deep tissue" in detail and "back, neck" in detail and "Sat 20 Feb 2027 10:00" in detail


def test_add_a_future_session_plans_it(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    ana_client.post("/sessions/new", data={**FORM, "start_date": "2027-03-10"})
    [stored] = tracker.sessions.list(ana.id)
    assert stored.status == SessionStatus.PLANNED
    assert "Upcoming sessions" in ana_client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"start_date": ""}, ["start"]),
        ({"start_date": "2027-02-31"}, ["start"]),
        ({"minutes": "ten"}, ["minutes"]),
        ({"minutes": "0"}, ["minutes"]),
        ({"minutes": "721"}, ["minutes"]),
        ({"pressure": "6", "pain_before": "11", "mood_after": "-1"}, ["pressure", "pain_before", "mood_after"]),
        ({"technique": "karate"}, ["technique"]),
        ({"kind": "nap"}, ["kind"]),
        ({"therapist": "x" * 121}, ["therapist"]),
    ],
)
def test_bad_input_shows_a_message_next_to_each_field_and_stores_nothing(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo, changes: dict[str, str], fields: list[str]
) -> None:
    response = ana_client.post("/sessions/new", data={**FORM, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert sorted(_field_errors(html)) == sorted(fields)
    assert "Please correct the fields marked below." in html
    assert f'value="{FORM["therapist"] if "therapist" not in changes else changes["therapist"]}"' in html  # kept
    assert tracker.sessions.list(ana.id) == []


def test_an_overlap_is_shown_on_the_form(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    first = _session(tracker, ana, parse_local("2027-02-20 10:30", ana.tz))
    response = ana_client.post("/sessions/new", data=FORM)
    assert response.status_code == 409
    assert f"overlaps session {first.id}" in response.get_data(as_text=True)
    assert len(tracker.sessions.list(ana.id)) == 1


def test_list_shows_planned_done_and_cancelled_greyed(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    done = _session(tracker, ana, T0_MS - 48 * HOUR_MS)
    planned = _session(tracker, ana, T0_MS + 48 * HOUR_MS)
    cancelled = tracker.sessions.cancel(_session(tracker, ana, T0_MS - 96 * HOUR_MS).id)
    html = ana_client.get("/sessions").get_data(as_text=True)
    for info, css in ((done, "status-done"), (planned, "status-planned"), (cancelled, "status-cancelled")):
        row = re.search(rf'<tr class="{css}">.*?/sessions/{info.id}"', html, re.S)
        assert row, css
    # newest first
    assert (
        html.index(f'/sessions/{planned.id}"')
        < html.index(f'/sessions/{done.id}"')
        < html.index(f'/sessions/{cancelled.id}"')
    )


def test_edit_changes_the_session(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = _session(tracker, ana, parse_local("2027-02-20 10:00", ana.tz))
    form = ana_client.get(f"/sessions/{info.id}/edit").get_data(as_text=True)
    assert 'value="2027-02-20"' in form and 'value="10:00"' in form and 'value="60"' in form
    response = ana_client.post(f"/sessions/{info.id}/edit", data={**FORM, "start_time": "11:15", "minutes": "45"})
    assert response.status_code == 302
    stored = tracker.sessions.get(info.id)
    assert stored.start_ms == parse_local("2027-02-20 11:15", ana.tz)
    assert stored.end_ms - stored.start_ms == 45 * 60_000
    assert stored.fields.therapist == "Mia"


def test_edit_with_bad_input_keeps_the_stored_session(
    ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo
) -> None:
    info = _session(tracker, ana, parse_local("2027-02-20 10:00", ana.tz))
    response = ana_client.post(f"/sessions/{info.id}/edit", data={**FORM, "minutes": "-5"})
    assert response.status_code == 422
    assert _field_errors(response.get_data(as_text=True)) == ["minutes"]
    assert tracker.sessions.get(info.id) == info


def test_editing_a_cancelled_session_is_a_conflict(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = tracker.sessions.cancel(_session(tracker, ana, T0_MS - 48 * HOUR_MS).id)
    response = ana_client.post(f"/sessions/{info.id}/edit", data=FORM)
    assert response.status_code == 409
    assert "cancelled" in response.get_data(as_text=True)


def test_cancel(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = _session(tracker, ana, T0_MS + 48 * HOUR_MS)
    assert ana_client.get(f"/sessions/{info.id}/cancel").status_code == 405
    response = ana_client.post(f"/sessions/{info.id}/cancel")
    assert response.status_code == 302 and response.headers["Location"] == "/sessions"
    assert tracker.sessions.get(info.id).status == SessionStatus.CANCELLED


def test_mark_done_with_self_reports(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = _session(tracker, ana, T0_MS + 48 * HOUR_MS)
    tracker.clock.advance(s=49 * 3600)  # type: ignore[attr-defined]  # done only once it has started
    assert ana_client.get(f"/sessions/{info.id}/done").status_code == 200
    reports = {
        "pain_before": "6",
        "pain_after": "2",
        "stress_before": "7",
        "stress_after": "3",
        "mood_before": "4",
        "mood_after": "8",
    }
    response = ana_client.post(f"/sessions/{info.id}/done", data=reports)
    assert response.status_code == 302
    stored = tracker.sessions.get(info.id)
    assert stored.status == SessionStatus.DONE
    assert (stored.fields.pain_after, stored.fields.mood_after) == (2, 8)


def test_mark_done_with_bad_reports_changes_nothing(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    info = _session(tracker, ana, T0_MS + 48 * HOUR_MS)
    tracker.clock.advance(s=49 * 3600)  # type: ignore[attr-defined]  # done only once it has started
    response = ana_client.post(f"/sessions/{info.id}/done", data={"pain_after": "12", "mood_after": "good"})
    assert response.status_code == 422
    assert sorted(_field_errors(response.get_data(as_text=True))) == ["mood_after", "pain_after"]
    assert tracker.sessions.get(info.id).status == SessionStatus.PLANNED


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "/edit"), ("post", "/edit"), ("post", "/cancel"), ("get", "/done"), ("post", "/done")],
)
def test_another_accounts_session_is_not_found(
    ana_client: FlaskClient, tracker: Tracker, bo: PersonInfo, method: str, suffix: str
) -> None:
    theirs = _session(tracker, bo, T0_MS + 48 * HOUR_MS)
    response = getattr(ana_client, method)(f"/sessions/{theirs.id}{suffix}", data=FORM if method == "post" else None)
    assert response.status_code == 404
    assert tracker.sessions.get(theirs.id) == theirs


def test_missing_session_is_404(ana_client: FlaskClient) -> None:
    assert ana_client.get("/sessions/999999").status_code == 404


def test_person_picker_selects_and_remembers(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    second = tracker.people.add("Cleo", "Asia/Tokyo", user_name="ana")
    _session(tracker, second, T0_MS - 48 * HOUR_MS)
    html = ana_client.get("/sessions").get_data(as_text=True)
    assert 'id="person-picker"' in html and "Cleo" in html
    picked = ana_client.get(f"/sessions?person={second.id}").get_data(as_text=True)
    assert "Asia/Tokyo" in picked and "status-done" in picked
    remembered = ana_client.get("/sessions").get_data(as_text=True)
    assert "Asia/Tokyo" in remembered
    # a new session is added for the selected person, in that person's zone
    ana_client.post("/sessions/new", data=FORM)
    [added] = [
        s for s in tracker.sessions.list(second.id) if s.start_ms == parse_local("2027-02-20 10:00", "Asia/Tokyo")
    ]
    assert added.person_id == second.id


def test_picking_another_accounts_person_is_404(ana_client: FlaskClient, bo: PersonInfo) -> None:
    assert ana_client.get(f"/sessions?person={bo.id}").status_code == 404
    assert ana_client.get(f"/?person={bo.id}").status_code == 404
    assert ana_client.get("/sessions?person=abc").status_code == 400


def test_no_people_yet_shows_how_to_add_one(client: FlaskClient, tracker: Tracker) -> None:
    from .conftest import make_account, sign_in

    make_account(tracker, "solo")
    make_account(tracker, "other")  # two accounts: nobody adopts anything
    sign_in(client, "solo")
    assert "No people yet" in client.get("/sessions").get_data(as_text=True)
    assert client.get("/sessions/new").status_code == 404
