"""A database that cannot be reached answers 503 with a message (pages and API), never a bare 500; error
pages never show SQL or tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.bootstrap import build_tracker
from tracker.clock import ManualClock
from tracker.config import Config, DatabaseConfig, PathsConfig
from web import create_app

from tests.conftest import T0_MS


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=2",  # nothing listens on port 1
        "sqlite:///{tmp}/no/such/dir/tracker.db",  # a file that cannot be opened
    ],
)
def test_unreachable_database_is_503_with_a_message(tmp_path: Path, url: str) -> None:
    cfg = Config(database=DatabaseConfig(url=url.format(tmp=tmp_path)), paths=PathsConfig(str(tmp_path / "data")),
                 base_dir=tmp_path)  # fmt: skip
    tracker = build_tracker(cfg, ManualClock(T0_MS), require_schema=False)
    try:
        app = create_app(tracker, secret_key="k" * 40)  # not testing: as served
        app.config["WTF_CSRF_ENABLED"] = False  # so the sign-in post reaches the database
        client = app.test_client()
        page = client.get("/")
        assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
        html = page.get_data(as_text=True)
        assert "database cannot be reached" in html and "SELECT" not in html and "psycopg" not in html
        api = client.get("/api/v1/people", headers={"Authorization": "Bearer trk_x"})
        assert api.status_code == 503 and "database cannot be reached" in api.get_json()["error"]
        signin = client.post("/signin", data={"name": "ana", "password": "whatever1"})
        assert signin.status_code == 503
    finally:
        tracker.close()


def test_an_unexpected_error_page_shows_no_sql(tmp_path: Path) -> None:
    import sqlalchemy.exc

    cfg = Config(database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'x.db'}"), paths=PathsConfig(str(tmp_path)),
                 base_dir=tmp_path)  # fmt: skip
    tracker = build_tracker(cfg, ManualClock(T0_MS), require_schema=False)
    try:
        app = create_app(tracker, secret_key="k" * 40)

        @app.get("/api/boom")  # outside the sign-in requirement, like the API's own routes
        def boom() -> str:
            raise sqlalchemy.exc.DataError("INSERT INTO device (name) VALUES (%s)", ("x" * 300,), Exception("too long"))

        response = app.test_client().get("/api/boom")
        assert response.status_code == 500
        html = response.get_data(as_text=True)
        assert "INSERT" not in html and "xxxx" not in html and "details are in its log" in html
    finally:
        tracker.close()
