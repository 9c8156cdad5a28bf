"""Two accounts may both have a "Mum": created on the People page and through POST /api/v1/people, each
account sees only its own, a clash is reported for the account's own people only, and everything the
web does for a person (imports, sessions, pairing) goes by the account's own ids.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import make_account, sign_in
from tests.web.test_devices_and_api import FakeCollector, collector  # noqa: F401  (fixture)
from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from tracker.storage.models import HeartRateRow

HR = "timestamp,bpm\n2027-02-20T10:00:00Z,61\n2027-02-20T10:00:01Z,62\n"
RING = "C4:7C:8D:6A:11:99"


@pytest.fixture
def accounts(app: Flask, tracker: Tracker) -> tuple[FlaskClient, FlaskClient]:
    """ana signed in with her cookie; bo using an API token for the API (and a cookie for pages)."""
    make_account(tracker, "ana")
    make_account(tracker, "bo")
    bo = sign_in(app.test_client(), "bo")
    bo.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {tracker.users.create_token('bo', 'script')}"
    return sign_in(app.test_client(), "ana"), bo


def _create_on_page(client: FlaskClient, name: str, tz: str) -> int:
    response = client.post("/people", data={"name": name, "tz": tz})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("person=", 1)[1])


def _mine(client: FlaskClient) -> list[tuple[str, str, str]]:
    return [(p["name"], p["timezone"], p["user"]) for p in client.get("/api/v1/people").get_json()["people"]]


def test_two_accounts_both_create_mum_on_the_page_and_the_api(
    accounts: tuple[FlaskClient, FlaskClient], tracker: Tracker
) -> None:
    ana, bo = accounts
    ana_mum = _create_on_page(ana, "Mum", "Europe/Berlin")
    assert "Added Mum (Europe/Berlin)." in ana.get(f"/?person={ana_mum}").get_data(as_text=True)  # after the redirect
    bo_mum = _create_on_page(bo, "Mum", "America/New_York")
    assert ana_mum != bo_mum
    created = ana.post("/api/v1/people", json={"name": "Dad", "timezone": "Europe/Berlin"})
    assert created.status_code == 201
    assert created.get_json() | {"id": 0} == {"id": 0, "name": "Dad", "timezone": "Europe/Berlin", "user": "ana"}
    created = bo.post("/api/v1/people", json={"name": "Dad"})  # bearer token; the zone defaults to the config's
    assert created.status_code == 201 and created.get_json()["timezone"] == tracker.config.people.default_timezone

    assert _mine(ana) == [("Dad", "Europe/Berlin", "ana"), ("Mum", "Europe/Berlin", "ana")]
    assert _mine(bo) == [("Dad", "UTC", "bo"), ("Mum", "America/New_York", "bo")]
    page = ana.get("/people").get_data(as_text=True).split("<h2>Add a person")[0]  # the list, not the form
    assert f'data-id="{ana_mum}"' in page and f'data-id="{bo_mum}"' not in page and "America/New_York" not in page
    assert bo.get(f"/?person={ana_mum}").status_code == 404  # another account's Mum is not found


def test_a_clash_is_409_and_speaks_only_of_this_account(accounts: tuple[FlaskClient, FlaskClient]) -> None:
    ana, bo = accounts
    _create_on_page(bo, "Bo's cat", "UTC")
    _create_on_page(ana, "Mum", "UTC")
    _create_on_page(bo, "Mum", "UTC")
    page = ana.post("/people", data={"name": "Mum", "tz": "UTC"})
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "the account &#39;ana&#39; already has a person named &#39;Mum&#39;" in html
    assert "&#39;bo&#39;" not in html and "Bo&#39;s cat" not in html
    api = ana.post("/api/v1/people", json={"name": "Mum"})
    assert api.status_code == 409 and api.get_json() == {"error": "the account 'ana' already has a person named 'Mum'"}
    # a name only another account uses is simply free here: its existence elsewhere is never hinted at
    assert ana.post("/api/v1/people", json={"name": "Bo's cat"}).status_code == 201
    assert [name for name, _tz, _user in _mine(ana)] == ["Bo's cat", "Mum"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Mum", "timezone": "Mars/Base"}, "timezone"),
        ({"name": "Mum", "timezone": None}, "timezone"),
    ],
)
def test_bad_input_on_the_api_is_422_per_field(
    accounts: tuple[FlaskClient, FlaskClient], body: dict[str, object], field: str
) -> None:
    ana, _ = accounts
    response = ana.post("/api/v1/people", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"], response.get_json()
    assert ana.post("/api/v1/people", data="name=Mum").status_code == 400  # not JSON
    assert _mine(ana) == []


def test_bad_input_on_the_page_is_422_with_the_field_marked(accounts: tuple[FlaskClient, FlaskClient]) -> None:
    ana, _ = accounts
    empty = ana.post("/people", data={"name": " ", "tz": "UTC"})
    assert empty.status_code == 422 and 'id="name-error"' in empty.get_data(as_text=True)
    zone = ana.post("/people", data={"name": "Mum", "tz": "Mars/Base"})
    html = zone.get_data(as_text=True)
    assert zone.status_code == 422 and 'id="tz-error"' in html and "Mars/Base" in html and 'value="Mum"' in html
    assert _mine(ana) == []
    assert "Add a person" in ana.get("/").get_data(as_text=True)  # the empty state points to the page


def test_imports_sessions_and_pairing_land_in_the_accounts_own_mum(
    app: Flask, tracker: Tracker, collector: FakeCollector  # noqa: F811
) -> None:
    make_account(tracker, "ana")
    make_account(tracker, "bo")
    ana_mum = tracker.people.add("Mum", "Europe/Berlin", "ana")
    bo_mum = tracker.people.add("Mum", "America/New_York", "bo")
    ana, bo = sign_in(app.test_client(), "ana"), sign_in(app.test_client(), "bo")

    def upload(client: FlaskClient, person: PersonInfo) -> int:
        data = {"files": [(io.BytesIO(HR.encode()), "heart_rate.csv")]}
        return client.post(f"/data/import?person={person.id}", data=data, content_type="multipart/form-data").status_code

    assert upload(bo, ana_mum) == 404
    assert upload(bo, bo_mum) == 200
    with tracker.sessionmaker() as db:
        rows = db.execute(sa.select(HeartRateRow.person_id, sa.func.count()).group_by(HeartRateRow.person_id)).all()
    assert [tuple(r) for r in rows] == [(bo_mum.id, 2)]

    session = {"start": "2027-02-20 10:00", "minutes": 60}
    assert ana.post("/api/v1/sessions", json={**session, "person": bo_mum.id}).status_code == 404
    made = ana.post("/api/v1/sessions", json={**session, "person": ana_mum.id})
    assert made.status_code == 201 and made.get_json()["start"] == "2027-02-20T10:00:00+01:00"
    assert [s.person_id for s in tracker.sessions.list()] == [ana_mum.id]

    assert bo.post("/api/v1/devices/pair", json={"address": RING, "person": ana_mum.id}).status_code == 404
    assert bo.post("/devices/pair", data={"address": RING, "person": bo_mum.id}).status_code == 302
    (device,) = tracker.devices.list()
    assert device.person_id == bo_mum.id
