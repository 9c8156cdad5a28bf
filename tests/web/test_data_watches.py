"""Watched folders on the Data page and /api/v1/import-watches: only paths under [import] watch_roots, only
the account's own watches, CSRF on the forms; a path outside answers 4xx with a message, never a traceback."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import csrf_token, sign_in
from tracker.bootstrap import Tracker
from tracker.config import ImportConfig
from tracker.people import PersonInfo


@pytest.fixture
def sync(tracker: Tracker, tmp_path: Path) -> Path:
    """`<tmp>/phone-sync` is the only root; `<tmp>/private` holds what must never be reachable."""
    root = tmp_path / "phone-sync"
    (root / "fit").mkdir(parents=True)
    (tmp_path / "private").mkdir()
    tracker.config = tracker.config.replace(imports=ImportConfig(watch_roots=(str(root),)))
    return root.resolve()


def _text(response: object) -> str:
    return html.unescape(response.get_data(as_text=True))  # type: ignore[attr-defined]


def test_without_roots_the_page_says_to_ask_the_administrator(ana_client: FlaskClient, tracker: Tracker,
                                                               tmp_path: Path) -> None:  # fmt: skip
    page = _text(ana_client.get("/data"))
    assert "Watched folders" in page and 'id="watch-roots-unset"' in page and 'id="add-watch"' not in page
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page))
    assert "ask the administrator to set [import] watch_roots in config.toml" in words
    response = ana_client.post("/data/watches", data={"path": str(tmp_path)})  # a hand-made form post
    assert response.status_code == 400
    assert "ask the administrator to set [import] watch_roots" in _text(response)
    assert tracker.import_watches.list() == []


def test_add_list_and_remove_a_watch(ana_client: FlaskClient, tracker: Tracker, sync: Path, ana: PersonInfo) -> None:
    page = _text(ana_client.get("/data"))
    assert 'id="add-watch"' in page and f"under {sync}" in page and 'id="no-watches"' in page
    response = ana_client.post(f"/data/watches?person={ana.id}", data={"path": f"{sync}/fit/../fit"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#watched-folders")
    [watch] = tracker.import_watches.list()
    assert watch.path == str(sync / "fit") and watch.person_id == ana.id
    page = _text(ana_client.get(response.headers["Location"]))
    assert f"Watching {sync / 'fit'} for Ana" in page  # the flash
    assert f'<td data-label="Path" class="path">{sync / "fit"}</td>' in page and "not yet" in page

    tracker.import_watches.record(watch.id, imported=False, result=None, error="nothing there (yet)")
    page = _text(ana_client.get("/data"))
    assert 'class="field-error watch-last-error">nothing there (yet)' in page

    again = ana_client.post("/data/watches", data={"path": str(sync / "fit")})
    assert again.status_code == 409 and "already watched for Ana" in _text(again)
    removed = ana_client.post(f"/data/watches/{watch.id}/remove")
    assert removed.status_code == 302
    assert tracker.import_watches.list() == []
    assert f"Stopped watching {sync / 'fit'}" in _text(ana_client.get(removed.headers["Location"]))


@pytest.mark.parametrize("typed", ["{tmp}/private", "{root}/../private", "/etc/passwd", "relative/path", "{link}"])
def test_the_form_refuses_paths_outside_the_roots(ana_client: FlaskClient, tracker: Tracker, sync: Path,
                                                  tmp_path: Path, typed: str) -> None:  # fmt: skip
    os.symlink(tmp_path / "private", sync / "link")
    text = typed.format(tmp=tmp_path, root=sync, link=sync / "link")
    response = ana_client.post("/data/watches", data={"path": text})
    assert response.status_code == 400
    page = _text(response)
    assert 'id="watch-error"' in page and ("outside the folders this server allows" in page or "absolute" in page)
    assert f'value="{text}"' in page  # what was typed stays in the field to correct
    assert tracker.import_watches.list() == []


def test_another_accounts_watch_cannot_be_seen_or_removed(app: Flask, tracker: Tracker, sync: Path,
                                                          ana: PersonInfo, bo: PersonInfo) -> None:  # fmt: skip
    watch = tracker.import_watches.add(ana.id, str(sync / "fit"))
    bo_client = sign_in(app.test_client(), "bo")
    assert str(sync / "fit") not in _text(bo_client.get("/data"))
    assert bo_client.post(f"/data/watches/{watch.id}/remove").status_code == 404
    assert bo_client.post(f"/data/watches?person={ana.id}", data={"path": str(sync)}).status_code == 404
    assert bo_client.get(f"/api/v1/import-watches/{watch.id}").status_code == 404
    assert bo_client.delete(f"/api/v1/import-watches/{watch.id}").status_code == 404
    assert bo_client.post("/api/v1/import-watches", json={"path": str(sync), "person": ana.id}).status_code == 404
    assert bo_client.get("/api/v1/import-watches").get_json()["watches"] == []
    assert [w.id for w in tracker.import_watches.list()] == [watch.id]  # still there, still ana's only


def test_the_forms_need_the_csrf_token(csrf_app: Flask, tracker: Tracker, sync: Path, ana: PersonInfo) -> None:
    client = sign_in(csrf_app.test_client(), "ana", with_csrf=True)
    assert client.post("/data/watches", data={"path": str(sync)}).status_code == 403
    assert tracker.import_watches.list() == []
    token = csrf_token(client, "/data")
    assert client.post("/data/watches", data={"path": str(sync), "csrf_token": token}).status_code == 302
    [watch] = tracker.import_watches.list()
    assert client.post(f"/data/watches/{watch.id}/remove").status_code == 403
    assert client.delete(f"/api/v1/import-watches/{watch.id}").status_code == 403  # cookie API writes too
    assert len(tracker.import_watches.list()) == 1
    assert client.post(f"/data/watches/{watch.id}/remove", data={"csrf_token": token}).status_code == 302
    assert tracker.import_watches.list() == []


def test_api_lists_adds_and_removes(ana_client: FlaskClient, tracker: Tracker, sync: Path, ana: PersonInfo) -> None:
    listed = ana_client.get("/api/v1/import-watches").get_json()
    assert listed == {"watch_roots": [str(sync)], "interval_min": 15, "watches": []}
    created = ana_client.post("/api/v1/import-watches", json={"path": str(sync / "fit")})  # ana's only person
    assert created.status_code == 201
    body = created.get_json()
    assert body["path"] == str(sync / "fit") and body["person_id"] == ana.id and body["last_import"] is None
    assert created.headers["Location"] == body["url"] == f"/api/v1/import-watches/{body['id']}"
    assert ana_client.get(body["url"]).get_json()["path"] == str(sync / "fit")
    assert [w["id"] for w in ana_client.get(f"/api/v1/import-watches?person={ana.id}").get_json()["watches"]] == [body["id"]]
    assert ana_client.post("/api/v1/import-watches", json={"path": str(sync / "fit")}).status_code == 409
    assert ana_client.delete(body["url"]).get_json()["id"] == body["id"]
    assert ana_client.get(body["url"]).status_code == 404
    assert tracker.import_watches.list() == []


def test_api_refuses_paths_outside_the_roots_with_a_message(ana_client: FlaskClient, tracker: Tracker, sync: Path,
                                                            tmp_path: Path, ana: PersonInfo) -> None:  # fmt: skip
    outside = ana_client.post("/api/v1/import-watches", json={"path": f"{sync}/../private"})
    assert outside.status_code == 422
    error = outside.get_json()
    assert "outside the folders this server allows" in error["errors"]["path"] and str(sync) in error["errors"]["path"]
    for body, status in [({"path": 5}, 422), ({}, 422), ({"path": "fit"}, 422), ({"path": str(sync), "person": "x"}, 400),
                         ({"path": f"{sync}/\ud800"}, 422), ({"path": f"{sync}/a\u0000"}, 422)]:  # fmt: skip
        response = ana_client.post("/api/v1/import-watches", json=body)
        assert response.status_code == status and response.get_json()["error"], body
    assert ana_client.post("/api/v1/import-watches", data="path", content_type="text/plain").status_code == 400
    tracker.config = tracker.config.replace(imports=ImportConfig())  # the administrator turns it off
    off = ana_client.post("/api/v1/import-watches", json={"path": str(sync)})
    assert off.status_code == 400 and "watch_roots" in off.get_json()["error"]
    assert tracker.import_watches.list() == []


def test_api_with_a_bearer_token(app: Flask, tracker: Tracker, sync: Path, ana: PersonInfo) -> None:
    token = tracker.users.create_token("ana", "script")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/import-watches", json={"path": str(sync)}, headers=headers)
    assert created.status_code == 201
    assert client.get("/api/v1/import-watches", headers=headers).get_json()["watches"][0]["path"] == str(sync)
    assert client.get("/api/v1/import-watches").status_code == 401
