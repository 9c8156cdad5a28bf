"""Sign-out means signed out: sessions live in the database, so a copied cookie dies with sign-out, a
password change or a disabled account; API tokens can be listed, revoked, expire, and note their last use.
(On SQLite, and PostgreSQL when configured.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.cli import main
from tracker.clock import ManualClock
from tracker.people import PersonInfo

from .conftest import PASSWORD, sign_in


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("tracker_session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, value: str) -> FlaskClient:
    """A fresh browser holding a copy of the cookie (as a thief, or a shared computer's history, would)."""
    other = app.test_client()
    other.set_cookie("tracker_session", value)
    return other


def _opens(client: FlaskClient) -> bool:
    page = client.get("/")
    api = client.get("/api/v1/people")
    assert (page.status_code == 200) == (api.status_code == 200), (page.status_code, api.status_code)
    return page.status_code == 200


def test_a_cookie_copied_before_sign_out_opens_nothing_after(app: Flask, ana_client: FlaskClient) -> None:
    copy = _cookie(ana_client)
    assert _opens(_replay(app, copy))
    assert ana_client.post("/signout").status_code == 302
    replayed = _replay(app, copy)
    assert replayed.get("/").headers["Location"].startswith("/signin")
    assert replayed.get("/api/v1/people").status_code == 401


def test_a_password_change_ends_every_session_of_the_account(
    app: Flask, tracker: Tracker, ana_client: FlaskClient, bo_client: FlaskClient
) -> None:
    second = sign_in(app.test_client(), "ana")  # another browser of the same account
    tracker.users.set_password("ana", "a new passphrase")
    assert not _opens(ana_client) and not _opens(second)
    assert _opens(bo_client)  # other accounts are untouched
    assert sign_in(app.test_client(), "ana", "a new passphrase")


def test_disabling_an_account_ends_sessions_refuses_sign_in_and_tokens(
    app: Flask, tracker: Tracker, ana_client: FlaskClient, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tracker.users.create_token("ana", "script")
    assert app.test_client().get("/api/v1/people", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert main(["--config", str(config_file), "user", "disable", "ana"]) == 0
    assert not _opens(ana_client)
    assert app.test_client().post("/signin", data={"name": "ana", "password": PASSWORD}).status_code == 401
    assert app.test_client().get("/api/v1/people", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert main(["--config", str(config_file), "user", "enable", "ana"]) == 0
    assert sign_in(app.test_client(), "ana")
    assert main(["--config", str(config_file), "user", "disable", "nobody"]) == 2
    assert "no user named 'nobody'" in capsys.readouterr().err


def test_token_list_revoke_last_used_and_expiry_on_the_command_line(
    app: Flask, tracker: Tracker, ana: PersonInfo, bo: PersonInfo, config_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli = ["--config", str(config_file)]
    assert main([*cli, "token", "create", "nightly", "--user", "ana"]) == 0
    secret = capsys.readouterr().out.strip()
    assert main([*cli, "token", "create", "cli-expiring", "--user", "bo", "--expires-days", "1"]) == 0
    capsys.readouterr()
    # the CLI reads the system clock; the app here runs on the test's clock, so make this one with that
    short = tracker.users.create_token("ana", "short", tracker.clock.now_ms() + 86_400_000)
    assert main([*cli, "token", "create", "bo's", "--user", "bo"]) == 0
    capsys.readouterr()
    assert main([*cli, "token", "create", "bad", "--user", "ana", "--expires-days", "0"]) == 2
    capsys.readouterr()

    api = app.test_client()
    assert api.get("/api/v1/people", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert main([*cli, "token", "list", "--json", "--user", "ana"]) == 0
    listed = __import__("json").loads(capsys.readouterr().out)
    assert [t["name"] for t in listed] == ["nightly", "short"]
    assert listed[0]["last_used"] is not None and listed[1]["last_used"] is None
    assert listed[1]["expires"] is not None and listed[0]["expires"] is None
    assert secret not in str(listed)

    # expiry (the test clock is the app's clock)
    clock = tracker.clock
    assert isinstance(clock, ManualClock)
    assert api.get("/api/v1/people", headers={"Authorization": f"Bearer {short}"}).status_code == 200
    clock.advance(days=1, s=1)
    assert api.get("/api/v1/people", headers={"Authorization": f"Bearer {short}"}).status_code == 401

    # revoke; another account's token cannot be revoked under the wrong --user
    assert [t.expires_ms is not None for t in tracker.users.tokens() if t.user_name == "bo"] == [True, False]
    bo_token = next(t for t in tracker.users.tokens() if t.user_name == "bo")
    assert main([*cli, "token", "revoke", str(bo_token.id), "--user", "ana"]) == 2
    capsys.readouterr()
    assert main([*cli, "token", "revoke", str(listed[0]["id"])]) == 0
    assert "revoked" in capsys.readouterr().out
    assert api.get("/api/v1/people", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_tokens_page_creates_lists_and_revokes_only_the_accounts_own(
    tracker: Tracker, ana_client: FlaskClient, bo_client: FlaskClient, app: Flask
) -> None:
    page = ana_client.post("/tokens", data={"name": "grafana", "expires_days": "30"})
    assert page.status_code == 201
    secret = re.search(r'id="token-secret">([^<]+)<', page.get_data(as_text=True))
    assert secret is not None
    assert app.test_client().get("/api/v1/people", headers={"Authorization": f"Bearer {secret.group(1)}"}).status_code == 200
    listing = ana_client.get("/tokens").get_data(as_text=True)
    assert "grafana" in listing and secret.group(1) not in listing and "never" not in listing.split("grafana")[1][:200]
    assert "grafana" not in bo_client.get("/tokens").get_data(as_text=True)

    (token,) = tracker.users.tokens()
    assert bo_client.post(f"/tokens/{token.id}/revoke").status_code == 404  # not bo's
    assert ana_client.post("/tokens", data={"name": "x", "expires_days": "²"}).status_code == 422
    assert ana_client.post("/tokens", data={"name": "", "expires_days": ""}).status_code == 422
    assert ana_client.post(f"/tokens/{token.id}/revoke").status_code == 302
    assert tracker.users.tokens() == []
