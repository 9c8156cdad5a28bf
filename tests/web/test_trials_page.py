"""The fair-test page: planning a trial through the form (CSRF, 4xx with messages) and showing its state."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.people import PersonInfo

from .conftest import csrf_token, sign_in

FORM = {"slot1": "Tue 18:00", "slot2": "Fri 18:00", "weeks": "6", "minutes": "45", "start": "2027-03-02"}


def test_plan_a_trial_through_the_form(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    page = ana_client.get("/trial").get_data(as_text=True)
    assert "Plan a trial" in page and "Trial 1" not in page
    assert 'href="/trial?person=' in ana_client.get("/sessions").get_data(as_text=True)  # linked from Sessions
    response = ana_client.post(f"/trial?person={ana.id}", data=FORM)
    assert response.status_code == 302
    page = ana_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Trial 1" in page and "matches the seed" in page and "45 minutes each" in page
    assert page.count('<tr class="slot">') == 12 and "2027-03-02T18:00:00+01:00" in page
    assert "No complete week has nightly lnRMSSD measured" in page
    assert "(ln rmssd night, night 1): set on 2027-03-01, after 0 sessions." in page  # recorded when planned
    shown = tracker.trials.show(ana.id)
    assert shown is not None and len(tracker.sessions.list(ana.id)) == 12
    # The same plan again clashes with the trial that is still planned: 409 with the reason, nothing stored.
    again = ana_client.post(f"/trial?person={ana.id}", data=FORM)
    assert again.status_code == 409 and "still has sessions planned" in again.get_data(as_text=True)
    assert len(tracker.sessions.list(ana.id)) == 12


def test_bad_input_is_a_400_with_its_message_and_stores_nothing(ana_client: FlaskClient, tracker: Tracker,
                                                                ana: PersonInfo) -> None:  # fmt: skip
    for change, message in (({"slot2": "Tue 20:00"}, "different weekdays"), ({"weeks": "many"}, "weeks must be a whole number"),
                            ({"slot1": "Someday"}, "is not like"), ({"start": "2020-01-07"}, "must be in the future"),
                            ({"start": "tomorrow"}, "is not a date"), ({"minutes": "5"}, "minutes must be 10-240")):  # fmt: skip
        response = ana_client.post(f"/trial?person={ana.id}", data={**FORM, **change})
        body = response.get_data(as_text=True)
        assert response.status_code == 400, change
        assert message in body and 'role="alert"' in body
    assert tracker.sessions.list(ana.id) == [] and tracker.trials.show(ana.id) is None


def test_another_accounts_person_is_not_found(ana_client: FlaskClient, bo: PersonInfo, tracker: Tracker) -> None:
    assert ana_client.post(f"/trial?person={bo.id}", data=FORM).status_code == 404
    assert tracker.trials.show(bo.id) is None


def test_the_form_needs_its_csrf_token(csrf_app: Flask, tracker: Tracker, ana: PersonInfo) -> None:
    client = sign_in(csrf_app.test_client(), "ana", with_csrf=True)
    assert client.post(f"/trial?person={ana.id}", data={**FORM, "csrf_token": "forged"}).status_code == 403
    assert tracker.trials.show(ana.id) is None
    ok = client.post(f"/trial?person={ana.id}", data={**FORM, "csrf_token": csrf_token(client, "/trial")})
    assert ok.status_code == 302 and tracker.trials.show(ana.id) is not None


def test_finished_trial_shows_its_numbers(ana_client: FlaskClient, tracker: Tracker, ana: PersonInfo, clock) -> None:
    assert ana_client.post(f"/trial?person={ana.id}", data=FORM).status_code == 302
    view = tracker.trials.show(ana.id, analyse=False)
    first = view["schedule"][0]["sessions"]
    tracker.sessions.cancel(first[0]["session_id"])  # a deviation, shown with its reason
    clock.advance(days=60)
    for week in view["schedule"][1:]:
        for s in week["sessions"]:
            drop = 3 if s["allocated"] == "massage" else 0
            tracker.sessions.complete(s["session_id"], pain_before=5, pain_after=5 - drop)
    sign_in(ana_client, "ana")  # 60 days on, the old sign-in has expired (server-side sessions)
    page = ana_client.get(f"/trial?person={ana.id}").get_data(as_text=True)
    assert "<strong>skipped</strong>" in page and "drops out of the analysis" in page
    assert "5 of 6 weeks have both sessions done" in page
    # Five complete weeks: the smallest possible p is 2/32, so no result yet, and no interval shown.
    assert "the smallest possible p is 0.0625: no result at 5 % is possible yet (1 more complete week needed)" in page
    assert "<td>the change in pain across a session (after minus before)</td><td>5</td>" in page
    assert "<td>-3.000 points</td>" in page and "<td>0.062</td>" in page and "<td>32</td>" in page
    assert "In this randomised test" not in page
