"""The Flask dashboard and REST API: `create_app(tracker)` builds the app around the tracker services.

Nothing is built at import time: the composition root (`tracker.cli`) calls `create_app` with a built
`Tracker`, and every view reaches the services through `web.context.services()`.

Blueprints: `auth` (first run, sign in/out), `dashboard` (Overview, Sleep, Evidence, Devices), `sessions`,
`data` (CSV import/export), `people_page` (the account's people), `api` (/api/v1, JSON). `security` adds
the headers, CSP, CSRF policy and the sign-in rate limit.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from flask import Flask

from tracker.bootstrap import Tracker

# Uploads are read whole (a file is validated before anything is stored), so this bounds memory per request.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


def load_or_create_secret(path: Path) -> str:
    """The app's signing key, made once and kept in `path` (mode 0600) so sessions survive restarts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a key; the loser reads the winner's.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) < 32:
            raise RuntimeError(f"{path}: web secret is too short; delete the file to make a new one") from None
        return key
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def create_app(
    tracker: Tracker,
    *,
    secret_key: str | None = None,
    testing: bool = False,
    secure_cookies: bool | None = None,
) -> Flask:
    """The dashboard and API on `tracker`'s services.

    `secret_key`: signs the session cookie; by default read from (or created in) `data_dir/web_secret`.
    `secure_cookies`: send the cookie only over HTTPS; by default `[web] secure_cookies` (false: the
    default deployment is plain HTTP on 127.0.0.1).
    """
    from web import api, auth, dashboard, data, errors, people_page, security, sessions, tokens, trials
    from web.context import template_context
    from web.present import register_filters
    from web.sync_jobs import SyncJobs

    app = Flask(__name__)
    if secure_cookies is None:
        secure_cookies = tracker.config.web.secure_cookies
    app.config.update(
        SECRET_KEY=secret_key or load_or_create_secret(tracker.config.data_dir / "web_secret"),
        TESTING=testing,
        SESSION_COOKIE_NAME="tracker_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=14),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        # The token lives as long as the signed-in session; a form left open over lunch still submits.
        WTF_CSRF_TIME_LIMIT=None,
        # CSRF is checked by web.security after the user is known (bearer-token API calls are exempt).
        WTF_CSRF_CHECK_DEFAULT=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order
    app.extensions["tracker"] = tracker
    app.extensions["sync_jobs"] = SyncJobs(tracker.clock)  # background "Sync now" jobs (web.sync_jobs)

    security.init_app(app, tracker)
    auth.init_app(app)
    errors.init_app(app)
    register_filters(app)
    app.context_processor(template_context)
    for blueprint in (auth.bp, dashboard.bp, sessions.bp, data.bp, api.bp, api.docs_bp, trials.bp, tokens.bp,
                      people_page.bp):
        app.register_blueprint(blueprint)
    return app
