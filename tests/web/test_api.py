"""REST API: auth (token, cookie), JSON errors with the right 4xx, sessions CRUD, scoping, samples."""

from __future__ import annotations

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import T0_MS
from tracker.bootstrap import Tracker
from tracker.ingest import Provenance
from tracker.model import SessionStatus, Source
from tracker.people import PersonInfo
from tracker.sessions import SessionFields
from tracker.timefmt import parse_local

NEW = {"start": "2027-02-20 10:00", "minutes": 60, "technique": "swedish", "areas": ["back"], "pain_before": 5}


@pytest.fixture
def token(tracker: Tracker, ana: PersonInfo, bo: PersonInfo) -> dict[str, str]:
    return {"Authorization": f"Bearer {tracker.users.create_token('ana', 'script')}"}


@pytest.fixture
def api(app: Flask, token: dict[str, str]) -> FlaskClient:
    """A client that sends ana's bearer token with every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = token["Authorization"]
    return client


def test_no_credentials_is_401_json(client: FlaskClient, ana: PersonInfo) -> None:
    for method, path in [
        ("get", "/api/v1/people"),
        ("get", "/api/v1/sessions"),
        ("post", "/api/v1/sessions"),
        ("get", "/api/v1/samples"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code == 401, path
        assert "error" in response.get_json()


def test_bad_token_is_401(client: FlaskClient, ana: PersonInfo) -> None:
    response = client.get("/api/v1/people", headers={"Authorization": "Bearer trk_nope"})
    assert response.status_code == 401 and response.get_json() == {"error": "invalid API token"}
    assert client.get("/api/v1/people", headers={"Authorization": "Bearer "}).status_code == 401


def test_token_auth_lists_only_the_accounts_people(api: FlaskClient, ana: PersonInfo) -> None:
    response = api.get("/api/v1/people")
    assert response.status_code == 200
    assert response.get_json() == {
        "people": [{"id": ana.id, "name": "Ana", "timezone": "Europe/Berlin", "user": "ana"}]
    }


def test_cookie_auth_works_for_reads(ana_client: FlaskClient, ana: PersonInfo) -> None:
    assert [p["name"] for p in ana_client.get("/api/v1/people").get_json()["people"]] == ["Ana"]


def test_sessions_crud(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    created = api.post("/api/v1/sessions", json=NEW)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    sid = body["id"]
    assert created.headers["Location"] == f"/api/v1/sessions/{sid}"
    assert body["status"] == "done" and body["start"] == "2027-02-20T10:00:00+01:00" and body["minutes"] == 60
    assert body["start_ms"] == parse_local("2027-02-20 10:00", ana.tz) and body["person_id"] == ana.id
    assert body["areas"] == ["back"] and body["pain_before"] == 5

    assert api.get(f"/api/v1/sessions/{sid}").get_json() == body
    listed = api.get("/api/v1/sessions").get_json()["sessions"]
    assert [s["id"] for s in listed] == [sid]

    patched = api.patch(f"/api/v1/sessions/{sid}", json={"start": "2027-02-20T11:00:00+01:00", "pressure": 2})
    assert patched.status_code == 200
    assert patched.get_json()["end"] == "2027-02-20T12:00:00+01:00"  # moving start keeps the duration
    assert patched.get_json()["pressure"] == 2 and patched.get_json()["technique"] == "swedish"
    assert api.patch(f"/api/v1/sessions/{sid}", json={"minutes": 30}).get_json()["end"] == "2027-02-20T11:30:00+01:00"

    done = api.post(f"/api/v1/sessions/{sid}/done", json={"pain_after": 2, "mood_after": 8})
    assert done.status_code == 200 and done.get_json()["pain_after"] == 2

    cancelled = api.delete(f"/api/v1/sessions/{sid}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    assert tracker.sessions.get(sid).status == SessionStatus.CANCELLED
    assert api.get("/api/v1/sessions?status=planned,done").get_json()["sessions"] == []
    assert api.patch(f"/api/v1/sessions/{sid}", json={"pressure": 3}).status_code == 409


def test_a_future_session_is_planned_and_can_be_marked_done_without_a_body(api: FlaskClient, tracker: Tracker) -> None:
    body = api.post(
        "/api/v1/sessions", json={"start": "2027-03-05T09:00:00Z", "end": "2027-03-05T10:00:00Z"}
    ).get_json()
    assert body["status"] == "planned"
    assert api.post(f"/api/v1/sessions/{body['id']}/done").status_code == 409  # not before it has started
    tracker.clock.advance(s=5 * 86400)  # type: ignore[attr-defined]
    assert api.post(f"/api/v1/sessions/{body['id']}/done").get_json()["status"] == "done"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"minutes": 60}, ["start"]),
        ({"start": "2027-02-20 10:00"}, ["end"]),
        ({**NEW, "pressure": 9, "pain_after": 11}, ["pain_after", "pressure"]),
        ({**NEW, "pressure": "3"}, ["pressure"]),
        ({**NEW, "technique": "karate"}, ["technique"]),
        ({**NEW, "minutes": 0}, ["minutes"]),
        ({**NEW, "start": "tomorrow"}, ["start"]),
        ({"start": "2027-02-20 10:00", "end": "2027-02-20 09:00"}, ["end"]),
        ({**NEW, "colour": "blue"}, ["colour"]),
        ({**NEW, "areas": "back;neck", "kind": 3}, ["kind"]),
        ({**NEW, "end": "2027-02-20 11:00"}, ["end"]),
    ],
)
def test_invalid_session_is_422_with_field_errors_and_nothing_stored(
    api: FlaskClient, tracker: Tracker, ana: PersonInfo, body: dict[str, object], fields: list[str]
) -> None:
    response = api.post("/api/v1/sessions", json=body)
    assert response.status_code == 422
    payload = response.get_json()
    assert sorted(payload["errors"]) == fields and payload["error"]
    assert tracker.sessions.list(ana.id) == []


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "start=now", "content_type": "application/x-www-form-urlencoded"}, 400),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": ["a list"]}, 400),
    ],
)
def test_bad_bodies_are_400(
    api: FlaskClient, tracker: Tracker, ana: PersonInfo, kwargs: dict[str, object], status: int
) -> None:
    response = api.post("/api/v1/sessions", **kwargs)
    assert response.status_code == status
    assert "JSON object" in response.get_json()["error"]
    assert tracker.sessions.list(ana.id) == []


def test_overlap_is_409(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    assert api.post("/api/v1/sessions", json=NEW).status_code == 201
    response = api.post("/api/v1/sessions", json={**NEW, "start": "2027-02-20 10:30"})
    assert response.status_code == 409 and "overlaps" in response.get_json()["error"]
    assert len(tracker.sessions.list(ana.id)) == 1


def test_bad_done_body_is_422(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    sid = api.post("/api/v1/sessions", json={**NEW, "start": "2027-03-05 10:00"}).get_json()["id"]
    response = api.post(f"/api/v1/sessions/{sid}/done", json={"pain_after": 12, "start": "x"})
    assert response.status_code == 422 and sorted(response.get_json()["errors"]) == ["pain_after", "start"]
    assert tracker.sessions.get(sid).status == SessionStatus.PLANNED


def test_another_accounts_sessions_are_404(api: FlaskClient, tracker: Tracker, bo: PersonInfo) -> None:
    theirs = tracker.sessions.create(bo.id, SessionFields(T0_MS + 3_600_000, T0_MS + 7_200_000))
    assert api.get(f"/api/v1/sessions/{theirs.id}").status_code == 404
    assert api.patch(f"/api/v1/sessions/{theirs.id}", json={"pressure": 1}).status_code == 404
    assert api.delete(f"/api/v1/sessions/{theirs.id}").status_code == 404
    assert api.post(f"/api/v1/sessions/{theirs.id}/done", json={}).status_code == 404
    assert api.post("/api/v1/sessions", json={**NEW, "person": bo.id}).status_code == 404
    assert api.get(f"/api/v1/sessions?person={bo.id}").status_code == 404
    assert api.get("/api/v1/sessions").get_json()["sessions"] == []
    assert tracker.sessions.get(theirs.id) == theirs
    assert api.get("/api/v1/sessions/424242").get_json() == {"error": "no session 424242"}


def test_person_is_required_when_the_account_has_several(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    cleo = tracker.people.add("Cleo", "Asia/Tokyo", user_name="ana")
    response = api.post("/api/v1/sessions", json=NEW)
    assert response.status_code == 400 and "person is required" in response.get_json()["error"]
    created = api.post("/api/v1/sessions", json={**NEW, "person": cleo.id}).get_json()
    assert created["start"] == "2027-02-20T10:00:00+09:00"  # wall-clock time in Cleo's zone
    assert api.post("/api/v1/sessions", json={**NEW, "person": "x"}).status_code == 400
    assert api.patch(f"/api/v1/sessions/{created['id']}", json={"person": ana.id}).status_code == 422


def test_session_list_filters(api: FlaskClient) -> None:
    api.post("/api/v1/sessions", json=NEW)
    later = api.post("/api/v1/sessions", json={**NEW, "start": "2027-02-25 10:00"}).get_json()
    from_ms = parse_local("2027-02-22 00:00", "Europe/Berlin")
    assert [s["id"] for s in api.get(f"/api/v1/sessions?from={from_ms}").get_json()["sessions"]] == [later["id"]]
    iso = api.get("/api/v1/sessions?from=2027-02-22T00:00:00%2B01:00").get_json()["sessions"]
    assert [s["id"] for s in iso] == [later["id"]]
    assert api.get("/api/v1/sessions?from=yesterday").status_code == 400
    assert api.get("/api/v1/sessions?status=maybe").status_code == 400
    assert api.get("/api/v1/sessions?limit=0").status_code == 400
    assert len(api.get("/api/v1/sessions?limit=1").get_json()["sessions"]) == 1


def test_unknown_api_route_and_method_are_json(api: FlaskClient) -> None:
    missing = api.get("/api/v1/nothing")
    assert missing.status_code == 404 and "error" in missing.get_json()
    wrong = api.put("/api/v1/sessions")
    assert wrong.status_code == 405 and "error" in wrong.get_json() and "POST" in wrong.headers["Allow"]


# -- samples ---------------------------------------------------------------------------------------------


def _heart_rate(tracker: Tracker, person: PersonInfo, start_ms: int, n: int, step_ms: int = 1000) -> None:
    t = start_ms + np.arange(n, dtype=np.int64) * step_ms
    bpm = (60 + 20 * np.sin(np.arange(n) / 50.0)).astype(int)
    tracker.ingest.heart_rate(zip(t.tolist(), bpm.tolist(), strict=True), Provenance(person.id, Source.IMPORT))


def test_samples_default_range_is_the_last_week_of_data(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    _heart_rate(tracker, ana, T0_MS - 10 * 86_400_000, 5, step_ms=2 * 86_400_000)  # every 2 days over 10 days
    body = api.get("/api/v1/samples?kind=heart_rate").get_json()
    last = T0_MS - 2 * 86_400_000
    assert body["to"] == last + 1 and body["from"] == last + 1 - 7 * 86_400_000
    assert body["x"] == [T0_MS - 8 * 86_400_000, T0_MS - 6 * 86_400_000, T0_MS - 4 * 86_400_000, last]
    assert body["series"][0]["unit"] == "bpm" and body["total"] == 4 and body["downsampled"] is False


def test_samples_are_downsampled_to_at_most_2000_points(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    _heart_rate(tracker, ana, T0_MS - 10_000_000, 10_000)
    body = api.get(
        f"/api/v1/samples?person={ana.id}&kind=heart_rate&from={T0_MS - 10_000_000}&to={T0_MS}&max_points=50000"
    ).get_json()
    assert body["total"] == 10_000 and body["downsampled"] is True
    assert len(body["x"]) == len(body["series"][0]["values"]) == 2000
    assert body["x"] == sorted(body["x"]) and body["x"][0] == T0_MS - 10_000_000
    small = api.get(f"/api/v1/samples?kind=heart_rate&from={T0_MS - 10_000_000}&to={T0_MS}&max_points=100").get_json()
    assert len(small["x"]) == 100
    # zooming in: a narrow range comes back at full detail
    detail = api.get(f"/api/v1/samples?kind=heart_rate&from={T0_MS - 10_000_000}&to={T0_MS - 9_000_000}").get_json()
    assert len(detail["x"]) == 1000 and detail["downsampled"] is False


def test_large_ranges_are_bucketed_in_the_database_first(
    api: FlaskClient, tracker: Tracker, ana: PersonInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.api_charts

    monkeypatch.setattr(web.api_charts, "PREAGGREGATE_ROWS", 1000)
    _heart_rate(tracker, ana, T0_MS - 5_000_000, 5000)
    body = api.get(f"/api/v1/samples?kind=heart_rate&from={T0_MS - 5_000_000}&to={T0_MS}&max_points=20").get_json()
    assert body["total"] == 5000 and len(body["x"]) == 20
    assert all(40 <= v <= 80 for v in body["series"][0]["values"])
    assert body["x"] == sorted(body["x"])


def test_rr_samples(api: FlaskClient, tracker: Tracker, ana: PersonInfo) -> None:
    tracker.ingest.rr([(T0_MS, 1000.0), (T0_MS + 1000, 976.5625)], Provenance(ana.id, Source.IMPORT))
    body = api.get("/api/v1/samples?kind=rr").get_json()
    assert body["series"][0] == {"name": "RR interval", "unit": "ms", "values": [1000.0, 976.5625]}


@pytest.mark.parametrize(
    "query", ["kind=steps", "", "kind=rr&from=yesterday", "kind=rr&from=10&to=5", "kind=rr&max_points=lots"]
)
def test_samples_bad_queries_are_400(api: FlaskClient, query: str) -> None:
    response = api.get(f"/api/v1/samples?{query}")
    assert response.status_code == 400 and response.get_json()["error"]


def test_samples_of_another_account_are_404(api: FlaskClient, tracker: Tracker, bo: PersonInfo) -> None:
    _heart_rate(tracker, bo, T0_MS, 10)
    assert api.get(f"/api/v1/samples?person={bo.id}&kind=heart_rate").status_code == 404


def test_sessions_are_paginated_with_a_cursor(api: FlaskClient, ana: PersonInfo, tracker: Tracker) -> None:
    from tracker.sessions import SessionFields

    person = ana
    start = 1_800_000_000_000
    made = [tracker.sessions.create(person.id, SessionFields(start + i * 3_600_000, start + i * 3_600_000 + 1_800_000))
            for i in range(7)]  # fmt: skip
    seen, cursor, pages = [], None, 0
    while True:
        url = f"/api/v1/sessions?person={person.id}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).get_json()
        seen += [s["id"] for s in body["sessions"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [s.id for s in made] and pages == 3
    assert api.get(f"/api/v1/sessions?person={person.id}").get_json()["next_cursor"] is None
    for bad in ("x", "1.", "1.2.3", "99999999999999999999.1", "².1"):
        assert api.get(f"/api/v1/sessions?cursor={bad}").status_code == 400, bad
