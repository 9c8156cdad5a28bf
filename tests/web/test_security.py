"""Security headers and CSP on every kind of answer, no inline script/style, CSRF on forms and cookie API writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker.bootstrap import Tracker
from tracker.people import PersonInfo
from web.security import CSP

from .conftest import csrf_token, sign_in

WEB = Path(__file__).resolve().parents[2] / "web"
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
PAGES = ["/", "/sessions", "/sessions/new", "/sleep", "/evidence", "/devices", "/data"]


def _check_headers(headers: object) -> None:
    assert headers["Content-Security-Policy"] == EXPECTED_CSP  # type: ignore[index]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]  # type: ignore[index]
    assert headers["X-Content-Type-Options"] == "nosniff"  # type: ignore[index]
    assert headers["Referrer-Policy"] == "same-origin"  # type: ignore[index]
    assert headers["X-Frame-Options"] == "DENY"  # type: ignore[index]


def test_csp_constant_is_the_agreed_policy() -> None:
    assert CSP == EXPECTED_CSP


@pytest.mark.parametrize(
    "path",
    [
        *PAGES,
        "/signin",
        "/static/style.css",
        "/static/charts.js",
        "/api/v1/people",
        "/nope",
        "/api/v1/nope",
        "/api/openapi.json",
    ],
)
def test_security_headers_on_pages_static_api_and_errors(ana_client: FlaskClient, path: str) -> None:
    _check_headers(ana_client.get(path).headers)


def test_security_headers_on_first_run_and_unauthenticated_api(client: FlaskClient) -> None:
    _check_headers(client.get("/setup").headers)
    _check_headers(client.get("/api/v1/people").headers)


def test_rendered_pages_have_no_inline_script_or_style(
    ana_client: FlaskClient, ana: PersonInfo, tracker: Tracker
) -> None:
    from tracker.sessions import SessionFields

    session = tracker.sessions.create(ana.id, SessionFields(1_803_000_000_000, 1_803_003_600_000))
    paths = [*PAGES, f"/sessions/{session.id}", f"/sessions/{session.id}/edit", f"/sessions/{session.id}/done"]
    for path in paths:
        html = ana_client.get(path).get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, path
        assert re.search(r"\sstyle\s*=", html, re.I) is None, path
        assert re.search(r"<style", html, re.I) is None, path
        assert re.search(r"\son[a-z]+\s*=", html, re.I) is None, path  # no onclick= etc.


def test_templates_have_no_inline_script_or_style() -> None:
    for template in (WEB / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) is None, template
        assert re.search(r"\sstyle\s*=", text, re.I) is None, template
        assert "<style" not in text, template


def test_forms_without_csrf_token_are_rejected_and_store_nothing(
    csrf_app: Flask, tracker: Tracker, ana: PersonInfo
) -> None:
    client = sign_in(csrf_app.test_client(), "ana", with_csrf=True)
    form = {"start_date": "2027-02-20", "start_time": "10:00", "minutes": "60", "kind": "massage"}
    response = client.post("/sessions/new", data=form)
    assert response.status_code == 403
    assert "CSRF" in response.get_data(as_text=True)
    assert tracker.sessions.list(ana.id) == []
    bad = client.post("/sessions/new", data={**form, "csrf_token": "forged"})
    assert bad.status_code == 403
    assert tracker.sessions.list(ana.id) == []
    ok = client.post("/sessions/new", data={**form, "csrf_token": csrf_token(client, "/sessions")})
    assert ok.status_code == 302
    assert len(tracker.sessions.list(ana.id)) == 1


def test_sign_in_and_sign_out_need_the_token(csrf_app: Flask, ana: PersonInfo) -> None:
    client = csrf_app.test_client()
    assert client.post("/signin", data={"name": "ana", "password": "correct horse"}).status_code == 403
    sign_in(client, "ana", with_csrf=True)
    assert client.post("/signout").status_code == 403  # a cross-site page cannot sign you out either
    assert client.get("/sessions").status_code == 200


def test_first_run_needs_the_token(csrf_app: Flask, tracker: Tracker) -> None:
    client = csrf_app.test_client()
    form = {"name": "ana", "password": "correct horse", "confirm": "correct horse"}
    assert client.post("/setup", data=form).status_code == 403
    assert tracker.users.count() == 0
    assert client.post("/setup", data={**form, "csrf_token": csrf_token(client, "/setup")}).status_code == 302


def test_cookie_api_writes_need_the_csrf_header(csrf_app: Flask, tracker: Tracker, ana: PersonInfo) -> None:
    client = sign_in(csrf_app.test_client(), "ana", with_csrf=True)
    body = {"start": "2027-02-20 10:00", "minutes": 60}
    response = client.post("/api/v1/sessions", json=body)
    assert response.status_code == 403
    assert "CSRF" in response.get_json()["error"]
    assert tracker.sessions.list(ana.id) == []
    assert client.get("/api/v1/sessions").status_code == 200  # reads need no token
    token = csrf_token(client, "/sessions")
    created = client.post("/api/v1/sessions", json=body, headers={"X-CSRFToken": token})
    assert created.status_code == 201


def test_bearer_api_writes_are_exempt_from_csrf(csrf_app: Flask, tracker: Tracker, ana: PersonInfo) -> None:
    secret = tracker.users.create_token("ana", "script")
    client = csrf_app.test_client()
    response = client.post(
        "/api/v1/sessions",
        json={"start": "2027-02-20 10:00", "minutes": 60},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 201


def test_a_bearer_header_never_borrows_the_cookie_session(csrf_app: Flask, tracker: Tracker, ana: PersonInfo) -> None:
    """A forged request with a junk bearer header must not slip past CSRF on the strength of the cookie."""
    client = sign_in(csrf_app.test_client(), "ana", with_csrf=True)
    response = client.post(
        "/api/v1/sessions", json={"start": "2027-02-20 10:00", "minutes": 60}, headers={"Authorization": "Bearer junk"}
    )
    assert response.status_code == 401
    assert tracker.sessions.list(ana.id) == []


def test_unauthenticated_api_write_is_401_not_403(csrf_app: Flask, ana: PersonInfo) -> None:
    response = csrf_app.test_client().post("/api/v1/sessions", json={})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_pages_with_personal_data_are_not_cached(ana_client: FlaskClient) -> None:
    assert ana_client.get("/sessions").headers["Cache-Control"] == "no-store"
    assert ana_client.get("/api/v1/sessions").headers["Cache-Control"] == "no-store"
    assert "no-store" not in ana_client.get("/static/style.css").headers.get("Cache-Control", "")
