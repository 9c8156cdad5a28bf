"""First run, sign in/out, the sign-in requirement, rate limiting, cookies, the secret key, adoption."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.clock import ManualClock
from tracker.config import WebConfig
from web import create_app

from .conftest import PASSWORD, make_account, sign_in

PAGES = ["/", "/sessions", "/sessions/new", "/sleep", "/evidence", "/devices", "/data", "/sessions/1"]


@pytest.mark.parametrize("path", [*PAGES, "/signin"])
def test_every_page_redirects_to_first_run_until_an_account_exists(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == "/setup"


def test_first_run_creates_the_account_adopts_people_and_signs_in(client: FlaskClient, tracker: Tracker) -> None:
    tracker.people.add("Demo", "Europe/Berlin")  # made on the command line before any account
    page = client.get("/setup")
    assert page.status_code == 200 and "Create account" in page.get_data(as_text=True)

    response = client.post("/setup", data={"name": "ana", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert tracker.users.count() == 1
    assert [p.name for p in tracker.people.list(user_id=tracker.users.by_name("ana").id)] == ["Demo"]
    overview = client.get("/")
    assert overview.status_code == 200
    assert "Demo" in overview.get_data(as_text=True)
    # setup is closed for good
    assert client.get("/setup").headers["Location"] == "/signin"
    client.post("/signout")
    again = client.post("/setup", data={"name": "eve", "password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 302 and tracker.users.count() == 1


@pytest.mark.parametrize(
    ("form", "field_message"),
    [
        ({"name": "ana", "password": "short", "confirm": "short"}, "at least 8 characters"),
        ({"name": "ana", "password": PASSWORD, "confirm": "different!"}, "the two passwords differ"),
        ({"name": "  ", "password": PASSWORD, "confirm": PASSWORD}, "choose an account name"),
    ],
)
def test_first_run_bad_input_shows_a_message_and_stores_nothing(
    client: FlaskClient, tracker: Tracker, form: dict[str, str], field_message: str
) -> None:
    response = client.post("/setup", data=form)
    assert response.status_code == 422
    assert field_message in response.get_data(as_text=True)
    assert tracker.users.count() == 0


def test_pages_need_sign_in_once_accounts_exist(client: FlaskClient, ana: object) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/signin?next="), path


def test_sign_in_wrong_password_then_right_then_sign_out(client: FlaskClient, ana: object) -> None:
    wrong = client.post("/signin", data={"name": "ana", "password": "nope nope"})
    assert wrong.status_code == 401
    assert "Wrong account name or password" in wrong.get_data(as_text=True)
    unknown = client.post("/signin", data={"name": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401  # same answer for unknown names

    ok = client.post("/signin", data={"name": "ana", "password": PASSWORD, "next": "/sessions"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/sessions"
    assert client.get("/sessions").status_code == 200
    assert client.get("/signin").headers["Location"] == "/"  # already signed in

    assert client.get("/signout").status_code == 405  # sign-out is a POST (a link cannot sign you out)
    out = client.post("/signout")
    assert out.status_code == 302 and out.headers["Location"] == "/signin"
    assert client.get("/sessions").status_code == 302


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_sign_in_never_redirects_off_site(client: FlaskClient, ana: object, target: str) -> None:
    response = client.post("/signin", data={"name": "ana", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_is_rate_limited_per_account_and_address(
    app: Flask, client: FlaskClient, ana: object, clock: ManualClock, tracker: Tracker
) -> None:
    limit = tracker.config.web.login_attempts_per_15min
    for _ in range(limit):
        assert client.post("/signin", data={"name": "ana", "password": "wrong pass"}).status_code == 401
    blocked = client.post("/signin", data={"name": "ana", "password": PASSWORD})  # even the right password
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    # another account name from this address is not blocked
    make_account(tracker, "bo")
    assert client.post("/signin", data={"name": "bo", "password": PASSWORD}).status_code == 302
    # the delay passes: ana may try again (growing delays, never a permanent lock-out of the owner)
    clock.advance(s=int(blocked.headers["Retry-After"]))
    assert client.post("/signin", data={"name": "ana", "password": PASSWORD}).status_code == 302


def test_rate_limit_follows_the_configured_number(tracker: Tracker) -> None:
    tracker.config = tracker.config.replace(web=WebConfig(login_attempts_per_15min=2))
    make_account(tracker, "ana")
    app = create_app(tracker, secret_key="k" * 40, testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert [client.post("/signin", data={"name": "ana", "password": "x" * 9}).status_code for _ in range(3)] == [
        401,
        401,
        429,
    ]


def test_session_cookie_flags(app: Flask, ana: object, tracker: Tracker) -> None:
    client = app.test_client()
    response = client.post("/signin", data={"name": "ana", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = create_app(tracker, secret_key="k" * 40, testing=True, secure_cookies=True)
    secure.config["WTF_CSRF_ENABLED"] = False
    response = secure.test_client().post("/signin", data={"name": "ana", "password": PASSWORD})
    assert "Secure" in response.headers["Set-Cookie"]


def test_secret_key_is_made_once_with_owner_only_permissions(tracker: Tracker) -> None:
    first = create_app(tracker)
    path: Path = tracker.config.data_dir / "web_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = create_app(tracker)
    assert first.secret_key == second.secret_key and len(str(first.secret_key)) >= 32


def test_a_sole_account_adopts_people_added_later_at_sign_in(client: FlaskClient, tracker: Tracker) -> None:
    make_account(tracker, "ana")
    tracker.people.add("Later", "UTC")
    sign_in(client, "ana")
    assert "Later" in client.get("/").get_data(as_text=True)


def test_with_several_accounts_unowned_people_stay_unlinked(client: FlaskClient, tracker: Tracker) -> None:
    make_account(tracker, "ana", "Ana")
    make_account(tracker, "bo", "Bo")
    tracker.people.add("Nobody's", "UTC")
    sign_in(client, "ana")
    assert "Nobody" not in client.get("/").get_data(as_text=True)
    assert tracker.people.get("Nobody's").user_id is None


def test_a_removed_account_is_signed_out(ana_client: FlaskClient, tracker: Tracker) -> None:
    import sqlalchemy as sa

    from tracker.storage.models import User

    with tracker.sessionmaker.begin() as db:
        db.execute(sa.delete(User).where(User.name == "ana"))
    assert ana_client.get("/sessions").status_code == 302
