"""Web fixtures: the real app (create_app) on the real `tracker` fixture (SQLite, and PostgreSQL when set).

`app` has CSRF checks off so most tests post plain forms; `csrf_app` keeps them on, as in production,
for the tests about CSRF. Accounts: "ana" manages the person Ana, "bo" manages Bo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.people import PersonInfo, Users
from web import create_app

PASSWORD = "correct horse"


def make_account(
    tracker: Tracker, name: str, person: str | None = None, tz: str = "Europe/Berlin"
) -> PersonInfo | None:
    """An account with a password and, optionally, a person it manages."""
    tracker.users.add(name, PASSWORD)
    return tracker.people.add(person, tz, user_name=name) if person else None


def csrf_token(client: FlaskClient, path: str = "/signin") -> str:
    """The CSRF token of the client's session, read from a page's <meta name="csrf-token">."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, f"no csrf meta tag on {path}"
    return match.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD, *, with_csrf: bool = False) -> FlaskClient:
    data = {"name": name, "password": password}
    if with_csrf:
        data["csrf_token"] = csrf_token(client)
    response = client.post("/signin", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def tracker(tracker: Tracker) -> Tracker:
    """The shared `tracker` fixture with cheap argon2 parameters.

    argon2-cffi's defaults take ~0.4 s per hash on a CI runner and every test signs in; verification reads
    the parameters from the stored hash, so the code path is the same.
    """
    tracker.users = Users(tracker.sessionmaker, tracker.clock, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    return tracker


@pytest.fixture
def app(tracker: Tracker) -> Iterator[Flask]:
    app = create_app(tracker, secret_key="test-secret-key-that-is-long-enough", testing=True)
    app.config["WTF_CSRF_ENABLED"] = False
    yield app


@pytest.fixture
def csrf_app(tracker: Tracker) -> Flask:
    return create_app(tracker, secret_key="test-secret-key-that-is-long-enough", testing=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ana(tracker: Tracker) -> PersonInfo:
    person = make_account(tracker, "ana", "Ana")
    assert person is not None
    return person


@pytest.fixture
def bo(tracker: Tracker) -> PersonInfo:
    person = make_account(tracker, "bo", "Bo", tz="America/New_York")
    assert person is not None
    return person


@pytest.fixture
def ana_client(app: Flask, ana: PersonInfo, bo: PersonInfo) -> FlaskClient:
    """Signed in as ana; bo exists too, so cross-account access can be tried."""
    return sign_in(app.test_client(), "ana")


@pytest.fixture
def bo_client(app: Flask, ana: PersonInfo, bo: PersonInfo) -> FlaskClient:
    return sign_in(app.test_client(), "bo")
